// Paints the visible part of the zone map. Tiny cells (a million zones) go through one ImageData of
// solid colours, a pixel that stands for several zones in the colour of the rarest of them (precedence.ts);
// bigger cells show the written part filled, the rest light, the part beyond capacity
// hatched, and a pattern or the abbreviation of the condition.
import type { ZoneReport } from '../../shared/contract/dto';
import { conditionOf, zoneCapacity, zoneFill, zoneLength, zoneStart } from '../../shared/contract/zone-geometry';
import { cellRect, gapFor, screenCell, visibleCells, type MapLayout, type MapView } from './geometry';
import { CONDITION_STYLE, rgb } from './palette';
import { exceptionsOf, type Exceptions } from './exceptions';
import { RANK_HIDDEN, type Precedence } from './precedence';

export interface DrawOptions {
  width: number;
  height: number;
  dpr: number;
  /** Condition codes to show; others are dimmed. Null = all. */
  filter: ReadonlySet<number> | null;
  selected: number;
  hovered: number;
  dark: boolean;
  /** Rarity ranks for pixels that stand for several zones (and for what the filter hides). */
  precedence: Precedence;
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
  else if (size < PIXEL_CELL_MAX) drawSmallCells(ctx, r, l, v, o, vis, bg);
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

const STYLES = Object.values(CONDITION_STYLE);
/** Condition code → index into STYLES (unknown codes draw as offline, as conditionOf says). */
const STYLE_OF = Uint8Array.from({ length: 256 }, (_, code) => STYLES.indexOf(CONDITION_STYLE[conditionOf(code)]));
const DIM_ALPHA = 0.18;

/** One reusable frame per context: an ImageData and a 32-bit view of its pixels (no allocation per draw). */
interface PixelFrame {
  img: ImageData;
  px: Uint32Array;
  /** Screen column boundaries of the visible columns (reused; grown when needed). */
  xs: Int32Array;
  /** Packed colour per condition code, the filter's dimming applied. */
  lut: Uint32Array;
  /** Rank per pixel while the zones other than the commonest are painted (all 0 between frames). */
  ranks: Uint8Array;
}

const FRAMES = new WeakMap<CanvasRenderingContext2D, PixelFrame>();
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** r, g, b as the 32-bit word ImageData stores for that pixel (opaque). */
function packRgb(r: number, g: number, b: number): number {
  return LITTLE_ENDIAN ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
}

function frameFor(ctx: CanvasRenderingContext2D, W: number, H: number): PixelFrame {
  let f = FRAMES.get(ctx);
  if (!f || f.img.width !== W || f.img.height !== H) {
    const img = ctx.createImageData(W, H);
    f = { img, px: new Uint32Array(img.data.buffer, img.data.byteOffset, W * H), xs: f?.xs ?? new Int32Array(0), lut: f?.lut ?? new Uint32Array(256), ranks: new Uint8Array(W * H) };
    FRAMES.set(ctx, f);
  }
  return f;
}

/**
 * Cells of a few device pixels or less: one solid colour each, written as 32-bit words. A row of cells
 * is painted once, on its first visible pixel line, and copied down to the cell's other lines; column
 * boundaries are computed once per frame, and colours come from a table indexed by condition code.
 */
export function drawPixels(ctx: CanvasRenderingContext2D, r: ZoneReport, l: MapLayout, v: MapView, o: DrawOptions, vis: ReturnType<typeof visibleCells>, bg: string): void {
  const W = Math.ceil(o.width * o.dpr);
  const H = Math.ceil(o.height * o.dpr);
  const f = frameFor(ctx, W, H);
  const { px, lut } = f;
  const [br, bgc, bb] = rgb(bg);
  px.fill(packRgb(br, bgc, bb));
  const hidden = hiddenColor(bg, o.dark);
  for (let code = 0; code < 256; code++) {
    const [cr, cg, cb] = rgb(CONDITION_STYLE[conditionOf(code)].color);
    lut[code] = o.precedence.rank[code] === RANK_HIDDEN ? hidden : packRgb(cr, cg, cb);
  }
  const size = screenCell(l, v) * o.dpr;
  if (size < 1) { drawBlocks(f, r, l, v, o, vis, W, H, size, hidden); ctx.putImageData(f.img, 0, 0); return; }
  const panX = v.panX * o.dpr;
  const panY = v.panY * o.dpr;
  // Column c (visible index k = c - col0) covers pixels [xs[2k], xs[2k+1]).
  const nCols = vis.col1 - vis.col0 + 1;
  if (f.xs.length < 2 * nCols) f.xs = new Int32Array(2 * nCols);
  const xs = f.xs;
  for (let k = 0; k < nCols; k++) {
    const col = vis.col0 + k;
    const x0 = Math.floor(col * size - panX);
    xs[2 * k] = Math.max(0, x0);
    xs[2 * k + 1] = Math.min(W, Math.max(x0 + 1, Math.floor((col + 1) * size - panX)));
  }
  const cond = r.cond;
  const n = l.n;
  for (let row = vis.row0; row <= vis.row1; row++) {
    const y0 = Math.floor(row * size - panY);
    const y1 = Math.min(H, Math.max(y0 + 1, Math.floor((row + 1) * size - panY)));
    const yFirst = Math.max(0, y0);
    if (yFirst >= y1) continue;
    const first = row * l.cols + vis.col0;
    const cols = Math.min(nCols, n - first);
    if (cols <= 0) break;
    const line = yFirst * W;
    let lineEnd = line;
    for (let k = 0; k < cols; k++) {
      const a = xs[2 * k];
      const b = xs[2 * k + 1];
      const c = lut[cond[first + k]];
      for (let p = line + a, e = line + b; p < e; p++) px[p] = c;
      if (b > a) lineEnd = line + b;
    }
    // The cell's other pixel lines repeat the first (only the painted span: the rest stays background).
    const lineStart = line + xs[0];
    for (let y = yFirst + 1; y < y1; y++) px.copyWithin(y * W + xs[0], lineStart, lineEnd);
  }
  ctx.putImageData(f.img, 0, 0);
}

/** What a zone the filter hides looks like: a faint neutral grey, no trace of its condition's colour. */
function hiddenColor(bg: string, dark: boolean): number {
  const b = rgb(bg);
  const c = b.map((d) => over(dark ? 255 : 0, 0.08, d));
  return packRgb(c[0], c[1], c[2]);
}

/**
 * Cells smaller than a device pixel: every device pixel stands for a block of zones and shows the
 * highest-ranked (rarest) condition among them. One pass over the visible zones, row by row; a row of
 * pixels is written when the next zone row falls on another pixel line.
 */
function drawBlocks(f: PixelFrame, r: ZoneReport, l: MapLayout, v: MapView, o: DrawOptions, vis: ReturnType<typeof visibleCells>, W: number, H: number, s: number, hidden: number): void {
  const { px } = f;
  const rank = o.precedence.rank;
  const colourOf = new Uint32Array(256);
  colourOf[RANK_HIDDEN] = hidden;
  for (let k = 2; k < o.precedence.byRank.length; k++) { const c = rgb(CONDITION_STYLE[o.precedence.byRank[k]!].color); colourOf[k] = packRgb(c[0], c[1], c[2]); }
  { const c = rgb(CONDITION_STYLE.offline.color); colourOf[255] = packRgb(c[0], c[1], c[2]); }
  const panX = v.panX * o.dpr;
  const panY = v.panY * o.dpr;
  const nCols = vis.col1 - vis.col0 + 1;
  if (f.xs.length < nCols) f.xs = new Int32Array(Math.max(2 * nCols, 1024));
  const xs = f.xs;
  // Pixel column of each visible zone column, -1 off the canvas (pickAt in geometry.ts uses the same floors).
  for (let k = 0; k < nCols; k++) { const x = Math.floor((vis.col0 + k) * s - panX); xs[k] = x >= 0 && x < W ? x : -1; }
  const cond = r.cond;
  const n = l.n;
  const ex = exceptionsOf(r);
  if (ex && ex.codes.every((code) => rank[code] >= rank[ex.common])) { drawGround(f, r, l, v, o, vis, W, H, s, colourOf, ex); return; }
  const best = new Uint8Array(W);
  let y = -1;
  const flush = (): void => {
    if (y < 0 || y >= H) return;
    const base = y * W;
    for (let x = 0; x < W; x++) { const k = best[x]; if (k) px[base + x] = colourOf[k]; }
  };
  for (let row = vis.row0; row <= vis.row1; row++) {
    const py = Math.floor(row * s - panY);
    if (py < 0) continue;
    if (py >= H) break;
    if (py !== y) { flush(); best.fill(0); y = py; }
    const first = row * l.cols + vis.col0;
    const cols = Math.min(nCols, n - first);
    if (cols <= 0) break;
    for (let k = 0; k < cols; k++) {
      const x = xs[k];
      const rk = rank[cond[first + k]];
      if (x >= 0 && rk > best[x]) best[x] = rk;
    }
  }
  flush();
}

/**
 * drawBlocks for a report that is nearly all one condition: every pixel a visible zone falls on gets the
 * commonest condition's colour (a fill per pixel row), then only the other zones are visited, each raising
 * its pixel's rank. The same pixels as the full pass when no other condition ranks below the commonest (the
 * caller checks), at a cost that does not grow with the zone count.
 */
function drawGround(f: PixelFrame, r: ZoneReport, l: MapLayout, v: MapView, o: DrawOptions, vis: ReturnType<typeof visibleCells>, W: number, H: number, s: number, colourOf: Uint32Array, ex: Exceptions): void {
  const { px, xs, ranks } = f;
  const rank = o.precedence.rank;
  const groundRank = rank[ex.common];
  const ground = colourOf[groundRank];
  const panY = v.panY * o.dpr;
  const nCols = vis.col1 - vis.col0 + 1;
  const n = l.n;
  for (let row = vis.row0; row <= vis.row1; row++) {
    const py = Math.floor(row * s - panY);
    if (py < 0) continue;
    if (py >= H) break;
    const first = row * l.cols + vis.col0;
    const cols = Math.min(nCols, n - first);
    if (cols <= 0) break;
    let ka = 0;
    while (ka < cols && xs[ka] < 0) ka++;
    let kb = cols - 1;
    while (kb >= ka && xs[kb] < 0) kb--;
    if (ka <= kb) px.fill(ground, py * W + xs[ka], py * W + xs[kb] + 1);
  }
  const zones = ex.zones;
  const from = vis.row0 * l.cols;
  const to = Math.min(n, (vis.row1 + 1) * l.cols);
  // First exception at or after `from` (binary search).
  let lo = 0;
  let hi = zones.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (zones[mid] < from) lo = mid + 1; else hi = mid; }
  const touched: number[] = [];
  for (let j = lo; j < zones.length && zones[j] < to; j++) {
    const i = zones[j];
    const row = Math.floor(i / l.cols);
    const col = i - row * l.cols;
    if (col < vis.col0 || col > vis.col1) continue;
    const x = xs[col - vis.col0];
    const py = Math.floor(row * s - panY);
    if (x < 0 || py < 0 || py >= H) continue;
    const p = py * W + x;
    if (ranks[p] === 0) { ranks[p] = groundRank; touched.push(p); }
    const k = rank[r.cond[i]];
    if (k > ranks[p]) ranks[p] = k;
  }
  for (const p of touched) { px[p] = colourOf[ranks[p]]; ranks[p] = 0; }
}

