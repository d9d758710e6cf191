// Refcounts and cluster allocation for the writer (docs/interop/qcow2.rst "Host cluster management"):
// first-fit allocation like QEMU's alloc_clusters_noref, new refcount blocks (self-describing when they
// fall in their own range), and refcount table growth into a fresh area at the end of the file.
//
// Crash rule kept by every method: a refcount goes UP on disk before anything references the cluster,
// and comes DOWN only after the reference is gone. A crash at any point therefore leaves, at worst,
// clusters with a refcount and no reference (leaks), never a reference to a cluster with refcount 0.
import { putU32be, putU64be, u64be } from '../../shared/bytes';
import type { WritableByteSource } from '../../shared/qcow2/byte-source';
import { getRefcount, maxRefcount, REFT_OFFSET_MASK, refcountsPerBlock, setRefcount } from '../../shared/qcow2/entries';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { MAX_REFTABLE_BYTES } from '../../shared/qcow2/header';

export interface AllocatorHooks {
  /** Called before the first change to any metadata (the writer marks the image dirty there). */
  beforeMetadataWrite(): Promise<void>;
  /** Ordering point between dependent writes (fsync when the writer is durable). */
  barrier(): Promise<void>;
}

export interface AllocatorGeometry {
  clusterSize: number;
  refcountOrder: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
}

/** Refcount blocks kept in memory, in bytes; the cache is write-through, so eviction is free. */
const BLOCK_CACHE_BYTES = 32 * 1024 * 1024;

export class RefcountAllocator {
  readonly clusterSize: number;
  readonly refcountOrder: number;
  readonly perBlock: number;
  private reftable: number[];
  private reftableOffset: number;
  private reftableClusters: number;
  private readonly blocks = new Map<number, Uint8Array>();
  /** Lowest cluster index that may be free (QEMU's free_cluster_index). */
  private freeIndex = 0;

  private constructor(
    private readonly src: WritableByteSource,
    geom: AllocatorGeometry,
    reftable: number[],
    private readonly hooks: AllocatorHooks,
  ) {
    this.clusterSize = geom.clusterSize;
    this.refcountOrder = geom.refcountOrder;
    this.perBlock = refcountsPerBlock(geom.clusterSize, geom.refcountOrder);
    this.reftable = reftable;
    this.reftableOffset = geom.refcountTableOffset;
    this.reftableClusters = geom.refcountTableClusters;
  }

  static async load(src: WritableByteSource, geom: AllocatorGeometry, hooks: AllocatorHooks): Promise<RefcountAllocator> {
    const cs = geom.clusterSize;
    const bytes = geom.refcountTableClusters * cs;
    if (bytes <= 0 || bytes > MAX_REFTABLE_BYTES || geom.refcountTableOffset % cs !== 0 || geom.refcountTableOffset === 0) {
      throw new Qcow2Error({ code: 'invalid-table', file: src.name, message: `refcount table at ${geom.refcountTableOffset} with ${geom.refcountTableClusters} clusters cannot be used for writing`, details: { offset: geom.refcountTableOffset, clusters: geom.refcountTableClusters } });
    }
    const raw = await src.read(geom.refcountTableOffset, bytes);
    if (raw.length !== bytes) {
      throw new Qcow2Error({ code: 'truncated', file: src.name, message: `refcount table at ${geom.refcountTableOffset} runs past the end of the file`, details: { offset: geom.refcountTableOffset, bytes } });
    }
    const fileSize = await src.size();
    const table: number[] = [];
    for (let i = 0; i < bytes / 8; i++) {
      const e = u64be(raw, i * 8);
      const off = Number(e & REFT_OFFSET_MASK);
      if ((e & 0x1ffn) !== 0n || off % cs !== 0 || off >= fileSize + cs) {
        throw new Qcow2Error({ code: 'invalid-table', file: src.name, message: `refcount table entry ${i} (${e.toString(16)}) is not a usable refcount block offset: refusing to write`, details: { index: i, offset: geom.refcountTableOffset + i * 8 } });
      }
      table.push(off);
    }
    return new RefcountAllocator(src, geom, table, hooks);
  }

