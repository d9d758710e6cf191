// Append and write at the write pointer through the handler table, checked with `qzs zones --json` and the
// file's bytes: where the data landed, the write pointer after it, and for refused operations a typed
// zone error naming zone, state and numbers, with the file left exactly as it was.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo, ZoneClusters, ZoneWriteResult } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { createHandlers, dispatch, type HandlerTable } from '../../electron/app/handlers';
import { SessionRegistry } from '../../electron/app/sessions';
import { zoneWritePattern } from '../../electron/app/zone-ops';
import { qzsJson } from '../helpers/cli';
import { tmpDir } from '../helpers/qemu';
import { buildZonedImage, wpValue } from '../helpers/zoned-builder';

const MIB = 1 << 20;
const dir = tmpDir('qzs-zwrite-');
const store = new SessionRegistry();
let table: HandlerTable;
let s: SessionInfo;
let file: string;

interface ZoneJson { wp: number; condition: string }
const zones = (): ZoneJson[] => qzsJson<{ zones: ZoneJson[] }>(['zones', '--json', file]).zones;

function value<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}

beforeAll(async () => {
  file = dir.file('z.qcow2');
  // 10 zones of 4 MiB (capacity 3 MiB), 1 conventional; zone 4 full; appends up to 64 KiB.
  writeFileSync(file, buildZonedImage({
    layout: 'v8', virtualSize: 40 * MIB, zoneSize: 4 * MIB, zoneCapacity: 3 * MIB, conventionalZones: 1, maxOpenZones: 2, maxActiveZones: 3, maxAppendBytes: 65536,
    entry: (i, start) => (i < 1 ? wpValue(start, { conventional: true }) : i === 4 ? wpValue(start + 3 * MIB) : wpValue(start)),
  }).bytes);
  table = createHandlers(store, { transport: 'http', version: 't' });
  s = value<SessionInfo>(await dispatch(table, 'session:openDropped', [file]));
  // Every write goes through the session's gate: editing on first, as a user does.
  s = value<SessionInfo>(await dispatch(table, 'edit:enable', [s.id, true]));
});
afterAll(async () => {
  await store.closeAll();
  dir.cleanup();
});

describe('zones:write', () => {
  it('appends where the write pointer was, moves it, and the data is in the file where the mapping says', async () => {
    const a = value<ZoneWriteResult>(await dispatch(table, 'zones:write', [s.id, { op: 'append', zone: 2, length: 8192 }]));
    expect(a).toMatchObject({ op: 'append', zone: 2, offset: 8 * MIB, length: 8192, wp: 8 * MIB + 8192 });
    const b = value<ZoneWriteResult>(await dispatch(table, 'zones:write', [s.id, { op: 'append', zone: 2, length: 4096 }]));
    expect(b.offset).toBe(8 * MIB + 8192);
    const w = value<ZoneWriteResult>(await dispatch(table, 'zones:write', [s.id, { op: 'write', zone: 2, length: 512 }]));
    expect(w).toMatchObject({ offset: 8 * MIB + 12288, wp: 8 * MIB + 12800 });
    expect(zones()[2]).toMatchObject({ wp: 8 * MIB + 12800 });
    const c = value<ZoneClusters>(await dispatch(table, 'zones:clusters', [s.id, 2]));
    const ext = c.extents.find((e) => e.hostOffset !== null)!;
    const host = ext.hostOffset! + (8 * MIB + 8192 - ext.start);
    const onDisk = readFileSync(file).subarray(host, host + 4096);
    expect(Buffer.from(onDisk).equals(Buffer.from(zoneWritePattern('append', 2, 8 * MIB + 8192, 4096)))).toBe(true);
    const label = `qzs append zone 2 @0x${(8 * MIB + 8192).toString(16)}\n`;
    expect(onDisk.toString('latin1', 0, label.length)).toBe(label);
  });

  it('refuses illegal operations with a typed zone error and changes nothing', async () => {
    const before = readFileSync(file);
    const full = await dispatch(table, 'zones:write', [s.id, { op: 'append', zone: 4, length: 4096 }]);
    expect(full).toMatchObject({ ok: false, error: { code: 'zone-error', details: { kind: 'zone-full', zone: 4, condition: 'full', wp: 16 * MIB + 3 * MIB } } });
    const big = await dispatch(table, 'zones:write', [s.id, { op: 'append', zone: 5, length: 131072 }]);
    expect(big).toMatchObject({ ok: false, error: { code: 'zone-error', details: { kind: 'append-too-large', zone: 5, limit: 65536, length: 131072 } } });
    const odd = await dispatch(table, 'zones:write', [s.id, { op: 'write', zone: 5, length: 100 }]);
    expect(odd).toMatchObject({ ok: false, error: { details: { kind: 'unaligned' } } });
    const conv = await dispatch(table, 'zones:write', [s.id, { op: 'append', zone: 0, length: 4096 }]);
    expect(conv).toMatchObject({ ok: false, error: { details: { kind: 'conventional', zone: 0 } } });
    const none = await dispatch(table, 'zones:write', [s.id, { op: 'append', zone: 99, length: 4096 }]);
    expect(none).toMatchObject({ ok: false, error: { code: 'zone-error', details: { kind: 'out-of-range' } } });
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('guards the request: no lengths beyond the bound, no offsets from the renderer', async () => {
    expect(await dispatch(table, 'zones:write', [s.id, { op: 'append', zone: 2, length: 0 }])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await dispatch(table, 'zones:write', [s.id, { op: 'append', zone: 2, length: 1 << 30 }])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await dispatch(table, 'zones:write', [s.id, { op: 'write', zone: 2, length: 512, offset: 0 }])).toMatchObject({ ok: false, error: { message: expect.stringContaining('unexpected key') } });
  });

  it('reset-all empties every sequential zone and leaves conventional zones alone', async () => {
    value(await dispatch(table, 'zones:op', [s.id, { op: 'reset-all', zone: 0 }]));
    const z = zones();
    expect(z.slice(1).every((x, k) => x.condition === 'empty' && x.wp === (k + 1) * 4 * MIB)).toBe(true);
    expect(z[0].condition).toBe('not-wp');
  });
});