/**
 * Cells below this many CSS pixels (where no text is drawn) are painted as pixels: the canvas spends
 * ~50 ms on 50,000 small rects, and 10-20 ms on a few thousand framed cells.
 */
export const PIXEL_CELL_MAX = 16;

/** `c` at opacity `a` over `d`, one channel. */
function over(c: number, a: number, d: number): number {
  return Math.round(d + (c - d) * a);
}

/**
 * Cells of 4 to 16 CSS pixels (up to tens of thousands on screen), painted into the reused ImageData with what
 * drawCells draws on bigger cells: the cell light, the written part in the condition colour, the part
 * beyond capacity hatched, and from 6 pixels on a frame and the condition's pattern.
 */
export function drawSmallCells(ctx: CanvasRenderingContext2D, r: ZoneReport, l: MapLayout, v: MapView, o: DrawOptions, vis: ReturnType<typeof visibleCells>, bg: string): void {
  const W = Math.ceil(o.width * o.dpr);
  const H = Math.ceil(o.height * o.dpr);
  const f = frameFor(ctx, W, H);
  const px = f.px;
  const bgRgb = rgb(bg);
  px.fill(packRgb(bgRgb[0], bgRgb[1], bgRgb[2]));
  const size = screenCell(l, v);
  const gap = gapFor(size);
  const s = size * o.dpr;
  const gapPx = Math.round(gap * o.dpr);
  const panX = v.panX * o.dpr;
  const panY = v.panY * o.dpr;
  const detailed = size - gap >= 6;
  const lw = Math.max(1, Math.round(o.dpr));
  const inset = Math.round(2 * o.dpr);
  // Colours per dimming (0/1): cell, hatch background and line, mark; per dimming and style: written, frame.
  const ink = o.dark ? 255 : 0;
  const cellC = new Uint32Array(2), hatchC = new Uint32Array(2), lineC = new Uint32Array(2), markC = new Uint32Array(2);
  const writtenC = new Uint32Array(2 * STYLES.length), frameC = new Uint32Array(2 * STYLES.length);
  for (let dim = 0; dim < 2; dim++) {
    const a = dim ? DIM_ALPHA : 1;
    const cell = bgRgb.map((d) => over(ink, (o.dark ? 0.10 : 0.06) * a, d));
    const hatch = cell.map((d) => over(0, (o.dark ? 0.45 : 0.12) * a, d));
    const pack = (c: number[]): number => packRgb(c[0], c[1], c[2]);
    cellC[dim] = pack(cell);
    hatchC[dim] = pack(hatch);
    lineC[dim] = pack(hatch.map((d) => over(ink, 0.45 * a, d)));
    markC[dim] = pack(cell.map((d) => over(ink, (o.dark ? 0.85 : 0.75) * a, d)));
    for (let st = 0; st < STYLES.length; st++) {
      const c = rgb(STYLES[st].color);
      writtenC[dim * STYLES.length + st] = pack(cell.map((d, k) => over(c[k], 0.85 * a, d)));
      frameC[dim * STYLES.length + st] = pack(cell.map((d, k) => over(c[k], a, d)));
    }
  }
  const dimOf = new Uint8Array(256);
  if (o.filter) for (let code = 0; code < 256; code++) dimOf[code] = o.filter.has(code) ? 0 : 1;
  const conventional = STYLES.findIndex((st) => st.label === 'conventional');
  const { cond, wp, zoneSize, zoneCapacity, deviceSize } = r;
  const put = (x: number, y: number, c: number): void => { if (x >= 0 && x < W && y >= 0 && y < H) px[y * W + x] = c; };

  for (let row = vis.row0; row <= vis.row1; row++) {
    const y0 = Math.floor(row * s - panY);
    const y1 = Math.max(y0 + 1, Math.floor((row + 1) * s - panY) - gapPx);
    const ya = Math.max(0, y0);
    const yb = Math.min(H, y1);
    if (ya >= yb) continue;
    for (let col = vis.col0; col <= vis.col1; col++) {
      const i = row * l.cols + col;
      if (i >= l.n) break;
      const code = cond[i];
      const st = STYLE_OF[code];
      const dim = dimOf[code];
      const x0 = Math.floor(col * s - panX);
      const x1 = Math.max(x0 + 1, Math.floor((col + 1) * s - panX) - gapPx);
      const iw = x1 - x0;
      const len = Math.max(0, Math.min(zoneSize, deviceSize - i * zoneSize)) || 1;
      let writtenW: number;
      let usableW: number;
      if (st === conventional) { writtenW = iw; usableW = iw; } else {
        const w = Math.max(0, Math.min(1, (wp[i] - i * zoneSize) / len));
        const u = Math.max(0, Math.min(1, Math.min(zoneCapacity, len) / len));
        writtenW = w > 0 ? Math.max(1, Math.round(iw * w)) : 0;
        usableW = iw * (1 - u) > 0.5 ? Math.round(iw * u) : iw;
      }
      const wc = writtenC[dim * STYLES.length + st];
      const cc = cellC[dim];
      const hc = hatchC[dim];
      const lc = lineC[dim];
      const xa = Math.max(0, x0);
      const xb = Math.min(W, x1);
      // Solid spans go through fill (native even before the JIT warms up); only the hatch is per pixel.
      const wEnd = Math.min(xb, x0 + writtenW);
      const uEnd = Math.min(xb, x0 + usableW);
      for (let y = ya; y < yb; y++) {
        const base = y * W;
        if (wEnd > xa) px.fill(wc, base + xa, base + wEnd);
        if (uEnd > Math.max(xa, wEnd)) px.fill(cc, base + Math.max(xa, wEnd), base + uEnd);
        for (let x = Math.max(xa, uEnd, wEnd); x < xb; x++) px[base + x] = ((x + y) & 3) === 0 ? lc : hc;
      }
      if (!detailed) continue;
      const fc = frameC[dim * STYLES.length + st];
      for (let k = 0; k < lw; k++) {
        for (const y of [y0 + k, y1 - 1 - k]) if (y >= 0 && y < H && xb > xa) px.fill(fc, y * W + xa, y * W + xb);
        for (const x of [x0 + k, x1 - 1 - k]) {
          if (x < 0 || x >= W) continue;
          for (let y = ya; y < yb; y++) px[y * W + x] = fc;
        }
      }
      const mc = markC[dim];
      const ih = y1 - y0;
      const mx = x0 + (iw >> 1);
      const my = y0 + (ih >> 1);
      switch (STYLES[st].pattern) {
        case 'dot': { const d = Math.max(1, Math.round((iw / 8) * 2)); for (let y = my - (d >> 1); y < my - (d >> 1) + d; y++) for (let x = mx - (d >> 1); x < mx - (d >> 1) + d; x++) put(x, y, mc); break; }
        case 'hline': for (let x = x0 + inset; x < x1 - inset; x++) put(x, my, mc); break;
        case 'vline': for (let y = y0 + inset; y < y1 - inset; y++) put(mx, y, mc); break;
        case 'cross': for (let x = x0 + inset; x < x1 - inset; x++) put(x, my, mc); for (let y = y0 + inset; y < y1 - inset; y++) put(mx, y, mc); break;
        case 'diag': for (let t = inset; t < Math.min(iw, ih) - inset; t++) put(x0 + t, y1 - 1 - t, mc); break;
        case 'x': for (let t = inset; t < Math.min(iw, ih) - inset; t++) { put(x0 + t, y0 + t, mc); put(x0 + t, y1 - 1 - t, mc); } break;
        default: break;
      }
    }
  }
  ctx.putImageData(f.img, 0, 0);
}

