// The pixel painter of the zone map (cells of a few device pixels: a million zones) paints exactly what a
// plain pixel-by-pixel painter paints — condition colours, what the filter hides in neutral grey, clipping at
// the edges, zoom and pan at any device pixel ratio — and reuses one ImageData from frame to frame.
import { describe, expect, it } from 'vitest';
import { drawPixels, drawZoneMap, PIXEL_CELL_MAX, type DrawOptions } from '../../renderer/zone-map/draw';
import { clampView, layoutMap, screenCell, visibleCells, type MapLayout, type MapView } from '../../renderer/zone-map/geometry';
import { CONDITION_STYLE, rgb } from '../../renderer/zone-map/palette';
import { precedenceOf } from '../../renderer/zone-map/precedence';
import { conditionOf } from '../../shared/contract/zone-geometry';
import type { ZoneReport } from '../../shared/contract/dto';

interface FakeImage { width: number; height: number; data: Uint8ClampedArray }

/** Just enough of a 2D context for drawPixels: image data in, image data out. */
function fakeContext(): { ctx: CanvasRenderingContext2D; puts: FakeImage[]; created: () => number } {
  const puts: FakeImage[] = [];
  let created = 0;
  const ctx = {
    createImageData: (w: number, h: number): FakeImage => { created++; return { width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }; },
    putImageData: (img: FakeImage) => { puts.push({ width: img.width, height: img.height, data: img.data.slice() }); },
    setTransform: () => {}, fillRect: () => {}, strokeRect: () => {},
    fillStyle: '', strokeStyle: '', lineWidth: 1,
  };
  return { ctx: ctx as unknown as CanvasRenderingContext2D, puts, created: () => created };
}

/** The painter as first written: every pixel of every cell, one at a time. */
function reference(r: ZoneReport, l: MapLayout, v: MapView, o: DrawOptions, bg: string): Uint8ClampedArray {
  const W = Math.ceil(o.width * o.dpr);
  const H = Math.ceil(o.height * o.dpr);
  const data = new Uint8ClampedArray(W * H * 4);
  const [br, bgc, bb] = rgb(bg);
  for (let p = 0; p < data.length; p += 4) { data[p] = br; data[p + 1] = bgc; data[p + 2] = bb; data[p + 3] = 255; }
  const vis = visibleCells(l, v, o.width, o.height);
  const size = screenCell(l, v) * o.dpr;
  for (let row = vis.row0; row <= vis.row1; row++) {
    const y0 = Math.floor(row * size - v.panY * o.dpr);
    const y1 = Math.min(H, Math.max(y0 + 1, Math.floor((row + 1) * size - v.panY * o.dpr)));
    for (let col = vis.col0; col <= vis.col1; col++) {
      const i = row * l.cols + col;
      if (i >= l.n) break;
      const code = r.cond[i];
      let [cr, cg, cb] = rgb(CONDITION_STYLE[conditionOf(code)].color);
      // Hidden by the filter: 8 % of the ink over the background, whatever the condition.
      if (o.filter && !o.filter.has(code)) [cr, cg, cb] = [br, bgc, bb].map((d) => Math.round(d - d * 0.08));
      const x0 = Math.floor(col * size - v.panX * o.dpr);
      const x1 = Math.min(W, Math.max(x0 + 1, Math.floor((col + 1) * size - v.panX * o.dpr)));
      for (let y = Math.max(0, y0); y < y1; y++) {
        let p = (y * W + Math.max(0, x0)) * 4;
        for (let x = Math.max(0, x0); x < x1; x++, p += 4) { data[p] = cr; data[p + 1] = cg; data[p + 2] = cb; }
      }
    }
  }
  return data;
}

function report(n: number): ZoneReport {
  const cond = new Uint8Array(n);
  // Every code the format has, plus unknown ones (drawn as offline), in an irregular pattern.
  for (let i = 0; i < n; i++) cond[i] = (i * 7 + (i >> 5)) % 17;
  return {
    nrZones: n, zoneSize: 65536, zoneCapacity: 65536, conventionalZones: 0, deviceSize: n * 65536,
    maxOpenZones: 0, maxActiveZones: 0, maxAppendBytes: 0, wpByteOrder: 'be', wp: new Float64Array(n), cond,
  };
}

