// The L2 tables of a run of L1 entries, loaded together for a sequential walk (qemu-img map's order):
// the tables' offsets are sorted and those that touch on disk are read as one run, into one buffer that
// is reused for every window, so a walk over thousands of scattered tables makes few reads and keeps no
// garbage. With a source that can read synchronously (the CLI's), the walk never waits on the event loop.
import type { ByteSource } from './byte-source';
import type { L1Table, L2Loader, L2Table, TableGeometry } from './l1l2';
import { l1L2Offset, READ_CHUNK } from './l1l2';

/** A source that can also read on the calling thread (electron/engine/sync-file-source.ts). */
export interface SyncReadable {
  /** Up to dest.length bytes at `offset` into dest; the count read (short only at end of file). */
  readIntoSync(offset: number, dest: Uint8Array): number;
}

function canReadSync(src: ByteSource): src is ByteSource & SyncReadable {
  return typeof (src as Partial<SyncReadable>).readIntoSync === 'function';
}

/** L1 entries a window spans at most (unallocated entries cost no read, but each one a slot). */
const MAX_SPAN = 1 << 16;

/**
 * Tables at most this far apart are read in one request, gap included: copying 32 KiB costs about what
 * one more system call does, and QEMU allocates L2 tables among the data clusters written with them.
 */
const MAX_GAP = 32 << 10;

/** Buffer bytes a gap between two neighbouring tables costs: itself when read through, else nothing. */
function gapCost(gap: number): number {
  return gap <= MAX_GAP ? gap : 0;
}

export class L2Window {
  private first = 0;
  private tables: (L2Table | null)[] = [];
  private slab: Uint8Array | null = null;

  constructor(
    private readonly src: ByteSource,
    private readonly g: TableGeometry,
    private readonly l1: L1Table,
    /** Throws the located error of an L1 entry the window refuses (an unaligned L2 offset). */
    private readonly loader: L2Loader,
  ) {}

  /**
   * The L2 table of L1 entry `l1Index` (null when unallocated), or undefined when it is not in the window:
   * then `load(l1Index)` it. Tables are views into the window's buffer, valid until the next load.
   */
  get(l1Index: number): L2Table | null | undefined {
    if (l1Index >= this.l1.size) return null;
    const k = l1Index - this.first;
    return k >= 0 && k < this.tables.length ? this.tables[k] : undefined;
  }

  /** Make the window start at `l1Index`. Throws what L2Loader.forL1Index throws for that entry. */
  async load(l1Index: number): Promise<void> {
    const cs = this.g.clusterSize;
    const first = l1L2Offset(this.l1, l1Index);
    if (first % cs !== 0) {
      await this.loader.forL1Index(l1Index); // throws the located error
      throw new Error(`L2 table offset of L1 entry ${l1Index} is unaligned`);
    }
    const slabBytes = Math.max(READ_CHUNK, cs);
    this.slab ??= new Uint8Array(slabBytes);
    // The window takes L1 entries in order while their tables, in disk order and read with the small
    // gaps between them, fit the buffer. It ends before the first entry it cannot take: one past the
    // budget, or an unaligned offset (reported when the walk reaches it, not before, so that what
    // precedes it is still printed).
    const sorted: number[] = [];
    let bytes = 0;
    let end = l1Index;
    const limit = Math.min(this.l1.size, l1Index + MAX_SPAN);
    for (; end < limit; end++) {
      const off = l1L2Offset(this.l1, end);
      if (off === 0) continue;
      if (off % cs !== 0) break;
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid] < off) lo = mid + 1;
        else hi = mid;
      }
      if (sorted[lo] === off) continue; // a table two entries share
      const prev = lo > 0 ? sorted[lo - 1] : -1;
      const next = lo < sorted.length ? sorted[lo] : -1;
      let cost = cs;
      if (prev >= 0) cost += gapCost(off - prev - cs);
      if (next >= 0) cost += gapCost(next - off - cs);
      if (prev >= 0 && next >= 0) cost -= gapCost(next - prev - cs);
      if (bytes + cost > slabBytes) break;
      sorted.splice(lo, 0, off);
      bytes += cost;
    }
    // Runs of tables no further apart than MAX_GAP are read in one request each.
    const slab = this.slab;
    const slot = new Map<number, number>();
    let at = 0;
    let k = 0;
    while (k < sorted.length) {
      const runStart = sorted[k];
      let n = 1;
      while (k + n < sorted.length && sorted[k + n] - sorted[k + n - 1] - cs <= MAX_GAP) n++;
      const runEnd = sorted[k + n - 1] + cs;
      await this.readRun(runStart, slab.subarray(at, at + runEnd - runStart));
      for (let m = k; m < k + n; m++) slot.set(sorted[m], at + sorted[m] - runStart);
      at += runEnd - runStart;
      k += n;
    }
    const tables: (L2Table | null)[] = new Array<L2Table | null>(end - l1Index);
    for (let i = l1Index; i < end; i++) {
      const off = l1L2Offset(this.l1, i);
      const s = off === 0 ? undefined : slot.get(off);
      tables[i - l1Index] = s === undefined ? null : { offset: off, bytes: slab.subarray(s, s + cs) };
    }
    this.first = l1Index;
    this.tables = tables;
  }

  /** Fill dest from `offset`; what lies past the end of the file reads as zero (as readZeroPadded). */
  private async readRun(offset: number, dest: Uint8Array): Promise<void> {
    let got: number;
    if (canReadSync(this.src)) {
      got = this.src.readIntoSync(offset, dest);
    } else {
      got = 0;
      while (got < dest.length) {
        const chunk = await this.src.read(offset + got, dest.length - got);
        dest.set(chunk, got);
        got += chunk.length;
        if (chunk.length === 0) break;
      }
    }
    if (got < dest.length) dest.fill(0, got);
  }
}
