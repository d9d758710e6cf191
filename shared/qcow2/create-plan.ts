// The bytes of a new image, planned the way QEMU lays them out (ZONED-FORMAT.md section 8 item 5):
// header cluster, refcount table, first refcount block, zonedmeta, L1 table, then (preallocation=metadata)
// L2 tables and data clusters. Cluster allocation is a model of QEMU 7.2's allocator (qcow2-refcount.c:
// alloc_clusters_noref, update_refcount with its -EAGAIN restarts, alloc_refcount_block with
// self-describing refcount blocks, qcow2_refcount_area for refcount table growth) and of
// preallocate_co/qcow2_alloc_host_offset (qcow2-cluster.c), so that our files match qemu-img's byte for
// byte. Used clusters are kept as runs, never as one bit per cluster, and table contents are generated
// lazily in bounded chunks: a plan for a 1 TiB preallocated image stays small.
import { putU32be, putU64be, putU64le } from '../bytes';
import type { NormalizedCreateOptions } from './create-options';
import { encodeZonedExtensionData, zonedLayoutLength } from './zoned-extension';
import type { ZonedWriteLayout } from './zoned-types';

export const QCOW_MAGIC = 0x514649fb;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_FEATURE_TABLE = 0x6803f857;
const EXT_DATA_FILE = 0x44415441;
const EXT_ZONED = 0x007a6264;
/** QEMU's QCOW_MAX_L1_SIZE and QCOW_MAX_REFTABLE_SIZE. */
const MAX_L1_BYTES = 0x2000000;
const MAX_REFTABLE_BYTES = 0x800000;
/** Our own bound on tables tracked while planning (keeps planning memory below ~100 MB). */
export const MAX_PLANNED_TABLES = 1_000_000;
/** BDRV_REQUEST_MAX_BYTES and INT_MAX, which split QEMU's preallocation requests. */
const BDRV_REQUEST_MAX_BYTES = 4194303 * 512;
const INT_MAX = 0x7fff_ffff;
const COPIED = 1n << 63n;
/** How each layout writes its entries: host order (LE, bit 59) up to v10; big-endian with bit 63 from v11. */
const WP_WRITE: Record<ZonedWriteLayout, { le: boolean; flag: bigint; label: string }> = {
  v7: { le: true, flag: 1n << 59n, label: 'little-endian, bit 59 conventional' },
  v8: { le: true, flag: 1n << 59n, label: 'little-endian, bit 59 conventional' },
  v11: { le: false, flag: 1n << 63n, label: 'big-endian, bit 63 conventional' },
  respin: { le: false, flag: 1n << 63n, label: 'big-endian, bit 63 conventional' },
};

/** A sorted set of used cluster runs [start, end). */
class RunSet {
  private starts: number[] = [];
  private ends: number[] = [];

  /** Index of the last run with start <= c, or -1. */
  private find(c: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= c) { ans = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return ans;
  }

  isUsed(c: number): boolean {
    const i = this.find(c);
    return i >= 0 && c < this.ends[i];
  }

  /** Number of free clusters from c on, at most max. */
  freeFrom(c: number, max: number): number {
    const i = this.find(c);
    if (i >= 0 && c < this.ends[i]) return 0;
    const next = i + 1 < this.starts.length ? this.starts[i + 1] : Infinity;
    return Math.min(max, next - c);
  }

  /** First s >= from with [s, s+n) free. */
  firstFreeRun(from: number, n: number): number {
    let s = from;
    for (;;) {
      const i = this.find(s);
      if (i >= 0 && s < this.ends[i]) { s = this.ends[i]; continue; }
      const next = i + 1 < this.starts.length ? this.starts[i + 1] : Infinity;
      if (next - s >= n) return s;
      s = this.ends[i + 1];
    }
  }

