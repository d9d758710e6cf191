// Zone-map geometry, pure: one cell per zone, row-major, sized to fit the canvas; then zoom and pan. Hit
// testing is arithmetic on these numbers (no DOM per zone), so a million zones stay interactive.

export const MAX_CELL = 120;
export const MAX_SCREEN_CELL = 160;

export interface MapLayout {
  n: number;
  cols: number;
  rows: number;
  /** Cell pitch at zoom 1, in CSS pixels (gap included). */
  cell: number;
}

/** Screen transform: cells are `cell * zoom` pixels; pan is the content offset of the top-left corner. */
export interface MapView {
  zoom: number;
  panX: number;
  panY: number;
}

export const IDENTITY: MapView = { zoom: 1, panX: 0, panY: 0 };

/** The largest cell (up to MAX_CELL; whole pixels from 1 on, fractional below) at which all n zones fit in width × height. */
export function layoutMap(n: number, width: number, height: number): MapLayout {
  const w = Math.max(1, Math.floor(width));
  const h = Math.max(1, Math.floor(height));
  if (n <= 0) return { n: 0, cols: 1, rows: 0, cell: MAX_CELL };
  // More zones than pixels: a fractional pitch, so the fitted map shows every zone and one pixel stands
  // for a block of them (drawn with the rarest condition in the block, see precedence.ts).
  if (n > w * h) {
    let c = Math.sqrt((w * h) / n);
    for (let k = 0; k < 200; k++, c *= 0.995) {
      const cols = Math.max(1, Math.min(n, Math.floor(w / c)));
      if (Math.ceil(n / cols) * c <= h) return { n, cols, rows: Math.ceil(n / cols), cell: c };
    }
  }
  let cell = Math.max(1, Math.min(MAX_CELL, Math.floor(Math.sqrt((w * h) / n))));
  for (; cell > 1; cell--) {
    const cols = Math.max(1, Math.floor(w / cell));
    if (Math.ceil(n / cols) * cell <= h) break;
  }
  const cols = Math.max(1, Math.min(n, Math.floor(w / cell)));
  return { n, cols, rows: Math.ceil(n / cols), cell };
}

/** Gap between cells in screen pixels: none for tiny cells, so a million zones read as an image. */
export function gapFor(size: number): number {
  return size >= 10 ? 2 : size >= 5 ? 1 : 0;
}

export function screenCell(l: MapLayout, v: MapView): number {
  return l.cell * v.zoom;
}

/** Zone under a screen point, or -1. */
export function cellAt(l: MapLayout, v: MapView, sx: number, sy: number): number {
  const size = screenCell(l, v);
  const col = Math.floor((sx + v.panX) / size);
  const row = Math.floor((sy + v.panY) / size);
  if (col < 0 || col >= l.cols || row < 0 || row >= l.rows) return -1;
  const i = row * l.cols + col;
  return i < l.n ? i : -1;
}

export function cellRect(l: MapLayout, v: MapView, i: number): { x: number; y: number; size: number } {
  const size = screenCell(l, v);
  return { x: (i % l.cols) * size - v.panX, y: Math.floor(i / l.cols) * size - v.panY, size };
}

/** Rows (inclusive) and columns with any pixel on screen. */
export function visibleCells(l: MapLayout, v: MapView, width: number, height: number): { row0: number; row1: number; col0: number; col1: number } {
  const size = screenCell(l, v);
  return {
    row0: Math.max(0, Math.floor(v.panY / size)),
    row1: Math.min(l.rows - 1, Math.floor((v.panY + height - 1) / size)),
    col0: Math.max(0, Math.floor(v.panX / size)),
    col1: Math.min(l.cols - 1, Math.floor((v.panX + width - 1) / size)),
  };
}

export function maxZoom(l: MapLayout): number {
  return Math.max(1, MAX_SCREEN_CELL / l.cell);
}

/** Keep the content inside the viewport (no panning into emptiness). */
export function clampView(l: MapLayout, v: MapView, width: number, height: number): MapView {
  const zoom = Math.min(maxZoom(l), Math.max(1, v.zoom));
  const size = l.cell * zoom;
  const maxX = Math.max(0, l.cols * size - width);
  const maxY = Math.max(0, l.rows * size - height);
  return { zoom, panX: Math.min(maxX, Math.max(0, v.panX)), panY: Math.min(maxY, Math.max(0, v.panY)) };
}

