// The Node edge of the engine: a ByteSource over fs.promises.FileHandle with positional reads only.
import { open, type FileHandle } from 'node:fs/promises';
import type { WritableByteSource } from '../../shared/qcow2/byte-source';
import { Qcow2Error } from '../../shared/qcow2/findings';

export class FileByteSource implements WritableByteSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly name: string,
    readonly writable: boolean,
  ) {}

  static async open(path: string, mode: 'r' | 'r+' = 'r'): Promise<FileByteSource> {
    try {
      const fh = await open(path, mode);
      const st = await fh.stat();
      if (!st.isFile()) {
        await fh.close();
        throw new Qcow2Error({ code: 'io', message: 'not a regular file', file: path });
      }
      return new FileByteSource(fh, path, mode === 'r+');
    } catch (e) {
      if (e instanceof Qcow2Error) throw e;
      const err = e as NodeJS.ErrnoException;
      throw new Qcow2Error({ code: 'io', message: `cannot open: ${err.code ?? ''} ${err.message}`.trim(), file: path });
    }
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