  add(s: number, n: number): void {
    if (n <= 0) return;
    let e = s + n;
    let i = this.find(s);
    if (i >= 0 && this.ends[i] >= s) { s = Math.min(s, this.starts[i]); } else i += 1;
    let j = i;
    while (j < this.starts.length && this.starts[j] <= e) { e = Math.max(e, this.ends[j]); j++; }
    this.starts.splice(i, j - i, s);
    this.ends.splice(i, j - i, e);
  }

  remove(s: number, n: number): void {
    if (n <= 0) return;
    const e = s + n;
    const outS: number[] = [];
    const outE: number[] = [];
    let i = Math.max(0, this.find(s));
    const first = i;
    while (i < this.starts.length && this.starts[i] < e) {
      if (this.ends[i] > s) {
        if (this.starts[i] < s) { outS.push(this.starts[i]); outE.push(s); }
        if (this.ends[i] > e) { outS.push(e); outE.push(this.ends[i]); }
      } else { outS.push(this.starts[i]); outE.push(this.ends[i]); }
      i++;
    }
    this.starts.splice(first, i - first, ...outS);
    this.ends.splice(first, i - first, ...outE);
  }

  /** Runs intersecting [s, e), clipped. */
  *runsIn(s: number, e: number): Generator<[number, number]> {
    let i = Math.max(0, this.find(s));
    for (; i < this.starts.length && this.starts[i] < e; i++) {
      const a = Math.max(s, this.starts[i]);
      const b = Math.min(e, this.ends[i]);
      if (a < b) yield [a, b];
    }
  }

  count(): number {
    let n = 0;
    for (let i = 0; i < this.starts.length; i++) n += this.ends[i] - this.starts[i];
    return n;
  }

  last(): number {
    return this.ends.length ? this.ends[this.ends.length - 1] : 0;
  }
}

class PlanTooLarge extends Error {}

/** QEMU's allocator state for a fresh image, in clusters. */
class Allocator {
  readonly used = new RunSet();
  /** Refcount table: cluster index of refblock i, 0 = none. */
  reftable: number[];
  reftableSize: number;
  reftableOffset = 1;
  reftableClusters = 1;
  freeClusterIndex = 0;
  /** Bytes the file reaches through metadata writes. */
  fileEnd: number;
  refblockCount = 1;
  /** Refcount tables replaced by a bigger one: QEMU frees their clusters but leaves their bytes. */
  readonly staleTables: { cluster: number; entries: number[]; size: number }[] = [];

  constructor(readonly cs: number, readonly refblockEntries: number) {
    this.reftableSize = cs / 8;
    this.reftable = [2];
    // qcow2_co_create wrote cluster 0 and the reftable + first refblock (clusters 1-2).
    this.fileEnd = 3 * cs;
  }

  private blockOf(c: number): number {
    return Math.floor(c / this.refblockEntries);
  }

  allocNoref(n: number): number {
    const s = this.used.firstFreeRun(this.freeClusterIndex, n);
    this.freeClusterIndex = s + n;
    return s;
  }

  /** update_refcount(+1) over [start, start+n): false means -EAGAIN (and the partial work is undone). */
  updateRefcount(start: number, n: number): boolean {
    let c = start;
    const end = start + n;
    while (c < end) {
      const ti = this.blockOf(c);
      if (!this.allocRefcountBlock(c)) {
        if (this.freeClusterIndex > start) this.freeClusterIndex = start;
        // The rollback decrease: clusters go back to 0 and free_cluster_index drops to them.
        this.used.remove(start, c - start);
        if (c > start && start < this.freeClusterIndex) this.freeClusterIndex = start;
        return false;
      }
      const segEnd = Math.min(end, (ti + 1) * this.refblockEntries);
      this.used.add(c, segEnd - c);
      c = segEnd;
    }
    return true;
  }