/** Zoom by `factor` keeping the content under (sx, sy) where it is. */
export function zoomAt(l: MapLayout, v: MapView, factor: number, sx: number, sy: number, width: number, height: number): MapView {
  const zoom = Math.min(maxZoom(l), Math.max(1, v.zoom * factor));
  const k = zoom / v.zoom;
  return clampView(l, { zoom, panX: (v.panX + sx) * k - sx, panY: (v.panY + sy) * k - sy }, width, height);
}

/** Pan just enough to bring zone i fully on screen, with a margin so it never hides under the edges. */
export function ensureVisible(l: MapLayout, v: MapView, i: number, width: number, height: number, margin = 40): MapView {
  const r = cellRect(l, v, i);
  const m = Math.min(margin, Math.max(0, (width - r.size) / 2), Math.max(0, (height - r.size) / 2));
  let { panX, panY } = v;
  if (r.x < m) panX += r.x - m;
  else if (r.x + r.size > width - m) panX += r.x + r.size - (width - m);
  if (r.y < m) panY += r.y - m;
  else if (r.y + r.size > height - m) panY += r.y + r.size - (height - m);
  return clampView(l, { ...v, panX, panY }, width, height);
}

/** Selection after a navigation key, or null when the key is not one of ours. */
export function moveSelection(l: MapLayout, i: number, key: string, pageRows = 10): number | null {
  const last = l.n - 1;
  const clamp = (x: number): number => Math.max(0, Math.min(last, x));
  switch (key) {
    case 'ArrowLeft': return clamp(i - 1);
    case 'ArrowRight': return clamp(i + 1);
    case 'ArrowUp': return i - l.cols >= 0 ? i - l.cols : i;
    case 'ArrowDown': return i + l.cols <= last ? i + l.cols : i;
    case 'PageUp': return clamp(i - l.cols * pageRows);
    case 'PageDown': return clamp(i + l.cols * pageRows);
    case 'Home': return 0;
    case 'End': return last;
    default: return null;
  }
}

/**
 * The zone a click or hover at (sx, sy) means. Where a device pixel stands for a block of zones (cells
 * below one device pixel), that is the highest-ranked zone of the block: the one whose colour the pixel
 * shows (drawBlocks in draw.ts maps zones to pixels with the same floors). Otherwise cellAt.
 */
export function pickAt(l: MapLayout, v: MapView, sx: number, sy: number, dpr: number, cond: Uint8Array, rank: Uint8Array): number {
  const s = screenCell(l, v) * dpr;
  if (s >= 1) return cellAt(l, v, sx, sy);
  const X = Math.floor(sx * dpr);
  const Y = Math.floor(sy * dpr);
  const panX = v.panX * dpr;
  const panY = v.panY * dpr;
  // Columns c with floor(c·s − panX) = X, i.e. (X + panX)/s ≤ c < (X + 1 + panX)/s; rows alike. The bounds
  // are widened by one and each candidate tested with the painter's own expression, so rounding can never
  // pick a zone from a neighbouring pixel.
  const c0 = Math.max(0, Math.ceil((X + panX) / s) - 1);
  const c1 = Math.min(l.cols, Math.ceil((X + 1 + panX) / s) + 1);
  const r0 = Math.max(0, Math.ceil((Y + panY) / s) - 1);
  const r1 = Math.min(l.rows, Math.ceil((Y + 1 + panY) / s) + 1);
  let best = -1;
  let bestRank = -1;
  for (let row = r0; row < r1; row++) {
    if (Math.floor(row * s - panY) !== Y) continue;
    for (let col = c0; col < c1; col++) {
      if (Math.floor(col * s - panX) !== X) continue;
      const i = row * l.cols + col;
      if (i >= l.n) break;
      const k = rank[cond[i]];
      if (k > bestRank) { bestRank = k; best = i; }
    }
  }
  return best;
}

/** The first and last zone with any part on screen (the overview strip marks this range). */
export function visibleRange(l: MapLayout, v: MapView, width: number, height: number): [number, number] {
  const vis = visibleCells(l, v, width, height);
  return [Math.min(l.n - 1, vis.row0 * l.cols + vis.col0), Math.min(l.n - 1, vis.row1 * l.cols + vis.col1)];
}