  get refcountTableOffset(): number { return this.reftableOffset; }
  get refcountTableClusters(): number { return this.reftableClusters; }

  /** Refcount of cluster index `c` (0 where no refcount block covers it). */
  async get(c: number): Promise<number> {
    const rti = Math.floor(c / this.perBlock);
    const off = this.reftable[rti] ?? 0;
    if (!off) return 0;
    const block = await this.block(off);
    return getRefcount(block, c % this.perBlock, this.refcountOrder);
  }

  /**
   * Allocate `n` contiguous clusters with refcount 1 (on disk before returning), first fit from the lowest
   * possibly free cluster. Returns the host byte offset.
   */
  async allocate(n: number): Promise<number> {
    for (;;) {
      const start = await this.findFree(n);
      let created = false;
      for (let r = Math.floor(start / this.perBlock); r <= Math.floor((start + n - 1) / this.perBlock); r++) {
        if (!this.reftable[r]) {
          await this.createBlock(r);
          created = true;
        }
      }
      // A new refcount block may have taken one of the clusters we found: search again (QEMU's -EAGAIN).
      if (created) continue;
      await this.update(start, n, 1);
      this.freeIndex = start + n;
      return start * this.clusterSize;
    }
  }

  /** Add `addend` to the refcount of every cluster touched by the byte range [offset, offset + length). */
  async updateBytes(offset: number, length: number, addend: number): Promise<void> {
    if (length <= 0) return;
    const first = Math.floor(offset / this.clusterSize);
    const last = Math.floor((offset + length - 1) / this.clusterSize);
    await this.update(first, last - first + 1, addend);
  }

  /** Add `addend` to clusters [c, c + n). Validates every entry before writing any. */
  async update(c: number, n: number, addend: number): Promise<void> {
    const max = maxRefcount(this.refcountOrder);
    const plan: { off: number; block: Uint8Array; idx: number; value: number }[] = [];
    for (let k = c; k < c + n; k++) {
      const r = Math.floor(k / this.perBlock);
      const off = this.reftable[r] ?? 0;
      if (!off) {
        if (addend > 0) throw new Qcow2Error({ code: 'internal', message: `no refcount block covers cluster ${k}` });
        throw new Qcow2Error({ code: 'invalid-table', file: this.src.name, message: `cluster ${k} is referenced but no refcount block covers it: refusing to decrement`, details: { cluster: k } });
      }
      const block = await this.block(off);
      const idx = k % this.perBlock;
      const value = getRefcount(block, idx, this.refcountOrder) + addend;
      if (value < 0 || value > max) {
        throw new Qcow2Error({ code: 'invalid-table', file: this.src.name, message: `refcount of cluster ${k} would become ${value} (limit ${max}): the refcounts disagree with the tables`, details: { cluster: k, refcount: value - addend, addend, limit: max } });
      }
      plan.push({ off, block, idx, value });
    }
    await this.hooks.beforeMetadataWrite();
    // Group by block; write only the bytes that changed.
    let i = 0;
    while (i < plan.length) {
      const { off, block } = plan[i];
      let lo = Infinity;
      let hi = -1;
      for (; i < plan.length && plan[i].off === off; i++) {
        setRefcount(block, plan[i].idx, this.refcountOrder, plan[i].value);
        const [a, b] = this.entryBytes(plan[i].idx);
        lo = Math.min(lo, a);
        hi = Math.max(hi, b);
      }
      await this.src.write(off + lo, block.slice(lo, hi));
    }
    if (addend < 0) {
      for (let k = c; k < c + n; k++) {
        if (k < this.freeIndex && (await this.get(k)) === 0) this.freeIndex = k;
      }
    }
  }

