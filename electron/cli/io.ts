// What every qzs command shares: streams, usage errors, typed error output, exit codes.
import { fstatSync, statSync, writeSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { toAppError, type AppError } from '../../shared/qcow2/findings';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal (progress output only then). */
  readonly errIsTTY: boolean;
  readonly stdin: NodeJS.ReadableStream;
}

let plainStdout: boolean | undefined;

/**
 * Standard output is a regular file or the null device. Node's process.stdout is then a SyncWriteStream,
 * which is writeSync on fd 1, but building it loads the stream modules: several milliseconds of a `qzs info`
 * (issue 14). For those outputs we write to fd 1 ourselves, in the same order and with the same blocking
 * semantics; terminals and pipes keep process.stdout (EPIPE handling, back-pressure).
 */
export function stdoutIsPlainFile(): boolean {
  if (plainStdout === undefined) {
    try {
      const st = fstatSync(1);
      plainStdout = st.isFile() || (st.isCharacterDevice() && st.rdev === statSync('/dev/null').rdev);
    } catch {
      plainStdout = false;
    }
  }
  return plainStdout;
}

// Getters: Node builds process.stdin and process.stderr on first use, which costs a few milliseconds of a
// `qzs info` that reads neither (issue 14).
export const nodeIo: CliIo = {
  out: (t) => {
    if (stdoutIsPlainFile()) writeSync(1, t);
    else if (!closed) process.stdout.write(t);
  },
  err: (t) => { process.stderr.write(t); },
  get errIsTTY() { return !!process.stderr.isTTY; },
  get stdin() { return process.stdin; },
};

export const EXIT_OK = 0;
export const EXIT_UNREADABLE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

export type Command = (argv: string[], io: CliIo) => Promise<number>;

/** node:util parseArgs with our usage errors. */
export function parse<T extends ParseArgsConfig['options']>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\nusage: ${usage}`);
  }
}

/** Print a typed error: JSON on stderr with --json, else one readable paragraph. */
export function printError(io: CliIo, e: unknown, json: boolean, file?: string): AppError {
  const err = toAppError(e, file);
  if (json) {
    io.err(JSON.stringify({ error: err }) + '\n');
  } else {
    const f = err.finding;
    let text = `qzs: ${err.file && !err.message.startsWith(err.file) ? `${err.file}: ` : ''}${err.message}\n`;
    if (f) {
      text += `  structure: ${f.structure}, field: ${f.field}, offset: ${f.offset} (0x${f.offset.toString(16)}), length: ${f.length}\n`;
      text += `  found: ${f.found}\n  expected: ${f.expected}\n`;
      if (f.fix && f.fix !== 'none needed') text += `  fix: ${f.fix}\n`;
    }
    io.err(text);
  }
  return err;
}

/** Parse a size with qemu-img's suffixes: k/K, M, G, T, P, E (powers of 1024); plain numbers are bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtTpPeE]?)(?:i?[bB])?\s*$/.exec(text);
  if (!m) throw new UsageError(`invalid size "${text}": expected a number with an optional k, M, G, T, P or E suffix`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5, e: 1024 ** 6 };
  const v = Number(m[1]) * mult[m[2].toLowerCase()];
  if (!Number.isSafeInteger(v)) throw new UsageError(`invalid size "${text}": not a whole number of bytes below 2^53`);
  return v;
}

/**
 * Progress on a terminal's stderr for long walks (check, layout): "phase: N%" rewritten in place at most every
 * 100 ms; nothing when stderr is not a terminal, so logs and pipes stay clean.
 */
export function progressPrinter<P extends { phase: string; done: number; total: number }>(io: CliIo): ((p: P) => void) | undefined {
  if (!io.errIsTTY) return undefined;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 100 && p.done < p.total) return;
    last = now;
    io.err(`\r${p.phase}: ${p.total ? Math.floor((100 * p.done) / p.total) : 100}%   `);
  };
}

/** Set when stdout can take no more output: its reader went away (`qzs zones --json big.qcow2 | head`). */
let closed = false;
/** The error that closed stdout when it was not its reader going away (EPIPE). */
let failure: NodeJS.ErrnoException | undefined;

export function stdoutClosed(): boolean {
  // A failed write marks the stream errored at once; its 'error' event comes only when the event loop runs.
  if (!closed && watching && (process.stdout.errored || process.stdout.destroyed)) closed = true;
  return closed;
}

/** Thrown by a producer that stops because stdout closed: qzs then ends quietly, with exit status 0. */
export class OutputClosed extends Error {
  constructor() {
    super('standard output was closed by its reader');
  }
}

let watching = false;

/**
 * Installed once by qzs's entry point when stdout is a pipe, a socket or a terminal. A reader that stops
 * early is not an error, as for cat: output stops, producers that check stdoutClosed() stop walking, and
 * the command ends by itself with the status it decides. Deliberately not process.exit(): exiting from
 * here while V8 compiles on a worker thread can deadlock Node's platform shutdown (nodejs/node#54918;
 * `qzs zones --json big | head` hung in about one run in four that way).
 */
export function watchStdout(): void {
  if (watching) return;
  watching = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    closed = true;
    if (e.code === 'EPIPE' || failure) return;
    // Any other failure (a full disk, an I/O error) is one: say so once, and do not exit 0. The error may
    // come before or after the command has decided its status, hence both here and in exitStatus.
    failure = e;
    try {
      writeSync(2, `qzs: cannot write to standard output: ${e.message}\n`);
    } catch {
      // stderr is gone too: the status says it
    }
    if (!process.exitCode) process.exitCode = EXIT_UNREADABLE;
  });
  process.stdout.on('close', () => { closed = true; });
}

/** The status qzs exits with: the command's, but not success when writing its output failed (not EPIPE). */
export function exitStatus(code: number): number {
  return failure && code === EXIT_OK ? EXIT_UNREADABLE : code;
}

/**
 * Backpressure: stdout to a pipe is asynchronous in Node, so without waiting for 'drain' a fast producer
 * would queue the whole report in memory (hundreds of MiB for a million zones). A stdout that closes
 * while we wait ends the wait.
 */
export async function stdoutDrained(io: CliIo): Promise<void> {
  if (io === nodeIo && process.stdout.writableNeedDrain && !closed && !process.stdout.destroyed) {
    const out = process.stdout;
    await new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done).off('close', done).off('error', done);
        resolve();
      };
      out.on('drain', done).on('close', done).on('error', done);
    });
  } else {
    await new Promise((resolve) => setImmediate(resolve));
  }
}
