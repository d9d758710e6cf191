// Paints the visible part of the zone map. Tiny cells (a million zones) go through one ImageData of
// solid colours; bigger cells show the written part filled, the rest light, the part beyond capacity
// hatched, and a pattern or glyph for the condition.
import type { ZoneReport } from '../../shared/contract/dto';
import { conditionOf, zoneCapacity, zoneLength, zoneStart } from '../../shared/contract/zone-geometry';
import { cellRect, gapFor, screenCell, visibleCells, type MapLayout, type MapView } from './geometry';
import { CONDITION_STYLE, rgb } from './palette';

export interface DrawOptions {
  width: number;
  height: number;
  dpr: number;
  /** Condition codes to show; others are dimmed. Null = all. */
  filter: ReadonlySet<number> | null;
  selected: number;
  hovered: number;
  dark: boolean;
}

const RGB_CACHE = new Map<number, [number, number, number]>();
function colorOf(code: number): [number, number, number] {
  let c = RGB_CACHE.get(code);
  if (!c) { c = rgb(CONDITION_STYLE[conditionOf(code)].color); RGB_CACHE.set(code, c); }
  return c;
}

export function drawZoneMap(ctx: CanvasRenderingContext2D, r: ZoneReport, l: MapLayout, v: MapView, o: DrawOptions): void {
  const bg = o.dark ? '#1e1f22' : '#ffffff';
  ctx.setTransform(o.dpr, 0, 0, o.dpr, 0, 0);
  ctx.fillStyle = bg;
  ctx.fillRect(0, 0, o.width, o.height);
  if (l.n === 0) return;
  const size = screenCell(l, v);
  const vis = visibleCells(l, v, o.width, o.height);
  if (size < 4) drawPixels(ctx, r, l, v, o, vis, bg);
  else drawCells(ctx, r, l, v, o, vis, size);
  for (const [i, color] of [[o.hovered, o.dark ? '#ffffff' : '#000000'], [o.selected, '#ff2d95']] as const) {
    if (i < 0 || i >= l.n) continue;
    const c = cellRect(l, v, i);
    ctx.lineWidth = 2;
    ctx.strokeStyle = color;
    const pad = Math.max(3, size < 4 ? 4 : 0);
    ctx.strokeRect(c.x - pad + 1, c.y - pad + 1, Math.max(2, c.size) + 2 * pad - 2, Math.max(2, c.size) + 2 * pad - 2);
  }
}

function drawPixels(ctx: CanvasRenderingContext2D, r: ZoneReport, l: MapLayout, v: MapView, o: DrawOptions, vis: ReturnType<typeof visibleCells>, bg: string): void {
  const W = Math.ceil(o.width * o.dpr);
  const H = Math.ceil(o.height * o.dpr);
  const img = ctx.createImageData(W, H);
  const data = img.data;
  const [br, bgc, bb] = rgb(bg);
  for (let p = 0; p < data.length; p += 4) { data[p] = br; data[p + 1] = bgc; data[p + 2] = bb; data[p + 3] = 255; }
  const size = screenCell(l, v) * o.dpr;
  for (let row = vis.row0; row <= vis.row1; row++) {
    const y0 = Math.floor(row * size - v.panY * o.dpr);
    const y1 = Math.min(H, Math.max(y0 + 1, Math.floor((row + 1) * size - v.panY * o.dpr)));
    for (let col = vis.col0; col <= vis.col1; col++) {
      const i = row * l.cols + col;
      if (i >= l.n) break;
      const code = r.cond[i];
      let [cr, cg, cb] = colorOf(code);
      if (o.filter && !o.filter.has(code)) { cr = (cr + br * 3) >> 2; cg = (cg + bgc * 3) >> 2; cb = (cb + bb * 3) >> 2; }
      const x0 = Math.floor(col * size - v.panX * o.dpr);
      const x1 = Math.min(W, Math.max(x0 + 1, Math.floor((col + 1) * size - v.panX * o.dpr)));
      for (let y = Math.max(0, y0); y < y1; y++) {
        let p = (y * W + Math.max(0, x0)) * 4;
        for (let x = Math.max(0, x0); x < x1; x++, p += 4) { data[p] = cr; data[p + 1] = cg; data[p + 2] = cb; }
      }
    }
  }
  ctx.putImageData(img, 0, 0);
}

