// The cluster map's geometry, pure: a grid of square cells, each standing for `per` consecutive clusters
// from `first`. Zooming in halves `per` down to one cluster a cell, then grows the cells; zooming out does
// the reverse until the whole file fits. Colours come from the runs, never from per-cluster arrays.
import type { LayoutKind, LayoutRun } from '../../shared/contract/dto';
import { LAYOUT_KINDS } from '../../shared/qcow2/layout-runs';

export interface Grid {
  cols: number;
  rows: number;
  /** Cell side in CSS pixels. */
  cell: number;
  /** Clusters per cell (>= 1). */
  per: number;
  /** First cluster of cell 0. */
  first: number;
}

const SIZES = [3, 4, 6, 8, 12, 16, 24, 32];
export const MAX_CELL = SIZES[SIZES.length - 1];

function gridFor(cell: number, per: number, first: number, w: number, h: number): Grid {
  return { cols: Math.max(1, Math.floor(w / cell)), rows: Math.max(1, Math.floor(h / cell)), cell, per, first };
}

/** The whole file in view: the largest cells that hold every cluster, else the smallest with several a cell. */
export function fitGrid(n: number, w: number, h: number): Grid {
  for (let i = SIZES.length - 1; i >= 0; i--) {
    const g = gridFor(SIZES[i], 1, 0, w, h);
    if (g.cols * g.rows >= n) return g;
  }
  const g = gridFor(SIZES[0], 1, 0, w, h);
  return { ...g, per: Math.max(1, Math.ceil(n / (g.cols * g.rows))) };
}

/** Keep `first` within the file: the last screen ends at the last cluster. */
export function clampGrid(g: Grid, n: number): Grid {
  const span = g.cols * g.rows * g.per;
  const rowSpan = g.cols * g.per;
  const maxFirst = Math.max(0, Math.ceil((n - span) / rowSpan) * rowSpan);
  const first = Math.min(Math.max(0, Math.floor(g.first / rowSpan) * rowSpan), maxFirst);
  return first === g.first ? g : { ...g, first };
}

/** Zoom in (factor > 1) or out around the cell at (x, y): the cluster there stays under the pointer. */
export function zoomGrid(g: Grid, n: number, w: number, h: number, zoomIn: boolean, x: number, y: number): Grid {
  const fit = fitGrid(n, w, h);
  let { cell, per } = g;
  if (zoomIn) {
    if (per > 1) per = Math.max(1, Math.floor(per / 2));
    else cell = SIZES.find((s) => s > cell) ?? cell;
  } else if (per === 1 && cell > fit.cell && fit.per === 1) {
    cell = [...SIZES].reverse().find((s) => s < cell) ?? cell;
  } else if (per === 1 && cell > SIZES[0] && fit.per > 1) {
    cell = [...SIZES].reverse().find((s) => s < cell) ?? cell;
  } else {
    per = Math.min(fit.per, per * 2);
  }
  if (cell === g.cell && per === g.per) return g;
  const col = Math.min(g.cols - 1, Math.floor(x / g.cell));
  const row = Math.min(g.rows - 1, Math.floor(y / g.cell));
  const anchor = g.first + (row * g.cols + col) * g.per;
  const next = gridFor(cell, per, 0, w, h);
  const nCol = Math.min(next.cols - 1, Math.floor(x / cell));
  const nRow = Math.min(next.rows - 1, Math.floor(y / cell));
  const first = anchor - (nRow * next.cols + nCol) * per;
  return clampGrid({ ...next, first: Math.max(0, first) }, n);
}

/** Scroll by whole rows. */
export function scrollGrid(g: Grid, n: number, rows: number): Grid {
  return clampGrid({ ...g, first: g.first + rows * g.cols * g.per }, n);
}

/** The grid resized, keeping its zoom and its first cluster. */
export function resizeGrid(g: Grid, n: number, w: number, h: number): Grid {
  return clampGrid({ ...gridFor(g.cell, g.per, g.first, w, h) }, n);
}

