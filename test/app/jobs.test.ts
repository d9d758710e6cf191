// Long work through the handler table: the check and a preallocating create report determinate progress
// for their job id, and job:cancel (or the caller going away) really stops the engine: the call answers
// "cancelled", no progress follows, and a cancelled create leaves no file.
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isCancelled } from '../../shared/contract/channels';
import type { CheckResult, JobProgress, SessionInfo } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { createHandlers, dispatch, type HandlerTable } from '../../electron/app/handlers';
import { JobRegistry } from '../../electron/app/jobs';
import { SessionRegistry } from '../../electron/app/sessions';
import { createImage } from '../../electron/engine/create';
import { heldSource, holdCheckFromEnv } from '../../electron/app/test-hold';
import { MemoryByteSource } from '../../shared/qcow2/byte-source';
import { qemuImgJson, qemuImgStatus, tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-jobs-');
const made = tmpDir('qzs-jobs-made-');
const store = new SessionRegistry();
const jobs = new JobRegistry();
let table: HandlerTable;
let session: SessionInfo;

function value<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}

beforeAll(async () => {
  // 256 MiB in 512-byte clusters, every L2 table and refcount preallocated: 8192 L2 tables to walk.
  await createImage({ file: dir.file('big.qcow2'), options: { size: '256M', cluster_size: '512', preallocation: 'metadata' } });
  table = createHandlers(store, { transport: 'http', version: 't', createDirectory: made.path }, jobs);
  session = value<SessionInfo>(await dispatch(table, 'session:openDropped', [dir.file('big.qcow2')]));
}, 60_000);
afterAll(async () => {
  await store.closeAll();
  dir.cleanup();
  made.cleanup();
});

describe('check as a job', () => {
  it('reports determinate progress for its job id, phase by phase, ending at total', async () => {
    const seen: JobProgress[] = [];
    const r = await dispatch(table, 'check:run', [session.id, 'jcheck1'], { progress: (p) => seen.push(p) });
    const res = value<CheckResult>(r);
    expect(res.complete).toBe(true);
    expect(res.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.every((p) => p.job === 'jcheck1' && p.done >= 0 && p.done <= p.total && p.total > 0)).toBe(true);
    const phases = [...new Set(seen.map((p) => p.phase))];
    expect(phases).toEqual(expect.arrayContaining(['active tables', 'refcounts']));
    // Within a phase progress only moves forward, and the walk of the L1 table reaches its end.
    const tables = seen.filter((p) => p.phase === 'active tables');
    expect(tables.map((p) => p.done)).toEqual([...tables.map((p) => p.done)].sort((a, b) => a - b));
    expect(tables.at(-1)).toMatchObject({ done: tables.at(-1)!.total });
    expect(tables[0].total).toBe(256 * 1024 * 1024 / (64 * 512));
    expect(jobs.list()).toEqual([]);
  });

  it('stops when job:cancel names it: answers cancelled and sends no more progress', async () => {
    const seen: JobProgress[] = [];
    let answered = false;
    const running = dispatch(table, 'check:run', [session.id, 'jcheck2'], {
      progress: (p) => {
        expect(answered).toBe(false);
        seen.push(p);
        if (seen.length === 2) void dispatch(table, 'job:cancel', ['jcheck2']).then((c) => expect(c).toEqual({ ok: true, value: true }));
      },
    });
    const r = await running;
    answered = true;
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(isCancelled(r.error)).toBe(true);
      expect(r.error.message).toMatch(/check cancelled/);
    }
    // It stopped early: it never reached the refcount phase's end.
    expect(seen.some((p) => p.phase === 'copied flags')).toBe(false);
    expect(jobs.list()).toEqual([]);
    // A job that is not running: nothing to cancel.
    expect(value<boolean>(await dispatch(table, 'job:cancel', ['jgone']))).toBe(false);
  });

  it('stops when the caller goes away (the transport aborts its signal)', async () => {
    const ctl = new AbortController();
    let events = 0;
    const r = await dispatch(table, 'check:run', [session.id, 'jcheck3'], { signal: ctl.signal, progress: () => { if (++events === 2) ctl.abort(); } });
    expect(r.ok === false && isCancelled(r.error)).toBe(true);
  });

  it('stops at once when the cancel overtook the request', async () => {
    await dispatch(table, 'job:cancel', ['jearly']);
    let events = 0;
    const r = await dispatch(table, 'check:run', [session.id, 'jearly'], { progress: () => { events++; } });
    expect(r.ok === false && isCancelled(r.error)).toBe(true);
    expect(events).toBe(0);
  });

  it('refuses malformed job ids and a second job under a running id', async () => {
    expect(await dispatch(table, 'check:run', [session.id])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await dispatch(table, 'check:run', [session.id, '../x'])).toMatchObject({ ok: false, error: { message: expect.stringContaining('job id') } });
    expect(await dispatch(table, 'job:cancel', [42])).toMatchObject({ ok: false });
    const a = dispatch(table, 'check:run', [session.id, 'jtwice'], {});
    const b = await dispatch(table, 'check:run', [session.id, 'jtwice'], {});
    expect(b).toMatchObject({ ok: false, error: { message: expect.stringContaining('already running') } });
    expect((await a).ok).toBe(true);
  });
});