  /** alloc_refcount_block: true when the block exists, false for -EAGAIN after allocating one. */
  private allocRefcountBlock(c: number): boolean {
    const ti = this.blockOf(c);
    if (ti < this.reftableSize && (this.reftable[ti] ?? 0) !== 0) return true;
    const newBlock = this.allocNoref(1);
    if (this.blockOf(newBlock) === ti) {
      this.used.add(newBlock, 1);
    } else if (!this.updateRefcount(newBlock, 1)) {
      return false;
    }
    this.countTable();
    this.fileEnd = Math.max(this.fileEnd, (newBlock + 1) * this.cs);
    if (ti < this.reftableSize) {
      this.reftable[ti] = newBlock;
      return false;
    }
    const blocksUsed = Math.ceil(Math.max(c + 1, newBlock + 1) / this.refblockEntries);
    this.refcountArea(blocksUsed * this.refblockEntries, ti, newBlock);
    return false;
  }

  private countTable(): void {
    this.refblockCount++;
    if (this.refblockCount > MAX_PLANNED_TABLES) throw new PlanTooLarge(`the image needs more than ${MAX_PLANNED_TABLES} refcount blocks: too large to plan`);
  }

  /** qcow2_refcount_area(start, 0, false, newIndex, newOffset): new reftable and refblocks at start. */
  private refcountArea(startCluster: number, newIndex: number, newOffset: number): void {
    const total = refcountMetadataBlocks(startCluster, this.cs, this.refblockEntries, true);
    const areaIndex = Math.floor(startCluster / this.refblockEntries);
    const perCluster = this.cs / 8;
    const tableSize = Math.ceil((total + Math.ceil(total / 2)) / perCluster) * perCluster;
    if (tableSize * 8 > MAX_REFTABLE_BYTES) throw new PlanTooLarge(`the refcount table would exceed QEMU's limit of ${MAX_REFTABLE_BYTES} bytes (File too large)`);
    const tableClusters = (tableSize * 8) / this.cs;
    const table = this.reftable.slice();
    table[newIndex] = newOffset;
    let additional = 0;
    for (let i = areaIndex; i < total; i++) if (!table[i]) additional++;
    const tableOffset = startCluster + additional;
    const endCluster = tableOffset + tableClusters;
    let block = startCluster;
    for (let i = areaIndex; i < total; i++) {
      if (!table[i]) { table[i] = block++; this.countTable(); }
      const firstCovered = i * this.refblockEntries;
      if (firstCovered < endCluster) {
        const j = firstCovered < startCluster ? startCluster - firstCovered : 0;
        const endIndex = Math.min(endCluster - firstCovered, this.refblockEntries);
        this.used.add(firstCovered + j, endIndex - j);
      }
    }
    const oldOffset = this.reftableOffset;
    const oldClusters = this.reftableClusters;
    this.staleTables.push({ cluster: oldOffset, entries: this.reftable, size: this.reftableSize });
    this.reftable = table;
    this.reftableSize = tableSize;
    this.reftableOffset = tableOffset;
    this.reftableClusters = tableClusters;
    this.fileEnd = Math.max(this.fileEnd, endCluster * this.cs);
    // qcow2_free_clusters of the old table.
    this.used.remove(oldOffset, oldClusters);
    if (oldOffset < this.freeClusterIndex) this.freeClusterIndex = oldOffset;
  }

  /** qcow2_alloc_clusters(n clusters). */
  alloc(n: number): number {
    for (;;) {
      const off = this.allocNoref(n);
      if (this.updateRefcount(off, n)) return off;
    }
  }

  /** qcow2_alloc_clusters_at: how many of n clusters from c could be taken (0..n). */
  allocAt(c: number, n: number): number {
    for (;;) {
      const i = this.used.freeFrom(c, n);
      if (i === 0) return 0;
      if (this.updateRefcount(c, i)) return i;
    }
  }
}

/** qcow2_refcount_metadata_size's refblock count. */
function refcountMetadataBlocks(clusters: number, cs: number, perBlock: number, generous: boolean): number {
  const perTableCluster = cs / 8;
  let table = 0;
  let blocks = 0;
  let n = 0;
  let last: number;
  do {
    last = n;
    blocks = Math.ceil((clusters + table + blocks) / perBlock);
    table = Math.ceil(blocks / perTableCluster);
    n = clusters + blocks + table;
    if (n === last && generous) {
      clusters += Math.ceil(table / 2);
      n = 0;
      generous = false;
    }
  } while (n !== last);
  return blocks;
}