function drawCells(ctx: CanvasRenderingContext2D, r: ZoneReport, l: MapLayout, v: MapView, o: DrawOptions, vis: ReturnType<typeof visibleCells>, size: number): void {
  const gap = gapFor(size);
  const inner = size - gap;
  const light = o.dark ? 'rgba(255,255,255,0.10)' : 'rgba(0,0,0,0.06)';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.font = `${Math.round(Math.min(inner * 0.55, 22))}px system-ui, sans-serif`;
  for (let row = vis.row0; row <= vis.row1; row++) {
    for (let col = vis.col0; col <= vis.col1; col++) {
      const i = row * l.cols + col;
      if (i >= l.n) break;
      const code = r.cond[i];
      const style = CONDITION_STYLE[conditionOf(code)];
      const x = col * size - v.panX;
      const y = row * size - v.panY;
      ctx.globalAlpha = o.filter && !o.filter.has(code) ? 0.18 : 1;
      // Background: the unwritten, usable part.
      ctx.fillStyle = light;
      ctx.fillRect(x, y, inner, inner);
      const len = zoneLength(r, i) || 1;
      const conventional = style.label === 'conventional';
      const written = conventional ? 0 : Math.max(0, Math.min(1, (r.wp[i] - zoneStart(r, i)) / len));
      const usable = conventional ? 1 : Math.max(0, Math.min(1, zoneCapacity(r, i) / len));
      ctx.fillStyle = style.color;
      ctx.globalAlpha *= 0.85;
      if (conventional) ctx.fillRect(x, y, inner, inner);
      else if (written > 0) ctx.fillRect(x, y, Math.max(1, inner * written), inner);
      ctx.globalAlpha = o.filter && !o.filter.has(code) ? 0.18 : 1;
      if (usable < 1) hatch(ctx, x + inner * usable, y, inner * (1 - usable), inner, o.dark);
      // Frame in the condition colour.
      if (inner >= 6) {
        ctx.strokeStyle = style.color;
        ctx.lineWidth = inner >= 16 ? 2 : 1;
        ctx.strokeRect(x + 0.5, y + 0.5, inner - 1, inner - 1);
      }
      if (inner >= 16) {
        ctx.fillStyle = o.dark ? '#ffffff' : '#000000';
        ctx.fillText(style.glyph, x + inner / 2, y + inner / 2 + 1);
      } else if (inner >= 6) {
        mark(ctx, style.pattern, x, y, inner, o.dark);
      }
    }
  }
  ctx.globalAlpha = 1;
}

function hatch(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, dark: boolean): void {
  if (w <= 0.5) return;
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, y, w, h);
  ctx.clip();
  ctx.fillStyle = dark ? 'rgba(0,0,0,0.45)' : 'rgba(0,0,0,0.12)';
  ctx.fillRect(x, y, w, h);
  ctx.strokeStyle = dark ? 'rgba(255,255,255,0.45)' : 'rgba(0,0,0,0.45)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let d = -h; d < w; d += 4) { ctx.moveTo(x + d, y + h); ctx.lineTo(x + d + h, y); }
  ctx.stroke();
  ctx.restore();
}

function mark(ctx: CanvasRenderingContext2D, p: string, x: number, y: number, s: number, dark: boolean): void {
  ctx.strokeStyle = dark ? 'rgba(255,255,255,0.85)' : 'rgba(0,0,0,0.75)';
  ctx.fillStyle = ctx.strokeStyle;
  ctx.lineWidth = 1;
  const m = s / 2;
  ctx.beginPath();
  switch (p) {
    case 'dot': ctx.arc(x + m, y + m, Math.max(1, s / 8), 0, Math.PI * 2); ctx.fill(); return;
    case 'diag': ctx.moveTo(x + 2, y + s - 2); ctx.lineTo(x + s - 2, y + 2); break;
    case 'cross': ctx.moveTo(x + m, y + 2); ctx.lineTo(x + m, y + s - 2); ctx.moveTo(x + 2, y + m); ctx.lineTo(x + s - 2, y + m); break;
    case 'hline': ctx.moveTo(x + 2, y + m); ctx.lineTo(x + s - 2, y + m); break;
    case 'vline': ctx.moveTo(x + m, y + 2); ctx.lineTo(x + m, y + s - 2); break;
    case 'x': ctx.moveTo(x + 2, y + 2); ctx.lineTo(x + s - 2, y + s - 2); ctx.moveTo(x + s - 2, y + 2); ctx.lineTo(x + 2, y + s - 2); break;
    default: return;
  }
  ctx.stroke();
}
