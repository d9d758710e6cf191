// A read-only file source whose positional reads run synchronously on the calling thread, for the CLI.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ReadIntoSource } from '../../shared/qcow2/check';
import { Qcow2Error } from '../../shared/qcow2/findings';
import type { SyncReadable } from '../../shared/qcow2/l2-window';

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
      fd = openSync(path, 'r');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Qcow2Error({ code: 'io', message: `cannot open: ${err.code ?? ''} ${err.message}`.trim(), file: path });
    }
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      throw new Qcow2Error({ code: 'io', message: 'not a regular file', file: path });
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
