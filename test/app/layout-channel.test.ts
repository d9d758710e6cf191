// layout:run through the handler table, as the renderer calls it: a job with determinate progress ending
// in the map's own sweep, the same map the engine builds, and job:cancel stopping it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCancelled } from '../../shared/contract/channels';
import type { JobProgress, LayoutResult, SessionInfo } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { createHandlers, dispatch, type HandlerTable } from '../../electron/app/handlers';
import { JobRegistry } from '../../electron/app/jobs';
import { SessionRegistry } from '../../electron/app/sessions';
import { layoutFile } from '../../electron/engine/layout';
import { createImage } from '../../electron/engine/create';
import { qemuIo, tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-layout-job-');
const store = new SessionRegistry();
const jobs = new JobRegistry();
let table: HandlerTable;
let session: SessionInfo;

function value<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}

beforeAll(async () => {
  await createImage({ file: dir.file('m.qcow2'), options: { size: '256M', cluster_size: '4096', preallocation: 'metadata' } });
  qemuIo(dir.file('m.qcow2'), ['write -P 9 1M 4k']);
  table = createHandlers(store, { transport: 'http', version: 't' }, jobs);
  session = value<SessionInfo>(await dispatch(table, 'session:openDropped', [dir.file('m.qcow2')]));
}, 60_000);
afterAll(async () => {
  await store.closeAll();
  dir.cleanup();
});

describe('layout:run', () => {
  it('answers the map the engine builds, after progress of the walk and of the sweep', async () => {
    const seen: JobProgress[] = [];
    const got = value<LayoutResult>(await dispatch(table, 'layout:run', [session.id, 'jl1'], { progress: (p) => seen.push(p) }));
    const want = await layoutFile(dir.file('m.qcow2'));
    expect(got.runs).toEqual(want.runs);
    expect(got.totals).toEqual(want.totals);
    expect(seen.every((p) => p.job === 'jl1' && p.done <= p.total)).toBe(true);
    expect(seen.map((p) => p.phase)).toEqual(expect.arrayContaining(['active tables', 'refcounts', 'layout']));
    expect(seen.at(-1)).toMatchObject({ phase: 'layout', done: got.clusters, total: got.clusters });
    expect(jobs.list()).toEqual([]);
  });

  it('stops on job:cancel', async () => {
    let events = 0;
    const running = dispatch(table, 'layout:run', [session.id, 'jl2'], { progress: () => { if (++events === 2) void dispatch(table, 'job:cancel', ['jl2']); } });
    const r = await running;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(isCancelled(r.error)).toBe(true);
    expect(jobs.outcome('jl2')).toBe('cancelled');
  });

  it('refuses a call without a job id', async () => {
    const r = await dispatch(table, 'layout:run', [session.id] as unknown as [string, string]);
    expect(r.ok).toBe(false);
  });
});
