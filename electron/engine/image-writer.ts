// A qcow2 image opened for writing: refuses what we do not implement, marks the image dirty around
// refcount changes when lazy refcounts are on (as QEMU does), and hands guest I/O to the data path.
import { putU64be } from '../../shared/bytes';
import type { WritableByteSource } from '../../shared/qcow2/byte-source';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { openImage, type OpenedImage } from '../../shared/qcow2/image';
import { RefcountAllocator, type AllocatorHooks } from './allocator';
import { DataPath, type DiscardMode } from './data-path';
import { FileByteSource } from './file-source';

export interface WriterOptions {
  /** fsync at every ordering point (default true); tests that only kill processes may turn it off. */
  durable?: boolean;
  /** Open without write access: reads work, every write fails with a 'read-only' error. */
  readOnly?: boolean;
}

/** Incompatible bits the writer implements: dirty (0), compression type (3), extended L2 (4), zoned (5). */
const WRITABLE_INCOMPAT = (1n << 0n) | (1n << 3n) | (1n << 4n) | (1n << 5n);
const DIRTY = 1n;
const CORRUPT = 2n;
const LAZY_REFCOUNTS = 1n;

export class ImageWriter {
  private dirtyMarked = false;
  private autoclearChecked = false;
  private closed = false;
  private readonly lazy: boolean;

  private constructor(
    readonly source: WritableByteSource,
    readonly image: OpenedImage,
    private readonly data: DataPath,
    readonly readOnly: boolean,
    private readonly durable: boolean,
    private readonly ownsSource: FileByteSource | null,
  ) {
    this.lazy = image.header.version >= 3 && (image.header.compatibleFeatures & LAZY_REFCOUNTS) !== 0n;
  }

  /** Open an image file for writing (or read-only with opts.readOnly). */
  static async open(path: string, opts: WriterOptions = {}): Promise<ImageWriter> {
    const src = await FileByteSource.open(path, opts.readOnly ? 'r' : 'r+');
    try {
      return await ImageWriter.fromSource(src, opts, src);
    } catch (e) {
      await src.close();
      throw e;
    }
  }

  static async fromSource(src: WritableByteSource, opts: WriterOptions = {}, owned: FileByteSource | null = null): Promise<ImageWriter> {
    const image = await openImage(src);
    const h = image.header;
    const readOnly = !!opts.readOnly;
    const refuse = (code: 'read-only' | 'unsupported-feature', message: string, details: Record<string, string | number | boolean | null>): never => {
      throw new Qcow2Error({ code, file: src.name, message, details });
    };
    if (!readOnly) {
      if (h.incompatibleFeatures & CORRUPT) refuse('read-only', 'the corrupt bit (incompatible bit 1) is set: the image may only be opened read-only until it is repaired', { bit: 1 });
      if (h.incompatibleFeatures & DIRTY) refuse('read-only', 'the dirty bit (incompatible bit 0) is set: refcounts may be stale; repair them (check -r all) before writing', { bit: 0 });
      const unknown = h.incompatibleFeatures & ~(WRITABLE_INCOMPAT | CORRUPT);
      if (unknown) {
        const bits = [...Array(64).keys()].filter((b) => ((unknown >> BigInt(b)) & 1n) === 1n);
        refuse('unsupported-feature', `incompatible feature bit${bits.length > 1 ? 's' : ''} ${bits.join(', ')} ${bits.length > 1 ? 'are' : 'is'} set and not implemented by the writer (bit 2 is an external data file)`, { bits: bits.join(',') });
      }
      if (h.cryptMethod !== 0) refuse('unsupported-feature', `encrypted images (crypt_method ${h.cryptMethod}) cannot be written`, { cryptMethod: h.cryptMethod });
      if (h.backingFileOffset !== 0) refuse('unsupported-feature', 'images with a backing file cannot be written by this engine (copy-on-write from the backing file is not implemented)', { backingFileOffset: h.backingFileOffset });
      if (image.extensions.bitmaps && (h.autoclearFeatures & 1n)) refuse('unsupported-feature', 'the image carries persistent dirty bitmaps, which this writer does not maintain', { autoclearBit: 0 });
    }
    let writer: ImageWriter | null = null;
    const hooks: AllocatorHooks = {
      beforeMetadataWrite: async () => { if (writer) await writer.beforeMetadataWrite(); },
      barrier: async () => { if (opts.durable !== false) await src.flush(); },
    };
    const alloc = await RefcountAllocator.load(src, {
      clusterSize: h.clusterSize, refcountOrder: h.refcountOrder,
      refcountTableOffset: h.refcountTableOffset, refcountTableClusters: h.refcountTableClusters,
    }, hooks);
    const data = await DataPath.load(src, {
      clusterSize: h.clusterSize, clusterBits: h.clusterBits, virtualSize: h.size,
      extendedL2: (h.incompatibleFeatures & (1n << 4n)) !== 0n, compressionType: h.compressionType,
      version: h.version, l1TableOffset: h.l1TableOffset, l1Size: h.l1Size,
    }, alloc, hooks);
    writer = new ImageWriter(src, image, data, readOnly, opts.durable !== false, owned);
    return writer;
  }