/** Where everything lands. Cluster indexes unless named *Offset (bytes). */
export interface CreateLayout {
  clusterSize: number;
  l2Entries: number;
  l2EntryBytes: number;
  l1Entries: number;
  l1Offset: number;
  refcountBlockEntries: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  refcountBlockCount: number;
  zonedmetaOffset: number | null;
  /** Bytes of cluster 0 actually used (header, extensions, backing file name). */
  headerBytes: number;
  fileSize: number;
  /** Size the external data file gets (null without data_file). */
  dataFileSize: number | null;
  metadataClusters: number;
  /** Internal: allocator state and preallocation records for planImage. */
  readonly internal: LayoutInternal;
}

interface LayoutInternal {
  alloc: Allocator;
  /** L2 table host cluster per L1 index (preallocation), 0 = none. */
  l2Tables: number[];
  /** Data runs: guest cluster start, host cluster start, count (qcow2 file only). */
  runGuest: number[];
  runHost: number[];
  runCount: number[];
  dataClusters: number;
}

export function l2EntryBytes(o: NormalizedCreateOptions): number {
  return o.extendedL2 ? 16 : 8;
}

/** Simulate QEMU's create, truncate and preallocation. Throws when the image is too large to plan. */
export function computeLayout(o: NormalizedCreateOptions): CreateLayout {
  const cs = o.clusterSize;
  const l2Bytes = l2EntryBytes(o);
  const l2Entries = cs / l2Bytes;
  const refblockEntries = (cs * 8) / o.refcountBits;
  const l1Entries = Math.ceil(o.size / (cs * l2Entries));
  if (l1Entries * 8 > MAX_L1_BYTES) throw new PlanTooLarge(`the L1 table would need ${l1Entries * 8} bytes, more than QEMU's limit of ${MAX_L1_BYTES} (use a larger cluster_size)`);
  if (o.preallocation === 'metadata' && l1Entries > MAX_PLANNED_TABLES) throw new PlanTooLarge(`preallocation=metadata needs ${l1Entries} L2 tables, more than the ${MAX_PLANNED_TABLES} we plan`);

  const a = new Allocator(cs, refblockEntries);
  // qcow2_alloc_clusters(3 * cluster_size): header, reftable, first refblock.
  a.alloc(3);
  let zonedmetaOffset: number | null = null;
  if (o.zoned) {
    const n = Math.ceil((8 * o.zoned.nrZones) / cs);
    const c = a.alloc(n);
    zonedmetaOffset = c * cs;
    a.fileEnd = Math.max(a.fileEnd, (c + n) * cs);
  }
  let l1Offset = 0;
  if (l1Entries > 0) {
    const c = a.alloc(Math.ceil((l1Entries * 8) / cs));
    l1Offset = c * cs;
    a.fileEnd = Math.max(a.fileEnd, l1Offset + l1Entries * 8);
  }

  const internal: LayoutInternal = { alloc: a, l2Tables: [], runGuest: [], runHost: [], runCount: [], dataClusters: 0 };
  let dataFileSize: number | null = o.dataFile ? o.size : null;
  if (o.preallocation === 'metadata' && o.size > 0) {
    const lastEnd = preallocate(o, a, internal, l2Entries);
    if (o.dataFile) dataFileSize = Math.max(o.size, lastEnd);
    else a.fileEnd = Math.max(a.fileEnd, lastEnd);
  }

  const headerBytes = headerLength(o);
  const metadataClusters = a.used.count() - internal.dataClusters;
  return {
    clusterSize: cs, l2Entries, l2EntryBytes: l2Bytes, l1Entries, l1Offset, refcountBlockEntries: refblockEntries,
    refcountTableOffset: a.reftableOffset * cs, refcountTableClusters: a.reftableClusters,
    refcountBlockCount: a.reftable.filter((x) => x).length, zonedmetaOffset, headerBytes,
    fileSize: a.fileEnd, dataFileSize, metadataClusters, internal,
  };
}

