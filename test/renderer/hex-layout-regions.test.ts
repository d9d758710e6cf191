// The hex view colours what the summary cannot size (L2 tables, refcount blocks, data, conflicts…) from the
// layout map's runs, and keeps the summary's field-level names where both cover a byte.
import { describe, expect, it } from 'vitest';
import type { LayoutRun } from '../../shared/qcow2/layout-runs';
import { layoutRegions, regionsIn, type Region } from '../../renderer/regions';

const CS = 65536;
const runs: LayoutRun[] = [
  { start: 0, clusters: 1, kind: 'header', owner: 'header' },
  { start: 1, clusters: 1, kind: 'refcount-table', owner: 'refcount table' },
  { start: 2, clusters: 1, kind: 'refcount-block', owner: 'refcount block #0' },
  { start: 3, clusters: 1, kind: 'l1', owner: 'active L1 table' },
  { start: 4, clusters: 1, kind: 'l2', owner: 'L2 table #0 (guest 0x0-0x20000000)' },
  { start: 5, clusters: 3, kind: 'data', owner: 'guest 0x0' },
  { start: 8, clusters: 1, kind: 'free', owner: 'free' },
  { start: 9, clusters: 1, kind: 'conflict', owner: 'referenced twice' },
];
const map = { runs, clusterSize: CS, clusters: 10 };

describe('hex colouring from the layout map', () => {
  it('names the runs of the window by their owner, with the kinds the summary does not locate', () => {
    const r = layoutRegions(map, 2 * CS, 4 * CS);
    expect(r.map((x) => [x.kind, x.name, x.offset, x.length])).toEqual([
      ['refcount-block', 'refcount block #0', 2 * CS, CS],
      ['l2', 'L2 table #0 (guest 0x0-0x20000000)', 4 * CS, CS],
      ['data', 'guest 0x0', 5 * CS, 3 * CS],
    ]);
  });

  it('leaves free clusters plain, marks conflicts, and reads nothing outside the window', () => {
    expect(layoutRegions(map, 8 * CS, 2 * CS).map((x) => x.kind)).toEqual(['conflict']);
    expect(layoutRegions(map, 0, CS)).toEqual([]);
  });

  it('a summary field inside a mapped cluster keeps its own name (the smaller region wins)', () => {
    const field: Region = { name: 'L2 entry 0', offset: 4 * CS, length: 8, kind: 'l1' };
    const owners = regionsIn([...layoutRegions(map, 4 * CS, 16), field], 4 * CS, 16);
    expect(owners[0]?.name).toBe('L2 entry 0');
    expect(owners[8]?.kind).toBe('l2');
  });
});
