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

export class RefCounts {
  /** Counts below 0xffff, as stored; 0xffff means "see get()" (read-only for callers). */
  readonly counts: Uint16Array;
  private big = new Map<number, number>();
  readonly kinds: Uint8Array;
  private len: number;

  /** `capacity` bounds growth: QEMU may count a region that ends less than a cluster past EOF. */
  constructor(length: number, readonly capacity: number) {
    this.counts = new Uint16Array(capacity);
    this.kinds = new Uint8Array(capacity);
    this.len = length;
  }

  get length(): number {
    return this.len;
  }

  get(k: number): number {
    const v = this.counts[k];
    return v === 0xffff ? (this.big.get(k) ?? 0xffff) : v;
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
    const v = this.counts[k];
    if (v >= 0xfffe || v >= max) return false;
    this.counts[k] = v + 1;
    return true;
  }

  inc(k: number): void {
    const v = this.counts[k];
    if (v < 0xfffe) this.counts[k] = v + 1;
    else if (v === 0xfffe) { this.counts[k] = 0xffff; this.big.set(k, 0xffff); }
    else this.big.set(k, (this.big.get(k) ?? 0xffff) + 1);
  }

  dec(k: number): void {
    const v = this.get(k);
    if (v === 0) return;
    if (v > 0xffff) this.big.set(k, v - 1);
    else if (v === 0xffff) { this.big.delete(k); this.counts[k] = 0xfffe; }
    else this.counts[k] = v - 1;
  }

  set(k: number, value: number): void {
    if (value >= 0xffff) { this.counts[k] = 0xffff; this.big.set(k, value); }
    else { this.counts[k] = value; this.big.delete(k); }
  }
}
