// Compare (issue 12): the diff of two open images, or of an image and a snapshot, as a job with progress
// and cancel. Both sides are read through their sessions (electron/engine/diff.ts); file names go back
// without directories, as everywhere the renderer sees a file.
import { basename } from 'node:path';
import type { DiffRequest, DiffResult } from '../../shared/contract/dto';
import type { RangeMapping } from '../../shared/qcow2/diff';
import { diffSessions } from '../engine/diff';
import type { JobRegistry } from './jobs';
import type { CallContext } from './handlers';
import type { SessionRegistry } from './sessions';

function shortFile(m: RangeMapping): void {
  if (m.file !== null) m.file = basename(m.file);
}

export async function diffRun(sessions: SessionRegistry, jobs: JobRegistry, ctx: CallContext, id: string, req: DiffRequest, job: string): Promise<DiffResult> {
  const a = sessions.get(id);
  const b = sessions.get(req.other);
  const snapA = req.snapshotA ?? null;
  const snapB = req.snapshotB ?? null;
  return jobs.run(job, 'the comparison', ctx.signal, ctx.progress, async (signal, progress) => {
    const d = await diffSessions(
      { session: a, label: basename(a.path), snapshot: snapA },
      { session: b, label: basename(b.path), snapshot: snapB },
      { signal, onProgress: (done, total) => progress({ phase: 'guest data', done, total }), maxRanges: 2000 },
    );
    for (const r of d.guest.content) { shortFile(r.a); shortFile(r.b); }
    for (const r of d.guest.layout) { shortFile(r.a); shortFile(r.b); }
    return d;
  });
}
