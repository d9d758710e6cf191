// QEMU-compatible image locks. QEMU's file-posix driver (block/file-posix.c) guards every image it opens
// with byte-range locks, so that two processes never write the same image and no reader trusts an image
// that someone else is changing; qemu-img and qemu-io refuse an image that a running QEMU holds. We take
// the same locks, the same way, so that QEMU refuses an image we are writing and we refuse one it is
// writing.
//
// The protocol, from file-posix.c:
// - Each block permission (BLK_PERM_* in include/block/block-common.h) is a bit: CONSISTENT_READ 0x01,
//   WRITE 0x02, WRITE_UNCHANGED 0x04, RESIZE 0x08 (BLK_PERM_ALL 0x0f since QEMU 7.0).
// - A holder read-locks byte RAW_LOCK_PERM_BASE (100) + bit for each permission it holds, and byte
//   RAW_LOCK_SHARED_BASE (200) + bit for each permission it does NOT share with others
//   (raw_apply_lock_bytes, through qemu_lock_fd: F_OFD_SETLK with F_RDLCK, one byte at a time).
// - Then it tests, with a write-lock probe (qemu_lock_fd_test: F_OFD_GETLK with F_WRLCK), byte 200 + bit
//   for each permission it wants (does anyone refuse to share it?) and byte 100 + bit for each permission
//   it does not share (does anyone hold it?) (raw_check_lock_bytes).
// - On a conflict it drops the bytes it has just taken again (raw_handle_perm_lock, RAW_PL_PREPARE falling
//   through to RAW_PL_ABORT) and reports `Failed to get "write" lock` or `Failed to get shared "write"
//   lock` with the hint `Is another process using the image [PATH]?`; EAGAIN/EACCES are the conflict
//   errnos, printed without strerror (raw_lock_error_setg_errno).
// The locks are open file description (OFD) locks: they belong to one open() and not to the process, so
// two opens in one process conflict like two processes, and closing another fd of the same file does not
// drop them (POSIX locks would be). QEMU (locking=auto, raw_open_common) locks only where OFD locks exist.
//
// Node has no fcntl(): the `koffi` FFI package calls libc's, loaded lazily (createRequire) at the first
// use, so that importing this module never fails or slows a command that takes no lock. Where it cannot
// work (a platform without the calls, koffi or libc failing to load, a kernel without OFD locks) locks are
// "unavailable": acquireWriteLock reports why instead of throwing, and the caller warns.
import { readdirSync, readFileSync, closeSync, openSync, fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Qcow2Error } from '../../shared/qcow2/findings';

export interface LockHolder {
  pid: number;
  command: string;
}

export interface LockSupport {
  available: boolean;
  /** Why locks are unavailable; where they are available, a caveat about them if there is one. */
  reason?: string;
}

// BLK_PERM_* bit numbers (include/block/block-common.h) and their names as bdrv_perm_names() spells them.
const CONSISTENT_READ = 0;
const WRITE = 1;
const WRITE_UNCHANGED = 2;
const RESIZE = 3;
const PERM_BITS = [CONSISTENT_READ, WRITE, WRITE_UNCHANGED, RESIZE];
const PERM_NAMES = ['consistent read', 'write', 'write unchanged', 'resize'];
const bit = (i: number): number => 1 << i;

// file-posix.c: "Libvirt takes byte 0, we start from higher bytes".
const RAW_LOCK_PERM_BASE = 100;
const RAW_LOCK_SHARED_BASE = 200;

/** What a QEMU writer takes: what `qemu-io -c ... image` (read-write) holds, as /proc/locks shows it
 *  (bytes 100, 101, 103 and 201, 203): it reads, writes and may resize, and lets others read and write
 *  what is already there (WRITE_UNCHANGED, e.g. a block job copying identical data), nothing more. */
const WRITER_PERM = bit(CONSISTENT_READ) | bit(WRITE) | bit(RESIZE);
const WRITER_SHARED = bit(CONSISTENT_READ) | bit(WRITE_UNCHANGED);

