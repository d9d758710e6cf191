// What qemu-io prints, byte for byte, and how it reads its command lines: pure functions, no I/O.
// Sources (QEMU's qemu-io-cmds.c as in qemu/qemu master, stored copy p-b-o/qemu-ci @5733454d, and the
// zoned commands as merged from Sam Li's series, qemu-devel 2023):
//   cvtnum / qemu_strtosz        -> parseSize()        set_cvtnum_err -> cvtnumError()
//   cvtstr                       -> cvtstr()           timestr        -> timestr()
//   print_report                 -> printReport()      dump_buffer    -> dumpBuffer()
//   parse_pattern (strtol, 0)    -> parsePattern()     breakline      -> breakline()
//   zone_report_f's printf       -> zoneLine()         zone_append_f  -> appendSectorLine()
//   command()'s argument counts  -> argCountError()    qemuio_command_usage -> commandUsage()
//   glibc getopt (permuting, messages on stderr) -> getopt()
//   glibc strerror texts         -> strerror()
// qemu-io.c: the prompt is "%s> " with the program name, i.e. "qemu-io> ", printed before every line read
// from a non-terminal stdin (fetchline_fgets), with nothing printed at end of input.

export const QEMU_IO_PROMPT = 'qemu-io> ';

export type Errno = 'EPERM' | 'EIO' | 'EACCES' | 'EBUSY' | 'EINVAL' | 'ENOSPC' | 'ERANGE' | 'ENOTSUP' | 'ENOMEDIUM' | 'ENOENT';

const STRERROR: Record<Errno, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  ERANGE: 'Numerical result out of range',
  ENOTSUP: 'Operation not supported',
  ENOMEDIUM: 'No medium found',
};

/** glibc's strerror() text for an errno name. */
export function strerror(e: Errno): string {
  return STRERROR[e];
}

export function isErrno(s: unknown): s is Errno {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(STRERROR, s);
}

const hex = (n: number): string => Math.floor(n).toString(16);

/** BDRV_SECTOR_BITS: qemu-io's tosector(). */
export const tosector = (bytes: number): number => Math.floor(bytes / 512);

/** zone_report_f: one zone, every value in 512-byte sectors, hex. */
export function zoneLine(z: { start: number; length: number; cap: number; wp: number; cond: number; type: number }): string {
  return `start: 0x${hex(tosector(z.start))}, len 0x${hex(tosector(z.length))}, cap 0x${hex(tosector(z.cap))}, wptr 0x${hex(tosector(z.wp))}, zcond:${z.cond}, [type: ${z.type}]\n`;
}

/** zone_append_f with -p. */
export function appendSectorLine(offset: number): string {
  return `After zap done, the append sector is 0x${hex(tosector(offset))}\n`;
}

/**
 * cvtnum(): qemu_strtosz with bytes as the default unit. Decimal or 0x-hex, an optional fraction (decimal
 * only, and only with a unit above bytes), an optional unit B K M G T P E (either case). Returns the value,
 * or the negative errno qemu_strtosz returns: 'EINVAL' for anything unparsable, 'ERANGE' past INT64_MAX.
 */
export function parseSize(s: string): number | { error: 'EINVAL' | 'ERANGE' } {
  const m = /^[ \t\n\v\f\r]*(0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?|\.[0-9]+)([bBkKmMgGtTpPeE]?)$/.exec(s);
  if (!m) return { error: 'EINVAL' };
  const [, num, unit] = m;
  const shift: Record<string, number> = { '': 0, b: 0, k: 10, m: 20, g: 30, t: 40, p: 50, e: 60 };
  const mul = 2 ** shift[unit.toLowerCase()];
  let v: number;
  if (/^0[xX]/.test(num)) {
    v = parseInt(num.slice(2), 16) * mul;
  } else {
    const frac = num.includes('.');
    if (frac && mul === 1) return { error: 'EINVAL' };
    v = frac ? Math.floor(Number(num) * mul) : Number(num) * mul;
  }
  if (!Number.isFinite(v) || v > 2 ** 63 - 1) return { error: 'ERANGE' };
  if (!Number.isSafeInteger(v)) return { error: 'ERANGE' };
  return v;
}

/** set_cvtnum_err(). */
export function cvtnumError(e: 'EINVAL' | 'ERANGE', arg: string): string {
  return e === 'EINVAL'
    ? `Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- ${arg}`
    : `Parsing error: argument too large -- ${arg}`;
}

/** parse_pattern(): strtol(arg, &end, 0) in 0..255 with nothing after it, else -1. */
export function parsePattern(arg: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(arg);
  if (!m) return -1;
  const body = m[2];
  let v = /^0[xX]/.test(body) ? parseInt(body.slice(2), 16) : body.startsWith('0') ? parseInt(body, 8) || 0 : parseInt(body, 10);
  if (m[1] === '-') v = -v;
  return v < 0 || v > 255 ? -1 : v;
}

/** The text parse_pattern reports. */
export function patternError(arg: string): string {
  return `${arg} is not a valid pattern byte`;
}

const KiB = 2 ** 10;

/** cvtstr(): "%.3f" with a binary unit, ".000" replaced by the unit; plain "%f bytes" below 1 KiB. */
export function cvtstr(value: number): string {
  const units: [number, string][] = [[2 ** 60, ' EiB'], [2 ** 50, ' PiB'], [2 ** 40, ' TiB'], [2 ** 30, ' GiB'], [2 ** 20, ' MiB'], [KiB, ' KiB']];
  let str = '';
  let suffix = ' bytes';
  const u = units.find(([m]) => value >= m);
  if (u) {
    suffix = u[1];
    str = printfFixed(value / u[0], 3);
  } else {
    str = printfFixed(value, 6);
  }
  const k = str.indexOf('.000');
  return k >= 0 ? str.slice(0, k) + suffix : str + suffix;
}

