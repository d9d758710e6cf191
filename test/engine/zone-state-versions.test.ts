// A ZoneState is a value: planning from it never changes what it reports (issue 14). The states of a
// sequence share their tables (an operation costs the zones it touches), so this pins down what sharing
// must not break: the device keeps the old state when the I/O of an operation fails, ImageSession carries
// old states across a re-open, and a refused operation leaves its state exactly as it was.
import { describe, expect, it } from 'vitest';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { ZoneState, type ZoneOp } from '../../shared/qcow2/zone-state';

const KiB = 1024;
const Z = 64 * KiB;
const g = {
  deviceSize: 12 * Z, zoneSize: Z, zoneCapacity: 48 * KiB, nrZones: 12, conventionalZones: 1,
  maxOpenZones: 2, maxActiveZones: 4, maxAppendBytes: 16 * KiB,
};

/** Everything a state reports, as plain data. */
function view(st: ZoneState): unknown {
  return { zones: st.zones(), counts: st.counts() };
}

function fresh(): ZoneState {
  return ZoneState.fromWritePointers(g, Array.from({ length: g.nrZones }, (_, i) => i * Z + (i === 5 ? 4 * KiB : 0)));
}

describe('zone states stay what they were', () => {
  it('every state of a sequence still reports itself after later states are planned, in any order of reading', () => {
    const ops: ZoneOp[] = [
      { op: 'write', offset: 2 * Z, length: 8 * KiB },
      { op: 'open', zone: 3 },
      { op: 'append', zone: 2, length: 4 * KiB },
      { op: 'write', offset: 4 * Z, length: 4 * KiB }, // a third open zone: the least recent implicit one closes
      { op: 'finish', zone: 4 },
      { op: 'close', zone: 3 },
      { op: 'reset-all' },
    ];
    const states = [fresh()];
    const views = [view(states[0])];
    const closedImplicitly: number[][] = [];
    for (const op of ops) {
      const plan = states[states.length - 1].plan(op);
      states.push(plan.next);
      views.push(view(plan.next));
      closedImplicitly.push(plan.effects.implicitlyClosed);
    }
    expect(closedImplicitly[3]).toEqual([2]);
    expect(states[4].counts()).toEqual({ open: 2, explicitOpen: 1, implicitOpen: 1, closed: 2, active: 4 });
    for (const k of [0, 7, 3, 1, 6, 2, 5, 4, 0]) expect(view(states[k])).toEqual(views[k]);
    // The views differ where the operations say they do: zone 2 written, zone 4 finished, all reset.
    expect(states[1].writePointer(2)).toBe(2 * Z + 8 * KiB);
    expect(states[5].condition(4)).toBe('full');
    expect(states[7].condition(4)).toBe('empty');
    expect(states[7].condition(5)).toBe('empty');
  });

  it('two operations planned from one state give two independent states', () => {
    const s0 = fresh();
    const a = s0.plan({ op: 'write', offset: 2 * Z, length: 4 * KiB }).next;
    const b = s0.plan({ op: 'open', zone: 7 }).next;
    expect(a.condition(2)).toBe('implicit-open');
    expect(a.condition(7)).toBe('empty');
    expect(b.condition(2)).toBe('empty');
    expect(b.condition(7)).toBe('explicit-open');
    expect(s0.counts()).toEqual({ open: 0, explicitOpen: 0, implicitOpen: 0, closed: 1, active: 1 });
    expect(a.plan({ op: 'open', zone: 8 }).next.counts()).toMatchObject({ open: 2, active: 3 });
  });

  it('a refused operation changes nothing, and the state plans on as before', () => {
    let st = fresh();
    st = st.plan({ op: 'open', zone: 2 }).next;
    st = st.plan({ op: 'open', zone: 3 }).next;
    const before = view(st);
    // Both open zones are explicitly open: a third is refused, and the details describe the state as it was.
    let err: unknown;
    try {
      st.plan({ op: 'write', offset: 6 * Z, length: 4 * KiB });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Qcow2Error);
    expect((err as Qcow2Error).details).toMatchObject({ kind: 'open-limit', zone: 6, condition: 'empty', openZones: 2, activeZones: 3 });
    expect(view(st)).toEqual(before);
    const closed = st.plan({ op: 'close', zone: 2 }).next;
    expect(closed.condition(2)).toBe('empty');
    const wrote = closed.plan({ op: 'write', offset: 6 * Z, length: 4 * KiB });
    expect(wrote.offset).toBe(6 * Z);
    expect(wrote.next.counts()).toEqual({ open: 2, explicitOpen: 1, implicitOpen: 1, closed: 1, active: 3 });
    expect(view(st)).toEqual(before);
  });
});
