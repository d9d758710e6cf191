// zones:report is kept per session: asking again (the UI does on every switch of image) costs no re-read
// of the zone table, while every write — a zone operation, an append, a header edit, another program
// writing the file — makes the next report fresh. Over HTTP the report goes out without another copy.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo, ZoneReport } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { decodeZoneReport, encodeZoneReport, encodeZoneReportParts } from '../../shared/contract/zone-report-codec';
import { appEngine } from '../../electron/app/app-engine';
import type { EnginePort } from '../../electron/app/engine';
import { createHandlers, dispatch, type HandlerTable } from '../../electron/app/handlers';
import { SessionStore } from '../../electron/app/sessions';
import { tmpDir } from '../helpers/qemu';
import { buildZonedImage, wpValue } from '../helpers/zoned-builder';

const MIB = 1 << 20;
const dir = tmpDir('qzs-report-cache-');
const store = new SessionStore();
let table: HandlerTable;
let id: string;
let reads = 0;

function image(wp3: number): Uint8Array {
  return buildZonedImage({
    layout: 'v8', virtualSize: 40 * MIB, zoneSize: 4 * MIB, zoneCapacity: 4 * MIB, conventionalZones: 1, maxOpenZones: 3, maxActiveZones: 4, maxAppendBytes: 65536,
    entry: (i, start) => (i === 0 ? wpValue(start, { conventional: true }) : i === 3 ? wpValue(wp3) : wpValue(start)),
  }).bytes;
}

function value<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}
const report = async (): Promise<ZoneReport> => value<ZoneReport>(await dispatch(table, 'zones:report', [id]));

beforeAll(async () => {
  writeFileSync(dir.file('z.qcow2'), image(3 * 4 * MIB));
  const real = await appEngine();
  // The engine's report, counted: a cached answer never reaches it.
  const engine: EnginePort = { ...real, zoneReport: (st, s) => { reads++; return real.zoneReport(st, s); } };
  table = createHandlers(store, { transport: 'http', version: 't' }, engine);
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

  it('keeps the report a zone operation answers with, and reads again after an append', async () => {
    const opened = value<ZoneReport>(await dispatch(table, 'zones:op', [id, { op: 'open', zone: 5 }]));
    expect(opened.cond[5]).toBe(3); // explicit open: a session-only state, not in the file
    const r = await report();
    expect(r.cond[5]).toBe(3);
    expect(r.wp).toBe(opened.wp);
    const before = reads;
    value(await dispatch(table, 'zones:write', [id, { op: 'append', zone: 6, length: 4096 }]));
    const after = await report();
    expect(reads).toBe(before + 1);
    expect(after.wp[6]).toBe(6 * 4 * MIB + 4096);
    expect(after.cond[5]).toBe(3);
  });

  it('reads again after the session was invalidated by an edit (editing switched on reopens the file)', async () => {
    const before = reads;
    value(await dispatch(table, 'edit:enable', [id, true]));
    await report();
    expect(reads).toBe(before + 1);
    value(await dispatch(table, 'edit:enable', [id, false]));
  });

  it('never keeps a report whose read overlapped a write', async () => {
    const s = store.get(id);
    const known = await report();
    store.invalidate(s);
    let release!: () => void;
    const slow = store.zoneReport(s, async () => { await new Promise<void>((r) => { release = r; }); return known; });
    await new Promise((r) => setTimeout(r, 20));
    store.invalidate(s); // a write lands while the read is in flight
    release();
    expect(await slow).toBe(known);
    expect(s.report).toBeNull();
  });
});

describe('zone report encoding for HTTP', () => {
  it('sends the report\'s own arrays as views (no copy) and decodes to the same report', async () => {
    const r = await report();
    const [head, wp, cond] = encodeZoneReportParts(r);
    expect(wp.buffer).toBe(r.wp.buffer);
    expect(cond.buffer).toBe(r.cond.buffer);
    expect(head.length % 8).toBe(0);
    const joined = encodeZoneReport(r);
    expect(joined.length).toBe(head.length + wp.length + cond.length);
    const back = decodeZoneReport(joined);
    expect([...back.wp]).toEqual([...r.wp]);
    expect([...back.cond]).toEqual([...r.cond]);
    expect(() => encodeZoneReportParts({ ...r, nrZones: r.nrZones + 1 })).toThrow(/shorter/);
  });
});
