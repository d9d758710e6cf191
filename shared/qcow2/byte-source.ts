// The only way the codec sees an image: positional reads. The Node adapter (electron/engine/file-source.ts)
// wraps a FileHandle; MemoryByteSource serves tests and in-memory images. Reads past the end return the
// bytes that exist (a short read), never throw, so that truncation becomes a finding, not a crash.

export interface ByteSource {
  /** A name for messages: the file path, or a label for in-memory images. */
  readonly name: string;
  /** Current length in bytes. */
  size(): Promise<number>;
  /** Up to `length` bytes from `offset`; shorter only at end of file. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface WritableByteSource extends ByteSource {
  write(offset: number, bytes: Uint8Array): Promise<void>;
  truncate(length: number): Promise<void>;
  flush(): Promise<void>;
}

export class MemoryByteSource implements WritableByteSource {
  private data: Uint8Array;
  private length: number;

  constructor(
    data: Uint8Array = new Uint8Array(0),
    readonly name: string = '<memory>',
  ) {
    this.data = data;
    this.length = data.length;
  }

  async size(): Promise<number> {
    return this.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset >= this.length || length <= 0) return new Uint8Array(0);
    const end = Math.min(this.length, offset + length);
    return this.data.slice(offset, end);
  }

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    this.ensure(offset + bytes.length);
    this.data.set(bytes, offset);
    this.length = Math.max(this.length, offset + bytes.length);
  }

  async truncate(length: number): Promise<void> {
    this.ensure(length);
    if (length < this.length) this.data.fill(0, length, this.length);
    this.length = length;
  }

  async flush(): Promise<void> {}

  /** A copy of the current bytes (tests). */
  bytes(): Uint8Array {
    return this.data.slice(0, this.length);
  }

  private ensure(n: number): void {
    if (n <= this.data.length) return;
    const grown = new Uint8Array(Math.max(n, this.data.length * 2));
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }
}

/** Read exactly `length` bytes or report how many exist. */
export async function readExact(
  src: ByteSource,
  offset: number,
  length: number,
): Promise<{ bytes: Uint8Array; complete: boolean }> {
  const bytes = await src.read(offset, length);
  return { bytes, complete: bytes.length === length };
}