  /** Byte span [start, end) of refcount entry idx inside its block. */
  private entryBytes(idx: number): [number, number] {
    const bits = 1 << this.refcountOrder;
    const a = Math.floor((idx * bits) / 8);
    return [a, a + Math.max(1, bits / 8)];
  }

  private async block(off: number): Promise<Uint8Array> {
    const hit = this.blocks.get(off);
    if (hit) {
      this.blocks.delete(off);
      this.blocks.set(off, hit);
      return hit;
    }
    const b = await this.src.read(off, this.clusterSize);
    const full = new Uint8Array(this.clusterSize);
    full.set(b);
    this.blocks.set(off, full);
    while (this.blocks.size * this.clusterSize > BLOCK_CACHE_BYTES) {
      const oldest = this.blocks.keys().next().value;
      if (oldest === undefined) break;
      this.blocks.delete(oldest);
    }
    return full;
  }

  /** First index >= freeIndex of n consecutive clusters with refcount 0. */
  private async findFree(n: number): Promise<number> {
    let c = Math.max(this.freeIndex, 1);
    let run = 0;
    let start = c;
    for (;;) {
      const r = Math.floor(c / this.perBlock);
      const off = this.reftable[r] ?? 0;
      if (!off) {
        // Whole range uncovered: free.
        if (run === 0) start = c;
        const end = (r + 1) * this.perBlock;
        run += end - c;
        if (run >= n) return start;
        c = end;
        continue;
      }
      const block = await this.block(off);
      const end = (r + 1) * this.perBlock;
      for (; c < end; c++) {
        if (getRefcount(block, c % this.perBlock, this.refcountOrder) === 0) {
          if (run === 0) start = c;
          if (++run >= n) return start;
        } else {
          run = 0;
        }
      }
    }
  }

  /** Create the refcount block for range r (table growth included). */
  private async createBlock(r: number): Promise<void> {
    if (r >= this.reftable.length) {
      await this.growTable(r);
      return;
    }
    for (;;) {
      const b = await this.findFree(1);
      const rb = Math.floor(b / this.perBlock);
      if (rb >= this.reftable.length) {
        await this.growTable(r);
        return;
      }
      if (rb === r || !this.reftable[rb]) {
        // Self-describing block for rb at b: its own refcount lives inside it.
        const block = new Uint8Array(this.clusterSize);
        setRefcount(block, b % this.perBlock, this.refcountOrder, 1);
        await this.hooks.beforeMetadataWrite();
        await this.src.write(b * this.clusterSize, block);
        await this.hooks.barrier();
        await this.setTableEntry(rb, b * this.clusterSize, block);
        if (rb === r) return;
        continue;
      }
      await this.update(b, 1, 1);
      const block = new Uint8Array(this.clusterSize);
      await this.src.write(b * this.clusterSize, block);
      await this.hooks.barrier();
      await this.setTableEntry(r, b * this.clusterSize, block);
      return;
    }
  }

  private async setTableEntry(r: number, off: number, block: Uint8Array): Promise<void> {
    const e = new Uint8Array(8);
    putU64be(e, 0, off);
    await this.src.write(this.reftableOffset + r * 8, e);
    await this.hooks.barrier();
    this.reftable[r] = off;
    this.blocks.set(off, block);
  }

  /** Highest cluster index with a non-zero refcount, -1 if none. */
  private async lastUsed(): Promise<number> {
    for (let r = this.reftable.length - 1; r >= 0; r--) {
      const off = this.reftable[r];
      if (!off) continue;
      const block = await this.block(off);
      for (let i = this.perBlock - 1; i >= 0; i--) {
        if (getRefcount(block, i, this.refcountOrder) !== 0) return r * this.perBlock + i;
      }
    }
    return -1;
  }

