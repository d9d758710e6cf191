// Zone-map geometry and hit testing: pure arithmetic, so a million zones need no DOM per zone.
import { describe, expect, it } from 'vitest';
import { cellAt, cellRect, clampView, ensureVisible, IDENTITY, layoutMap, MAX_CELL, moveSelection, visibleCells, zoomAt } from '../../renderer/zone-map/geometry';
import { parseJump } from '../../renderer/zone-map/zone-map';
import type { ZoneReport } from '../../shared/contract/dto';

describe('layoutMap', () => {
  it('gives a dozen zones large tiles, a million zones single pixels or less, always fitting the canvas', () => {
    const few = layoutMap(12, 800, 600);
    expect(few.cell).toBe(MAX_CELL);
    expect(layoutMap(1_048_576, 1024, 1024).cell).toBe(1);
    // More zones than pixels: a fractional cell, so the fitted map holds every zone.
    const many = layoutMap(1_048_576, 1000, 1000);
    expect(many.cell).toBeLessThan(1);
    expect(many.cell).toBeGreaterThan(0.95);
    for (const [n, w, h] of [[12, 800, 600], [48, 600, 650], [1000, 640, 480], [1_048_576, 1000, 1000], [1_048_576, 604, 479], [7, 50, 50]]) {
      const l = layoutMap(n, w, h);
      expect(l.cols * l.rows).toBeGreaterThanOrEqual(n);
      expect(l.cols * l.cell).toBeLessThanOrEqual(w);
      expect(l.rows * l.cell).toBeLessThanOrEqual(h);
    }
  });
});

describe('hit testing', () => {
  const l = layoutMap(100, 500, 500); // 50 px cells, 10 columns
  it('maps a point to the zone under it, and every zone back to its cell', () => {
    expect(l).toMatchObject({ cols: 10, rows: 10, cell: 50 });
    expect(cellAt(l, IDENTITY, 0, 0)).toBe(0);
    expect(cellAt(l, IDENTITY, 49, 49)).toBe(0);
    expect(cellAt(l, IDENTITY, 50, 0)).toBe(1);
    expect(cellAt(l, IDENTITY, 0, 50)).toBe(10);
    for (const i of [0, 9, 10, 55, 99]) {
      const r = cellRect(l, IDENTITY, i);
      expect(cellAt(l, IDENTITY, r.x + r.size / 2, r.y + r.size / 2)).toBe(i);
    }
  });
  it('returns -1 outside the grid and past the last zone', () => {
    const partial = layoutMap(95, 500, 500);
    expect(cellAt(partial, IDENTITY, -1, 10)).toBe(-1);
    expect(cellAt(partial, IDENTITY, 499, 499)).toBe(-1); // cell 99 does not exist
    expect(cellAt(partial, IDENTITY, 600, 10)).toBe(-1);
  });
  it('follows zoom and pan', () => {
    const v = { zoom: 2, panX: 100, panY: 0 };
    expect(cellAt(l, v, 0, 0)).toBe(1); // (0+100)/100 = column 1
    const z = zoomAt(l, IDENTITY, 2, 250, 250, 500, 500);
    // The zone under the pointer stays under the pointer.
    expect(cellAt(l, z, 250, 250)).toBe(cellAt(l, IDENTITY, 250, 250));
  });
  it('works on a million zones at single pixels', () => {
    const big = layoutMap(1_048_576, 1024, 1024);
    expect(cellAt(big, IDENTITY, 1023, 1023)).toBe(1_048_575);
    const zoomed = zoomAt(big, IDENTITY, 16, 512, 512, 1024, 1024);
    const seen = ensureVisible(big, zoomed, 1_000_000, 1024, 1024);
    const r = cellRect(big, seen, 1_000_000);
    expect(r.x).toBeGreaterThanOrEqual(0);
    expect(r.y + r.size).toBeLessThanOrEqual(1024);
    expect(cellAt(big, seen, r.x + r.size / 2, r.y + r.size / 2)).toBe(1_000_000);
    const vis = visibleCells(big, seen, 1024, 1024);
    expect(vis.row1 - vis.row0).toBeLessThanOrEqual(1024 / 16 + 1);
  });
});

describe('navigation', () => {
  const l = layoutMap(25, 100, 100); // 5 x 5
  it('moves by arrow keys and clamps at the edges', () => {
    expect(l.cols).toBe(5);
    expect(moveSelection(l, 0, 'ArrowLeft')).toBe(0);
    expect(moveSelection(l, 0, 'ArrowRight')).toBe(1);
    expect(moveSelection(l, 0, 'ArrowDown')).toBe(5);
    expect(moveSelection(l, 2, 'ArrowUp')).toBe(2);
    expect(moveSelection(l, 22, 'ArrowDown')).toBe(22);
    expect(moveSelection(l, 3, 'End')).toBe(24);
    expect(moveSelection(l, 3, 'x')).toBeNull();
  });
  it('never pans beyond the content', () => {
    expect(clampView(l, { zoom: 1, panX: 50, panY: -5 }, 100, 100)).toEqual({ zoom: 1, panX: 0, panY: 0 });
  });
});

describe('jump to zone or offset', () => {
  const r = { nrZones: 10, zoneSize: 4 << 20, zoneCapacity: 3 << 20, conventionalZones: 2, deviceSize: 40 << 20 } as ZoneReport;
  it('reads zone numbers and byte offsets', () => {
    expect(parseJump('7', r)).toBe(7);
    expect(parseJump('#3', r)).toBe(3);
    expect(parseJump('10', r)).toBe(-1);
    expect(parseJump('0x800000', r)).toBe(2);
    expect(parseJump('@13M', r)).toBe(3);
    expect(parseJump('@40M', r)).toBe(-1);
    expect(parseJump('zone', r)).toBe(-1);
  });
});
