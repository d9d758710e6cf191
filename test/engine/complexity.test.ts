// Regression guards for the zone-report path that cannot flake (issue 14): the work is counted, not timed.
// A report once copied every write pointer per zone (16,384 zones took 3 s, a million never finished);
// doubling the zone count must at most about double the work, counted two ways:
// - the bytes and read calls the session asks of the file, for a report, a few zone operations and their
//   reports (each report must not re-read the table per zone or per operation);
// - the element reads of the in-memory write-pointer table while a report is built from the state (a
//   per-zone copy of the table shows up as zones² reads).
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageSession, openFile, stateReport, type SessionFile } from '../../electron/engine/image-session';
import { ZoneState } from '../../shared/qcow2/zone-state';
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

/** Element reads of the write-pointer table while one report is built from the state. */
function stateReportReads(zones: number): number {
  const g = {
    deviceSize: zones * 64 * KiB, zoneSize: 64 * KiB, zoneCapacity: 64 * KiB, nrZones: zones, conventionalZones: 4,
    maxOpenZones: 8, maxActiveZones: 16, maxAppendBytes: 32 * KiB,
  };
  const wps = Array.from({ length: zones }, (_, i) => i * g.zoneSize + (i % 1024 === 9 ? 4 * KiB : 0));
  let st = ZoneState.fromWritePointers(g, wps);
  // Open zones make the state non-trivial (explicit set, most-recently-used list).
  st = st.plan({ op: 'open', zone: 5 }).next;
  st = st.plan({ op: 'write', offset: 7 * g.zoneSize, length: 4 * KiB }).next;
  let reads = 0;
  // The table is private; replacing it with a counting view is the one way to see how often it is walked.
  const inner = st as unknown as { wps: number[] };
  const table = inner.wps;
  inner.wps = new Proxy(table, {
    get(t, p, r) {
      if (typeof p === 'string' && /^\d+$/.test(p)) reads++;
      if (p === Symbol.iterator || p === 'slice' || p === 'map') reads += t.length;
      return Reflect.get(t, p, r) as unknown;
    },
  });
  const rep = stateReport(st, 'little-endian');
  expect(rep.nrZones).toBe(zones);
  return reads;
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
});