/**
 * Cells of 16 pixels and up (a few thousand at most): the written part filled, the rest light, the part beyond capacity hatched,
 * a frame and a pattern or the condition's abbreviation. Drawn in layers over all visible cells (cells do not
 * overlap), each layer one path per colour and dimming, so the canvas sees a few fills and strokes per
 * frame instead of several state changes and calls per zone.
 */
function drawCells(ctx: CanvasRenderingContext2D, r: ZoneReport, l: MapLayout, v: MapView, o: DrawOptions, vis: ReturnType<typeof visibleCells>, size: number): void {
  const gap = gapFor(size);
  const inner = size - gap;
  const filter = o.filter;
  // The visible cells once: zone index, and whether the filter dims it.
  const cells: number[] = [];
  for (let row = vis.row0; row <= vis.row1; row++) {
    for (let col = vis.col0; col <= vis.col1; col++) {
      const i = row * l.cols + col;
      if (i >= l.n) break;
      cells.push(i);
    }
  }
  const dimmed = (i: number): boolean => filter !== null && !filter.has(r.cond[i]);
  const xOf = (i: number): number => (i % l.cols) * size - v.panX;
  const yOf = (i: number): number => Math.floor(i / l.cols) * size - v.panY;
  const conventional = STYLES.findIndex((st) => st.label === 'conventional');

  for (const dim of [false, true]) {
    if (dim && filter === null) break;
    const alpha = dim ? DIM_ALPHA : 1;
    const mine = cells.filter((i) => dimmed(i) === dim);
    if (mine.length === 0) continue;
    // Background: the unwritten, usable part.
    ctx.globalAlpha = alpha;
    ctx.fillStyle = o.dark ? 'rgba(255,255,255,0.10)' : 'rgba(0,0,0,0.06)';
    ctx.beginPath();
    for (const i of mine) ctx.rect(xOf(i), yOf(i), inner, inner);
    ctx.fill();
    // The written part (all of a conventional zone), one path per condition colour.
    ctx.globalAlpha = alpha * 0.85;
    const hatched: number[] = [];
    for (let st = 0; st < STYLES.length; st++) {
      let any = false;
      for (const i of mine) {
        if (STYLE_OF[r.cond[i]] !== st) continue;
        const len = zoneLength(r, i) || 1;
        const conv = st === conventional;
        const written = conv ? 1 : Math.max(0, Math.min(1, (r.wp[i] - zoneStart(r, i)) / len));
        const usable = conv ? 1 : Math.max(0, Math.min(1, zoneCapacity(r, i) / len));
        if (usable < 1 && inner * (1 - usable) > 0.5) hatched.push(i, usable);
        if (written <= 0) continue;
        if (!any) { ctx.fillStyle = STYLES[st].color; ctx.beginPath(); any = true; }
        ctx.rect(xOf(i), yOf(i), conv ? inner : Math.max(1, inner * written), inner);
      }
      if (any) ctx.fill();
    }
    ctx.globalAlpha = alpha;
    if (hatched.length) hatch(ctx, hatched, xOf, yOf, inner, o.dark);
    // Frame in the condition colour.
    if (inner >= 6) {
      ctx.lineWidth = inner >= 16 ? 2 : 1;
      for (let st = 0; st < STYLES.length; st++) {
        let any = false;
        for (const i of mine) {
          if (STYLE_OF[r.cond[i]] !== st) continue;
          if (!any) { ctx.strokeStyle = STYLES[st].color; ctx.beginPath(); any = true; }
          ctx.rect(xOf(i) + 0.5, yOf(i) + 0.5, inner - 1, inner - 1);
        }
        if (any) ctx.stroke();
      }
    }
    if (inner >= ABBR_CELL_MIN) {
      labels(ctx, r, mine, xOf, yOf, inner, o.dark);
    } else if (inner >= 6) {
      marks(ctx, mine, (i) => STYLES[STYLE_OF[r.cond[i]]].pattern, xOf, yOf, inner, o.dark);
    }
  }
  ctx.globalAlpha = 1;
}