const BG = '#ffffff';

describe('drawPixels', () => {
  const width = 301;
  const height = 197;
  const n = 50_000;
  const r = report(n);
  const l = layoutMap(n, width, height);
  const cases: { name: string; v: MapView; dpr: number; filter: ReadonlySet<number> | null }[] = [
    { name: 'whole map', v: { zoom: 1, panX: 0, panY: 0 }, dpr: 1, filter: null },
    { name: 'whole map, dpr 2', v: { zoom: 1, panX: 0, panY: 0 }, dpr: 2, filter: null },
    { name: 'zoomed 1.7× and panned to a fraction of a pixel', v: { zoom: 1.7, panX: 40.3, panY: 33.6 }, dpr: 1, filter: null },
    { name: 'zoomed 3.3×, dpr 1.25, filtered', v: { zoom: 3.3, panX: 123.45, panY: 77.7 }, dpr: 1.25, filter: new Set([1, 3]) },
    { name: 'panned to the last, partial row', v: { zoom: 2.9, panX: 0, panY: 1e9 }, dpr: 1, filter: new Set([0]) },
  ];
  for (const c of cases) {
    it(`paints what the pixel-by-pixel painter paints: ${c.name}`, () => {
      const o: DrawOptions = { width, height, dpr: c.dpr, filter: c.filter, selected: -1, hovered: -1, dark: false, precedence: precedenceOf(r, c.filter) };
      const v = clampView(l, c.v, width, height);
      const { ctx, puts } = fakeContext();
      drawPixels(ctx, r, l, v, o, visibleCells(l, v, width, height), BG);
      expect(puts).toHaveLength(1);
      const want = reference(r, l, v, o, BG);
      const got = puts[0].data;
      expect(got.length).toBe(want.length);
      let diff = -1;
      for (let p = 0; p < want.length; p++) if (got[p] !== want[p]) { diff = p; break; }
      expect(diff, `first differing byte ${diff} (pixel ${diff >> 2})`).toBe(-1);
    });
  }

  it('reuses one ImageData between frames of the same size, and makes a new one when the canvas resizes', () => {
    const { ctx, puts, created } = fakeContext();
    const o: DrawOptions = { width, height, dpr: 1, filter: null, selected: -1, hovered: -1, dark: true, precedence: precedenceOf(r, null) };
    for (let k = 0; k < 5; k++) drawZoneMap(ctx, r, l, { zoom: 1 + k * 0.3, panX: 0, panY: 0 }, o);
    expect(created()).toBe(1);
    drawZoneMap(ctx, r, l, { zoom: 1, panX: 0, panY: 0 }, { ...o, width: width + 10 });
    expect(created()).toBe(2);
    expect(puts.at(-1)!.width).toBe(width + 10);
    // A stale frame never shows through: the second draw of a smaller view is all background where nothing is.
    const [br, bgc, bb] = rgb('#1e1f22');
    const last = puts.at(-1)!.data;
    const end = last.length - 4;
    expect([last[end], last[end + 1], last[end + 2], last[end + 3]]).toEqual([br, bgc, bb, 255]);
  });
});

/** A context that records every call (method name and arguments) and accepts any property. */
function recordingContext(): { ctx: CanvasRenderingContext2D; calls: [string, unknown[]][] } {
  const calls: [string, unknown[]][] = [];
  const props: Record<string, unknown> = {};
  const ctx = new Proxy(props, {
    get: (t, k: string) => (k in t ? t[k] : (...a: unknown[]) => { calls.push([k, a]); }),
    set: (t, k: string, val) => { t[k] = val; calls.push([`set ${k}`, [val]]); return true; },
  });
  return { ctx: ctx as unknown as CanvasRenderingContext2D, calls };
}

