// A bitset over the clusters of a file in pages of 512 bits (the pages of RefCounts): a page whose bits
// are all clear or all set is one byte; only mixed pages hold their 64 bytes. The check keeps three
// (OFLAG_COPIED seen set / clear, stored refcount is 1): on a preallocated or sequentially written image
// they are nearly all uniform, which keeps a 1 TiB check from holding 6 MiB of them.
import { REF_PAGE_BITS } from './check-refs';

const PAGE_BITS = REF_PAGE_BITS;
const PAGE_BYTES = (1 << PAGE_BITS) >> 3;

export class PagedBits {
  private readonly pages: (Uint8Array | null)[];
  /** Per page: 0 or 0xff while the page is uniform (its every byte). */
  private readonly uni: Uint8Array;

  constructor(readonly bits: number) {
    const n = Math.ceil(bits / (1 << PAGE_BITS));
    this.pages = new Array<Uint8Array | null>(n).fill(null);
    this.uni = new Uint8Array(n);
  }

  /** Bytes the set spans (bit k is bit k & 7 of byte k >> 3). */
  get byteLength(): number {
    return Math.ceil(this.bits / 8);
  }

  get pageCount(): number {
    return this.pages.length;
  }

  private page(p: number): Uint8Array {
    let pg = this.pages[p];
    if (!pg) {
      pg = new Uint8Array(PAGE_BYTES).fill(this.uni[p]);
      this.pages[p] = pg;
    }
    return pg;
  }

  /** Byte b of the set (0 past its end). */
  byte(b: number): number {
    const p = b >>> (PAGE_BITS - 3);
    const pg = this.pages[p];
    return pg ? pg[b & (PAGE_BYTES - 1)] : (this.uni[p] ?? 0);
  }

  get(k: number): boolean {
    return (this.byte(k >> 3) & (1 << (k & 7))) !== 0;
  }

  set(k: number): void {
    const p = k >>> PAGE_BITS;
    if (!this.pages[p] && this.uni[p] === 0xff) return;
    this.page(p)[(k >> 3) & (PAGE_BYTES - 1)] |= 1 << (k & 7);
  }

  /** OR `v` into byte b. */
  orByte(b: number, v: number): void {
    const p = b >>> (PAGE_BITS - 3);
    if (v === 0 || (!this.pages[p] && this.uni[p] === 0xff)) return;
    this.page(p)[b & (PAGE_BYTES - 1)] |= v;
  }

  /** Set bits [from, to): whole pages become uniform without holding bytes. */
  setRange(from: number, to: number): void {
    let k = from;
    while (k < to) {
      const p = k >>> PAGE_BITS;
      const pageStart = p << PAGE_BITS;
      const pageEnd = Math.min(to, pageStart + (1 << PAGE_BITS));
      if (k === pageStart && pageEnd - k === 1 << PAGE_BITS) {
        this.pages[p] = null;
        this.uni[p] = 0xff;
      } else if (this.pages[p] || this.uni[p] !== 0xff) {
        const pg = this.page(p);
        let j = k;
        for (; j < pageEnd && (j & 7) !== 0; j++) pg[(j >> 3) & (PAGE_BYTES - 1)] |= 1 << (j & 7);
        const whole = pageEnd & ~7;
        if (j < whole) {
          pg.fill(0xff, (j - pageStart) >> 3, (whole - pageStart) >> 3);
          j = whole;
        }
        for (; j < pageEnd; j++) pg[(j >> 3) & (PAGE_BYTES - 1)] |= 1 << (j & 7);
      }
      k = pageEnd;
    }
  }

  /** 0 or 0xff when every byte of page p is that value without holding bytes, else -1. */
  uniform(p: number): number {
    return this.pages[p] ? -1 : this.uni[p];
  }
}
