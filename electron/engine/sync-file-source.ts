// A read-only file source whose positional reads run synchronously on the calling thread, for the CLI.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import type { ReadIntoSource } from '../../shared/qcow2/check';
import { osErrorText, Qcow2Error } from '../../shared/qcow2/findings';
import type { SyncReadable } from '../../shared/qcow2/l2-window';

// What both file sources share (here, not in file-source.ts, so that the CLI's synchronous path does not
// load node:fs/promises).

/**
 * open(2) flags for an image: O_NONBLOCK so that opening a FIFO (or a device that waits for a peer)
 * returns at once instead of blocking until a writer appears; the file is refused after fstat unless
 * it is a regular file, and on a regular file O_NONBLOCK has no effect.
 */
export function imageOpenFlags(mode: 'r' | 'r+'): number {
  return (mode === 'r+' ? constants.O_RDWR : constants.O_RDONLY) | constants.O_NONBLOCK;
}

/** What a non-regular file is, for the message: "a FIFO", "a directory"… */
export function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export function notRegularFile(path: string, st: Stats): Qcow2Error {
  const kind = fileKind(st);
  return new Qcow2Error({ code: 'io', message: kind.startsWith('not ') ? kind : `${kind}, not a regular file`, file: path });
}

/**
 * "cannot open: no such file or directory (ENOENT)": Node's message ("ENOENT: no such file or directory,
 * open '/x'") repeats the code and the path, which the error carries already.
 */
export function openError(path: string, e: unknown): Qcow2Error {
  return new Qcow2Error({ code: 'io', message: `cannot open: ${osErrorText(e)}`, file: path });
}

/**
 * Positions handed to the file system must be exact integers: Node refuses reads beyond 2^53 with an
 * internal range error. Decoders refuse such offsets first (with a finding at the field); this is the
 * last guard, so that a path that missed one still ends in a typed error.
 */
export function assertReadablePosition(name: string, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > 2 ** 53) {
    const at = Number.isInteger(offset) ? BigInt(offset).toString() : String(offset);
    throw new Qcow2Error({ code: 'invalid-table', message: `refusing to access ${length} bytes at offset ${at}: beyond 2^53 bytes, where no file has data and offsets are no longer exact`, file: name, details: { offset: at, length } });
  }
}
/**
 * Positional reads done synchronously on the calling thread. A check or a map reads thousands of small
 * tables; through fs.promises each read is a hop to the libuv thread pool and back (tens of microseconds,
 * far more than the pread itself), so for the CLI, where nothing else waits on the event loop, plain pread
 * is what keeps `qzs check` and `qzs map` level with qemu-img. The app keeps its asynchronous sources.
 */
export class SyncReadFileSource implements ReadIntoSource, SyncReadable {
  private constructor(private fd: number, readonly name: string, private readonly bytes: number) {}

  static open(path: string): SyncReadFileSource {
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO opens at once (and is refused below) instead of waiting for a writer.
      fd = openSync(path, imageOpenFlags('r'));
    } catch (e) {
      throw openError(path, e);
    }
    let st: Stats;
    try {
      st = fstatSync(fd);
    } catch (e) {
      closeSync(fd);
      throw openError(path, e);
    }
    if (!st.isFile()) {
      closeSync(fd);
      throw notRegularFile(path, st);
    }
    return new SyncReadFileSource(fd, path, st.size);
  }

  async size(): Promise<number> {
    return this.bytes;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    const buf = new Uint8Array(length);
    const done = this.readIntoSync(offset, buf);
    return done === length ? buf : buf.subarray(0, done);
  }

  async readInto(offset: number, dest: Uint8Array): Promise<number> {
    return this.readIntoSync(offset, dest);
  }

  /** Up to dest.length bytes at `offset` into dest; the count read (short only at end of file). */
  readIntoSync(offset: number, dest: Uint8Array): number {
    if (dest.length === 0) return 0;
    assertReadablePosition(this.name, offset, dest.length);
    let done = 0;
    while (done < dest.length) {
      const n = readSync(this.fd, dest, done, dest.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
