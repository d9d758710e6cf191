// qzs io [-r] [-f qcow2] [-c CMD]... [--legacy-errors] [IMAGE]
// The shell of a zoned-patched qemu-io on our engine: the same commands, arguments and output, so that a
// qemu-io session script (-c commands, or a heredoc on standard input with its "qemu-io> " prompts) runs
// unchanged. Zone state lives in one ImageSession for the whole run, as it lives in one qemu-io process.
// Formats: shared/qcow2/qemu-io-format.ts; the patched block layer's checks: shared/qcow2/qemu-io-zoned.ts.
import { createInterface } from 'node:readline';
import type { ZoneReport } from '../../../shared/contract/dto';
import { zoneLength } from '../../../shared/contract/zone-geometry';
import { Qcow2Error } from '../../../shared/qcow2/findings';
import {
  appendSectorLine, argCountError, breakline, commandUsage, cvtnumError, cvtstr, dumpBuffer, getopt, helpOneline,
  isErrno, parsePattern, parseSize, patternError, printReport, QEMU_IO_PROMPT, strerror, zoneLine,
  type CommandInfo, type Errno,
} from '../../../shared/qcow2/qemu-io-format';
import { checkAppend, checkMgmt, checkMgmtResources, checkReport, checkWrite, engineErrno, qemuIoDialect, reportedCap, resetZones, type QemuRefusal } from '../../../shared/qcow2/qemu-io-zoned';
import type { ZoneOp } from '../../../shared/qcow2/zone-state';
import { ImageSession } from '../../engine/image-session';
import { ImageWriter } from '../../engine/image-writer';
import { EXIT_OK, parse, type CliIo } from '../io';

const USAGE = 'qzs io [-r] [-f qcow2] [-c CMD]... [--legacy-errors] [IMAGE]';
const HELP = `usage: ${USAGE}

The zone commands of a zoned-patched qemu-io, on this engine (no QEMU needed). Commands as qemu-io takes
them, byte offsets and lengths with k/M/G/T suffixes or 0x hex:
  zone_report|zrp OFF N       zone_open|zo, zone_close|zc, zone_finish|zf, zone_reset|zrs OFF LEN
  zone_append|zap [-p] OFF LEN [LEN]   write|w [-Cq] [-P pattern] [-z] OFF LEN
  aio_write [-Cq] [-P pattern] OFF LEN [LEN..]   aio_flush   flush   read|r [-Cqv] [-P pattern [-s off] [-l len]] OFF LEN
  length   sleep MS   open [-r] PATH   close   help [CMD]   quit
  -c CMD           run CMD (repeatable); without -c, commands are read from standard input with qemu-io's
                   "qemu-io> " prompt before each line
  -r               read-only (writes and zone changes are refused)
  -f FMT           image format; only qcow2
  --legacy-errors  print command failures on stdout without "qemu-io: ", as the qemu-io of the posted
                   zoned series did (printf); by default they go to stderr as "qemu-io: …", as qemu-io
                   reports errors now (error_setg in qemu-io-cmds.c)
Output is qemu-io's: zone lines in 512-byte sectors, "wrote N/N bytes at offset M" and its timing line,
error texts with QEMU's errno strings. Refusals follow the v8/v9 zoned qcow2 driver; where our engine is
stricter than that driver (docs: ZONED-FORMAT.md section 9) the engine's reason is printed as well.
Exit codes: 0 every command succeeded, 1 a command failed or the image could not be opened, 2 usage error.
`;

/** BDRV_REQUEST_MAX_BYTES with 512-byte alignment. */
const REQUEST_MAX = 0x7fffffff - 511;

