// The in-memory reference count array of a check (QEMU's "IMRT"): one slot per cluster of the file, a
// compact Uint16Array with a side map for the rare counts above 65535, plus one byte per cluster saying
// what kind of structure referenced it first, so that metadata overlaps can be named.

export enum RefKind {
  None = 0,
  Header = 1,
  ActiveL1 = 2,
  ActiveL2 = 3,
  RefcountTable = 4,
  RefcountBlock = 5,
  SnapshotTable = 6,
  SnapshotL1 = 7,
  SnapshotL2 = 8,
  BitmapDirectory = 9,
  BitmapTable = 10,
  BitmapData = 11,
  CryptoHeader = 12,
  Zonedmeta = 13,
  Data = 14,
  Compressed = 15,
}

export const REF_KIND_NAMES: Record<RefKind, string> = {
  [RefKind.None]: 'nothing',
  [RefKind.Header]: 'header cluster',
  [RefKind.ActiveL1]: 'active L1 table',
  [RefKind.ActiveL2]: 'active L2 table',
  [RefKind.RefcountTable]: 'refcount table',
  [RefKind.RefcountBlock]: 'refcount block',
  [RefKind.SnapshotTable]: 'snapshot table',
  [RefKind.SnapshotL1]: 'snapshot L1 table',
  [RefKind.SnapshotL2]: 'snapshot L2 table',
  [RefKind.BitmapDirectory]: 'bitmap directory',
  [RefKind.BitmapTable]: 'bitmap table',
  [RefKind.BitmapData]: 'bitmap data cluster',
  [RefKind.CryptoHeader]: 'LUKS header',
  [RefKind.Zonedmeta]: 'zonedmeta (write pointers)',
  [RefKind.Data]: 'data cluster',
  [RefKind.Compressed]: 'compressed data',
};

/** Shared references that are normal in qcow2 (internal snapshots share tables and data). */
export function sharingIsNormal(a: RefKind, b: RefKind): boolean {
  // Called once per reference of a check: no closure, no allocation.
  if (a === b) return a === RefKind.Data || a === RefKind.Compressed || a === RefKind.ActiveL2 || a === RefKind.SnapshotL2 || a === RefKind.BitmapData;
  return (a === RefKind.ActiveL2 && b === RefKind.SnapshotL2) || (a === RefKind.SnapshotL2 && b === RefKind.ActiveL2);
}

function allEqual(a: Uint8Array | Uint16Array): boolean {
  const v = a[0];
  for (let i = 1; i < a.length; i++) if (a[i] !== v) return false;
  return true;
}

/** Clusters per page of RefCounts (a power of two). */
export const REF_PAGE_BITS = 9;
const PAGE = 1 << REF_PAGE_BITS;
const MASK = PAGE - 1;

/**
 * Counts and kinds per cluster in pages of 512 clusters. A page that every cluster shares one count and
 * one kind (untouched, or filled by a run of data references) is two numbers; only pages with mixed
 * values hold arrays. A preallocated or sequentially written image is almost all uniform pages, so the
 * check of a 1 TiB image keeps kilobytes here instead of 3 bytes per cluster (48 MiB), and compares
 * uniform pages against the stored refcounts a word at a time; a scattered image materialises every
 * page and costs what flat arrays did.
 */
export class RefCounts {
  /** Per page: the arrays of a mixed page, or null while the page is uniform. */
  private readonly countPages: (Uint16Array | null)[];
  private readonly kindPages: (Uint8Array | null)[];
  /** Per page: the count (below 0xffff) and kind every cluster of a uniform page has. */
  private readonly uniCount: Uint16Array;
  private readonly uniKind: Uint8Array;
  private big = new Map<number, number>();
  private len: number;

  /** `capacity` bounds growth: QEMU may count a region that ends less than a cluster past EOF. */
  constructor(length: number, readonly capacity: number) {
    const pages = Math.ceil(capacity / PAGE);
    this.countPages = new Array<Uint16Array | null>(pages).fill(null);
    this.kindPages = new Array<Uint8Array | null>(pages).fill(null);
    this.uniCount = new Uint16Array(pages);
    this.uniKind = new Uint8Array(pages);
    this.len = length;
  }

  get length(): number {
    return this.len;
  }

  /** Pages that hold arrays (for the memory guard in the tests). */
  get mixedPages(): number {
    let n = 0;
    for (const p of this.countPages) if (p !== null) n++;
    return n;
  }

  /** Give page p arrays (each only where it has none): counts and kinds are uniform independently. */
  private materialise(p: number): void {
    if (!this.countPages[p]) this.countPages[p] = new Uint16Array(PAGE).fill(this.uniCount[p]);
    if (!this.kindPages[p]) this.kindPages[p] = new Uint8Array(PAGE).fill(this.uniKind[p]);
  }

  /**
   * Drop the arrays of page p that hold one value throughout: a run of data that fills the rest of a page
   * around an L2 table leaves its counts all 1 (its kinds stay mixed).
   */
  private settle(p: number): void {
    const counts = this.countPages[p];
    if (counts && counts[0] !== 0xffff && allEqual(counts)) {
      this.uniCount[p] = counts[0];
      this.countPages[p] = null;
    }
    const kinds = this.kindPages[p];
    if (kinds && allEqual(kinds)) {
      this.uniKind[p] = kinds[0];
      this.kindPages[p] = null;
    }
  }