/**
 * preallocate_co: map every guest cluster. Returns the byte where QEMU truncates the file it maps into
 * (last run end; a partial last cluster is completed by copy-on-write of its tail).
 */
function preallocate(o: NormalizedCreateOptions, a: Allocator, st: LayoutInternal, l2Entries: number): number {
  const cs = o.clusterSize;
  const external = !!o.dataFile;
  const chunkMax = Math.floor(INT_MAX / cs) * cs;
  const requestMaxClusters = Math.floor(BDRV_REQUEST_MAX_BYTES / cs);
  let offset = 0;
  let bytes = o.size;
  let lastHost = 0;
  let lastBytes = 0;
  while (bytes > 0) {
    const want = Math.min(bytes, chunkMax);
    // qcow2_alloc_host_offset: one contiguous host run, split at L2 table boundaries.
    let start = offset;
    let remaining = want;
    let clusterOffset = -1;
    let hostOffset = -1;
    let cur = 0;
    for (;;) {
      if (hostOffset < 0 && clusterOffset >= 0) hostOffset = clusterOffset;
      start += cur;
      remaining -= cur;
      if (clusterOffset >= 0) clusterOffset += cur;
      if (remaining === 0) break;
      cur = remaining;
      const guestCluster = Math.floor(start / cs);
      const l1Index = Math.floor(guestCluster / l2Entries);
      if (!st.l2Tables[l1Index]) {
        st.l2Tables[l1Index] = a.alloc(1);
        a.fileEnd = Math.max(a.fileEnd, (st.l2Tables[l1Index] + 1) * cs);
      }
      let nb = Math.ceil(((start % cs) + cur) / cs);
      nb = Math.min(nb, l2Entries - (guestCluster % l2Entries), requestMaxClusters);
      let hostCluster: number;
      if (external) {
        hostCluster = guestCluster;
        if (clusterOffset < 0) clusterOffset = guestCluster * cs;
      } else if (clusterOffset < 0) {
        hostCluster = a.alloc(nb);
        clusterOffset = hostCluster * cs;
      } else {
        hostCluster = clusterOffset / cs;
        nb = a.allocAt(hostCluster, nb);
        if (nb === 0) { cur = 0; break; }
      }
      cur = Math.min(cur, nb * cs - (start % cs));
      if (!external) {
        st.runGuest.push(guestCluster);
        st.runHost.push(hostCluster);
        st.runCount.push(nb);
        st.dataClusters += nb;
      }
    }
    const done = want - remaining;
    lastHost = hostOffset;
    lastBytes = done;
    bytes -= done;
    offset += done;
  }
  return Math.ceil((lastHost + lastBytes) / cs) * cs;
}

// ---------------------------------------------------------------- header

const FEATURES_STOCK: [number, number, string][] = [
  [0, 0, 'dirty bit'], [0, 1, 'corrupt bit'], [0, 2, 'external data file'], [0, 3, 'compression type'],
  [0, 4, 'extended L2 entries'], [1, 0, 'lazy refcounts'], [2, 0, 'bitmaps'], [2, 1, 'raw external data'],
];

/**
 * The feature name table we write. Non-zoned images: qemu-img 7.2's 8 entries, so that they cannot be
 * told apart from its images. Zoned images: the patched QEMU's 9, with {0, 5, "zoned format"} after
 * "extended L2 entries" (as the patch inserts it). QEMU omits the table for clusters <= 4 KiB.
 */
export function featureTableEntries(o: NormalizedCreateOptions): [number, number, string][] {
  if (o.version < 3 || o.clusterSize <= 4096) return [];
  if (!o.zoned) return FEATURES_STOCK;
  return [...FEATURES_STOCK.slice(0, 5), [0, 5, 'zoned format'], ...FEATURES_STOCK.slice(5)];
}

const enc = new TextEncoder();

function extLength(dataLen: number): number {
  return 8 + Math.ceil(dataLen / 8) * 8;
}

