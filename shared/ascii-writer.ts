// Machine-readable text (JSON of a million zones, qemu-img map of a million extents) written as ASCII
// bytes into one reused buffer: no string per number, no string per line, nothing for the collector.

const ascii = new TextEncoder();

/** "0000" to "9999", four ASCII digits each: numbers are written four digits at a time. */
const DIGITS4 = new Uint8Array(40000);
for (let i = 0; i < 10000; i++) {
  DIGITS4[4 * i] = 48 + Math.floor(i / 1000);
  DIGITS4[4 * i + 1] = 48 + (Math.floor(i / 100) % 10);
  DIGITS4[4 * i + 2] = 48 + (Math.floor(i / 10) % 10);
  DIGITS4[4 * i + 3] = 48 + (i % 10);
}

/** The ASCII bytes of `text` (constant pieces of a format, made once). */
export function asciiBytes(text: string): Uint8Array {
  return ascii.encode(text);
}

export class AsciiWriter {
  private buf: Uint8Array;
  private n = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  /** Bytes written since the last reset. */
  get length(): number {
    return this.n;
  }

  /** Free space left before the buffer is full. */
  get free(): number {
    return this.buf.length - this.n;
  }

  /** A view of the bytes written so far, valid until the next write or reset. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }

  reset(): void {
    this.n = 0;
  }

  /** Start over in a new buffer, leaving the bytes written so far to whoever holds them (a write queue). */
  detach(): void {
    this.buf = new Uint8Array(this.buf.length);
    this.n = 0;
  }

  /** Make room for `k` more bytes (grows the buffer; callers that flush early never need it). */
  reserve(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    grown.set(this.buf.subarray(0, this.n));
    this.buf = grown;
  }

  byte(c: number): void {
    this.reserve(1);
    this.buf[this.n++] = c;
  }

  put(b: Uint8Array): void {
    const len = b.length;
    this.reserve(len);
    if (len > 32) {
      this.buf.set(b, this.n);
      this.n += len;
      return;
    }
    // Short constant pieces: a plain loop beats the call into TypedArray.prototype.set.
    const buf = this.buf;
    let n = this.n;
    for (let k = 0; k < len; k++) buf[n++] = b[k];
    this.n = n;
  }

  /** A number as JSON.stringify and template literals print it (digits only for safe non-negative integers). */
  num(v: number): void {
    if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER) || Math.floor(v) !== v) {
      this.put(ascii.encode(JSON.stringify(v)));
      return;
    }
    this.reserve(16);
    if (v < 1e8) {
      this.upTo8(v);
      return;
    }
    // Up to 8 leading digits, then exactly 8: small integers throughout, no heap numbers.
    let hi = Math.floor(v / 1e8);
    let lo = v - hi * 1e8;
    if (lo < 0) { hi--; lo += 1e8; } else if (lo >= 1e8) { hi++; lo -= 1e8; }
    this.upTo8(hi);
    const q = (lo / 10000) | 0;
    this.four(q);
    this.four(lo - q * 10000);
  }

  /** 0 <= v < 1e8, without leading zeros. */
  private upTo8(v: number): void {
    if (v < 10000) {
      this.lead(v);
      return;
    }
    const q = (v / 10000) | 0;
    this.lead(q);
    this.four(v - q * 10000);
  }

  /** 0 <= v < 10000, without leading zeros. */
  private lead(v: number): void {
    const skip = v < 10 ? 3 : v < 100 ? 2 : v < 1000 ? 1 : 0;
    const b = this.buf;
    let n = this.n;
    for (let k = 4 * v + skip, end = 4 * v + 4; k < end; k++) b[n++] = DIGITS4[k];
    this.n = n;
  }

  /** 0 <= v < 10000 as exactly four digits. */
  private four(v: number): void {
    const b = this.buf;
    const n = this.n;
    const k = 4 * v;
    b[n] = DIGITS4[k];
    b[n + 1] = DIGITS4[k + 1];
    b[n + 2] = DIGITS4[k + 2];
    b[n + 3] = DIGITS4[k + 3];
    this.n = n + 4;
  }
}
