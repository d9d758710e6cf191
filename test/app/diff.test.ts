// diff:run through the handler table: the two sessions' images (or one and its snapshot) compared as a
// job, with progress for its id and job:cancel stopping the walk; the session's open zone states count.
import { copyFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCancelled } from '../../shared/contract/channels';
import type { DiffResult, JobProgress, SessionInfo } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { createHandlers, dispatch, type HandlerTable } from '../../electron/app/handlers';
import { JobRegistry } from '../../electron/app/jobs';
import { SessionRegistry } from '../../electron/app/sessions';
import { qemuImg, qemuIo, tmpDir } from '../helpers/qemu';
import { buildZonedImage } from '../helpers/zoned-builder';

const MiB = 1 << 20;
const dir = tmpDir('qzs-app-diff-');
const store = new SessionRegistry();
// Every progress step passes the registry's thinning (its clock moves a second per reading).
let tick = 0;
const jobs = new JobRegistry(() => (tick += 1000));
let table: HandlerTable;
const open: Record<string, SessionInfo> = {};

function value<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}

beforeAll(async () => {
  const a = dir.file('a.qcow2');
  qemuImg(['create', '-q', '-f', 'qcow2', a, '256M']);
  // Data in every 8 MiB: the walk has many pieces to report progress on.
  qemuIo(a, Array.from({ length: 32 }, (_, i) => `write -P ${i + 1} ${i * 8}M 64k`));
  qemuImg(['snapshot', '-c', 'snap', a]);
  copyFileSync(a, dir.file('b.qcow2'));
  qemuIo(dir.file('b.qcow2'), ['write -P 0xee 100M 4k']);
  qemuIo(a, ['write -P 0xdd 201M 64k']);
  const z = buildZonedImage({ layout: 'v8', virtualSize: 16 * MiB, zoneSize: MiB, zoneCapacity: MiB, conventionalZones: 1, maxOpenZones: 2, maxActiveZones: 3, maxAppendBytes: 65536, clusterBits: 16 });
  writeFileSync(dir.file('z1.qcow2'), z.bytes);
  writeFileSync(dir.file('z2.qcow2'), z.bytes);
  table = createHandlers(store, { transport: 'http', version: 't' }, jobs);
  for (const n of ['a', 'b', 'z1', 'z2']) open[n] = value<SessionInfo>(await dispatch(table, 'session:openDropped', [dir.file(`${n}.qcow2`)]));
}, 60_000);
afterAll(async () => {
  await store.closeAll();
  dir.cleanup();
});

describe('diff:run', () => {
  it('compares two sessions as a job: progress for its id up to the virtual size, file names without directories', async () => {
    const seen: JobProgress[] = [];
    const d = value<DiffResult>(await dispatch(table, 'diff:run', [open.a.id, { other: open.b.id }, 'jd1'], { progress: (p) => seen.push(p) }));
    expect(d.a).toBe('a.qcow2');
    expect(d.b).toBe('b.qcow2');
    expect(d.guest.content.map((r) => [r.start, r.length])).toEqual([[100 * MiB, 4096], [201 * MiB, 65536]]);
    expect(d.guest.content[0].b.file).toBe('b.qcow2');
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.every((p) => p.job === 'jd1' && p.phase === 'guest data' && p.total === 256 * MiB)).toBe(true);
    expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort((x, y) => x - y));
    expect(seen.at(-1)?.done).toBe(256 * MiB);
    expect(jobs.list()).toEqual([]);
  });

  it('compares a session with one of its own snapshots (one session, both sides)', async () => {
    const d = value<DiffResult>(await dispatch(table, 'diff:run', [open.a.id, { other: open.a.id, snapshotB: 'snap' }, 'jd2']));
    expect(d.b).toBe('a.qcow2@snap');
    // Asked by id, named by name.
    expect(value<DiffResult>(await dispatch(table, 'diff:run', [open.a.id, { other: open.a.id, snapshotB: '1' }, 'jd2b'])).b).toBe('a.qcow2@snap');
    expect(d.guest.content.map((r) => [r.start, r.length])).toEqual([[201 * MiB, 65536]]);
    expect([d.guest.readA, d.guest.readB, d.guest.layout]).toEqual([65536, 0, []]);
  });

  it('stops when job:cancel names it, and sends no progress after', async () => {
    const seen: JobProgress[] = [];
    let answered = false;
    const r = await dispatch(table, 'diff:run', [open.a.id, { other: open.b.id }, 'jd3'], {
      progress: (p) => {
        expect(answered).toBe(false);
        seen.push(p);
        if (seen.length === 2) void dispatch(table, 'job:cancel', ['jd3']);
      },
    });
    answered = true;
    expect(r.ok === false && isCancelled(r.error)).toBe(true);
    expect(seen.every((p) => p.done < 256 * MiB)).toBe(true);
  });

  it('counts the zone states the session holds open (not only what is on disk)', async () => {
    value(await dispatch(table, 'edit:enable', [open.z2.id, true]));
    value(await dispatch(table, 'zones:op', [open.z2.id, { op: 'open', zone: 4 }]));
    const d = value<DiffResult>(await dispatch(table, 'diff:run', [open.z1.id, { other: open.z2.id }, 'jd4']));
    expect(d.zones?.map((z) => [z.zone, z.changes, z.a?.condition, z.b?.condition])).toEqual([[4, ['condition'], 'empty', 'explicit-open']]);
    value(await dispatch(table, 'edit:enable', [open.z2.id, false]));
  });

  it('refuses an unknown snapshot and malformed requests', async () => {
    const r = await dispatch(table, 'diff:run', [open.a.id, { other: open.a.id, snapshotB: 'nope' }, 'jd5']);
    expect(r).toMatchObject({ ok: false, error: { message: expect.stringContaining('no snapshot "nope"') } });
    expect(await dispatch(table, 'diff:run', [open.a.id, { other: open.b.id, extra: 1 }, 'jd6'])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await dispatch(table, 'diff:run', [open.a.id, { other: open.b.id }])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
  });
});
