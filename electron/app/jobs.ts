// Long work as jobs: each has the caller's id, an AbortController that job:cancel (or the transport, when
// the caller goes away) aborts, and a progress sink the transport supplies. Progress is thinned to a few
// events a second so neither IPC nor the HTTP stream floods, but the last step of a phase always goes out.
import { cancelledError } from '../../shared/contract/channels';
import type { JobProgress } from '../../shared/contract/dto';
import { Qcow2Error } from '../../shared/qcow2/findings';

export interface ProgressStep {
  phase: string;
  done: number;
  total: number;
}

export type ProgressSink = (p: JobProgress) => void;

/** Milliseconds between two progress events of one job (a phase change or the last step always passes). */
export const PROGRESS_INTERVAL_MS = 60;

export type JobOutcome = 'done' | 'cancelled' | 'failed';

/** Cancels remembered for jobs not started yet (a cancel may overtake its job on the way in). */
const EARLY_CANCELS = 256;

export class JobRegistry {
  private readonly running = new Map<string, AbortController>();
  private readonly early = new Set<string>();
  private readonly outcomes = new Map<string, JobOutcome>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** How a recent job ended (the last few dozen are kept), undefined while it runs or when forgotten. */
  outcome(job: string): JobOutcome | undefined {
    return this.outcomes.get(job);
  }

  private finish(job: string, o: JobOutcome): void {
    this.outcomes.set(job, o);
    if (this.outcomes.size > EARLY_CANCELS) this.outcomes.delete(this.outcomes.keys().next().value as string);
  }

  /** Ids of the jobs running now. */
  list(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Abort a running job. When no job of that id runs, the cancel is remembered: a job that starts with
   * that id later (its request overtaken by the cancel) stops at once. True when a running job was aborted.
   */
  cancel(job: string): boolean {
    const c = this.running.get(job);
    if (!c) {
      this.early.add(job);
      if (this.early.size > EARLY_CANCELS) this.early.delete(this.early.values().next().value as string);
      return false;
    }
    c.abort();
    return true;
  }

  /**
   * Run `work` as job `job`. It sees one signal (aborted by cancel() or by `outer`) and a progress
   * function. When the signal was aborted, whatever the work threw becomes the cancelled error.
   */
  async run<T>(job: string, what: string, outer: AbortSignal | undefined, sink: ProgressSink | undefined,
    work: (signal: AbortSignal, progress: (p: ProgressStep) => void) => Promise<T>): Promise<T> {
    if (this.running.has(job)) throw new Qcow2Error({ code: 'invalid-argument', message: `job ${job} is already running` });
    const ctl = new AbortController();
    if (this.early.delete(job)) ctl.abort();
    const onOuter = (): void => ctl.abort();
    if (outer?.aborted) ctl.abort();
    outer?.addEventListener('abort', onOuter);
    this.running.set(job, ctl);
    let last = -Infinity;
    let lastPhase = '';
    const progress = (p: ProgressStep): void => {
      if (!sink) return;
      const t = this.now();
      if (p.phase === lastPhase && p.done < p.total && t - last < PROGRESS_INTERVAL_MS) return;
      last = t;
      lastPhase = p.phase;
      sink({ job, phase: p.phase, done: p.done, total: p.total });
    };
    try {
      if (ctl.signal.aborted) throw new Qcow2Error(cancelledError(what));
      const r = await work(ctl.signal, progress);
      this.finish(job, 'done');
      return r;
    } catch (e) {
      this.finish(job, ctl.signal.aborted ? 'cancelled' : 'failed');
      if (ctl.signal.aborted) throw new Qcow2Error(cancelledError(what));
      throw e;
    } finally {
      outer?.removeEventListener('abort', onOuter);
      this.running.delete(job);
    }
  }
}