describe('the test hook that holds a check mid-walk (QZS_TEST_HOLD_CHECK)', () => {
  it('is off unless the environment names an image', () => {
    expect(holdCheckFromEnv({})).toBeUndefined();
    expect(holdCheckFromEnv({ QZS_TEST_HOLD_CHECK: ' ' })).toBeUndefined();
    expect(holdCheckFromEnv({ QZS_TEST_HOLD_CHECK: 'big.qcow2' })).toBe('big.qcow2');
  });

  it('pauses the named image\'s check inside the table walk until cancelled; the engine then stops by itself', async () => {
    const held = new JobRegistry();
    const t = createHandlers(store, { transport: 'http', version: 't', holdCheckOf: 'big.qcow2' }, held);
    const seen: JobProgress[] = [];
    let answered = false;
    const running = dispatch(t, 'check:run', [session.id, 'jheld'], { progress: (p) => seen.push(p) }).then((r) => { answered = true; return r; });
    await new Promise((r) => setTimeout(r, 400));
    // Held: still running, past the header, short of the end of the walk.
    expect(answered).toBe(false);
    expect(held.list()).toEqual(['jheld']);
    const last = seen.at(-1)!;
    expect(last.phase).toBe('active tables');
    expect(last.done).toBeGreaterThan(0);
    expect(last.done).toBeLessThan(last.total);
    const before = seen.length;
    expect(value<boolean>(await dispatch(t, 'job:cancel', ['jheld']))).toBe(true);
    const r = await running;
    expect(r.ok === false && isCancelled(r.error)).toBe(true);
    expect(held.outcome('jheld')).toBe('cancelled');
    // The walk did not go on to the end after the pause ended: no later phase, no more progress.
    expect(seen.length).toBe(before);
    // Any other image checks as usual with the hook on.
    expect(heldSource(new MemoryByteSource(new Uint8Array(8)), () => false, new AbortController().signal).held).toBe(false);
  });

  it('gives up holding after its time limit, so a forgotten hold never hangs the server', async () => {
    // On a mocked clock: the read is still waiting just before the limit and answers at it (no wall-clock
    // measurement, which a loaded machine would stretch).
    vi.useFakeTimers();
    try {
      const src = heldSource(new MemoryByteSource(new Uint8Array([1, 2, 3])), () => true, new AbortController().signal, 50);
      let answered: number[] | null = null;
      void src.read(0, 3).then((b) => { answered = [...b]; });
      await vi.advanceTimersByTimeAsync(49);
      expect(answered).toBeNull();
      expect(src.held).toBe(true);
      await vi.advanceTimersByTimeAsync(1);
      expect(answered).toEqual([1, 2, 3]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('create with preallocation as a job', () => {
  const request = (fileName: string) => ({ fileName, options: { size: '256M', cluster_size: '512', preallocation: 'metadata' } });

  it('reports its writes as progress and makes the image qemu-img reads', async () => {
    const seen: JobProgress[] = [];
    const s = value<SessionInfo>(await dispatch(table, 'create:run', [request('made.qcow2'), 'jcreate1'], { progress: (p) => seen.push(p) }));
    expect(s.name).toBe('made.qcow2');
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.every((p) => p.job === 'jcreate1' && p.phase === 'writing')).toBe(true);
    expect(seen.at(-1)!.done).toBe(seen.at(-1)!.total);
    expect(seen[0].total).toBeGreaterThan(8192); // at least one write per L2 table
    const q = qemuImgJson<{ 'virtual-size': number; 'cluster-size': number }>(['info', '--output=json', made.file('made.qcow2')]);
    expect(q).toMatchObject({ 'virtual-size': 256 << 20, 'cluster-size': 512 });
    expect(qemuImgStatus(['check', made.file('made.qcow2')]).status).toBe(0);
  }, 60_000);

  it('stops when cancelled and leaves no file (not even a temporary one)', async () => {
    let events = 0;
    const r = await dispatch(table, 'create:run', [request('cancelled.qcow2'), 'jcreate2'], {
      progress: () => { if (++events === 2) void dispatch(table, 'job:cancel', ['jcreate2']); },
    });
    expect(r.ok === false && isCancelled(r.error)).toBe(true);
    expect(existsSync(made.file('cancelled.qcow2'))).toBe(false);
    expect(readdirSync(made.path).filter((n) => n.includes('cancelled'))).toEqual([]);
  }, 60_000);
});
