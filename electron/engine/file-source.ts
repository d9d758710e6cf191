// The Node edge of the engine: a ByteSource over fs.promises.FileHandle with positional reads only.
import type { Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { WritableByteSource } from '../../shared/qcow2/byte-source';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { assertReadablePosition, imageOpenFlags, notRegularFile, openError } from './sync-file-source';

export class FileByteSource implements WritableByteSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly name: string,
    readonly writable: boolean,
  ) {}

  static async open(path: string, mode: 'r' | 'r+' = 'r'): Promise<FileByteSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, imageOpenFlags(mode));
    } catch (e) {
      throw openError(path, e);
    }
    let st: Stats;
    try {
      st = await fh.stat();
    } catch (e) {
      await fh.close();
      throw openError(path, e);
    }
    if (!st.isFile()) {
      await fh.close();
      throw notRegularFile(path, st);
    }
    return new FileByteSource(fh, path, mode === 'r+');
  }

  /** The OS descriptor, for the byte-range locks QEMU uses (electron/engine/qemu-lock.ts). */
  get fd(): number {
    return this.fh.fd;
  }

  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    assertReadablePosition(this.name, offset, length);
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === length ? buf : buf.subarray(0, done);
  }

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    if (!this.writable) throw new Qcow2Error({ code: 'read-only', message: 'image opened read-only', file: this.name });
    assertReadablePosition(this.name, offset, bytes.length);
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, offset + done);
      done += bytesWritten;
    }
  }

  async truncate(length: number): Promise<void> {
    await this.fh.truncate(length);
  }

  async flush(): Promise<void> {
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