/** Smallest inner cell (CSS px) that prints the condition's abbreviation ("CLOSED", "EOPEN"); below, a pattern. */
export const ABBR_CELL_MIN = 30;
/** From this inner size on, the zone number and the written fraction are printed too. */
export const NUMBER_CELL_MIN = 44;

/**
 * The text of big cells: the condition's abbreviation in the middle, from NUMBER_CELL_MIN on the zone
 * number above it and the written part of the capacity below (sequential zones). A halo in the
 * background colour keeps the text legible over the written fill and the hatch.
 */
function labels(ctx: CanvasRenderingContext2D, r: ZoneReport, zones: number[], xOf: (i: number) => number, yOf: (i: number) => number, inner: number, dark: boolean): void {
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.lineJoin = 'round';
  ctx.lineWidth = 3;
  ctx.strokeStyle = dark ? 'rgba(30,31,34,0.85)' : 'rgba(255,255,255,0.85)';
  ctx.fillStyle = dark ? '#ffffff' : '#000000';
  // 'OFFLINE' (7 characters, about 0.62 em each) must fit the cell with a little margin.
  const abbrPx = Math.max(7, Math.min(15, Math.floor((inner - 6) / 4.4)));
  const numbers = inner >= NUMBER_CELL_MIN;
  const digits = String(r.nrZones - 1).length;
  const numPx = Math.max(7, Math.min(12, Math.floor((inner - 6) / (0.62 * digits))));
  const text = (t: string, x: number, y: number): void => { ctx.strokeText(t, x, y); ctx.fillText(t, x, y); };
  for (const i of zones) {
    const x = xOf(i) + inner / 2;
    const y = yOf(i);
    ctx.font = `600 ${abbrPx}px system-ui, sans-serif`;
    text(STYLES[STYLE_OF[r.cond[i]]].abbr, x, y + inner / 2 + 1);
    if (!numbers) continue;
    ctx.font = `${numPx}px system-ui, sans-serif`;
    text(String(i), x, y + inner * 0.2);
    if (i >= r.conventionalZones) text(fillText(zoneFill(r, i)), x, y + inner * 0.8);
  }
}

