// Rare zones never vanish (issue 13): where a pixel stands for many zones it shows the rarest condition
// among them, on the map and on the overview strip, and a click on that pixel means that zone. Also the
// step to the next / previous zone of a condition, the zone table's order, and the units switch.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exceptionsOf } from '../../renderer/zone-map/exceptions';
import { drawZoneMap } from '../../renderer/zone-map/draw';
import { clampView, layoutMap, pickAt, IDENTITY, visibleCells, screenCell, type MapView } from '../../renderer/zone-map/geometry';
import { CONDITION_STYLE, rgb } from '../../renderer/zone-map/palette';
import { bucketRange, precedenceFor, precedenceOf, RANK_HIDDEN, rarestIn, stepZone, stripRanks, TIE_ORDER } from '../../renderer/zone-map/precedence';
import { zoneOrder } from '../../renderer/zone-map/zone-order';
import { formatSize, SIZE_UNIT_CHOICES } from '../../renderer/units';
import { conditionCounts } from '../../shared/contract/zone-geometry';
import type { ZoneReport } from '../../shared/contract/dto';
import { ZONE_CONDITION_CODES as C, type ZoneCondition } from '../../shared/qcow2/zoned-types';

const N = 1_048_576;
const ZONE = 65536;
/** A million empty zones, 4 conventional, and a few of each rare condition far apart. */
const RARE: Partial<Record<ZoneCondition, number[]>> = {
  closed: [100_003, 333_333, 600_001, 777_777, 1_000_001],
  full: [50_000, 250_000, 1_048_000],
  'explicit-open': [123_456],
  'implicit-open': [222_222, 888_888],
  'read-only': [700_000],
  offline: [1_048_575],
};

function millionZones(): ZoneReport {
  const cond = new Uint8Array(N).fill(C.empty);
  const wp = Float64Array.from({ length: N }, (_, i) => i * ZONE);
  for (let i = 0; i < 4; i++) cond[i] = C['not-wp'];
  for (const [c, zs] of Object.entries(RARE) as [ZoneCondition, number[]][]) for (const i of zs) { cond[i] = C[c]; wp[i] = i * ZONE + (c === 'full' ? ZONE : c === 'closed' ? 4096 : 0); }
  return { nrZones: N, zoneSize: ZONE, zoneCapacity: ZONE, conventionalZones: 4, deviceSize: N * ZONE, maxOpenZones: 0, maxActiveZones: 0, maxAppendBytes: 0, wpByteOrder: 'little-endian', wp, cond };
}