  get virtualSize(): number { return this.image.header.size; }
  get clusterSize(): number { return this.image.header.clusterSize; }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.assertOpen();
    return this.data.read(offset, length);
  }

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    this.assertWritable();
    await this.clearAutoclear();
    await this.data.write(offset, bytes);
  }

  /** Guest discard: the range reads as zeros afterwards, whole clusters are freed. */
  async discard(offset: number, length: number, mode: DiscardMode = 'zero'): Promise<void> {
    this.assertWritable();
    await this.clearAutoclear();
    await this.data.discard(offset, length, mode);
  }

  /** Raw bytes of the file for metadata the data path does not know (the zoned write pointers). */
  async writeRaw(fileOffset: number, bytes: Uint8Array): Promise<void> {
    this.assertWritable();
    await this.source.write(fileOffset, bytes);
    if (this.durable) await this.source.flush();
  }

  async flush(): Promise<void> {
    if (!this.readOnly && !this.closed) await this.source.flush();
  }

  /** Flush, clear the dirty bit we set, close the file. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.readOnly) {
        await this.source.flush();
        if (this.dirtyMarked) {
          await this.writeIncompat(this.image.header.incompatibleFeatures & ~DIRTY);
          await this.source.flush();
          this.dirtyMarked = false;
        }
      }
    } finally {
      this.closed = true;
      if (this.ownsSource) await this.ownsSource.close();
    }
  }

  private async beforeMetadataWrite(): Promise<void> {
    this.assertWritable();
    if (this.dirtyMarked || !this.lazy) return;
    // QEMU (qcow2_mark_dirty): with lazy refcounts the image is dirty while refcounts may lag.
    await this.writeIncompat(this.image.header.incompatibleFeatures | DIRTY);
    await this.source.flush();
    this.dirtyMarked = true;
  }

  /**
   * docs/interop/qcow2.rst: a writer that does not maintain what an autoclear bit vouches for must clear it
   * before changing the image. We maintain none (images with bitmaps are refused), so all go.
   */
  private async clearAutoclear(): Promise<void> {
    if (this.autoclearChecked) return;
    this.autoclearChecked = true;
    const h = this.image.header;
    if (h.version < 3 || h.autoclearFeatures === 0n) return;
    const b = new Uint8Array(8);
    await this.source.write(88, b);
    if (this.durable) await this.source.flush();
    h.autoclearFeatures = 0n;
  }

  private async writeIncompat(v: bigint): Promise<void> {
    const b = new Uint8Array(8);
    putU64be(b, 0, v);
    await this.source.write(72, b);
    this.image.header.incompatibleFeatures = v;
  }

  private assertOpen(): void {
    if (this.closed) throw new Qcow2Error({ code: 'invalid-argument', file: this.source.name, message: 'the image is closed' });
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.readOnly) throw new Qcow2Error({ code: 'read-only', file: this.source.name, message: 'the image is open read-only: nothing was written' });
  }
}