/** Bounds on the search for who holds a conflicting lock: it only improves a message. */
const HOLDER_SEARCH_MS = 1000;
const HOLDER_SEARCH_FILES = 50_000;

interface Native {
  /** fcntl(fd, cmd, &flock); returns fcntl's result and errno (0 on success). */
  fcntl(fd: number, cmd: number, lk: Buffer): { ret: number; errno: number };
  getlk: number;
  setlk: number;
  rdlck: number;
  wrlck: number;
  unlck: number;
  /** struct flock: size and field offsets, for this platform. */
  size: number;
  off: { type: number; whence: number; start: number; len: number; pid: number };
  /** errno numbers of this platform, and their names for messages. */
  errnos: Record<string, number>;
  errnoName(n: number): string;
  ofd: boolean;
}

type Koffi = typeof import('koffi');

let native: Native | null | undefined;
let support: LockSupport | undefined;

function loadKoffi(): Koffi {
  const req = createRequire(import.meta.url);
  const mod = req('koffi') as Koffi & { default?: Koffi };
  return mod.default && typeof mod.default.load === 'function' ? mod.default : mod;
}

/** The first line of an error's message (Node's "Cannot find module" goes on with the require stack). */
function errMsg(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

function init(): void {
  if (support) return;
  native = null;
  const platform = process.platform;
  if (platform !== 'linux' && platform !== 'darwin') {
    support = { available: false, reason: `image locks are not implemented on ${platform} (QEMU's fcntl locks are POSIX only)` };
    return;
  }
  let koffi: Koffi;
  try {
    koffi = loadKoffi();
  } catch (e) {
    support = { available: false, reason: `image locks are unavailable: cannot load the koffi FFI module (${errMsg(e)})` };
    return;
  }
  try {
    const linux = platform === 'linux';
    const lib = koffi.load(linux ? 'libc.so.6' : 'libSystem.B.dylib');
    // Linux (x86_64, arm64): struct flock { short l_type; short l_whence; off_t l_start; off_t l_len;
    // pid_t l_pid; }. macOS: { off_t l_start; off_t l_len; pid_t l_pid; short l_type; short l_whence; }.
    const flock = linux
      ? koffi.struct({ l_type: 'short', l_whence: 'short', l_start: 'int64_t', l_len: 'int64_t', l_pid: 'int' })
      : koffi.struct({ l_start: 'int64_t', l_len: 'int64_t', l_pid: 'int', l_type: 'short', l_whence: 'short' });
    // fcntl is variadic, and is called as one: on Apple arm64 variadic arguments go on the stack, not in
    // registers, so a fixed prototype would pass the pointer in the wrong place. The struct travels as a
    // Buffer (koffi passes its memory, and fcntl's F_GETLK answer lands in it).
    const fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
    const errnos = koffi.os.errno;
    const names = new Map<number, string>();
    for (const [k, v] of Object.entries(errnos)) if (!names.has(v)) names.set(v, k);
    const n: Native = {
      fcntl(fd, cmd, lk) {
        const ret = fcntl(fd, cmd, 'void *', lk) as number;
        return { ret, errno: ret === -1 ? koffi.errno() : 0 };
      },
      // Linux: F_OFD_GETLK 36, F_OFD_SETLK 37; F_RDLCK 0, F_WRLCK 1, F_UNLCK 2.
      // macOS has no OFD locks: F_GETLK 7, F_SETLK 8; F_RDLCK 1, F_UNLCK 2, F_WRLCK 3 (BSD values).
      getlk: linux ? 36 : 7,
      setlk: linux ? 37 : 8,
      rdlck: linux ? 0 : 1,
      wrlck: linux ? 1 : 3,
      unlck: 2,
      size: koffi.sizeof(flock),
      off: {
        type: koffi.offsetof(flock, 'l_type'),
        whence: koffi.offsetof(flock, 'l_whence'),
        start: koffi.offsetof(flock, 'l_start'),
        len: koffi.offsetof(flock, 'l_len'),
        pid: koffi.offsetof(flock, 'l_pid'),
      },
      errnos,
      errnoName: (e) => names.get(e) ?? `errno ${e}`,
      ofd: linux,
    };
    if (linux) {
      // As qemu_probe_lock_ops() does: a kernel without OFD locks (before 3.15) answers EINVAL.
      const fd = openSync('/dev/null', 'r');
      try {
        const r = n.fcntl(fd, n.getlk, flockBuf(n, n.wrlck, 0, 0));
        if (r.ret === -1 && r.errno === errnos.EINVAL) {
          support = { available: false, reason: 'image locks are unavailable: this kernel has no OFD locks (F_OFD_GETLK: EINVAL), and QEMU itself locks nothing without them' };
          return;
        }
      } finally {
        closeSync(fd);
      }
      support = { available: true };
    } else {
      support = {
        available: true,
        reason: 'macOS has no OFD locks: process-wide POSIX locks are used instead (they do not conflict within one process, and closing any fd of the image drops them); QEMU on macOS does not lock by default',
      };
    }
    native = n;
  } catch (e) {
    native = null;
    support = { available: false, reason: `image locks are unavailable: cannot call fcntl through koffi (${errMsg(e)})` };
  }
}

export function lockSupport(): LockSupport {
  init();
  return { ...(support as LockSupport) };
}

function flockBuf(n: Native, type: number, start: number, len: number): Buffer {
  const b = Buffer.alloc(n.size); // l_pid must be 0 for F_OFD_SETLK / F_OFD_GETLK
  b.writeInt16LE(type, n.off.type);
  b.writeInt16LE(0, n.off.whence); // SEEK_SET
  b.writeBigInt64LE(BigInt(start), n.off.start);
  b.writeBigInt64LE(BigInt(len), n.off.len);
  return b;
}

class FcntlError extends Error {
  constructor(readonly errno: number, readonly errnoName: string, op: string, byte: number) {
    super(`fcntl ${op} on byte ${byte}: ${errnoName}`);
  }
}

/** qemu_lock_fd / qemu_unlock_fd: F_OFD_SETLK of one byte (or a range), retried on EINTR. */
function setLock(n: Native, fd: number, type: number, start: number, len: number): void {
  for (;;) {
    const r = n.fcntl(fd, n.setlk, flockBuf(n, type, start, len));
    if (r.ret !== -1) return;
    if (r.errno === n.errnos.EINTR) continue;
    throw new FcntlError(r.errno, n.errnoName(r.errno), type === n.unlck ? 'unlock' : 'lock', start);
  }
}

/** qemu_lock_fd_test(fd, byte, 1, exclusive = true): would a write lock on the byte conflict? */
function conflicts(n: Native, fd: number, byte: number): boolean {
  const b = flockBuf(n, n.wrlck, byte, 1);
  const r = n.fcntl(fd, n.getlk, b);
  if (r.ret === -1) throw new FcntlError(r.errno, n.errnoName(r.errno), 'test', byte);
  return b.readInt16LE(n.off.type) !== n.unlck;
}

function isConflict(n: Native, e: unknown): e is FcntlError {
  return e instanceof FcntlError && (e.errno === n.errnos.EAGAIN || e.errno === n.errnos.EACCES);
}

function hint(path: string): string {
  return `Is another process using the image [${path}]?`;
}

function lockedError(fd: number, path: string, byte: number, what: string): Qcow2Error {
  const holder = findHolder(fd, byte);
  const by = holder ? `, held by ${holder.command} (pid ${holder.pid})` : '';
  return new Qcow2Error({
    code: 'locked',
    file: path,
    message: `${what}${by}\n${hint(path)}`,
    details: { byte, ...(holder ? { holderPid: holder.pid, holderCommand: holder.command } : {}) },
  });
}

/** The bytes raw_apply_lock_bytes takes for perm / shared. */
function lockBytes(perm: number, shared: number): number[] {
  const bytes: number[] = [];
  for (const i of PERM_BITS) if (perm & bit(i)) bytes.push(RAW_LOCK_PERM_BASE + i);
  for (const i of PERM_BITS) if (!(shared & bit(i))) bytes.push(RAW_LOCK_SHARED_BASE + i);
  return bytes;
}

/**
 * Take what a QEMU writer takes (perms CONSISTENT_READ|WRITE|RESIZE, shared CONSISTENT_READ|
 * WRITE_UNCHANGED), apply first and check after, as raw_handle_perm_lock does. On a conflict, drops the
 * bytes it took and throws Qcow2Error 'locked' worded as qemu-img words it, naming the holder when it can
 * be found. Where locks are unavailable (or the file system refuses them), takes nothing and returns
 * { locked: false, reason }. Meant to be called once per open file; releaseLocks() undoes it, and so does
 * closing the last fd of that open file.
 */
export function acquireWriteLock(fd: number, path: string): { locked: boolean; reason?: string } {
  init();
  const n = native;
  if (!n) return { locked: false, reason: support?.reason ?? 'image locks are unavailable' };
  const taken: number[] = [];
  const undo = (): void => {
    for (const b of taken) {
      try {
        setLock(n, fd, n.unlck, b, 1);
      } catch {
        // raw_handle_perm_lock only warns here: unlocking "cannot fail"
      }
    }
  };
  try {
    // raw_apply_lock_bytes: a shared (read) lock on each byte, one at a time.
    for (const b of lockBytes(WRITER_PERM, WRITER_SHARED)) {
      try {
        setLock(n, fd, n.rdlck, b, 1);
      } catch (e) {
        // Someone holds a write lock on the byte (QEMU never does; some other tool might).
        if (isConflict(n, e)) throw lockedError(fd, path, b, `Failed to lock byte ${b}`);
        throw e;
      }
      taken.push(b);
    }
    // raw_check_lock_bytes: does anyone refuse to share what we want, or hold what we do not share?
    for (const i of PERM_BITS) {
      const b = RAW_LOCK_SHARED_BASE + i;
      if (WRITER_PERM & bit(i) && conflicts(n, fd, b)) throw lockedError(fd, path, b, `Failed to get "${PERM_NAMES[i]}" lock`);
    }
    for (const i of PERM_BITS) {
      const b = RAW_LOCK_PERM_BASE + i;
      if (!(WRITER_SHARED & bit(i)) && conflicts(n, fd, b)) throw lockedError(fd, path, b, `Failed to get shared "${PERM_NAMES[i]}" lock`);
    }
    return { locked: true };
  } catch (e) {
    undo();
    if (e instanceof Qcow2Error) throw e;
    if (e instanceof FcntlError) {
      if (e.errno === n.errnos.EBADF) throw new Qcow2Error({ code: 'internal', file: path, message: `cannot lock: ${e.message}` });
      // ENOLCK (some network file systems), EOPNOTSUPP, EINVAL...: this file cannot be locked.
      return { locked: false, reason: `the file system refuses image locks on this file (${e.message})` };
    }
    throw e;
  }
}

/** Drop every lock byte this fd holds: F_UNLCK over 100..299, which covers every byte QEMU's protocol
 *  uses (qemu_unlock_fd byte by byte, as raw_apply_lock_bytes does, in one call). Never throws. */
export function releaseLocks(fd: number): void {
  init();
  const n = native;
  if (!n) return;
  try {
    setLock(n, fd, n.unlck, RAW_LOCK_PERM_BASE, 2 * (RAW_LOCK_SHARED_BASE - RAW_LOCK_PERM_BASE));
  } catch {
    // a closed fd holds nothing
  }
}

/**
 * Read-only inspection takes NO lock (it must never block QEMU). This only asks whether another open file
 * holds the WRITE permission (byte 101) or refuses to share it (byte 201). null when nobody does, when
 * locks are unavailable, or when the probe fails. On macOS (POSIX locks) the probe cannot see locks of
 * this process, and may see nothing through an fd opened read-only.
 */
export function writerHolder(fd: number, _path: string): { byte: number; holder: LockHolder | null } | null {
  init();
  const n = native;
  if (!n) return null;
  for (const byte of [RAW_LOCK_PERM_BASE + WRITE, RAW_LOCK_SHARED_BASE + WRITE]) {
    try {
      if (conflicts(n, fd, byte)) return { byte, holder: findHolder(fd, byte) };
    } catch {
      return null;
    }
  }
  return null;
}

// --- Who holds it -------------------------------------------------------------------------------------
// F_OFD_GETLK answers l_pid = -1 for an OFD lock, and /proc/locks shows pid -1 too: an OFD lock belongs to
// an open file, not a process. Each process's /proc/PID/fdinfo/FD lists the locks of that open file
// ("lock:" lines, as in /proc/locks), so the holder is found by reading those of every process we may
// read. Reading fdinfo never touches the image's file system (unlike stat() of /proc/PID/fd/FD, which
// could hang on a dead NFS server). Linux only; best effort, bounded in time and in files read.

interface LockLine {
  kind: string;
  pid: number;
  dev: string;
  ino: string;
  start: number;
  end: number;
}

const LOCK_LINE = /^(?:lock:\s+)?\d+:\s+(OFDLCK|POSIX|FLOCK)\s+\S+\s+\S+\s+(-?\d+)\s+([0-9a-f]+:[0-9a-f]+):(\d+)\s+(\d+)\s+(\d+|EOF)\s*$/;

function parseLockLine(line: string): LockLine | null {
  const m = LOCK_LINE.exec(line);
  if (!m) return null;
  return { kind: m[1], pid: Number(m[2]), dev: m[3], ino: m[4], start: Number(m[5]), end: m[6] === 'EOF' ? Infinity : Number(m[6]) };
}

/** The device as the kernel prints it in /proc/locks: "%02x:%02x" of MAJOR and MINOR. */
function devString(dev: bigint): string {
  // glibc's gnu_dev_major / gnu_dev_minor encoding of st_dev
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

function commandOf(pid: number): string {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    const base = argv0.split('/').pop();
    if (base) return base;
  } catch {
    // gone, or not ours to read
  }
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || '?';
  } catch {
    return '?';
  }
}