  /**
   * Move the refcount table to a bigger one that covers range `needed`, in a fresh area past everything in
   * use: new refcount blocks first, then the table, all refcounted by the new blocks (or existing ones).
   * The header switch is one 12-byte write; the old table is freed only after it.
   */
  private async growTable(needed: number): Promise<void> {
    const cs = this.clusterSize;
    const fileClusters = Math.ceil((await this.src.size()) / cs);
    const areaStart = Math.max(fileClusters, (await this.lastUsed()) + 1);
    const perTableCluster = cs / 8;
    let entries = Math.max(needed + 1, Math.ceil(this.reftable.length * 1.5));
    let newRanges: number[] = [];
    let rtClusters = 0;
    for (let iter = 0; iter < 64; iter++) {
      rtClusters = Math.ceil(entries / perTableCluster);
      const areaLen = newRanges.length + rtClusters;
      const lastRange = Math.floor((areaStart + areaLen - 1) / this.perBlock);
      const want = new Set<number>([needed]);
      for (let r = Math.floor(areaStart / this.perBlock); r <= lastRange; r++) want.add(r);
      const ranges = [...want].filter((r) => !this.reftable[r]).sort((a, b) => a - b);
      const needEntries = Math.max(entries, lastRange + 1, needed + 1);
      if (ranges.length === newRanges.length && Math.ceil(needEntries / perTableCluster) === rtClusters) {
        newRanges = ranges;
        break;
      }
      newRanges = ranges;
      entries = Math.max(needEntries, entries);
    }
    entries = rtClusters * perTableCluster;
    if (rtClusters * cs > MAX_REFTABLE_BYTES) {
      throw new Qcow2Error({ code: 'invalid-argument', file: this.src.name, message: `the refcount table would exceed QEMU's limit of ${MAX_REFTABLE_BYTES} bytes`, details: { clusters: rtClusters } });
    }
    const areaLen = newRanges.length + rtClusters;
    const blockAt = new Map<number, number>();
    newRanges.forEach((r, k) => blockAt.set(r, (areaStart + k) * cs));
    const tableOff = (areaStart + newRanges.length) * cs;

    await this.hooks.beforeMetadataWrite();
    // 1. Area clusters that fall into ranges with existing blocks: count them there first (leak if we crash).
    const existing: number[] = [];
    for (let c = areaStart; c < areaStart + areaLen; c++) {
      if (this.reftable[Math.floor(c / this.perBlock)]) existing.push(c);
    }
    for (const c of existing) await this.update(c, 1, 1);
    // 2. New blocks, each counting the area clusters in its range.
    const newBlocks = new Map<number, Uint8Array>();
    for (const r of newRanges) {
      const block = new Uint8Array(cs);
      for (let c = Math.max(areaStart, r * this.perBlock); c < Math.min(areaStart + areaLen, (r + 1) * this.perBlock); c++) {
        setRefcount(block, c % this.perBlock, this.refcountOrder, 1);
      }
      newBlocks.set(r, block);
      await this.src.write(blockAt.get(r) as number, block);
    }
    // 3. The new table.
    const table = new Uint8Array(rtClusters * cs);
    const next: number[] = new Array<number>(entries).fill(0);
    for (let r = 0; r < entries; r++) {
      const off = blockAt.get(r) ?? this.reftable[r] ?? 0;
      next[r] = off;
      if (off) putU64be(table, r * 8, off);
    }
    await this.src.write(tableOff, table);
    await this.hooks.barrier();
    // 4. Switch: refcount_table_offset (u64 at 48) and refcount_table_clusters (u32 at 56) in one write.
    const hdr = new Uint8Array(12);
    putU64be(hdr, 0, tableOff);
    putU32be(hdr, 8, rtClusters);
    await this.src.write(48, hdr);
    await this.hooks.barrier();
    const oldOff = this.reftableOffset;
    const oldClusters = this.reftableClusters;
    this.reftable = next;
    this.reftableOffset = tableOff;
    this.reftableClusters = rtClusters;
    for (const [r, block] of newBlocks) this.blocks.set(blockAt.get(r) as number, block);
    // 5. The old table is unreferenced now.
    await this.update(oldOff / cs, oldClusters, -1);
  }
}
