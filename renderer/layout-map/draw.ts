// Draws the cluster map from the runs: one filled square per cell, its kind's pattern where the cell is
// large enough, and a ring around every conflict cell whatever the zoom, so a single bad cluster in a
// 1 TiB file is seen on the first screen.
import type { LayoutKind, LayoutRun } from '../../shared/contract/dto';
import { cellKinds, KIND_CODES, type Grid } from './geometry';
import { KIND_STYLE, type Pattern } from './palette';

export interface DrawState {
  width: number;
  height: number;
  dpr: number;
  hidden: ReadonlySet<LayoutKind>;
  /** Selected and hovered clusters (-1 none). */
  selected: number;
  hovered: number;
  dark: boolean;
}

function pattern(ctx: CanvasRenderingContext2D, p: Pattern, x: number, y: number, s: number): void {
  if (p === 'none') return;
  const m = Math.max(1, Math.floor(s / 5));
  ctx.beginPath();
  if (p === 'dot') {
    ctx.rect(x + s / 2 - m, y + s / 2 - m, 2 * m, 2 * m);
    ctx.fill();
    return;
  }
  if (p === 'diag' || p === 'x') { ctx.moveTo(x + m, y + s - m); ctx.lineTo(x + s - m, y + m); }
  if (p === 'x') { ctx.moveTo(x + m, y + m); ctx.lineTo(x + s - m, y + s - m); }
  if (p === 'hline' || p === 'cross') { ctx.moveTo(x + m, y + s / 2); ctx.lineTo(x + s - m, y + s / 2); }
  if (p === 'vline' || p === 'cross') { ctx.moveTo(x + s / 2, y + m); ctx.lineTo(x + s / 2, y + s - m); }
  ctx.stroke();
}

export function drawLayoutMap(ctx: CanvasRenderingContext2D, runs: readonly LayoutRun[], n: number, g: Grid, st: DrawState): void {
  ctx.setTransform(st.dpr, 0, 0, st.dpr, 0, 0);
  ctx.fillStyle = st.dark ? '#1b1d21' : '#ffffff';
  ctx.fillRect(0, 0, st.width, st.height);
  const kinds = cellKinds(runs, g, n, st.hidden);
  const s = g.cell;
  const gap = s >= 6 ? 1 : 0;
  const conflictCode = KIND_CODES.indexOf('conflict');
  const rings: [number, number][] = [];
  // One fill colour at a time: cells grouped by kind.
  for (let code = 0; code < KIND_CODES.length; code++) {
    const style = KIND_STYLE[KIND_CODES[code]];
    ctx.fillStyle = style.color;
    for (let c = 0; c < kinds.length; c++) {
      if (kinds[c] !== code) continue;
      const x = (c % g.cols) * s;
      const y = Math.floor(c / g.cols) * s;
      ctx.fillRect(x, y, s - gap, s - gap);
      if (code === conflictCode) rings.push([x, y]);
    }
    if (s >= 8 && style.pattern !== 'none') {
      ctx.strokeStyle = 'rgba(0,0,0,0.45)';
      ctx.fillStyle = 'rgba(0,0,0,0.45)';
      ctx.lineWidth = 1;
      for (let c = 0; c < kinds.length; c++) {
        if (kinds[c] === code) pattern(ctx, style.pattern, (c % g.cols) * s, Math.floor(c / g.cols) * s, s - gap);
      }
    }
  }
  // Conflicts: a double ring (dark and light) at least 9 px across, so they stand out on any neighbour.
  const r = Math.max(s, 9);
  for (const [x, y] of rings) {
    const cx = x + s / 2 - r / 2;
    const cy = y + s / 2 - r / 2;
    ctx.lineWidth = 2;
    ctx.strokeStyle = st.dark ? '#ffffff' : '#000000';
    ctx.strokeRect(cx - 1, cy - 1, r + 2, r + 2);
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#ff1744';
    ctx.strokeRect(cx - 3, cy - 3, r + 6, r + 6);
  }
  const mark = (k: number, color: string, w: number): void => {
    if (k < 0) return;
    const c = Math.floor((k - g.first) / g.per);
    if (c < 0 || c >= g.cols * g.rows) return;
    ctx.lineWidth = w;
    ctx.strokeStyle = color;
    ctx.strokeRect((c % g.cols) * s + 0.5, Math.floor(c / g.cols) * s + 0.5, Math.max(3, s - 1), Math.max(3, s - 1));
  };
  mark(st.hovered, st.dark ? '#ffffff' : '#333333', 1);
  mark(st.selected, st.dark ? '#ffd54f' : '#1a1a1a', 2);
}