function findHolder(fd: number, byte: number): LockHolder | null {
  if (process.platform !== 'linux') return null;
  const deadline = Date.now() + HOLDER_SEARCH_MS;
  try {
    const st = fstatSync(fd, { bigint: true });
    const dev = devString(st.dev);
    const ino = st.ino.toString();
    const covers = (l: LockLine | null): l is LockLine => !!l && l.dev === dev && l.ino === ino && l.start <= byte && byte <= l.end;
    // /proc/locks first: nothing there means nothing to look for, and a POSIX lock names its process.
    const all = readFileSync('/proc/locks', 'utf8').split('\n').filter((s) => !s.includes('->')).map(parseLockLine).filter(covers);
    if (all.length === 0) return null;
    const posix = all.find((l) => l.kind !== 'OFDLCK' && l.pid > 0 && l.pid !== process.pid);
    if (posix) return { pid: posix.pid, command: commandOf(posix.pid) };
    let files = 0;
    // Others first: our own process holds a conflicting lock only through another open of the image.
    const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => p !== process.pid);
    pids.push(process.pid);
    for (const pid of pids) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fdinfo`);
      } catch {
        continue; // gone, or another user's
      }
      for (const f of fds) {
        if (pid === process.pid && Number(f) === fd) continue;
        if (++files > HOLDER_SEARCH_FILES || Date.now() > deadline) return null;
        let info: string;
        try {
          info = readFileSync(`/proc/${pid}/fdinfo/${f}`, 'utf8');
        } catch {
          continue;
        }
        if (!info.includes('lock:')) continue;
        for (const line of info.split('\n')) {
          if (line.startsWith('lock:') && covers(parseLockLine(line))) return { pid, command: commandOf(pid) };
        }
      }
    }
  } catch {
    // best effort only
  }
  return null;
}
