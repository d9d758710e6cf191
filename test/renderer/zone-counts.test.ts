// Condition counts are a pass over every zone; the status bar, the overview card, the legend and the charts
// all ask for them, so one report is counted once (issue 14). Counted as passes (reads of the condition
// array), not in milliseconds.
import { describe, expect, it } from 'vitest';
import type { ZoneReport } from '../../shared/contract/dto';
import { conditionCounts, resourceUse } from '../../shared/contract/zone-geometry';
import { ZONE_CONDITION_CODES as C } from '../../shared/qcow2/zoned-types';

function report(cond: number[]): { r: ZoneReport; reads: () => number } {
  const bytes = Uint8Array.from(cond);
  let reads = 0;
  // Counts every element read of the condition array.
  const counted = new Proxy(bytes, { get: (t, k) => { if (typeof k === 'string' && /^\d+$/.test(k)) reads++; const v = Reflect.get(t, k) as unknown; return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v; } });
  const r: ZoneReport = { nrZones: cond.length, zoneSize: 1 << 20, zoneCapacity: 1 << 20, conventionalZones: 0, deviceSize: cond.length << 20, maxOpenZones: 0, maxActiveZones: 0, maxAppendBytes: 0, wpByteOrder: 'le', wp: new Float64Array(cond.length), cond: counted };
  return { r, reads: () => reads };
}

describe('condition counts', () => {
  it('read each zone once per report, however many views ask', () => {
    const { r, reads } = report([C.empty, C.closed, C['implicit-open'], C.full, C.empty]);
    expect(conditionCounts(r)).toMatchObject({ empty: 2, closed: 1, 'implicit-open': 1, full: 1 });
    expect(resourceUse(r)).toEqual({ open: 1, active: 2 });
    conditionCounts(r);
    expect(reads()).toBe(5);
    // A new report (after a zone operation) is counted afresh.
    const next = report([C.full, C.full]);
    expect(conditionCounts(next.r).full).toBe(2);
  });
});