describe('drawZoneMap with cells of 16 pixels and more (drawn as paths)', () => {
  // 4000 zones of 64 KiB with capacity 48 KiB: 2 conventional, then empty / half written / full by turns.
  const n = 4000;
  const cond = Uint8Array.from({ length: n }, (_, i) => (i < 2 ? 0 : i % 3 === 0 ? 0xe : i % 3 === 1 ? 1 : 4));
  const wp = Float64Array.from({ length: n }, (_, i) => i * 65536 + (i % 3 === 0 ? 49152 : i % 3 === 2 ? 24576 : 0));
  const r: ZoneReport = { ...report(n), zoneCapacity: 49152, conventionalZones: 2, cond, wp };
  const width = 640;
  const height = 400;
  const l = layoutMap(n, width, height);

  for (const [zoom, what] of [[2.125, 'patterns'], [6, 'labels']] as const) {
    it(`draws each layer as one path per colour, not calls per zone (${what})`, () => {
      const { ctx, calls } = recordingContext();
      const v = clampView(l, { zoom, panX: 0, panY: 0 }, width, height);
      const vis = visibleCells(l, v, width, height);
      const size = screenCell(l, v);
      expect(size).toBeGreaterThanOrEqual(PIXEL_CELL_MAX);
      drawZoneMap(ctx, r, l, v, { width, height, dpr: 1, filter: new Set([1]), selected: 7, hovered: -1, dark: false, precedence: precedenceOf(r, new Set([1])) });
      let visible = 0;
      for (let row = vis.row0; row <= vis.row1; row++) visible += Math.max(0, Math.min(vis.col1 - vis.col0 + 1, n - (row * l.cols + vis.col0)));
      const count = (name: string): number => calls.filter((c) => c[0] === name).length;
      // Every visible zone: one background rect, one frame rect; written zones (conventional, half, full) a fill rect.
      const written = (() => { let w = 0; for (let row = vis.row0; row <= vis.row1; row++) for (let col = vis.col0; col <= vis.col1; col++) { const i = row * l.cols + col; if (i < n && (i < 2 || i % 3 !== 1)) w++; } return w; })();
      // Zones short of their capacity hatch their last quarter (conventional zones excepted).
      const hatched = (() => { let h = 0; for (let row = vis.row0; row <= vis.row1; row++) for (let col = vis.col0; col <= vis.col1; col++) { const i = row * l.cols + col; if (i >= 2 && i < n) h++; } return h; })();
      expect(count('rect')).toBe(visible + written + hatched + visible);
      expect(count('fill') + count('stroke')).toBeLessThanOrEqual(2 * (1 + 8 + 2 + 8 + 6));
      // Big cells: the condition's abbreviation, the zone number and (sequential zones) the written part.
      const sequential = (() => { let k = 0; for (let row = vis.row0; row <= vis.row1; row++) for (let col = vis.col0; col <= vis.col1; col++) { const i = row * l.cols + col; if (i >= 2 && i < n) k++; } return k; })();
      if (what === 'labels') {
        expect(count('fillText')).toBe(2 * visible + sequential);
        const texts = calls.filter((c) => c[0] === 'fillText').map((c) => c[1][0]);
        expect(texts).toContain('CLOSED');
        expect(texts).toContain(String(vis.row0 * l.cols + vis.col0));
        expect(texts).toContain('50%'); // closed zones are written to half their capacity
        expect(texts).not.toContain('E');
      } else expect(count('fillText')).toBe(0);
      // The filter dims what it leaves out.
      expect(calls.some((c) => c[0] === 'set globalAlpha' && c[1][0] === 0.18)).toBe(true);
      expect(calls.at(-1)).toEqual(['strokeRect', expect.any(Array)]);
    });
  }
});