const CMDS: CommandInfo[] = [
  { name: 'aio_flush', argmin: 0, argmax: 0, oneline: 'completes all outstanding aio requests' },
  { name: 'aio_write', argmin: 2, argmax: -1, args: '[-Cfiqruz] [-P pattern] off len [len..]', oneline: 'asynchronously writes a number of bytes' },
  { name: 'close', altname: 'c', argmin: 0, argmax: 0, oneline: 'close the current open file' },
  { name: 'flush', altname: 'f', argmin: 0, argmax: 0, oneline: 'flush all in-core file state to disk' },
  { name: 'help', altname: '?', argmin: 0, argmax: 1, args: '[command]', oneline: 'help for one or all commands', nofile: true },
  { name: 'length', altname: 'l', argmin: 0, argmax: 0, oneline: 'gets the length of the current file' },
  { name: 'open', altname: 'o', argmin: 1, argmax: -1, args: '[-rsnkU] [-t cache] [-d discard] [-o options] [path]', oneline: 'open the file specified by path', nofile: true },
  { name: 'quit', altname: 'q', argmin: 0, argmax: 0, oneline: 'exit the program', nofile: true },
  { name: 'read', altname: 'r', argmin: 2, argmax: -1, args: '[-abCqrv] [-P pattern [-s off] [-l len]] off len', oneline: 'reads a number of bytes at a specified offset' },
  { name: 'sleep', argmin: 1, argmax: 1, oneline: 'waits for the given value in milliseconds', nofile: true },
  { name: 'write', altname: 'w', argmin: 2, argmax: -1, args: '[-bcCfnqruz] [-P pattern | -s source_file] off len', oneline: 'writes a number of bytes at a specified offset' },
  { name: 'zone_append', altname: 'zap', argmin: 3, argmax: 4, args: 'offset len [len..]', oneline: 'append write a number of bytes at a specified offset' },
  { name: 'zone_close', altname: 'zc', argmin: 2, argmax: 2, args: 'offset len', oneline: 'close a range of zones in zone block device' },
  { name: 'zone_finish', altname: 'zf', argmin: 2, argmax: 2, args: 'offset len', oneline: 'finish a range of zones in zone block device' },
  { name: 'zone_open', altname: 'zo', argmin: 2, argmax: 2, args: 'offset len', oneline: 'explicit open a range of zones in zone block device' },
  { name: 'zone_report', altname: 'zrp', argmin: 2, argmax: 2, args: 'offset number', oneline: 'report zone information' },
  { name: 'zone_reset', altname: 'zrs', argmin: 2, argmax: 2, args: 'offset len', oneline: 'reset a zone write pointer in zone block device' },
];

const findCommand = (w: string): CommandInfo | undefined => CMDS.find((c) => c.name === w || c.altname === w);

/** A command's outcome: 0, or the negative errno qemu-io's command function returns. */
type Ret = number;
const FAIL = -1;

type EngineResult = { ok: true; offset: number | null } | { ok: false; errno: Errno; why: string };

class Shell {
  private session: ImageSession | null = null;
  private readOnly = false;
  private zoned = false;
  private revision = '';
  private size = 0;
  /** errp era: a command's error is printed after its output, when the command returns. */
  private pending: string | null = null;
  /**
   * aio_write's completion output: qemu-io prints it from the completion callback, which runs in the main
   * loop, i.e. after the next prompt (interactive) or when the next command waits for I/O (-c).
   */
  private aioDone: (() => void)[] = [];
  quit = false;

  constructor(private readonly io: CliIo, private readonly legacy: boolean) {}

  /** error_report(): the block layer's messages, always on stderr. */
  private report(msg: string): void {
    this.io.err(`qemu-io: ${msg}\n`);
  }

  /**
   * A command's own failure: error_setg(errp) printed as "qemu-io: …" on stderr once the command returns;
   * with --legacy-errors the printf (stdout) or fprintf(stderr) of the older qemu-io, at once.
   */
  private fail(msg: string, legacyStream: 'out' | 'err' = 'out'): void {
    if (this.legacy) {
      if (legacyStream === 'out') this.io.out(`${msg}\n`);
      else this.io.err(`${msg}\n`);
    } else if (this.pending === null) {
      this.pending = msg;
    }
  }