/** Written part as a percentage that never reads as empty or full when it is not: "<1%", ">99%". */
export function fillText(f: number): string {
  if (f > 0 && f < 0.01) return '<1%';
  if (f < 1 && f > 0.99) return '>99%';
  return `${Math.round(f * 100)}%`;
}

/** The part of each listed zone beyond its capacity (pairs: zone, usable fraction), hatched in one clip. */
function hatch(ctx: CanvasRenderingContext2D, zones: number[], xOf: (i: number) => number, yOf: (i: number) => number, inner: number, dark: boolean): void {
  ctx.save();
  ctx.beginPath();
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let k = 0; k < zones.length; k += 2) {
    const i = zones[k];
    const x = xOf(i) + inner * zones[k + 1];
    const y = yOf(i);
    ctx.rect(x, y, inner * (1 - zones[k + 1]), inner);
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + inner); y1 = Math.max(y1, y + inner);
  }
  ctx.fillStyle = dark ? 'rgba(0,0,0,0.45)' : 'rgba(0,0,0,0.12)';
  ctx.fill();
  ctx.clip();
  ctx.strokeStyle = dark ? 'rgba(255,255,255,0.45)' : 'rgba(0,0,0,0.45)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  const h = y1 - y0;
  for (let d = -h; d < x1 - x0; d += 4) { ctx.moveTo(x0 + d, y1); ctx.lineTo(x0 + d + h, y0); }
  ctx.stroke();
  ctx.restore();
}