function printfFixed(v: number, digits: number): string {
  if (Number.isNaN(v)) return '-nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return v.toFixed(digits);
}

/** timestr(): "SS.ss sec" below a second, else "H:MM:SS.ss" (always the long form for -C). */
export function timestr(seconds: number, verbose: boolean): string {
  const sec = Math.floor(seconds);
  const frac = seconds - sec;
  const f2 = (x: number): string => printfFixed(x, 2).padStart(5, '0');
  if (verbose || sec > 0) {
    const h = Math.floor(sec / 3600);
    const mi = Math.floor((sec % 3600) / 60);
    return `${h}:${String(mi).padStart(2, '0')}:${f2((sec % 60) + frac)}`;
  }
  return `${f2(frac)} sec`;
}

/**
 * print_report(): "wrote|read T/C bytes at offset O" and the timing line, or with -C one parsable line.
 * `seconds` is the measured duration (never 0: qemu divides by it).
 */
export function printReport(op: string, seconds: number, offset: number, count: number, total: number, cnt: number, cflag: boolean): string {
  const t = Math.max(seconds, 1e-9);
  const ts = timestr(t, cflag);
  if (!cflag) {
    return `${op} ${total}/${count} bytes at offset ${offset}\n`
      + `${cvtstr(total)}, ${cnt} ops; ${ts} (${cvtstr(total / t)}/sec and ${printfFixed(cnt / t, 4)} ops/sec)\n`;
  }
  return `${total},${cnt},${ts},${printfFixed(total / t, 3)},${printfFixed(cnt / t, 3)}\n`;
}

/** dump_buffer() (read -v): 16 bytes a line, hex then isalnum() characters, others as '.'. */
export function dumpBuffer(buf: Uint8Array, offset: number): string {
  let out = '';
  for (let i = 0; i < buf.length; i += 16) {
    const row = buf.subarray(i, Math.min(i + 16, buf.length));
    out += `${(offset + i).toString(16).padStart(8, '0')}:  `;
    for (const b of row) out += `${b.toString(16).padStart(2, '0')} `;
    out += ' ';
    for (const b of row) out += /[0-9A-Za-z]/.test(String.fromCharCode(b)) && b < 0x80 ? String.fromCharCode(b) : '.';
    out += '\n';
  }
  return out;
}

/** breakline(): words separated by single spaces (qemu_strsep on " "), empty words dropped. */
export function breakline(input: string): string[] {
  return input.split(' ').filter((w) => w.length > 0);
}

export interface CommandInfo {
  name: string;
  altname?: string;
  argmin: number;
  /** -1: no maximum. */
  argmax: number;
  args?: string;
  oneline: string;
  /** Works without an open image (CMD_NOFILE_OK) or is global (CMD_FLAG_GLOBAL). */
  nofile?: boolean;
}

/** command(): the argument-count refusal, or null. */
export function argCountError(ct: CommandInfo, typed: string, nargs: number): string | null {
  if (nargs >= ct.argmin && (ct.argmax === -1 || nargs <= ct.argmax)) return null;
  if (ct.argmax === -1) return `bad argument count ${nargs} to ${typed}, expected at least ${ct.argmin} arguments`;
  if (ct.argmin === ct.argmax) return `bad argument count ${nargs} to ${typed}, expected ${ct.argmin} arguments`;
  return `bad argument count ${nargs} to ${typed}, expected between ${ct.argmin} and ${ct.argmax} arguments`;
}

/** qemuio_command_usage() (on stdout). */
export function commandUsage(ct: CommandInfo): string {
  return `${ct.name} ${ct.args ?? '(null)'} -- ${ct.oneline}\n`;
}

/** help_oneline(). */
export function helpOneline(cmd: string, ct: CommandInfo): string {
  return `${cmd} ${ct.args ? `${ct.args} ` : ''}-- ${ct.oneline}\n`;
}

export interface GetoptResult {
  opts: { opt: string; arg: string | null }[];
  positionals: string[];
  /** glibc's message for the first bad option (stderr), when there is one. */
  error: string | null;
}

/**
 * glibc getopt() over argv[1..] as qemu-io's commands call it: options may come anywhere (argv is
 * permuted), "--" ends them, "x:" takes an argument (attached or the next word). The first unknown
 * option or missing argument stops the scan with glibc's message (argv[0] is the command's name).
 */
export function getopt(argv: string[], optstring: string): GetoptResult {
  const takesArg = new Map<string, boolean>();
  for (let i = 0; i < optstring.length; i++) {
    const c = optstring[i];
    if (c === ':') continue;
    takesArg.set(c, optstring[i + 1] === ':');
  }
  const res: GetoptResult = { opts: [], positionals: [], error: null };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      res.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a.length === 1) {
      res.positionals.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      const needs = takesArg.get(c);
      if (needs === undefined) {
        res.error = `${argv[0]}: invalid option -- '${c}'`;
        return res;
      }
      if (!needs) {
        res.opts.push({ opt: c, arg: null });
        continue;
      }
      if (j + 1 < a.length) {
        res.opts.push({ opt: c, arg: a.slice(j + 1) });
      } else if (i + 1 < argv.length) {
        res.opts.push({ opt: c, arg: argv[++i] });
      } else {
        res.error = `${argv[0]}: option requires an argument -- '${c}'`;
        return res;
      }
      break;
    }
  }
  return res;
}
