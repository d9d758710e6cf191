// Guest reads, writes and discards through the qcow2 mapping (docs/interop/qcow2.rst "Cluster mapping"):
// L2 allocation, copy-on-write of L2 tables and data clusters shared with snapshots (OFLAG_COPIED clear),
// extended L2 subclusters, compressed reads. No backing file: unallocated space reads as zeros.
//
// Write order for every change (crash safety, see allocator.ts): new cluster refcounted -> its contents
// written -> the reference (L2 or L1 entry) written -> the old cluster's refcount decremented.
import { putU64be, u64be } from '../../shared/bytes';
import type { WritableByteSource } from '../../shared/qcow2/byte-source';
import { decodeL1Entry, decodeL2Entry, encodeL1Entry, encodeL2Entry, OFLAG_ZERO, type L2Entry } from '../../shared/qcow2/entries';
import { Qcow2Error } from '../../shared/qcow2/findings';
import type { AllocatorHooks, RefcountAllocator } from './allocator';
import { compressionMethod } from '../../shared/qcow2/compression';

export interface DataPathGeometry {
  clusterSize: number;
  clusterBits: number;
  virtualSize: number;
  extendedL2: boolean;
  compressionType: number;
  /** qcow2 version: the zero flag exists from version 3 on. */
  version: number;
  l1TableOffset: number;
  l1Size: number;
}

/** 'zero': the guest's discard (QEMU sets the zero flag in v3); 'unmap': entries cleared (zone reset). */
export type DiscardMode = 'zero' | 'unmap';

const L2_CACHE_BYTES = 32 * 1024 * 1024;
const SUBCLUSTERS = 32;
const ALL_ZERO_BITS = 0xffff_ffffn << 32n;

export class DataPath {
  private readonly cs: number;
  private readonly entrySize: number;
  private readonly l2Entries: number;
  private readonly l2cache = new Map<number, Uint8Array>();
  private lastCompressed: { raw: bigint; data: Uint8Array } | null = null;

  private constructor(
    private readonly src: WritableByteSource,
    private readonly g: DataPathGeometry,
    private readonly l1: BigUint64Array,
    private readonly alloc: RefcountAllocator,
    private readonly hooks: AllocatorHooks,
  ) {
    this.cs = g.clusterSize;
    this.entrySize = g.extendedL2 ? 16 : 8;
    this.l2Entries = this.cs / this.entrySize;
  }

  static async load(src: WritableByteSource, g: DataPathGeometry, alloc: RefcountAllocator, hooks: AllocatorHooks): Promise<DataPath> {
    const need = Math.ceil(g.virtualSize / (g.clusterSize * (g.clusterSize / (g.extendedL2 ? 16 : 8))));
    if (g.l1Size < need) {
      throw new Qcow2Error({ code: 'invalid-table', file: src.name, message: `L1 table has ${g.l1Size} entries, the virtual size needs ${need}: refusing to write`, details: { l1Size: g.l1Size, needed: need } });
    }
    const bytes = g.l1Size * 8;
    const raw = bytes ? await src.read(g.l1TableOffset, bytes) : new Uint8Array(0);
    if (raw.length !== bytes) {
      throw new Qcow2Error({ code: 'truncated', file: src.name, message: `L1 table at ${g.l1TableOffset} runs past the end of the file`, details: { offset: g.l1TableOffset, entries: g.l1Size } });
    }
    const l1 = new BigUint64Array(g.l1Size);
    for (let i = 0; i < g.l1Size; i++) {
      l1[i] = u64be(raw, i * 8);
      const e = decodeL1Entry(l1[i]);
      if (e.l2Offset % g.clusterSize !== 0) {
        throw new Qcow2Error({ code: 'invalid-table', file: src.name, message: `L1 entry ${i} points to an unaligned L2 table at ${e.l2Offset}: refusing to write`, details: { index: i, l2Offset: e.l2Offset } });
      }
    }
    return new DataPath(src, g, l1, alloc, hooks);
  }

  get virtualSize(): number { return this.g.virtualSize; }

