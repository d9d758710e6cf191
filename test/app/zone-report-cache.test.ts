// zones:report is kept per session: asking again (the UI does on every switch of image) costs no re-read
// of the zone table, while every write — a zone operation, an append, a header edit, another program
// writing the file — makes the next report fresh. Over HTTP the report goes out without another copy.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SessionInfo, ZoneReport } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { decodeZoneReport, encodeZoneReport, encodeZoneReportParts } from '../../shared/contract/zone-report-codec';
import { FileByteSource } from '../../electron/engine/file-source';
import type { SessionFile } from '../../electron/engine/image-session';
import { createHandlers, dispatch, type HandlerTable } from '../../electron/app/handlers';
import { SessionRegistry } from '../../electron/app/sessions';
import { readServedReportsAhead } from '../../electron/cli/commands/serve';
import { ZONE_CONDITION_CODES } from '../../shared/qcow2/zoned-types';
import { qzsJson } from '../helpers/cli';
import { tmpDir } from '../helpers/qemu';
import { buildZonedImage, wpValue } from '../helpers/zoned-builder';

const MIB = 1 << 20;
const dir = tmpDir('qzs-report-cache-');
/** Counts reads of the write-pointer array: a cached report never reaches the file. */
const ZONEDMETA_FIRST_BYTE = { at: -1 };
/** Reads of the write-pointer array that fail (EIO) before the next one succeeds. */
const FAIL = { zonedmetaReads: 0 };
const store = new SessionRegistry({
  openFile: async (path: string, writable: boolean): Promise<SessionFile> => {
    const f = await FileByteSource.open(path, writable ? 'r+' : 'r');
    return {
      name: f.name, writable: f.writable, fd: f.fd, size: () => f.size(), write: (o, b) => f.write(o, b), truncate: (n) => f.truncate(n), flush: () => f.flush(), close: () => f.close(),
      read: (o, n) => {
        if (o <= ZONEDMETA_FIRST_BYTE.at && ZONEDMETA_FIRST_BYTE.at < o + n && n >= 8) {
          if (FAIL.zonedmetaReads > 0) {
            FAIL.zonedmetaReads--;
            return Promise.reject(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
          }
          reads++;
        }
        return f.read(o, n);
      },
    };
  },
});
let table: HandlerTable;
let id: string;
let reads = 0;

function image(wp3: number): Uint8Array {
  const built = buildZonedImage({
    layout: 'v8', virtualSize: 40 * MIB, zoneSize: 4 * MIB, zoneCapacity: 4 * MIB, conventionalZones: 1, maxOpenZones: 3, maxActiveZones: 4, maxAppendBytes: 65536,
    entry: (i, start) => (i === 0 ? wpValue(start, { conventional: true }) : i === 3 ? wpValue(wp3) : wpValue(start)),
  });
  ZONEDMETA_FIRST_BYTE.at = built.zonedmetaOffset;
  return built.bytes;
}

function value<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}
const report = async (): Promise<ZoneReport> => value<ZoneReport>(await dispatch(table, 'zones:report', [id]));

beforeAll(async () => {
  writeFileSync(dir.file('z.qcow2'), image(3 * 4 * MIB));
  table = createHandlers(store, { transport: 'http', version: 't' });
  id = value<SessionInfo>(await dispatch(table, 'session:openDropped', [dir.file('z.qcow2')])).id;
});
afterAll(async () => {
  await store.closeAll();
  dir.cleanup();
});