function fakeContext(): { ctx: CanvasRenderingContext2D; last: () => { width: number; data: Uint8ClampedArray } } {
  let put: { width: number; data: Uint8ClampedArray } | null = null;
  const ctx = {
    createImageData: (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
    putImageData: (img: { width: number; data: Uint8ClampedArray }) => { put = { width: img.width, data: img.data.slice() }; },
    setTransform: () => {}, fillRect: () => {}, strokeRect: () => {}, fillStyle: '', strokeStyle: '', lineWidth: 1,
  };
  return { ctx: ctx as unknown as CanvasRenderingContext2D, last: () => put! };
}

describe('precedence by rarity', () => {
  const r = millionZones();
  it('ranks conditions by how few zones have them, ties in the documented order, hidden ones lowest', () => {
    const p = precedenceOf(r, null);
    expect(p.order).toEqual(['offline', 'read-only', 'explicit-open', 'implicit-open', 'full', 'not-wp', 'closed', 'empty']);
    for (let k = 1; k < p.order.length; k++) expect(p.rank[C[p.order[k - 1]]]).toBeGreaterThan(p.rank[C[p.order[k]]]);
    const shown = new Set([C.closed, C.empty]);
    const q = precedenceOf(r, shown);
    expect(q.order).toEqual(['closed', 'empty']);
    expect(q.rank[C.full]).toBe(RANK_HIDDEN);
    expect(q.rank[C.closed]).toBeGreaterThan(q.rank[C.empty]);
    // An unknown code is drawn as offline and ranks with it.
    expect(p.rank[9]).toBe(p.rank[C.offline]);
    // Equal counts keep TIE_ORDER.
    const even = precedenceFor(Object.fromEntries(TIE_ORDER.map((c) => [c, 10])) as Record<ZoneCondition, number>, null);
    expect(even.order).toEqual(TIE_ORDER);
  });

  it('paints every rare zone of a fitted million-zone map as its own pixel, and a click there selects it', () => {
    const width = 900;
    const height = 480;
    const l = layoutMap(N, width, height);
    expect(l.cell).toBeLessThan(1); // several zones per pixel
    const p = precedenceOf(r, null);
    const { ctx, last } = fakeContext();
    drawZoneMap(ctx, r, l, IDENTITY, { width, height, dpr: 1, filter: null, selected: -1, hovered: -1, dark: false, precedence: p });
    const img = last();
    for (const [c, zones] of Object.entries(RARE) as [ZoneCondition, number[]][]) {
      const [cr, cg, cb] = rgb(CONDITION_STYLE[c].color);
      const picked: number[] = [];
      for (let q = 0; q < img.data.length; q += 4) {
        if (img.data[q] !== cr || img.data[q + 1] !== cg || img.data[q + 2] !== cb) continue;
        const k = q >> 2;
        picked.push(pickAt(l, IDENTITY, (k % img.width) + 0.5, Math.floor(k / img.width) + 0.5, 1, r.cond, p.rank));
      }
      expect(picked.sort((a, b) => a - b), c).toEqual([...zones].sort((a, b) => a - b));
    }
  });

  it('keeps every rare zone on the overview strip, whatever its width', () => {
    const p = precedenceOf(r, null);
    for (const buckets of [200, 777, 1280]) {
      const ranks = stripRanks(r.cond, N, p.rank, buckets);
      for (const [c, zones] of Object.entries(RARE) as [ZoneCondition, number[]][]) {
        for (const i of zones) {
          const b = Math.floor((i * buckets) / N);
          const [from, to] = bucketRange(N, buckets, b);
          expect(i >= from && i < to, `zone ${i} in bucket ${b}`).toBe(true);
          // At least as rare as the zone: a rarer one may share its bucket (full 1,048,000 and offline 1,048,575 do at 200).
          expect(ranks[b], `${c} zone ${i}, ${buckets} buckets`).toBeGreaterThanOrEqual(p.rank[C[c]]);
          const others = Object.values(RARE).flat().filter((j) => j !== i && j >= from && j < to);
          // Alone in its bucket, the rare zone is the bucket's click target.
          if (others.length === 0) { expect(ranks[b]).toBe(p.rank[C[c]]); expect(rarestIn(r.cond, p.rank, from, to)).toBe(i); }
        }
      }
    }
  });
});

/** The block painter as a specification: every visible zone raises its pixel to its rank; ranks become colours. */
function blockReference(r: ZoneReport, width: number, height: number, v: MapView, dpr: number, shown: ReadonlySet<number> | null): Uint8ClampedArray {
  const l = layoutMap(r.nrZones, width, height);
  const p = precedenceOf(r, shown);
  const W = Math.ceil(width * dpr);
  const H = Math.ceil(height * dpr);
  const best = new Uint8Array(W * H);
  const vis = visibleCells(l, v, width, height);
  const s = screenCell(l, v) * dpr;
  for (let row = vis.row0; row <= vis.row1; row++) for (let col = vis.col0; col <= vis.col1; col++) {
    const i = row * l.cols + col;
    if (i >= r.nrZones) break;
    const x = Math.floor(col * s - v.panX * dpr);
    const y = Math.floor(row * s - v.panY * dpr);
    if (x < 0 || x >= W || y < 0 || y >= H) continue;
    best[y * W + x] = Math.max(best[y * W + x], p.rank[r.cond[i]]);
  }
  const out = new Uint8ClampedArray(W * H * 4);
  for (let q = 0; q < W * H; q++) {
    const k = best[q];
    const c = k === 0 ? [255, 255, 255] : k === RANK_HIDDEN ? [235, 235, 235] : rgb(CONDITION_STYLE[k === 255 ? 'offline' : p.byRank[k]!].color);
    out.set([c[0], c[1], c[2], 255], 4 * q);
  }
  return out;
}

describe('the block painter (pixels that stand for several zones)', () => {
  const sparse = millionZones();
  // A report where a third of the zones are closed: the full pass, not the commonest-then-the-rest one.
  const mixed: ZoneReport = { ...millionZones(), cond: Uint8Array.from({ length: N }, (_, i) => (i % 3 === 0 ? C.closed : i % 1001 === 0 ? C.full : C.empty)) };
  const cases: { name: string; r: ZoneReport; v: MapView; dpr: number; shown: ReadonlySet<number> | null }[] = [
    { name: 'mostly empty, fitted', r: sparse, v: IDENTITY, dpr: 1, shown: null },
    { name: 'mostly empty, zoomed 1.2× and panned, dpr 1.5', r: sparse, v: { zoom: 1.2, panX: 37.3, panY: 91.6 }, dpr: 1.5, shown: null },
    { name: 'mostly empty, empty hidden', r: sparse, v: IDENTITY, dpr: 1, shown: new Set([C.closed, C.full, C.offline]) },
    { name: 'mostly empty, closed hidden (ranks below the ground)', r: sparse, v: IDENTITY, dpr: 1, shown: new Set([C.empty, C.full]) },
    { name: 'a third closed, fitted', r: mixed, v: IDENTITY, dpr: 1, shown: null },
  ];
  for (const c of cases) {
    it(`paints what the specification paints: ${c.name}`, () => {
      const width = 700;
      const height = 420;
      const l = layoutMap(N, width, height);
      const v = clampView(l, c.v, width, height);
      const { ctx, last } = fakeContext();
      drawZoneMap(ctx, c.r, l, v, { width, height, dpr: c.dpr, filter: c.shown, selected: -1, hovered: -1, dark: false, precedence: precedenceOf(c.r, c.shown) });
      const got = last().data;
      const want = blockReference(c.r, width, height, v, c.dpr, c.shown);
      let diff = -1;
      for (let q = 0; q < want.length; q++) if (got[q] !== want[q]) { diff = q; break; }
      expect(diff, `first differing byte ${diff} (pixel ${diff >> 2})`).toBe(-1);
    });
  }
});

describe('next / previous zone in a condition', () => {
  const r = millionZones();
  it('steps forward and back through the zones of a condition, wrapping around the device', () => {
    const closed = new Set([C.closed]);
    const seen: number[] = [];
    let at = -1;
    for (let k = 0; k < 6; k++) { at = stepZone(r.cond, N, closed, at, 1); seen.push(at); }
    expect(seen).toEqual([...RARE.closed!, RARE.closed![0]]);
    expect(stepZone(r.cond, N, closed, RARE.closed![0], -1)).toBe(RARE.closed![4]);
    expect(stepZone(r.cond, N, new Set([C['explicit-open']]), 123_456, 1)).toBe(123_456); // the only one
    expect(stepZone(r.cond, N, new Set([0x5]), 0, 1)).toBe(-1);
  });
});

describe('zone table order', () => {
  const r = millionZones();
  it('filters by condition and type and sorts stably by any column', () => {
    expect([...zoneOrder(r, { key: 'index', desc: false, shown: new Set([C.closed]), type: 'all' })]).toEqual(RARE.closed);
    expect([...zoneOrder(r, { key: 'index', desc: false, shown: null, type: 'conventional' })]).toEqual([0, 1, 2, 3]);
    const byWritten = zoneOrder(r, { key: 'written', desc: true, shown: null, type: 'sequential' });
    expect(byWritten.length).toBe(N - 4);
    // Full zones (whole zone written) first in zone order, then the closed ones, then the empty ones in zone order.
    expect([...byWritten.subarray(0, 8)]).toEqual([...RARE.full!, ...RARE.closed!]);
    expect(byWritten[8]).toBe(4);
    const byCondition = zoneOrder(r, { key: 'condition', desc: false, shown: null, type: 'all' });
    expect(byCondition[0]).toBe(4); // EMPTY first (legend order), lowest zone first
    expect([...byCondition.subarray(N - 2)]).toEqual([700_000, 1_048_575]); // RDONLY, OFFLINE last
    const counts = conditionCounts(r);
    expect(byCondition.length).toBe(Object.values(counts).reduce((a, b) => a + b, 0));
  });
});

describe('units switch', () => {
  it('offers bytes, 512-byte sectors, sectors in hex as blkzone prints them, and human units', () => {
    expect(SIZE_UNIT_CHOICES.map((u) => u.unit)).toEqual(['bytes', 'sectors', 'hex', 'human']);
    const zone = 8 * 2 ** 20 + 128 * 1024; // the "8 MiB + 128 KiB"
    expect(formatSize(zone, 'bytes')).toBe('8519680');
    expect(formatSize(zone, 'sectors')).toBe('16640');
    expect(formatSize(zone, 'hex')).toBe('0x4100');
    expect(formatSize(zone, 'human')).toBe('8 MiB + 128 KiB');
    expect(formatSize(zone + 100, 'sectors')).toMatch(/^16640 \+\s?100 B$/);
  });
});

describe('the overview strip from a report\'s exceptions (only the zones that differ are visited)', () => {
  it('gives the same ranks as the pass over every zone, for any report, precedence and width', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3000 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.array(fc.tuple(fc.nat(), fc.constantFrom(C['not-wp'], C.empty, C['implicit-open'], C['explicit-open'], C.closed, C.full, C['read-only'], C.offline)), { maxLength: 300 }),
      fc.constantFrom(C.empty, C.full, C['not-wp']),
      fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 256, maxLength: 256 }),
      (n, buckets, others, common, ranks) => {
        const cond = new Uint8Array(n).fill(common);
        // At most an eighth of the zones differ: a report the painter and the strip take the short way for.
        for (const [at, code] of others.slice(0, Math.floor(n / 8))) cond[at % n] = code;
        const r = { nrZones: n, cond } as unknown as ZoneReport;
        const rank = Uint8Array.from(ranks);
        const ex = exceptionsOf(r);
        expect(ex).not.toBeNull();
        expect(stripRanks(cond, n, rank, buckets, ex)).toEqual(stripRanks(cond, n, rank, buckets));
      },
    ), { seed: 20261203, numRuns: 300 });
  });
});
