// Every problem the engine sees is a Finding: a value with its place in the file. Decoders collect
// findings instead of throwing, so that one bad field never hides the rest; a Qcow2Error wraps the one
// finding that makes an image unreadable.

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Stable identifier, e.g. "header.magic" or "zoned.wp-out-of-range". Tests and docs key on it. */
  id: string;
  severity: Severity;
  /** The on-disk structure, e.g. "header", "zoned extension", "L2 table". */
  structure: string;
  /** The field inside it, e.g. "cluster_bits". */
  field: string;
  /** Byte offset in the image file of the offending bytes. */
  offset: number;
  /** Number of offending bytes. */
  length: number;
  /** What was found, as text (numbers in decimal, with hex where it helps). */
  found: string;
  /** What was expected. */
  expected: string;
  /** One readable sentence. */
  message: string;
  /** What a repair would do, in words, or why no repair is safe. */
  fix: string;
}

export type FindingInput = Omit<Finding, 'fix' | 'message'> & { fix?: string; message?: string };

export function finding(f: FindingInput): Finding {
  return {
    ...f,
    message:
      f.message ??
      `${f.structure} ${f.field} at offset ${f.offset}: found ${f.found}, expected ${f.expected}`,
    fix: f.fix ?? 'none needed',
  };
}

export type ErrorCode =
  | 'io'
  | 'truncated'
  | 'not-qcow2'
  | 'unsupported-version'
  | 'invalid-header'
  | 'invalid-extension'
  | 'invalid-table'
  | 'unsupported-feature'
  | 'invalid-argument'
  | 'zone-error'
  | 'read-only'
  /** Another process (QEMU, another qzs) holds a lock that conflicts: nothing was written. */
  | 'locked'
  | 'exists'
  | 'internal';

/** A typed error value that crosses the CLI and IPC boundaries as plain data. */
export interface AppError {
  code: ErrorCode;
  message: string;
  file?: string;
  finding?: Finding;
  /** Extra context: zone numbers, limits, etc. */
  details?: Record<string, string | number | boolean | null>;
}

export class Qcow2Error extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly finding?: Finding;
  readonly details?: Record<string, string | number | boolean | null>;

  constructor(e: AppError) {
    super(e.file ? `${e.file}: ${e.message}` : e.message);
    this.name = 'Qcow2Error';
    this.code = e.code;
    this.file = e.file;
    this.finding = e.finding;
    this.details = e.details;
  }

  static fromFinding(code: ErrorCode, f: Finding, file?: string): Qcow2Error {
    return new Qcow2Error({ code, message: f.message, finding: f, file });
  }

  toJSON(): AppError {
    const out: AppError = { code: this.code, message: this.message };
    if (this.file !== undefined) out.file = this.file;
    if (this.finding !== undefined) out.finding = this.finding;
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

/** The errno name of an OS error (Node's `code`: ENOENT, EACCES…), or undefined for anything else. */
export function osErrorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * An OS error as one clause that names its code once: "no such file or directory (ENOENT)". Node's own
 * message ("ENOENT: no such file or directory, open '/x/.x.tmp'") repeats the code and names the path of
 * the system call (often a temporary file), which the error's `file` says better.
 */
export function osErrorText(e: unknown): string {
  const err = e as { message?: unknown } | null;
  let text = err && typeof err.message === 'string' ? err.message : String(e);
  const code = osErrorCode(e);
  if (!code) return text;
  if (text.startsWith(`${code}: `)) text = text.slice(code.length + 2);
  text = text.replace(/, \w+ '.*'$/s, '');
  return text.includes(`(${code})`) ? text : `${text} (${code})`;
}

/** Turn anything thrown into an AppError, so that no exception escapes a boundary as a crash. */
export function toAppError(e: unknown, file?: string): AppError {
  if (e instanceof Qcow2Error) return e.toJSON();
  const out: AppError = { code: osErrorCode(e) ? 'io' : 'internal', message: osErrorText(e) };
  if (file !== undefined) out.file = file;
  return out;
}

export function assertNever(x: never): never {
  throw new Qcow2Error({ code: 'internal', message: `unexpected value ${String(x)}` });
}