  // ---- reads ----

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.checkRange(offset, length);
    const out = new Uint8Array(length);
    let pos = offset;
    while (pos < offset + length) {
      const g = Math.floor(pos / this.cs);
      const a = pos - g * this.cs;
      const b = Math.min(this.cs, offset + length - g * this.cs);
      out.set(await this.readCluster(g, a, b), pos - offset);
      pos = g * this.cs + b;
    }
    return out;
  }

  /** Guest bytes [a, b) of guest cluster g. */
  private async readCluster(g: number, a: number, b: number): Promise<Uint8Array> {
    const e = await this.lookup(g);
    const out = new Uint8Array(b - a);
    if (!e) return out;
    if (e.kind === 'compressed') {
      return (await this.decompressed(e)).slice(a, b);
    }
    if (!this.g.extendedL2) {
      if (e.kind !== 'normal') return out;
      out.set(await this.src.read(e.hostOffset + a, b - a));
      return out;
    }
    const sc = this.cs / SUBCLUSTERS;
    for (let s = Math.floor(a / sc); s * sc < b; s++) {
      const alloc = ((e.bitmap >> BigInt(s)) & 1n) === 1n;
      const zero = ((e.bitmap >> BigInt(32 + s)) & 1n) === 1n;
      if (alloc && zero) throw this.tableError(`extended L2 entry of guest cluster ${g}: subcluster ${s} is marked both allocated and zero`, { cluster: g, subcluster: s });
      if (!alloc || zero) continue;
      if (!e.hostOffset) throw this.tableError(`extended L2 entry of guest cluster ${g}: subcluster ${s} is allocated but the cluster has no host offset`, { cluster: g, subcluster: s });
      const lo = Math.max(a, s * sc);
      const hi = Math.min(b, (s + 1) * sc);
      out.set(await this.src.read(e.hostOffset + lo, hi - lo), lo - a);
    }
    return out;
  }

  private async decompressed(e: L2Entry): Promise<Uint8Array> {
    if (this.lastCompressed?.raw === e.raw) return this.lastCompressed.data;
    const data = await this.src.read(e.hostOffset, Math.min(e.compressedSize, 2 * this.cs + 512));
    const method = compressionMethod(this.g.compressionType);
    // The codecs load on first use, as in cluster-reader.ts: most images have no compressed cluster, and
    // loading fflate alone costs a process ~7 MB of RSS (qzs serve idles without it; issue 14).
    const { decompressCluster } = await import('../../shared/qcow2/decompress');
    let out: Uint8Array;
    try {
      if (!method) throw new Error(`unknown compression type ${this.g.compressionType}`);
      out = decompressCluster(data, this.cs, method);
    } catch (err) {
      throw new Qcow2Error({ code: 'invalid-table', file: this.src.name, message: `compressed cluster at host offset ${e.hostOffset} does not decompress: ${(err as Error).message}`, details: { hostOffset: e.hostOffset, compressedBytes: data.length } });
    }
    this.lastCompressed = { raw: e.raw, data: out };
    return out;
  }

  // ---- writes ----

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.checkRange(offset, data.length);
    let pos = offset;
    while (pos < offset + data.length) {
      const g = Math.floor(pos / this.cs);
      const a = pos - g * this.cs;
      const b = Math.min(this.cs, offset + data.length - g * this.cs);
      await this.writeCluster(g, a, data.subarray(pos - offset, pos - offset + (b - a)));
      pos = g * this.cs + b;
    }
  }

  private async writeCluster(g: number, a: number, data: Uint8Array): Promise<void> {
    const l1i = Math.floor(g / this.l2Entries);
    const l2i = g % this.l2Entries;
    const { off: l2off, table } = await this.writableL2(l1i);
    const e = this.entry(table, l2i);
    const b = a + data.length;

    if (e.kind === 'normal' && e.copied) {
      this.assertDataTarget(e.hostOffset, g);
      if (!this.g.extendedL2) {
        await this.src.write(e.hostOffset + a, data);
        return;
      }
      const sc = this.cs / SUBCLUSTERS;
      const s0 = Math.floor(a / sc);
      const s1 = Math.floor((b - 1) / sc);
      let mask = 0n;
      for (let s = s0; s <= s1; s++) mask |= 1n << BigInt(s);
      const allocated = (e.bitmap & mask) === mask && ((e.bitmap >> 32n) & mask) === 0n;
      if (allocated) {
        await this.src.write(e.hostOffset + a, data);
        return;
      }
      // Subclusters that were not allocated get their untouched parts filled with what the guest saw.
      const lo = s0 * sc;
      const buf = await this.readCluster(g, lo, (s1 + 1) * sc);
      buf.set(data, a - lo);
      await this.src.write(e.hostOffset + lo, buf);
      await this.hooks.barrier();
      await this.writeEntry(l2off, table, l2i, e.raw, (e.bitmap | mask) & ~(mask << 32n));
      return;
    }

    if (e.kind === 'zero-alloc' && e.copied) {
      // Preallocated zero cluster owned by us alone: fill it and drop the zero flag.
      this.assertDataTarget(e.hostOffset, g);
      const buf = new Uint8Array(this.cs);
      buf.set(data, a);
      await this.src.write(e.hostOffset, buf);
      await this.hooks.barrier();
      await this.writeEntry(l2off, table, l2i, encodeL2Entry(e.hostOffset, true), 0n);
      return;
    }

    // Unallocated, zero, compressed or shared with a snapshot: a new cluster with the guest's view + data.
    const buf = await this.readCluster(g, 0, this.cs);
    buf.set(data, a);
    const newOff = await this.alloc.allocate(1);
    this.assertDataTarget(newOff, g);
    await this.src.write(newOff, buf);
    await this.hooks.barrier();
    let bitmap = 0n;
    if (this.g.extendedL2) {
      const sc = this.cs / SUBCLUSTERS;
      let mask = 0n;
      for (let s = Math.floor(a / sc); s <= Math.floor((b - 1) / sc); s++) mask |= 1n << BigInt(s);
      if (e.kind === 'compressed') mask = 0xffff_ffffn;
      else if (e.hostOffset) mask |= e.bitmap & 0xffff_ffffn;
      bitmap = mask | ((e.bitmap >> 32n) & ~mask & 0xffff_ffffn) << 32n;
    }
    await this.writeEntry(l2off, table, l2i, encodeL2Entry(newOff, true), bitmap);
    await this.hooks.barrier();
    await this.release(e);
  }

  // ---- discard ----

  /** Guest range [offset, offset + length) reads as zeros afterwards; whole clusters are freed. */
  async discard(offset: number, length: number, mode: DiscardMode): Promise<void> {
    this.checkRange(offset, length);
    const end = offset + length;
    let pos = offset;
    while (pos < end) {
      const g = Math.floor(pos / this.cs);
      const cStart = g * this.cs;
      const cEnd = Math.min(cStart + this.cs, this.g.virtualSize);
      const b = Math.min(end, cEnd);
      if (pos === cStart && b === cEnd) await this.discardCluster(g, mode);
      else await this.zeroPart(pos, b - pos);
      pos = b;
    }
  }

  private async zeroPart(offset: number, length: number): Promise<void> {
    const cur = await this.read(offset, length);
    if (cur.every((x) => x === 0)) return;
    await this.write(offset, new Uint8Array(length));
  }

  private async discardCluster(g: number, mode: DiscardMode): Promise<void> {
    const e = await this.lookup(g);
    // Nothing holds data: it already reads as zeros (no backing file).
    if (!e || (!e.hostOffset && e.kind !== 'compressed')) return;
    const l1i = Math.floor(g / this.l2Entries);
    const l2i = g % this.l2Entries;
    const { off: l2off, table } = await this.writableL2(l1i);
    const cur = this.entry(table, l2i);
    let raw = 0n;
    let bitmap = 0n;
    if (mode === 'zero' && this.g.version >= 3) {
      if (this.g.extendedL2) bitmap = ALL_ZERO_BITS;
      else raw = OFLAG_ZERO;
    }
    await this.writeEntry(l2off, table, l2i, raw, bitmap);
    await this.hooks.barrier();
    await this.release(cur);
  }

  /** Drop the reference an old L2 entry held (after the entry itself is gone). */
  private async release(e: L2Entry): Promise<void> {
    if (e.kind === 'compressed') {
      const start = e.hostOffset - (e.hostOffset % 512);
      await this.alloc.updateBytes(start, e.hostOffset + e.compressedSize - start, -1);
      this.lastCompressed = null;
    } else if (e.hostOffset) {
      await this.alloc.update(e.hostOffset / this.cs, 1, -1);
    }
  }

  // ---- tables ----

  private async lookup(g: number): Promise<L2Entry | null> {
    const l1i = Math.floor(g / this.l2Entries);
    if (l1i >= this.l1.length) return null;
    const l2off = decodeL1Entry(this.l1[l1i]).l2Offset;
    if (!l2off) return null;
    const table = await this.l2(l2off, l1i);
    return this.entry(table, g % this.l2Entries);
  }

  private entry(table: Uint8Array, i: number): L2Entry {
    const raw = u64be(table, i * this.entrySize);
    const bitmap = this.g.extendedL2 ? u64be(table, i * this.entrySize + 8) : 0n;
    const e = decodeL2Entry(raw, this.g.clusterBits, this.g.extendedL2, bitmap);
    if (e.kind !== 'compressed' && e.hostOffset % this.cs !== 0) {
      throw this.tableError(`L2 entry points to unaligned host offset ${e.hostOffset}`, { hostOffset: e.hostOffset });
    }
    return e;
  }

  private async l2(off: number, l1i: number): Promise<Uint8Array> {
    const hit = this.l2cache.get(off);
    if (hit) {
      this.l2cache.delete(off);
      this.l2cache.set(off, hit);
      return hit;
    }
    const t = await this.src.read(off, this.cs);
    if (t.length !== this.cs) throw this.tableError(`L2 table of L1 entry ${l1i} at ${off} runs past the end of the file`, { l1Index: l1i, offset: off });
    this.remember(off, t);
    return t;
  }

  private remember(off: number, t: Uint8Array): void {
    this.l2cache.set(off, t);
    while (this.l2cache.size * this.cs > L2_CACHE_BYTES) {
      const oldest = this.l2cache.keys().next().value;
      if (oldest === undefined) break;
      this.l2cache.delete(oldest);
    }
  }

  /** The L2 table of L1 entry l1i, allocated or copied (when shared with a snapshot) so that we may modify it. */
  private async writableL2(l1i: number): Promise<{ off: number; table: Uint8Array }> {
    const cur = decodeL1Entry(this.l1[l1i]);
    if (cur.l2Offset && cur.copied) return { off: cur.l2Offset, table: await this.l2(cur.l2Offset, l1i) };
    const table = cur.l2Offset ? (await this.l2(cur.l2Offset, l1i)).slice() : new Uint8Array(this.cs);
    const newOff = await this.alloc.allocate(1);
    this.assertMetaTarget(newOff);
    await this.src.write(newOff, table);
    await this.hooks.barrier();
    await this.writeL1(l1i, encodeL1Entry(newOff, true));
    await this.hooks.barrier();
    this.remember(newOff, table);
    if (cur.l2Offset) {
      this.l2cache.delete(cur.l2Offset);
      await this.alloc.update(cur.l2Offset / this.cs, 1, -1);
    }
    return { off: newOff, table };
  }

  private async writeL1(i: number, raw: bigint): Promise<void> {
    await this.hooks.beforeMetadataWrite();
    const b = new Uint8Array(8);
    putU64be(b, 0, raw);
    await this.src.write(this.g.l1TableOffset + i * 8, b);
    this.l1[i] = raw;
  }

  private async writeEntry(l2off: number, table: Uint8Array, i: number, raw: bigint, bitmap: bigint): Promise<void> {
    await this.hooks.beforeMetadataWrite();
    const at = i * this.entrySize;
    putU64be(table, at, raw);
    if (this.g.extendedL2) putU64be(table, at + 8, bitmap);
    await this.src.write(l2off + at, table.slice(at, at + this.entrySize));
  }

  // ---- guards ----

  private checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.g.virtualSize) {
      throw new Qcow2Error({ code: 'invalid-argument', file: this.src.name, message: `guest range ${offset}+${length} is outside the virtual disk (${this.g.virtualSize} bytes)`, details: { offset, length, virtualSize: this.g.virtualSize } });
    }
  }

  /** QEMU's overlap check, reduced to what we can know cheaply: never put guest data over metadata. */
  private assertDataTarget(host: number, g: number): void {
    if (this.overlapsMeta(host)) throw this.tableError(`guest cluster ${g} maps to host offset ${host}, which holds metadata: refusing to write`, { cluster: g, hostOffset: host });
  }

  private assertMetaTarget(host: number): void {
    if (this.overlapsMeta(host)) throw new Qcow2Error({ code: 'internal', file: this.src.name, message: `allocator returned ${host}, which holds metadata` });
  }

  private overlapsMeta(host: number): boolean {
    const inRange = (start: number, bytes: number): boolean => host + this.cs > start && host < start + bytes;
    return host < this.cs || inRange(this.g.l1TableOffset, this.g.l1Size * 8) ||
      inRange(this.alloc.refcountTableOffset, this.alloc.refcountTableClusters * this.cs);
  }

  private tableError(message: string, details: Record<string, number>): Qcow2Error {
    return new Qcow2Error({ code: 'invalid-table', file: this.src.name, message, details });
  }
}