function zonedExtLength(o: NormalizedCreateOptions): number {
  return o.zoned ? zonedLayoutLength(o.zoned.layout) : 0;
}

function headerLength(o: NormalizedCreateOptions): number {
  let n = o.version >= 3 ? 112 : 72;
  if (o.backingFmt && o.backingFile) n += extLength(enc.encode(o.backingFmt).length);
  if (o.dataFile) n += extLength(enc.encode(o.dataFile).length);
  const ft = featureTableEntries(o);
  if (ft.length) n += extLength(48 * ft.length);
  if (o.zoned) n += extLength(zonedExtLength(o));
  n += 8;
  if (o.backingFile) n += enc.encode(o.backingFile).length;
  return n;
}

function writeExt(buf: Uint8Array, pos: number, magic: number, data: Uint8Array): number {
  putU32be(buf, pos, magic);
  putU32be(buf, pos + 4, data.length);
  buf.set(data, pos + 8);
  return pos + extLength(data.length);
}

/** Cluster 0 up to its last used byte: header, extensions in QEMU's order, backing file name. */
export function encodeHeader(o: NormalizedCreateOptions, layout: CreateLayout): Uint8Array {
  const buf = new Uint8Array(layout.headerBytes);
  putU32be(buf, 0, QCOW_MAGIC);
  putU32be(buf, 4, o.version);
  putU32be(buf, 20, o.clusterBits);
  putU64be(buf, 24, o.size);
  putU32be(buf, 36, layout.l1Entries);
  putU64be(buf, 40, layout.l1Offset);
  putU64be(buf, 48, layout.refcountTableOffset);
  putU32be(buf, 56, layout.refcountTableClusters);
  let pos = 72;
  if (o.version >= 3) {
    let incompat = 0n;
    if (o.dataFile) incompat |= 1n << 2n;
    if (o.compressionType === 'zstd') incompat |= 1n << 3n;
    if (o.extendedL2) incompat |= 1n << 4n;
    if (o.zoned) incompat |= 1n << 5n;
    putU64be(buf, 72, incompat);
    putU64be(buf, 80, o.lazyRefcounts ? 1n : 0n);
    putU64be(buf, 88, o.dataFileRaw ? 2n : 0n);
    putU32be(buf, 96, o.refcountOrder);
    putU32be(buf, 100, 112);
    buf[104] = o.compressionType === 'zstd' ? 1 : 0;
    pos = 112;
  }
  if (o.backingFile && o.backingFmt) pos = writeExt(buf, pos, EXT_BACKING_FORMAT, enc.encode(o.backingFmt));
  if (o.dataFile) pos = writeExt(buf, pos, EXT_DATA_FILE, enc.encode(o.dataFile));
  const ft = featureTableEntries(o);
  if (ft.length) {
    const data = new Uint8Array(48 * ft.length);
    ft.forEach(([type, bit, name], i) => {
      data[i * 48] = type;
      data[i * 48 + 1] = bit;
      data.set(enc.encode(name), i * 48 + 2);
    });
    pos = writeExt(buf, pos, EXT_FEATURE_TABLE, data);
  }
  if (o.zoned) pos = writeExt(buf, pos, EXT_ZONED, encodeZonedExtension(o, layout));
  pos += 8; // end of extensions
  if (o.backingFile) {
    const name = enc.encode(o.backingFile);
    putU64be(buf, 8, pos);
    putU32be(buf, 16, name.length);
    buf.set(name, pos);
  }
  return buf;
}

/** The zoned extension data in the targeted layout (ZONED-FORMAT.md 2.1 for v8, 2.2 for v7; 2026 notes 2a for v11, 4a for the respin). */
export function encodeZonedExtension(o: NormalizedCreateOptions, layout: CreateLayout): Uint8Array {
  const z = o.zoned;
  if (!z) return new Uint8Array(0);
  const metaSize = 8 * z.nrZones;
  const metaOffset = layout.zonedmetaOffset ?? 0;
  return encodeZonedExtensionData(z.layout, {
    zoned: 1,
    zone_size: z.zoneSize,
    zone_capacity: z.zoneCapacity,
    conventional_zones: z.conventionalZones,
    nr_zones: z.nrZones,
    max_active_zones: z.maxActiveZones,
    max_open_zones: z.maxOpenZones,
    max_append_bytes: z.maxAppendBytes,
    zonedmeta_size: metaSize,
    zonedmeta_offset: metaOffset,
  });
}