describe('zones:report per session', () => {
  it('reads the zone table once and answers again from the session', async () => {
    const a = await report();
    const b = await report();
    expect(reads).toBe(1);
    expect(b.wp).toBe(a.wp);
    expect(a.wp[3]).toBe(3 * 4 * MIB);
  });

  it('reads again when another program rewrote the file', async () => {
    writeFileSync(dir.file('z.qcow2'), image(3 * 4 * MIB + 8192));
    const r = await report();
    expect(reads).toBe(2);
    expect(r.wp[3]).toBe(3 * 4 * MIB + 8192);
  });

  it('keeps the report a zone operation answers with; after an append the session\'s own state answers', async () => {
    value(await dispatch(table, 'edit:enable', [id, true]));
    const opened = value<ZoneReport>(await dispatch(table, 'zones:op', [id, { op: 'open', zone: 5 }]));
    expect(opened.cond[5]).toBe(3); // explicit open: a session-only state, not in the file
    const r = await report();
    expect(r.cond[5]).toBe(3);
    expect(r.wp).toBe(opened.wp);
    const before = reads;
    value(await dispatch(table, 'zones:write', [id, { op: 'append', zone: 6, length: 4096 }]));
    const after = await report();
    // The session's zone state is what the device just wrote: no re-read of the table is needed.
    expect(reads).toBe(before);
    expect(after.wp).not.toBe(r.wp);
    expect(after.wp[6]).toBe(6 * 4 * MIB + 4096);
    expect(after.cond[5]).toBe(3);
    value(await dispatch(table, 'edit:enable', [id, false]));
  });

  it('editing off and on keeps the open states (the image stays open here), and the file agrees', async () => {
    value(await dispatch(table, 'edit:enable', [id, true]));
    const r = await report();
    expect(r.cond[5]).toBe(3);
    value(await dispatch(table, 'edit:enable', [id, false]));
    expect((await report()).cond[5]).toBe(3);
    expect(qzsJson<{ zones: { wp: number }[] }>(['zones', '--json', dir.file('z.qcow2')]).zones[6].wp).toBe(6 * 4 * MIB + 4096);
  });

  it('a report asked while a zone operation runs never hides that operation', async () => {
    value(await dispatch(table, 'edit:enable', [id, true]));
    const [op, during] = await Promise.all([dispatch(table, 'zones:op', [id, { op: 'open', zone: 5 }]), report()]);
    expect(value<ZoneReport>(op).cond[5]).toBe(ZONE_CONDITION_CODES['explicit-open']);
    expect([ZONE_CONDITION_CODES.empty, ZONE_CONDITION_CODES['explicit-open']]).toContain(during.cond[5]);
    expect((await report()).cond[5]).toBe(ZONE_CONDITION_CODES['explicit-open']);
    value(await dispatch(table, 'edit:enable', [id, false]));
  });
});

describe('reading the report ahead (qzs serve does for the images it is given)', () => {
  let other = '';
  beforeAll(async () => {
    writeFileSync(dir.file('ahead.qcow2'), image(3 * 4 * MIB + 4096));
    other = value<SessionInfo>(await dispatch(table, 'session:openDropped', [dir.file('ahead.qcow2')])).id;
  });
  const reportOf = async (sid: string): Promise<Result<unknown>> => dispatch(table, 'zones:report', [sid]);

  it('callers that arrive while it reads share that one read of the zone table', async () => {
    const before = reads;
    store.get(other).readAhead();
    const [a, b] = await Promise.all([reportOf(other), reportOf(other)]);
    expect(reads - before).toBe(1);
    expect(value<ZoneReport>(a).wp).toBe(value<ZoneReport>(b).wp);
    expect(value<ZoneReport>(a).wp[3]).toBe(3 * 4 * MIB + 4096);
  });

  it('a read that failed is not kept: its caller gets the error, the next caller reads again', async () => {
    writeFileSync(dir.file('ahead.qcow2'), image(3 * 4 * MIB + 8192)); // another program wrote it
    FAIL.zonedmetaReads = 1;
    const failed = await reportOf(other);
    if (failed.ok) throw new Error('expected the read to fail');
    expect(failed.error.message).toMatch(/EIO/);
    const before = reads;
    expect(value<ZoneReport>(await reportOf(other)).wp[3]).toBe(3 * 4 * MIB + 8192);
    expect(reads - before).toBe(1);
  });

  it('a read-ahead that fails says nothing, and the next caller reads again', async () => {
    writeFileSync(dir.file('ahead.qcow2'), image(3 * 4 * MIB + 12288));
    FAIL.zonedmetaReads = 1;
    store.get(other).readAhead();
    await vi.waitFor(() => expect(FAIL.zonedmetaReads).toBe(0));
    await new Promise((r) => setTimeout(r, 0)); // its rejection settles in microtasks
    const before = reads;
    expect(value<ZoneReport>(await reportOf(other)).wp[3]).toBe(3 * 4 * MIB + 12288);
    expect(reads - before).toBe(1);
  });

  it('qzs serve reads the reports of its images ahead: the first zones:report then reads nothing', async () => {
    // A registry of its own, holding only this image: every read counted is this image's.
    let mine = 0;
    const own = new SessionRegistry({
      openFile: async (path: string, writable: boolean): Promise<SessionFile> => {
        const f = await FileByteSource.open(path, writable ? 'r+' : 'r');
        return {
          name: f.name, writable: f.writable, fd: f.fd, size: () => f.size(), write: (o, b) => f.write(o, b), truncate: (n) => f.truncate(n), flush: () => f.flush(), close: () => f.close(),
          read: (o, n) => { if (o <= ZONEDMETA_FIRST_BYTE.at && ZONEDMETA_FIRST_BYTE.at < o + n && n >= 8) mine++; return f.read(o, n); },
        };
      },
    });
    writeFileSync(dir.file('served.qcow2'), image(3 * 4 * MIB + 16384));
    const served = createHandlers(own, { transport: 'http', version: 't' });
    try {
      const sid = value<SessionInfo>(await dispatch(served, 'session:openDropped', [dir.file('served.qcow2')])).id;
      readServedReportsAhead(own);
      await vi.waitFor(() => expect(mine).toBe(1), { timeout: 30_000 });
      expect(value<ZoneReport>(await dispatch(served, 'zones:report', [sid])).wp[3]).toBe(3 * 4 * MIB + 16384);
      expect(mine).toBe(1);
    } finally {
      await own.closeAll();
    }
  });

  it('does nothing for an image that is not zoned', async () => {
    const plain = dir.file('plain.qcow2');
    writeFileSync(plain, buildZonedImage({ layout: 'v8', virtualSize: 8 * MIB, zoneSize: 4 * MIB, zoneCapacity: 4 * MIB, conventionalZones: 0, entry: () => undefined }).bytes);
    const sid = value<SessionInfo>(await dispatch(table, 'session:openDropped', [plain])).id;
    expect(() => store.get(sid).readAhead()).not.toThrow();
  });
});