/** The condition patterns of mid-size cells: one path per pattern. */
function marks(ctx: CanvasRenderingContext2D, zones: number[], patternOf: (i: number) => string, xOf: (i: number) => number, yOf: (i: number) => number, s: number, dark: boolean): void {
  ctx.strokeStyle = dark ? 'rgba(255,255,255,0.85)' : 'rgba(0,0,0,0.75)';
  ctx.fillStyle = ctx.strokeStyle;
  ctx.lineWidth = 1;
  const m = s / 2;
  for (const p of ['dot', 'diag', 'cross', 'hline', 'vline', 'x']) {
    let any = false;
    for (const i of zones) {
      if (patternOf(i) !== p) continue;
      if (!any) { ctx.beginPath(); any = true; }
      const x = xOf(i);
      const y = yOf(i);
      switch (p) {
        case 'dot': { const rad = Math.max(1, s / 8); ctx.moveTo(x + m + rad, y + m); ctx.arc(x + m, y + m, rad, 0, Math.PI * 2); break; }
        case 'diag': ctx.moveTo(x + 2, y + s - 2); ctx.lineTo(x + s - 2, y + 2); break;
        case 'cross': ctx.moveTo(x + m, y + 2); ctx.lineTo(x + m, y + s - 2); ctx.moveTo(x + 2, y + m); ctx.lineTo(x + s - 2, y + m); break;
        case 'hline': ctx.moveTo(x + 2, y + m); ctx.lineTo(x + s - 2, y + m); break;
        case 'vline': ctx.moveTo(x + m, y + 2); ctx.lineTo(x + m, y + s - 2); break;
        case 'x': ctx.moveTo(x + 2, y + 2); ctx.lineTo(x + s - 2, y + s - 2); ctx.moveTo(x + s - 2, y + 2); ctx.lineTo(x + 2, y + s - 2); break;
      }
    }
    if (!any) continue;
    if (p === 'dot') ctx.fill();
    else ctx.stroke();
  }
}