// ---------------------------------------------------------------- the plan

/** One region of the file to write; its bytes come in chunks of at most CHUNK bytes, made on demand. */
export interface PlanWrite {
  offset: number;
  length: number;
  /** What it is, for dry-run output and debugging ("header", "refcount block 3", "L2 table 12"…). */
  label: string;
  chunks(): Iterable<Uint8Array>;
}

export interface WritePlan {
  /** The image file's final length; everything not written reads as zero. */
  fileSize: number;
  writes: PlanWrite[];
  /** Length of the external data file to create (zero-filled), or null. */
  dataFileSize: number | null;
  layout: CreateLayout;
}

export const CHUNK = 1 << 20;

function once(bytes: Uint8Array): () => Iterable<Uint8Array> {
  return () => [bytes];
}

/** Plan the image: writes in file order of their kinds (header first, as QEMU's last header rewrite). */
export function planImage(o: NormalizedCreateOptions, layout: CreateLayout = computeLayout(o)): WritePlan {
  const cs = o.clusterSize;
  const { alloc: a, l2Tables } = layout.internal;
  const writes: PlanWrite[] = [];
  // First what QEMU left behind in freed clusters; later writes overwrite what was reused.
  for (const t of a.staleTables) {
    writes.push({
      offset: t.cluster * cs, length: t.size * 8, label: 'freed refcount table (stale bytes, as QEMU leaves them)',
      chunks: () => tableChunks(t.size, (i) => BigInt(t.entries[i] ? t.entries[i] * cs : 0)),
    });
  }
  // Whole clusters where QEMU writes whole clusters, so that even the allocated size matches its files.
  const header = new Uint8Array(cs);
  header.set(encodeHeader(o, layout));
  writes.push({ offset: 0, length: cs, label: 'header and extensions', chunks: once(header) });

  // The whole refcount table, as QEMU writes it.
  const tableEntries = a.reftableSize;
  writes.push({
    offset: layout.refcountTableOffset, length: tableEntries * 8, label: 'refcount table',
    chunks: () => tableChunks(tableEntries, (i) => BigInt(a.reftable[i] ? a.reftable[i] * cs : 0)),
  });
  a.reftable.forEach((blockCluster, idx) => {
    if (!blockCluster) return;
    writes.push({
      offset: blockCluster * cs, length: cs, label: `refcount block ${idx}`,
      chunks: () => [encodeRefblock(a, idx, o.refcountBits, cs)],
    });
  });

  if (o.zoned && layout.zonedmetaOffset !== null) {
    const z = o.zoned;
    writes.push({
      // Whole clusters, zero-filled past the last entry, as v4-v7 QEMU writes them.
      offset: layout.zonedmetaOffset, length: Math.ceil((8 * z.nrZones) / cs) * cs, label: `zonedmeta (write pointers, ${WP_WRITE[z.layout].label})`,
      chunks: () => wpChunks(z.nrZones, z.zoneSize, z.conventionalZones, cs, z.layout),
    });
  }

  if (layout.l1Entries > 0) {
    writes.push({
      offset: layout.l1Offset, length: layout.l1Entries * 8, label: 'L1 table',
      chunks: () => tableChunks(layout.l1Entries, (i) => (l2Tables[i] ? BigInt(l2Tables[i] * cs) | COPIED : 0n)),
    });
    const mapper = guestToHost(o, layout);
    const tail = o.size % cs;
    if (tail && !o.dataFile && l2Tables.length > 0) {
      // Copy-on-write of the partial last cluster: QEMU writes its tail (zeros, nothing to copy).
      const host = mapper(Math.floor(o.size / cs));
      if (host >= 0) writes.push({ offset: host * cs + tail, length: cs - tail, label: 'tail of the last data cluster', chunks: once(new Uint8Array(cs - tail)) });
    }
    l2Tables.forEach((hostCluster, l1Index) => {
      if (!hostCluster) return;
      writes.push({
        offset: hostCluster * cs, length: cs, label: `L2 table ${l1Index}`,
        chunks: () => [encodeL2(o, layout, l1Index, mapper)],
      });
    });
  }
  return { fileSize: layout.fileSize, writes, dataFileSize: layout.dataFileSize, layout };
}

