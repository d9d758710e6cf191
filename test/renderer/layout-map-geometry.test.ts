// The cluster map's geometry: the whole file fits, zooming keeps the cluster under the pointer and reaches
// one cluster a cell, and a cell of many clusters shows a conflict (then a leak) wherever it is inside.
import { describe, expect, it } from 'vitest';
import type { LayoutRun } from '../../shared/contract/dto';
import { LAYOUT_KINDS } from '../../shared/qcow2/layout-runs';
import { cellKinds, cellRange, fitGrid, focusGrid, kindsIn, NO_KIND, scrollGrid, zoomGrid } from '../../renderer/layout-map/geometry';

const W = 600;
const H = 400;
const N = 16 * 1024 * 1024;
/** 16 M clusters: data, one conflict deep inside, one leak, data again. */
const RUNS: LayoutRun[] = [
  { start: 0, clusters: 1, kind: 'header', owner: 'header' },
  { start: 1, clusters: 9_999_999, kind: 'data', owner: 'guest 0x0' },
  { start: 10_000_000, clusters: 1, kind: 'conflict', owner: 'overlap' },
  { start: 10_000_001, clusters: 1, kind: 'leaked', owner: 'refcount 1, no reference' },
  { start: 10_000_002, clusters: N - 10_000_002, kind: 'free', owner: 'free' },
];
const code = (k: string): number => LAYOUT_KINDS.indexOf(k as (typeof LAYOUT_KINDS)[number]);

describe('layout map geometry', () => {
  it('fits the whole file: every cluster in some cell, no cell past the end', () => {
    const g = fitGrid(N, W, H);
    expect(g.cols * g.rows * g.per).toBeGreaterThanOrEqual(N);
    expect(g.cols * g.rows * (g.per - 1)).toBeLessThan(N);
    expect(fitGrid(10, W, H)).toMatchObject({ per: 1, cell: 32 });
  });

  it('zooms around the pointer down to one cluster a cell and back out to the fit', () => {
    let g = fitGrid(N, W, H);
    const x = 301;
    const y = 199;
    for (let i = 0; i < 40 && g.per > 1; i++) {
      const [under, end] = cellRange(g, N, x, y)!;
      g = zoomGrid(g, N, W, H, true, x, y);
      const r = cellRange(g, N, x, y)!;
      // Within the old cell, give or take the one row the grid snaps its start to.
      expect(r[0]).toBeGreaterThanOrEqual(under - g.per * g.cols);
      expect(r[0]).toBeLessThan(end + g.per * g.cols);
    }
    expect(g.per).toBe(1);
    for (let i = 0; i < 60; i++) g = zoomGrid(g, N, W, H, false, x, y);
    expect(g.per).toBe(fitGrid(N, W, H).per);
  });

  it('shows a single conflict cluster in a cell of thousands, a leak before the majority kind, metadata before data', () => {
    const g = fitGrid(N, W, H);
    const kinds = cellKinds(RUNS, g, N, new Set());
    const at = (k: number): number => kinds[Math.floor((k - g.first) / g.per)];
    expect(g.per).toBeGreaterThan(100);
    expect(at(10_000_000)).toBe(code('conflict'));
    expect(at(5_000_000)).toBe(code('data'));
    // One header cluster among hundreds of data clusters: metadata shows where it lies.
    expect(at(0)).toBe(code('header'));
    expect(at(N - 1)).toBe(code('free'));
    // Hiding conflicts lets the leak in the same cell show; hiding everything leaves the cell empty.
    expect(cellKinds(RUNS, g, N, new Set(['conflict']))[Math.floor(10_000_000 / g.per)]).toBe(code('leaked'));
    expect(cellKinds(RUNS, g, N, new Set(LAYOUT_KINDS))[0]).toBe(NO_KIND);
    expect(kindsIn(RUNS, 9_999_000, 10_001_000)[0]).toEqual(['conflict', 1]);
  });

  it('focuses a cluster at one cluster a cell, and scrolling stays inside the file', () => {
    const g = focusGrid(fitGrid(N, W, H), N, W, H, 10_000_000);
    expect(g.per).toBe(1);
    const c = 10_000_000 - g.first;
    expect(c).toBeGreaterThanOrEqual(0);
    expect(c).toBeLessThan(g.cols * g.rows);
    expect(cellKinds(RUNS, g, N, new Set())[c]).toBe(code('conflict'));
    expect(scrollGrid(g, N, -1e9).first).toBe(0);
    const end = scrollGrid(g, N, 1e9);
    expect(end.first + end.cols * end.rows * end.per).toBeGreaterThanOrEqual(N);
    expect(end.first).toBeLessThan(N);
  });
});