/** Cluster range [start, end) of the cell at (x, y), or null outside the file. */
export function cellRange(g: Grid, n: number, x: number, y: number): [number, number] | null {
  if (x < 0 || y < 0) return null;
  const col = Math.floor(x / g.cell);
  const row = Math.floor(y / g.cell);
  if (col >= g.cols || row >= g.rows) return null;
  const start = g.first + (row * g.cols + col) * g.per;
  return start < n ? [start, Math.min(n, start + g.per)] : null;
}

/** Show cluster k at single-cluster zoom (at least `cell` pixels a cell), with a few rows above it. */
export function focusGrid(g: Grid, n: number, w: number, h: number, k: number, cell = 16): Grid {
  const c = Math.max(cell, g.per === 1 ? g.cell : cell);
  const next = gridFor(c, 1, 0, w, h);
  const row = Math.floor(k / next.cols);
  return clampGrid({ ...next, first: Math.max(0, row - Math.floor(next.rows / 3)) * next.cols }, n);
}

export const KIND_CODES: readonly LayoutKind[] = LAYOUT_KINDS;
const CODE: Record<string, number> = Object.fromEntries(LAYOUT_KINDS.map((k, i) => [k, i]));
export const NO_KIND = 255;
const BULK: readonly LayoutKind[] = ['data', 'compressed', 'free', 'unknown', 'conflict', 'leaked'];
const TIERS: readonly number[][] = [
  LAYOUT_KINDS.filter((k) => !BULK.includes(k)).map((k) => CODE[k]),
  [CODE.data, CODE.compressed],
  [CODE.free, CODE.unknown],
];

/** First run ending after cluster k. */
export function runIndexAt(runs: readonly LayoutRun[], k: number): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (runs[mid].start + runs[mid].clusters <= k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The kind each visible cell shows (an index into LAYOUT_KINDS, NO_KIND where nothing shown): a conflict
 * anywhere in the cell wins, then a leak, then the metadata kind covering most of it, then data, then free
 * space. Hidden kinds are skipped.
 */
export function cellKinds(runs: readonly LayoutRun[], g: Grid, n: number, hidden: ReadonlySet<LayoutKind>): Uint8Array {
  const cells = g.cols * g.rows;
  const out = new Uint8Array(cells).fill(NO_KIND);
  let r = runIndexAt(runs, g.first);
  const cover = new Float64Array(LAYOUT_KINDS.length);
  for (let c = 0; c < cells; c++) {
    const a = g.first + c * g.per;
    if (a >= n) break;
    const b = Math.min(n, a + g.per);
    while (r < runs.length && runs[r].start + runs[r].clusters <= a) r++;
    if (g.per === 1) {
      const run = runs[r];
      if (run && run.start <= a && !hidden.has(run.kind)) out[c] = CODE[run.kind];
      continue;
    }
    cover.fill(0);
    for (let q = r; q < runs.length && runs[q].start < b; q++) {
      const run = runs[q];
      if (hidden.has(run.kind)) continue;
      cover[CODE[run.kind]] += Math.min(b, run.start + run.clusters) - Math.max(a, run.start);
    }
    if (cover[CODE.conflict] > 0) { out[c] = CODE.conflict; continue; }
    if (cover[CODE.leaked] > 0) { out[c] = CODE.leaked; continue; }
    // Metadata before data, data before free space: at whole-file zoom a table among thousands of data
    // clusters still shows where it lies.
    let best = NO_KIND;
    for (const tier of TIERS) {
      let most = 0;
      for (const k of tier) if (cover[k] > most) { most = cover[k]; best = k; }
      if (best !== NO_KIND) break;
    }
    out[c] = best;
  }
  return out;
}

/** Clusters by kind in [a, b), largest first (the tooltip of a many-cluster cell). */
export function kindsIn(runs: readonly LayoutRun[], a: number, b: number): [LayoutKind, number][] {
  const m = new Map<LayoutKind, number>();
  for (let q = runIndexAt(runs, a); q < runs.length && runs[q].start < b; q++) {
    const run = runs[q];
    m.set(run.kind, (m.get(run.kind) ?? 0) + Math.min(b, run.start + run.clusters) - Math.max(a, run.start));
  }
  return [...m.entries()].sort((x, y) => (x[0] === 'conflict' ? -1 : y[0] === 'conflict' ? 1 : y[1] - x[1]));
}
