// A test hook, and only that: UI tests must cancel a check *while the engine walks the tables*, and a
// real check of any image cheap enough to create in a test is over in well under a second on a fast
// machine, so a timed cancel would race. `qzs serve` reads QZS_TEST_HOLD_CHECK=NAME from its environment
// once at start-up (a browser cannot set it: it is not part of the API); the check of the image whose file
// is named NAME then pauses at its next read after it has reported progress in the table walk, until the
// job is cancelled (or HOLD_LIMIT_MS pass, so that a forgotten hold never hangs the server). The pause
// ends on abort and the engine then carries on: it must notice the cancel itself, so a test still proves
// that the engine stops (an engine that ignored the signal would finish and report a complete check).
import type { ByteSource } from '../../shared/qcow2/byte-source';

export const HOLD_ENV = 'QZS_TEST_HOLD_CHECK';
export const HOLD_LIMIT_MS = 120_000;

/** The file name whose check is held, from the environment `qzs serve` started in; undefined when off. */
export function holdCheckFromEnv(env: Record<string, string | undefined>): string | undefined {
  const v = env[HOLD_ENV]?.trim();
  return v ? v : undefined;
}

interface ReadInto {
  readInto(offset: number, dest: Uint8Array): Promise<number>;
}

/**
 * `source` with reads that wait, once `armed()` is true, until `signal` aborts. Every read made after the
 * pause counts in `after`, which tests read to see that the engine stopped soon after the cancel.
 */
export function heldSource(source: ByteSource, armed: () => boolean, signal: AbortSignal, limitMs = HOLD_LIMIT_MS): ByteSource & { after: number; held: boolean } {
  let released: Promise<void> | null = null;
  const gate = (): Promise<void> => {
    released ??= new Promise<void>((done) => {
      out.held = true;
      const timer = setTimeout(done, limitMs);
      const end = (): void => { clearTimeout(timer); done(); };
      if (signal.aborted) end();
      else signal.addEventListener('abort', end, { once: true });
    });
    return released;
  };
  const wait = async (): Promise<void> => {
    if (!armed()) return;
    await gate();
    out.after++;
  };
  const out: ByteSource & { after: number; held: boolean } & Partial<ReadInto> = {
    name: source.name,
    after: 0,
    held: false,
    size: () => source.size(),
    read: async (offset, length) => { await wait(); return source.read(offset, length); },
  };
  const into = (source as Partial<ReadInto>).readInto;
  if (typeof into === 'function') out.readInto = async (offset, dest) => { await wait(); return into.call(source, offset, dest); };
  return out;
}