  /** The stored 16-bit slot of cluster k: the count below 0xffff, or 0xffff for "see get()". */
  raw(k: number): number {
    // Past the capacity both read undefined, as a flat typed array would.
    const pg = this.countPages[k >>> REF_PAGE_BITS];
    return pg ? pg[k & MASK] : this.uniCount[k >>> REF_PAGE_BITS];
  }

  get(k: number): number {
    const v = this.raw(k);
    return v === 0xffff ? (this.big.get(k) ?? 0xffff) : v;
  }

  /** What referenced cluster k first (a RefKind, plus any flag bits the check keeps above them). */
  kind(k: number): number {
    const pg = this.kindPages[k >>> REF_PAGE_BITS];
    return pg ? pg[k & MASK] : this.uniKind[k >>> REF_PAGE_BITS];
  }

  setKind(k: number, v: number): void {
    const p = k >>> REF_PAGE_BITS;
    let pg = this.kindPages[p];
    if (pg === null) {
      if (this.uniKind[p] === v) return;
      pg = new Uint8Array(PAGE).fill(this.uniKind[p]);
      this.kindPages[p] = pg;
    }
    pg[k & MASK] = v;
  }

  private setRaw(k: number, v: number): void {
    const p = k >>> REF_PAGE_BITS;
    let pg = this.countPages[p];
    if (pg === null) {
      if (this.uniCount[p] === v) return;
      pg = new Uint16Array(PAGE).fill(this.uniCount[p]);
      this.countPages[p] = pg;
    }
    pg[k & MASK] = v;
  }

  /** Grow the logical length to include cluster k (within capacity); false when it does not fit. */
  ensure(k: number): boolean {
    if (k < this.len) return true;
    if (k >= this.capacity) return false;
    this.len = k + 1;
    return true;
  }

  /** Add one reference unless the count is `max` or at the Uint16 escape; false (nothing changed) then. */
  tryInc(k: number, max: number): boolean {
    const v = this.raw(k);
    if (v >= 0xfffe || v >= max) return false;
    this.setRaw(k, v + 1);
    return true;
  }

  inc(k: number): void {
    const v = this.raw(k);
    if (v < 0xfffe) this.setRaw(k, v + 1);
    else if (v === 0xfffe) { this.setRaw(k, 0xffff); this.big.set(k, 0xffff); }
    else this.big.set(k, (this.big.get(k) ?? 0xffff) + 1);
  }

  dec(k: number): void {
    const v = this.get(k);
    if (v === 0) return;
    if (v > 0xffff) this.big.set(k, v - 1);
    else if (v === 0xffff) { this.big.delete(k); this.setRaw(k, 0xfffe); }
    else this.setRaw(k, v - 1);
  }

  set(k: number, value: number): void {
    if (value >= 0xffff) { this.setRaw(k, 0xffff); this.big.set(k, value); }
    else { this.setRaw(k, value); this.big.delete(k); }
  }

  /**
   * First references of `kind` from cluster `from` on, while clusters are unreferenced and unclaimed
   * (count 0, kind 0) and below `to` and the length: each gets count 1 and `kind`. Whole uniform pages
   * are taken in one step. Returns the first cluster not taken.
   */
  fillFirst(from: number, to: number, kind: number): number {
    const end = Math.min(to, this.len);
    let k = from;
    while (k < end) {
      const p = k >>> REF_PAGE_BITS;
      const pageEnd = Math.min(end, (p + 1) * PAGE);
      if (!this.countPages[p] && !this.kindPages[p]) {
        if (this.uniCount[p] !== 0 || this.uniKind[p] !== 0) return k;
        if ((k & MASK) === 0 && pageEnd - k === PAGE) {
          this.uniCount[p] = 1;
          this.uniKind[p] = kind;
          k = pageEnd;
          continue;
        }
      }
      this.materialise(p);
      const counts = this.countPages[p] as Uint16Array;
      const kinds = this.kindPages[p] as Uint8Array;
      const base = p * PAGE;
      let j = k - base;
      const lim = pageEnd - base;
      while (j < lim && (kinds[j] | counts[j]) === 0) j++;
      counts.fill(1, k - base, j);
      kinds.fill(kind, k - base, j);
      if (j < lim) return base + j;
      if (lim === PAGE) this.settle(p);
      k = pageEnd;
    }
    return k;
  }

  /** The count every cluster of page p has when the page is uniform (never the 0xffff escape), else -1. */
  uniformCount(p: number): number {
    return this.countPages[p] === null ? this.uniCount[p] : -1;
  }

  /** The kind every cluster of page p has when the page is uniform, else -1. */
  uniformKind(p: number): number {
    return this.kindPages[p] === null ? this.uniKind[p] : -1;
  }

  /**
   * The first cluster from k below lim that ends a run of the sweep's fast path: `code` -1 runs over
   * unreferenced clusters, a kind code over referenced clusters whose kind (low four bits) is `code`.
   */
  runEnd(k: number, lim: number, code: number): number {
    let j = k;
    while (j < lim) {
      const p = j >>> REF_PAGE_BITS;
      const pe = Math.min(lim, (p + 1) * PAGE);
      if (!this.countPages[p] && !this.kindPages[p]) {
        const c = this.uniCount[p];
        const match = code === -1 ? c === 0 : c !== 0 && (this.uniKind[p] & 0x0f) === code;
        if (!match) return j;
        j = pe;
        continue;
      }
      if (code === -1) while (j < pe && this.raw(j) === 0) j++;
      else while (j < pe && this.raw(j) !== 0 && (this.kind(j) & 0x0f) === code) j++;
      if (j < pe) return j;
    }
    return j;
  }
}