function* tableChunks(entries: number, value: (i: number) => bigint): Generator<Uint8Array> {
  const per = CHUNK / 8;
  for (let first = 0; first < entries; first += per) {
    const n = Math.min(per, entries - first);
    const b = new Uint8Array(n * 8);
    for (let i = 0; i < n; i++) {
      const v = value(first + i);
      if (v) putU64be(b, i * 8, v);
    }
    yield b;
  }
}

function* wpChunks(nrZones: number, zoneSize: number, conventional: number, cs: number, layout: ZonedWriteLayout): Generator<Uint8Array> {
  const { le, flag } = WP_WRITE[layout];
  const per = CHUNK / 8;
  const total = Math.ceil((8 * nrZones) / cs) * (cs / 8);
  for (let first = 0; first < total; first += per) {
    const n = Math.min(per, nrZones - first);
    const b = new Uint8Array(Math.min(per, total - first) * 8);
    for (let i = 0; i < n; i++) {
      const zone = first + i;
      const start = BigInt(zone) * BigInt(zoneSize);
      const v = zone < conventional ? start | flag : start;
      if (le) putU64le(b, i * 8, v);
      else putU64be(b, i * 8, v);
    }
    yield b;
  }
}

function encodeRefblock(a: Allocator, idx: number, bits: number, cs: number): Uint8Array {
  const b = new Uint8Array(cs);
  const per = a.refblockEntries;
  const first = idx * per;
  for (const [s, e] of a.used.runsIn(first, first + per)) {
    for (let c = s; c < e; c++) setRefcountOne(b, c - first, bits);
  }
  return b;
}

/** Refcount value 1 at entry i: sub-byte widths LSB-first, wider ones big-endian. */
function setRefcountOne(b: Uint8Array, i: number, bits: number): void {
  if (bits < 8) {
    const perByte = 8 / bits;
    b[Math.floor(i / perByte)] |= 1 << ((i % perByte) * bits);
  } else {
    const bytes = bits / 8;
    b[i * bytes + bytes - 1] = 1;
  }
}

/** Host cluster of each preallocated guest cluster: a lookup over the recorded runs. */
function guestToHost(o: NormalizedCreateOptions, layout: CreateLayout): (g: number) => number {
  if (o.dataFile) return (g) => g;
  const { runGuest, runHost, runCount } = layout.internal;
  return (g) => {
    let lo = 0;
    let hi = runGuest.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (runGuest[mid] <= g) lo = mid; else hi = mid - 1;
    }
    if (runGuest[lo] <= g && g < runGuest[lo] + runCount[lo]) return runHost[lo] + (g - runGuest[lo]);
    return -1;
  };
}

function encodeL2(o: NormalizedCreateOptions, layout: CreateLayout, l1Index: number, hostOf: (g: number) => number): Uint8Array {
  const cs = o.clusterSize;
  const b = new Uint8Array(cs);
  const perTable = layout.l2Entries;
  const firstGuest = l1Index * perTable;
  const guestClusters = Math.ceil(o.size / cs);
  const n = Math.min(perTable, guestClusters - firstGuest);
  for (let i = 0; i < n; i++) {
    const host = hostOf(firstGuest + i);
    if (host < 0) continue;
    putU64be(b, i * layout.l2EntryBytes, BigInt(host * cs) | COPIED);
  }
  return b;
}