describe('drawZoneMap with cells of 4 to 16 pixels (painted as pixels)', () => {
  // Same zones as above: 2 conventional, then full at capacity (i % 3 = 0), empty, closed half way.
  const n = 4000;
  const cond = Uint8Array.from({ length: n }, (_, i) => (i < 2 ? 0 : i % 3 === 0 ? 0xe : i % 3 === 1 ? 1 : 4));
  const wp = Float64Array.from({ length: n }, (_, i) => i * 65536 + (i % 3 === 0 ? 49152 : i % 3 === 2 ? 24576 : 0));
  const r: ZoneReport = { ...report(n), zoneCapacity: 49152, conventionalZones: 2, cond, wp };
  const width = 640;
  const height = 400;
  const l = layoutMap(n, width, height);
  const v = { zoom: 1, panX: 0, panY: 0 };

  function paint(filter: ReadonlySet<number> | null): (i: number, dx: number, dy: number) => number[] {
    const { ctx, puts } = fakeContext();
    drawZoneMap(ctx, r, l, v, { width, height, dpr: 1, filter, selected: -1, hovered: -1, dark: false, precedence: precedenceOf(r, filter) });
    expect(puts).toHaveLength(1);
    const data = puts[0].data;
    return (i, dx, dy) => {
      const x = (i % l.cols) * l.cell + dx;
      const y = Math.floor(i / l.cols) * l.cell + dy;
      const p = (y * puts[0].width + x) * 4;
      return [data[p], data[p + 1], data[p + 2]];
    };
  }

  it('shows the light cell, the written part, the hatched part beyond capacity and a frame in the condition colour', () => {
    expect(l.cell).toBe(8); // inner 7 pixels: frame and pattern drawn
    const at = paint(null);
    const light = [240, 240, 240]; // black at 6 % over white
    // Empty zone 4: light inside, frame in its colour, no pattern.
    expect(at(4, 3, 3)).toEqual(light);
    expect(at(4, 0, 3)).toEqual(rgb(CONDITION_STYLE.empty.color));
    // Full zone 3 (written to its capacity, 3/4 of the zone): written colour, then hatching, green frame, a dot.
    const full = rgb(CONDITION_STYLE.full.color);
    expect(at(3, 3, 0)).toEqual(full);
    const written = at(3, 1, 2);
    expect(written).toEqual(light.map((d, k) => Math.round(d + (full[k] - d) * 0.85)));
    const beyond = [at(3, 5, 1), at(3, 5, 2), at(3, 5, 3), at(3, 5, 4)];
    for (const b of beyond) { expect(b).not.toEqual(light); expect(b).not.toEqual(written); }
    expect(new Set(beyond.map(String)).size).toBe(2); // hatch background and its lines
    // Closed zone 5, written to 3/8: written part then light; a horizontal line through the middle.
    const closedWritten = at(5, 1, 1);
    expect(closedWritten).not.toEqual(light);
    expect(at(5, 4, 1)).toEqual(light);
    expect(at(5, 2, 3)).not.toEqual(closedWritten); // the hline mark crosses the written part
    // The gap column between cells stays background.
    expect(at(4, 7, 3)).toEqual([255, 255, 255]);
  });

  it('leaves a two-pixel gap from ten pixels on, and draws no path for any cell', () => {
    const { ctx, puts } = fakeContext();
    const calls: string[] = [];
    const spy = new Proxy(ctx, { get: (t, k: string) => { const val = (t as unknown as Record<string, unknown>)[k]; if (typeof val === 'function') calls.push(k); return val; } });
    drawZoneMap(spy, r, l, { zoom: 1.5, panX: 0, panY: 0 }, { width, height, dpr: 1, filter: null, selected: -1, hovered: -1, dark: false, precedence: precedenceOf(r, null) });
    expect(calls.filter((c) => c === 'createImageData' || c === 'putImageData' || c === 'setTransform' || c === 'fillRect')).toEqual(['setTransform', 'fillRect', 'createImageData', 'putImageData']);
    const data = puts[0].data;
    const pixel = (x: number, y: number): number[] => { const p = (y * puts[0].width + x) * 4; return [data[p], data[p + 1], data[p + 2]]; };
    // Zone 4 at 12 px: frame from 48 to 57, then 2 px of background before zone 5's frame.
    expect(pixel(4 * 12, 3)).toEqual(rgb(CONDITION_STYLE.empty.color));
    expect(pixel(4 * 12 + 9, 3)).toEqual(rgb(CONDITION_STYLE.empty.color));
    expect(pixel(4 * 12 + 10, 3)).toEqual([255, 255, 255]);
    expect(pixel(4 * 12 + 11, 3)).toEqual([255, 255, 255]);
    expect(pixel(5 * 12, 3)).toEqual(rgb(CONDITION_STYLE.closed.color));
  });

  it('dims the zones the filter hides', () => {
    const all = paint(null);
    const onlyEmpty = paint(new Set([1]));
    expect(onlyEmpty(4, 0, 3)).toEqual(all(4, 0, 3));
    const dimmed = onlyEmpty(3, 3, 0);
    const full = all(3, 3, 0);
    // Closer to the white background than the undimmed frame.
    expect(dimmed.reduce((a, c) => a + c, 0)).toBeGreaterThan(full.reduce((a, c) => a + c, 0) + 200);
  });
});
