// Regression guards for the zone-report path that cannot flake (issue 14): the work is counted, not timed.
// A report once copied every write pointer per zone (16,384 zones took 3 s, a million never finished);
// doubling the zone count must at most about double the work, counted two ways:
// - the bytes and read calls the session asks of the file, for a report, a few zone operations and their
//   reports (each report must not re-read the table per zone or per operation);
// - the element reads of the in-memory write-pointer table while a report is built from the state (a
//   per-zone copy of the table shows up as zones² reads);
// - the element reads and writes of that table while a fixed sequence of zone operations is planned (a
//   per-operation copy shows up as zones × operations).
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageSession, openFile, stateReport, type SessionFile } from '../../electron/engine/image-session';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { ZoneState, type ZoneOp } from '../../shared/qcow2/zone-state';
import { buildZonedImage } from '../helpers/zoned-builder';
import { tmpDir } from '../helpers/qemu';

const tmp = tmpDir('qzs-complexity-');
afterAll(() => tmp.cleanup());
const KiB = 1024;

interface Counter { reads: number; bytes: number }

/** The session's file, counting what is read through it. */
function countingOpen(c: Counter) {
  return async (path: string, writable: boolean): Promise<SessionFile> => {
    const f = await openFile(path, writable);
    return new Proxy(f, {
      get(target, prop, receiver) {
        if (prop === 'read') {
          return async (offset: number, length: number) => {
            const b = await target.read(offset, length);
            c.reads++;
            c.bytes += b.length;
            return b;
          };
        }
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
}

/** A v8 image of `zones` zones of 64 KiB, 4 KiB clusters (so the zonedmeta spans many clusters). */
function image(zones: number): string {
  const b = buildZonedImage({
    layout: 'v8', virtualSize: zones * 64 * KiB, zoneSize: 64 * KiB, zoneCapacity: 64 * KiB, conventionalZones: 4,
    maxOpenZones: 8, maxActiveZones: 16, maxAppendBytes: 32 * KiB, clusterBits: 12,
  });
  const path = tmp.file(`z${zones}.qcow2`);
  writeFileSync(path, b.bytes);
  return path;
}

/** Report, three zone operations with their reports, and a final report, through one CLI-style session. */
async function sessionWork(zones: number): Promise<Counter> {
  const c: Counter = { reads: 0, bytes: 0 };
  const s = await ImageSession.open(image(zones), { gate: false, durable: false, openFile: countingOpen(c) });
  try {
    expect((await s.zoneReport()).nrZones).toBe(zones);
    await s.openForZoneOps();
    await s.zoneOp({ op: 'open', zone: 10 });
    await s.zoneOp({ op: 'append', zone: 11, length: 4 * KiB }, new Uint8Array(4 * KiB).fill(0xa5));
    await s.zoneOp({ op: 'finish', zone: zones - 1 });
    const r = await s.zoneReport();
    expect(r.wp[11]).toBe(11 * 64 * KiB + 4 * KiB);
  } finally {
    await s.close();
  }
  return c;
}

/** The geometry of a pure state of `zones` zones of 64 KiB, with open and active limits. */
function geometry(zones: number) {
  return {
    deviceSize: zones * 64 * KiB, zoneSize: 64 * KiB, zoneCapacity: 64 * KiB, nrZones: zones, conventionalZones: 4,
    maxOpenZones: 8, maxActiveZones: 16, maxAppendBytes: 32 * KiB,
  };
}

interface TableSlot { holder: Record<string, unknown>; key: string; table: ArrayLike<number> }

/**
 * The write-pointer table of a state: the one array of nrZones entries among its fields (or theirs). It
 * is private, and where it lives is the implementation's business: finding it by its shape keeps this
 * guard about work, not about a field name.
 */
function tableOf(st: ZoneState): TableSlot {
  const n = st.geometry.nrZones;
  const seen = new Set<unknown>();
  const search = (o: unknown, depth: number): TableSlot | null => {
    if (o === null || typeof o !== 'object' || seen.has(o) || depth > 3) return null;
    seen.add(o);
    for (const [key, v] of Object.entries(o)) {
      if ((Array.isArray(v) || v instanceof Float64Array) && v.length === n) return { holder: o as Record<string, unknown>, key, table: v as ArrayLike<number> };
    }
    for (const v of Object.values(o)) {
      const r = search(v, depth + 1);
      if (r) return r;
    }
    return null;
  };
  const slot = search(st, 0);
  if (!slot) throw new Error('no write-pointer table found in the state');
  return slot;
}

/**
 * Run `f` with the state's table replaced by a counting view, and return the element reads and writes it
 * made (a whole-table copy or walk counts one per element).
 */
function countTableWork(st: ZoneState, f: () => void): number {
  const slot = tableOf(st);
  const table = slot.table;
  let work = 0;
  const whole = new Set<PropertyKey>([Symbol.iterator, 'slice', 'map', 'forEach', 'filter', 'subarray', 'set', 'values', 'entries']);
  slot.holder[slot.key] = new Proxy(table, {
    get(t, p) {
      if (typeof p === 'string' && /^\d+$/.test(p)) work++;
      if (whole.has(p)) work += t.length;
      const v: unknown = Reflect.get(t, p);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
    set(t, p, v) {
      if (typeof p === 'string' && /^\d+$/.test(p)) work++;
      return Reflect.set(t, p, v);
    },
  });
  try {
    f();
  } finally {
    slot.holder[slot.key] = table;
  }
  return work;
}

/** Element reads of the write-pointer table while one report is built from the state. */
function stateReportReads(zones: number): number {
  const g = geometry(zones);
  const wps = Array.from({ length: zones }, (_, i) => i * g.zoneSize + (i % 1024 === 9 ? 4 * KiB : 0));
  let st = ZoneState.fromWritePointers(g, wps);
  // Open zones make the state non-trivial (explicit set, most-recently-used list).
  st = st.plan({ op: 'open', zone: 5 }).next;
  st = st.plan({ op: 'write', offset: 7 * g.zoneSize, length: 4 * KiB }).next;
  let reads = 0;
  const final = st;
  reads = countTableWork(final, () => expect(stateReport(final, 'little-endian').nrZones).toBe(zones));
  return reads;
}

/**
 * Table work of a fixed sequence of zone operations (what `qzs create --like --with-write-pointers` and
 * qzs io scripts run): writes at the pointer, appends, opens, closes, finishes, resets, refusals, each
 * planned on the state the last one left. The sequence touches the same zones whatever the zone count.
 */
function operationWork(zones: number): { work: number; ops: number } {
  const g = geometry(zones);
  let st = ZoneState.fromWritePointers(g, Array.from({ length: zones }, (_, i) => i * g.zoneSize));
  let work = 0;
  let ops = 0;
  const run = (op: ZoneOp): void => {
    ops++;
    const from = st;
    work += countTableWork(from, () => {
      try {
        st = from.plan(op).next;
      } catch (e) {
        if (!(e instanceof Qcow2Error) || e.code !== 'zone-error') throw e;
      }
    });
  };
  for (let round = 0; round < 3; round++) {
    for (let z = 4; z < 36; z++) {
      run({ op: 'write', offset: z * g.zoneSize + round * 8 * KiB, length: 8 * KiB });
      run({ op: 'append', zone: z, length: 4 * KiB });
      run({ op: 'write', offset: z * g.zoneSize + round * 8 * KiB + 4 * KiB, length: 4 * KiB });
      if (z % 4 === 0) run({ op: 'close', zone: z });
      if (z % 5 === 0) run({ op: 'open', zone: z + 1 });
      if (z % 7 === 0) run({ op: 'finish', zone: z });
    }
    for (let z = 4; z < 36; z += 3) run({ op: 'reset', zone: z });
    run({ op: 'write', offset: 40 * g.zoneSize + KiB, length: 4 * KiB }); // not at the pointer: refused
  }
  return { work, ops };
}

describe('zone report work grows linearly with the zone count', () => {
  it('reads of the file: twice the zones, at most about twice the bytes and read calls', async () => {
    const small = await sessionWork(8192);
    const large = await sessionWork(16384);
    // Header, tables and metadata reads are a constant; the zonedmeta (8 bytes a zone) is what scales.
    expect(large.bytes).toBeLessThanOrEqual(2.2 * small.bytes);
    expect(large.reads).toBeLessThanOrEqual(2.2 * small.reads + 8);
  });

  it('reads of the in-memory table: twice the zones, at most about twice the reads', () => {
    const small = stateReportReads(4096);
    const large = stateReportReads(8192);
    expect(small).toBeGreaterThan(0);
    expect(large).toBeLessThanOrEqual(2.2 * small);
  });

  it('zone operations: twice the zones, about the same table work for the same operations', () => {
    // Each operation once copied the whole table and counted active zones over it: work ∝ zones × ops.
    const small = operationWork(4096);
    const large = operationWork(8192);
    expect(large.ops).toBe(small.ops);
    expect(small.work).toBeGreaterThan(0);
    expect(small.work).toBeLessThan(64 * small.ops);
    expect(large.work).toBeLessThanOrEqual(1.1 * small.work + 16);
  });
});