describe('zone report encoding for HTTP', () => {
  it('sends a mostly written report densely, as views of its own arrays (no copy), and decodes to the same report', async () => {
    const r = await report();
    // Every zone written: the dense layout is the smaller one.
    const full: ZoneReport = { ...r, wp: Float64Array.from(r.wp, (_w, i) => i * r.zoneSize + 4096) };
    const [head, wp, cond] = encodeZoneReportParts(full);
    expect(wp.buffer).toBe(full.wp.buffer);
    expect(cond.buffer).toBe(full.cond.buffer);
    expect(head.length % 8).toBe(0);
    const joined = encodeZoneReport(full);
    expect(joined.length).toBe(head.length + wp.length + cond.length);
    const back = decodeZoneReport(joined);
    expect([...back.wp]).toEqual([...full.wp]);
    expect([...back.cond]).toEqual([...full.cond]);
    expect(() => encodeZoneReportParts({ ...r, nrZones: r.nrZones + 1 })).toThrow(/shorter/);
  });

  it('sends a mostly empty report sparsely: only the written zones\' pointers travel', async () => {
    const r = await report();
    const n = 100_000;
    const big: ZoneReport = { ...r, nrZones: n, deviceSize: n * r.zoneSize, wp: Float64Array.from({ length: n }, (_w, i) => i * r.zoneSize), cond: new Uint8Array(n).fill(ZONE_CONDITION_CODES.empty) };
    for (const i of [7, 4242, 99_999]) { big.wp[i] += 8192; big.cond[i] = ZONE_CONDITION_CODES.closed; }
    const bytes = encodeZoneReport(big);
    // n condition bytes and 3 × (4 + 8) bytes of pointers, plus the head and padding.
    expect(bytes.length).toBeLessThan(n + 3 * 12 + 600);
    const back = decodeZoneReport(bytes.slice());
    expect(back.nrZones).toBe(n);
    let same = true;
    for (let i = 0; i < n; i++) if (back.wp[i] !== big.wp[i] || back.cond[i] !== big.cond[i]) same = false;
    expect(same).toBe(true);
    expect(() => decodeZoneReport(bytes.subarray(0, n / 2))).toThrow(/truncated/);
  });
});