  private refused(r: QemuRefusal, what: string): Ret {
    for (const m of r.reports) this.report(m);
    this.fail(`${what} failed: ${strerror(r.errno)}`);
    return FAIL;
  }

  async open(path: string, readOnly: boolean): Promise<boolean> {
    let s: ImageSession;
    try {
      s = await ImageSession.open(path, { gate: false });
    } catch (e) {
      // FileByteSource names the OS error in its message ("cannot open: ENOENT …"): qemu's raw_open text.
      const errno = /cannot open:.*\b(E[A-Z]+)\b/.exec(messageOf(e))?.[1];
      this.report(`can't open device ${path}: ${isErrno(errno) ? `Could not open '${path}': ${strerror(errno)}` : messageOf(e)}`);
      return false;
    }
    if (s.degraded) {
      this.report(`can't open device ${path}: ${s.degraded.message}`);
      await s.close();
      return false;
    }
    const img = await s.image();
    this.zoned = img.zoned !== null;
    this.revision = img.zoned?.revision ?? '';
    this.size = img.header.size;
    if (this.zoned && !readOnly) {
      // qemu-io takes QEMU's write lock when it opens the image read-write.
      try {
        await s.openForZoneOps();
      } catch (e) {
        if (e instanceof Qcow2Error && e.code === 'locked') {
          this.report(`can't open device ${path}: Failed to get "write" lock\nIs another process using the image [${path}]?`);
          await s.close();
          return false;
        }
        // Any other refusal (a revision the engine cannot drive) shows on the first zone change.
      }
    }
    this.session = s;
    this.readOnly = readOnly;
    return true;
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) await s.close();
  }

  /** Run the completions of earlier aio requests (the main loop's turn). */
  completeAio(): void {
    const done = this.aioDone;
    this.aioDone = [];
    for (const f of done) f();
  }

  /** qemuio_command(): one line. */
  async command(line: string, interactive = false): Promise<Ret> {
    const v = breakline(line);
    if (v.length === 0) return 0;
    if (!interactive) this.completeAio();
    this.pending = null;
    const ct = findCommand(v[0]);
    let ret: Ret;
    if (!ct) {
      this.fail(`command "${v[0]}" not found`, 'err');
      ret = FAIL;
    } else if (!ct.nofile && !this.session) {
      this.fail("no file open, try 'help open'", 'err');
      ret = FAIL;
    } else {
      const bad = argCountError(ct, v[0], v.length - 1);
      if (bad) {
        this.fail(bad, 'err');
        ret = FAIL;
      } else {
        try {
          ret = await this.dispatch(ct, v);
        } catch (e) {
          // The engine could not read what the command needs (a damaged write-pointer table, say).
          this.report(`qzs engine: ${messageOf(e)}`);
          this.fail(`${ct.name} failed: ${strerror(e instanceof Qcow2Error && e.code === 'unsupported-feature' ? 'ENOTSUP' : 'EIO')}`);
          ret = FAIL;
        }
      }
    }
    if (this.pending !== null) this.io.err(`qemu-io: ${this.pending}\n`);
    this.pending = null;
    return ret;
  }

  private dispatch(ct: CommandInfo, v: string[]): Promise<Ret> {
    switch (ct.name) {
      case 'zone_report': return this.zoneReport(v);
      case 'zone_open': return this.zoneMgmt(v, 'open');
      case 'zone_close': return this.zoneMgmt(v, 'close');
      case 'zone_finish': return this.zoneMgmt(v, 'finish');
      case 'zone_reset': return this.zoneMgmt(v, 'reset');
      case 'zone_append': return this.zoneAppend(v);
      case 'write': return this.write(v);
      case 'aio_write': return this.aioWrite(v);
      case 'read': return this.read(v);
      case 'aio_flush': case 'flush': return Promise.resolve(0);
      case 'length': this.io.out(`${cvtstr(this.size)}\n`); return Promise.resolve(0);
      case 'sleep': return this.sleep(v);
      case 'open': return this.openCmd(v);
      case 'close': return this.close().then(() => 0);
      case 'quit': this.quit = true; return Promise.resolve(0);
      case 'help': return Promise.resolve(this.help(v));
      default: return Promise.resolve(0);
    }
  }

  /** cvtnum() of one argument, with set_cvtnum_err() on failure. */
  private num(arg: string): number | null {
    const v = parseSize(arg);
    if (typeof v === 'number') return v;
    this.fail(cvtnumError(v.error, arg));
    return null;
  }

  private async zoneState(): Promise<ZoneReport> {
    if (!this.session) throw new Error('no session');
    return this.session.zoneReport();
  }

  /** Run one engine zone operation; a refusal comes back as the errno QEMU would return. */
  private async engine(op: ZoneOp, data: Uint8Array | undefined, kind: 'mgmt' | 'write'): Promise<EngineResult> {
    if (!this.session) return { ok: false, errno: 'ENOMEDIUM', why: 'no image' };
    try {
      const { result } = await this.session.zoneOp(op, data);
      return { ok: true, offset: result.offset };
    } catch (e) {
      if (e instanceof Qcow2Error) {
        const d = e.details ?? {};
        const why = e.message;
        if (e.code === 'zone-error') return { ok: false, errno: engineErrno(d.kind, kind), why };
        if (e.code === 'read-only' || e.code === 'locked') return { ok: false, errno: 'EPERM', why };
        if (e.code === 'unsupported-feature') return { ok: false, errno: 'ENOTSUP', why };
        return { ok: false, errno: isErrno(d.errno) ? d.errno : 'EIO', why };
      }
      return { ok: false, errno: 'EIO', why: messageOf(e) };
    }
  }

  private engineFailed(r: { errno: Errno; why: string }, what: string): Ret {
    this.report(`qzs engine: ${r.why}`);
    this.fail(`${what} failed: ${strerror(r.errno)}`);
    return FAIL;
  }

  // ------------------------------------------------------------------ zone commands (zone_*_f)

  private async zoneReport(v: string[]): Promise<Ret> {
    const offset = this.num(v[1]);
    if (offset === null) return FAIL;
    const n = this.num(v[2]);
    if (n === null) return FAIL;
    if (n > 0xffffffff) {
      this.fail('Number of zones must be less than 2^32');
      return FAIL;
    }
    if (!this.zoned) return this.refused({ errno: 'ENOTSUP', reports: [] }, 'zone report');
    const r = await this.zoneState();
    const bad = checkReport(r, offset);
    if (bad) return this.refused(bad, 'zone report');
    const first = Math.floor(offset / r.zoneSize);
    let out = '';
    for (let i = first; i < Math.min(r.nrZones, first + n); i++) {
      const start = i * r.zoneSize;
      const length = zoneLength(r, i);
      const conv = i < r.conventionalZones;
      out += zoneLine({
        start, length, cap: reportedCap(this.revision, length, Math.min(r.zoneCapacity, length)),
        wp: conv ? start : r.wp[i], cond: r.cond[i], type: conv ? 1 : 2,
      });
    }
    this.io.out(out);
    return 0;
  }

  private async zoneMgmt(v: string[], op: 'open' | 'close' | 'finish' | 'reset'): Promise<Ret> {
    const what = `zone ${op}`;
    const offset = this.num(v[1]);
    if (offset === null) return FAIL;
    const len = this.num(v[2]);
    if (len === null) return FAIL;
    if (!this.zoned) return this.refused({ errno: 'ENOTSUP', reports: [] }, what);
    if (this.readOnly) return this.refused({ errno: 'EPERM', reports: [] }, what);
    const r = await this.zoneState();
    const bad = checkMgmt(r, offset, len, qemuIoDialect(this.revision), op);
    if (bad) return this.refused(bad, what);
    const zone = Math.floor(offset / r.zoneSize);
    if (op !== 'reset') {
      const busy = checkMgmtResources(r, op, zone, qemuIoDialect(this.revision));
      if (busy) return this.refused(busy, what);
      const res = await this.engine({ op, zone }, undefined, 'mgmt');
      return res.ok ? 0 : this.engineFailed(res, what);
    }
    const zones = resetZones(r, offset, len);
    const ops: ZoneOp[] = zones === 'all' ? [{ op: 'reset-all' }] : zones.map((z) => ({ op: 'reset', zone: z }));
    for (const o of ops) {
      const res = await this.engine(o, undefined, 'mgmt');
      if (!res.ok) return this.engineFailed(res, what);
    }
    return 0;
  }

  private async zoneAppend(v: string[]): Promise<Ret> {
    const g = getopt(v, 'p');
    let pflag = g.opts.length > 0;
    if (g.error) {
      // glibc prints its message and getopt() returns '?', which zone_append_f takes for -p.
      this.io.err(`${g.error}\n`);
      pflag = true;
    }
    const args = g.error ? v.slice(1).filter((a) => !a.startsWith('-')) : g.positionals;
    if (args.length < 2) return -22;
    const offset = this.num(args[0]);
    if (offset === null) return FAIL;
    const lens: number[] = [];
    for (const a of args.slice(1)) {
      const l = this.lengthArg(a);
      if (l === null) return FAIL;
      lens.push(l);
    }
    if (!this.zoned) return this.refused({ errno: 'ENOTSUP', reports: [] }, 'zone append');
    if (this.readOnly) return this.refused({ errno: 'EPERM', reports: [] }, 'zone append');
    const r = await this.zoneState();
    const bad = checkAppend(r, offset, lens, qemuIoDialect(this.revision));
    if (bad) return this.refused(bad, 'zone append');
    const total = lens.reduce((a, b) => a + b, 0);
    const res = await this.engine({ op: 'append', zone: Math.floor(offset / r.zoneSize), length: total }, new Uint8Array(total).fill(0xcd), 'write');
    if (!res.ok) return this.engineFailed(res, 'zone append');
    if (pflag && res.offset !== null) this.io.out(appendSectorLine(res.offset));
    return 0;
  }

  /** create_iovec()'s checks of one length. */
  private lengthArg(a: string): number | null {
    const l = this.num(a);
    if (l === null) return null;
    if (l > REQUEST_MAX) {
      this.fail(`Argument '${a}' exceeds maximum size ${REQUEST_MAX}`);
      return null;
    }
    return l;
  }

  // ------------------------------------------------------------------ data commands

  /** The write path shared by write and aio_write: checks, engine, and the errno on failure. */
  private async doWrite(offset: number, count: number, pattern: number): Promise<{ ok: true; seconds: number } | { ok: false; errno: Errno; reports: string[]; why?: string }> {
    const t0 = process.hrtime.bigint();
    if (!this.zoned) {
      if (offset + count > this.size) return { ok: false, errno: 'EIO', reports: [] };
      if (count === 0) return { ok: true, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
      if (!this.session) return { ok: false, errno: 'ENOMEDIUM', reports: [] };
      try {
        await this.session.guestWrite(offset, new Uint8Array(count).fill(pattern));
      } catch (e) {
        const code = e instanceof Qcow2Error ? e.code : null;
        const errno: Errno = code === 'read-only' || code === 'locked' ? 'EPERM' : code === 'unsupported-feature' ? 'ENOTSUP' : 'EIO';
        return { ok: false, errno, reports: [], why: messageOf(e) };
      }
      return { ok: true, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
    }
    const r = await this.zoneState();
    const bad = checkWrite(r, offset, count, qemuIoDialect(this.revision));
    if (bad) return { ok: false, errno: bad.errno, reports: bad.reports };
    if (count === 0) return { ok: true, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
    const res = await this.engine({ op: 'write', offset, length: count }, new Uint8Array(count).fill(pattern), 'write');
    if (!res.ok) return { ok: false, errno: res.errno, reports: [], why: res.why };
    return { ok: true, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  }

  private async write(v: string[]): Promise<Ret> {
    const ct = findCommand('write') as CommandInfo;
    const g = getopt(v, 'bcCfnpP:qrs:uz');
    if (g.error) {
      this.io.err(`${g.error}\n`);
      this.io.out(commandUsage(ct));
      return -22;
    }
    let cflag = false;
    let qflag = false;
    let zflag = false;
    let pflag = false;
    let pattern = 0xcd;
    for (const { opt, arg } of g.opts) {
      switch (opt) {
        case 'C': cflag = true; break;
        case 'q': qflag = true; break;
        case 'z': zflag = true; break;
        case 'f': case 'p': case 'r': break;
        case 'P':
          pflag = true;
          pattern = parsePattern(arg ?? '');
          if (pattern < 0) {
            this.fail(patternError(arg ?? ''));
            return -22;
          }
          break;
        default:
          this.fail(`write -${opt} is not supported by qzs io`);
          return -22;
      }
    }
    if (g.positionals.length !== 2) {
      this.io.out(commandUsage(ct));
      return -22;
    }
    if (zflag && pflag) {
      this.fail('Only one of -z, -P, and -s can be specified at the same time');
      return -22;
    }
    const offset = this.num(g.positionals[0]);
    if (offset === null) return FAIL;
    const count = this.num(g.positionals[1]);
    if (count === null) return FAIL;
    if (count > REQUEST_MAX) {
      this.fail(`length cannot exceed ${REQUEST_MAX} without -n, given ${g.positionals[1]}`);
      return -22;
    }
    if (this.readOnly) {
      // command() asks for BLK_PERM_WRITE before write_f runs.
      this.report('Block node is read-only');
      return FAIL;
    }
    const w = await this.doWrite(offset, count, zflag ? 0 : pattern);
    if (!w.ok) {
      for (const m of w.reports) this.report(m);
      if (w.why) this.report(`qzs engine: ${w.why}`);
      this.fail(`write failed: ${strerror(w.errno)}`);
      return FAIL;
    }
    if (!qflag) this.io.out(printReport('wrote', w.seconds, offset, count, count, 1, cflag));
    return 0;
  }

  /** aio_write_f: runs at once here; a failure is aio_write_done's error_report and the command succeeds. */
  private async aioWrite(v: string[]): Promise<Ret> {
    const ct = findCommand('aio_write') as CommandInfo;
    const g = getopt(v, 'CfiP:qruz');
    if (g.error) {
      this.io.err(`${g.error}\n`);
      this.io.out(commandUsage(ct));
      return -22;
    }
    let cflag = false;
    let qflag = false;
    let zflag = false;
    let pflag = false;
    let pattern = 0xcd;
    for (const { opt, arg } of g.opts) {
      switch (opt) {
        case 'C': cflag = true; break;
        case 'q': qflag = true; break;
        case 'z': zflag = true; break;
        case 'i':
          this.io.out('injecting invalid write request\n');
          return 0;
        case 'P':
          pflag = true;
          pattern = parsePattern(arg ?? '');
          if (pattern < 0) {
            this.fail(patternError(arg ?? ''));
            return -22;
          }
          break;
        default: break;
      }
    }
    if (g.positionals.length < 2) {
      this.io.out(commandUsage(ct));
      return -22;
    }
    if (zflag && g.positionals.length !== 2) {
      this.fail('-z supports only a single length parameter');
      return -22;
    }
    if (zflag && pflag) {
      this.fail('-z and -P cannot be specified at the same time');
      return -22;
    }
    const offset = this.num(g.positionals[0]);
    if (offset === null) return FAIL;
    let count = 0;
    for (const a of g.positionals.slice(1)) {
      const l = zflag ? this.num(a) : this.lengthArg(a);
      if (l === null) return FAIL;
      count += l;
    }
    if (this.readOnly) {
      this.report('Block node is read-only');
      return FAIL;
    }
    const w = await this.doWrite(offset, count, zflag ? 0 : pattern);
    if (!w.ok) {
      // The driver's own error_report() lines come at submission; the failure at completion.
      for (const m of w.reports) this.report(m);
      if (w.why) this.report(`qzs engine: ${w.why}`);
      this.aioDone.push(() => this.report(`aio_write failed: ${strerror(w.errno)}`));
      return 0;
    }
    if (!qflag) this.aioDone.push(() => this.io.out(printReport('wrote', w.seconds, offset, count, count, 1, cflag)));
    return 0;
  }

  private async read(v: string[]): Promise<Ret> {
    const ct = findCommand('read') as CommandInfo;
    const g = getopt(v, 'bCl:pP:qrs:v');
    if (g.error) {
      this.io.err(`${g.error}\n`);
      this.io.out(commandUsage(ct));
      return -22;
    }
    let cflag = false;
    let qflag = false;
    let vflag = false;
    let pflag = false;
    let sflag = false;
    let lflag = false;
    let pattern = 0;
    let patternOffset = 0;
    let patternCount = 0;
    for (const { opt, arg } of g.opts) {
      switch (opt) {
        case 'C': cflag = true; break;
        case 'q': qflag = true; break;
        case 'v': vflag = true; break;
        case 'p': case 'r': break;
        case 'l': {
          lflag = true;
          const n = this.num(arg ?? '');
          if (n === null) return FAIL;
          patternCount = n;
          break;
        }
        case 's': {
          sflag = true;
          const n = this.num(arg ?? '');
          if (n === null) return FAIL;
          patternOffset = n;
          break;
        }
        case 'P':
          pflag = true;
          pattern = parsePattern(arg ?? '');
          if (pattern < 0) {
            this.fail(patternError(arg ?? ''));
            return -22;
          }
          break;
        default:
          this.fail(`read -${opt} is not supported by qzs io`);
          return -22;
      }
    }
    if (g.positionals.length !== 2) {
      this.io.out(commandUsage(ct));
      return -22;
    }
    const offset = this.num(g.positionals[0]);
    if (offset === null) return FAIL;
    const count = this.num(g.positionals[1]);
    if (count === null) return FAIL;
    if (count > REQUEST_MAX) {
      this.fail(`length cannot exceed ${REQUEST_MAX}, given ${g.positionals[1]}`);
      return -22;
    }
    if (!pflag && (lflag || sflag)) {
      this.io.out(commandUsage(ct));
      return -22;
    }
    if (!lflag) patternCount = count - patternOffset;
    if (patternCount < 0 || patternCount + patternOffset > count) {
      this.fail('pattern verification range exceeds end of read data');
      return -22;
    }
    const t0 = process.hrtime.bigint();
    let buf: Uint8Array;
    if (offset + count > this.size) {
      this.fail(`read failed: ${strerror('EIO')}`);
      return FAIL;
    }
    try {
      if (!this.session) return FAIL;
      const reader = await ImageWriter.fromSource(this.session.source, { readOnly: true });
      buf = count === 0 ? new Uint8Array(0) : await reader.read(offset, count);
    } catch (e) {
      const errno = (e as { code?: unknown }).code;
      this.report(`qzs engine: ${messageOf(e)}`);
      this.fail(`read failed: ${strerror(isErrno(errno) ? errno : 'EIO')}`);
      return FAIL;
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    let ret: Ret = 0;
    if (pflag && buf.subarray(patternOffset, patternOffset + patternCount).some((b) => b !== pattern)) {
      this.fail(`Pattern verification failed at offset ${offset + patternOffset}, ${patternCount} bytes`);
      ret = -22;
    }
    if (qflag) return ret;
    if (vflag) this.io.out(dumpBuffer(buf, offset));
    this.io.out(printReport('read', seconds, offset, count, count, 1, cflag));
    return ret;
  }

  private async sleep(v: string[]): Promise<Ret> {
    const m = /^[ \t]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(v[1]);
    const ms = m ? (m[1] === '-' ? -1 : Number(m[2].startsWith('0') && !/^0[xX]/.test(m[2]) ? parseInt(m[2], 8) || 0 : m[2])) : -1;
    if (ms < 0 || !Number.isFinite(ms)) {
      this.fail(`${v[1]} is not a valid number`);
      return -22;
    }
    await new Promise((res) => setTimeout(res, ms));
    return 0;
  }

  private async openCmd(v: string[]): Promise<Ret> {
    if (this.session) {
      this.report("file open already, try 'help close'");
      return -16;
    }
    const g = getopt(v, 'snCro:kt:d:Uf:');
    if (g.error || g.positionals.length !== 1) {
      if (g.error) this.io.err(`${g.error}\n`);
      this.io.out(commandUsage(findCommand('open') as CommandInfo));
      return -22;
    }
    const ro = g.opts.some((o) => o.opt === 'r');
    return (await this.open(g.positionals[0], ro)) ? 0 : FAIL;
  }

  private help(v: string[]): Ret {
    if (v.length < 2) {
      this.io.out(CMDS.map((c) => helpOneline(c.name, c)).join('') + "\nUse 'help commandname' for extended help.\n");
      return 0;
    }
    const ct = findCommand(v[1]);
    if (!ct) {
      this.fail(`command ${v[1]} not found`, 'err');
      return -22;
    }
    this.io.out(helpOneline(v[1], ct));
    return 0;
  }
}

function messageOf(e: unknown): string {
  if (e instanceof Qcow2Error) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** --image-opts "driver=qcow2,file.driver=file,file.filename=PATH": the path. */
function imageOptsPath(spec: string): string | null {
  for (const kv of spec.split(',')) {
    const [k, ...rest] = kv.split('=');
    if (k === 'file.filename' || k === 'filename') return rest.join('=');
  }
  return null;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, {
    cmd: { type: 'string', short: 'c', multiple: true },
    'read-only': { type: 'boolean', short: 'r', default: false },
    format: { type: 'string', short: 'f' },
    nocache: { type: 'boolean', short: 'n', default: false },
    'image-opts': { type: 'boolean', default: false },
    'legacy-errors': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  }, USAGE);
  if (values.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  if (values.format !== undefined && values.format !== 'qcow2') {
    io.err(`qemu-io: can't open device ${positionals[0] ?? ''}: qzs io reads qcow2 images only, not ${values.format}\n`);
    return 1;
  }
  if (positionals.length > 1) {
    io.err(`qzs io: one IMAGE at most\nusage: ${USAGE}\n`);
    return 2;
  }
  const shell = new Shell(io, values['legacy-errors'] === true);
  let path = positionals[0];
  if (path !== undefined && values['image-opts']) path = imageOptsPath(path) ?? path;
  if (path !== undefined && !(await shell.open(path, values['read-only'] === true))) return 1;
  let lastError = 0;
  try {
    const cmds = values.cmd ?? [];
    if (cmds.length > 0) {
      for (const c of cmds) {
        if (shell.quit) break;
        if ((await shell.command(c)) < 0) lastError = -1;
      }
      shell.completeAio();
    } else {
      const rl = createInterface({ input: io.stdin, terminal: false, crlfDelay: Infinity });
      const lines = rl[Symbol.asyncIterator]();
      while (!shell.quit) {
        io.out(QEMU_IO_PROMPT);
        shell.completeAio();
        const next = await lines.next();
        if (next.done) break;
        if ((await shell.command(next.value, true)) < 0) lastError = -1;
      }
      shell.completeAio();
      rl.close();
    }
  } finally {
    await shell.close();
  }
  return lastError < 0 ? 1 : 0;
}
