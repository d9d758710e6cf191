// L1 and L2 tables (docs/interop/qcow2.rst "Cluster mapping"). Tables are read with bounded positional
// reads (at most READ_CHUNK bytes each); bytes past the end of the file read as zero, as QEMU's file
// driver pads short reads, and the gap becomes a finding. Entry words are decoded with 32-bit halves in
// the hot paths (a 64 GiB image has a million L2 entries), with bigint codecs from entries.ts for display.
import { hex, u32be, u64be } from '../bytes';
import type { ByteSource } from './byte-source';
import { compressedLayout, decodeL1Entry, decodeL2Entry, L1E_OFFSET_MASK, L1E_RESERVED_MASK, L2E_OFFSET_MASK, L2E_STD_RESERVED_MASK, type L1Entry, type L2Entry } from './entries';
import { finding, Qcow2Error, type Finding } from './findings';
import { MAX_L1_BYTES, SAFE_LIMIT } from './header';
import type { OpenedImage } from './image';

/** Largest single read of table data. */
export const READ_CHUNK = 1 << 20;
/** Findings kept per table before summarising the rest in one count. */
export const MAX_ENTRY_FINDINGS = 64;

export interface TableGeometry {
  clusterBits: number;
  clusterSize: number;
  /** Incompatible bit 4: 16-byte L2 entries with 32 subclusters. */
  extended: boolean;
  l2EntrySize: 8 | 16;
  /** Entries per L2 table. */
  l2Entries: number;
  subclustersPerCluster: number;
  subclusterBits: number;
  /** Incompatible bit 2: guest data lives in an external data file. */
  externalData: boolean;
  /** Size of the image file itself (not the data file). */
  fileSize: number;
  virtualSize: number;
}

export function tableGeometry(img: OpenedImage): TableGeometry {
  const h = img.header;
  const extended = ((h.incompatibleFeatures >> 4n) & 1n) === 1n;
  const l2EntrySize = extended ? 16 : 8;
  const subclustersPerCluster = extended ? 32 : 1;
  return {
    clusterBits: h.clusterBits,
    clusterSize: h.clusterSize,
    extended,
    l2EntrySize,
    l2Entries: h.clusterSize / l2EntrySize,
    subclustersPerCluster,
    subclusterBits: h.clusterBits - Math.log2(subclustersPerCluster),
    externalData: ((h.incompatibleFeatures >> 2n) & 1n) === 1n,
    fileSize: img.fileSize,
    virtualSize: h.size,
  };
}

/** Bits 53-55 of the high word of an L1/L2 entry: an offset at or beyond 2^53 (not exact as a number). */
const HIGH_BEYOND_2_53 = 0x00e00000;

/**
 * The first entry of an L1 table whose L2 offset is at or beyond 2^53, or -1. Such an offset is never in a
 * real file (QEMU would read zeros there) and cannot be handed to the file system as a number.
 */
export function firstL1EntryBeyond2p53(t: L1Table): number {
  for (let i = 0; i < t.size; i++) if ((u32be(t.bytes, i * 8) & HIGH_BEYOND_2_53) !== 0) return i;
  return -1;
}

/** Read `length` bytes in bounded chunks, zero-filling what lies past the end of the file. */
export async function readZeroPadded(src: ByteSource, offset: number, length: number): Promise<{ bytes: Uint8Array; available: number }> {
  const bytes = new Uint8Array(length);
  let available = 0;
  for (let done = 0; done < length; done += READ_CHUNK) {
    const n = Math.min(READ_CHUNK, length - done);
    const chunk = await src.read(offset + done, n);
    bytes.set(chunk, done);
    available += chunk.length;
    if (chunk.length < n) break;
  }
  return { bytes, available };
}

// ---------------------------------------------------------------- L1

export interface L1Table {
  /** What the table is: "active L1 table" or "L1 table of snapshot 1". */
  label: string;
  offset: number;
  /** Number of entries. */
  size: number;
  /** The entries as read, big-endian u64 each; entries past the end of the file read as zero. */
  bytes: Uint8Array;
  findings: Finding[];
}

export function l1Entry(t: L1Table, i: number): L1Entry {
  return decodeL1Entry(u64be(t.bytes, i * 8));
}

/** L2 table offset of entry i, without bigint (bits 9-55). */
export function l1L2Offset(t: L1Table, i: number): number {
  const o = i * 8;
  return (u32be(t.bytes, o) & 0x00ffffff) * 0x1_0000_0000 + ((u32be(t.bytes, o + 4) & 0xfffffe00) >>> 0);
}

/**
 * Read an L1 table. Throws Qcow2Error when it cannot be located safely (more entries than QEMU's 32 MiB
 * limit, an unaligned offset); entries past the end of the file read as zero and are reported.
 */
export async function readL1Table(
  img: OpenedImage,
  offset = img.header.l1TableOffset,
  size = img.header.l1Size,
  label = 'active L1 table',
  fieldOffset = 36,
): Promise<L1Table> {
  const g = tableGeometry(img);
  const file = img.source.name;
  if (size * 8 > MAX_L1_BYTES) {
    throw Qcow2Error.fromFinding('invalid-table', finding({
      id: 'l1.too-large', severity: 'error', structure: label, field: 'l1_size', offset: fieldOffset, length: 4,
      found: String(size), expected: `<= ${MAX_L1_BYTES / 8} entries (QEMU's 32 MiB limit)`,
      message: `${label} has ${size} entries, more than QEMU's limit of ${MAX_L1_BYTES / 8}`, fix: 'none: the value is implausible',
    }), file);
  }
  if (size > 0 && offset % g.clusterSize !== 0) {
    throw Qcow2Error.fromFinding('invalid-table', finding({
      id: 'l1.unaligned', severity: 'error', structure: label, field: 'l1_table_offset', offset: fieldOffset + 4, length: 8,
      found: hex(offset), expected: `a multiple of the cluster size ${g.clusterSize}`,
      message: `${label} offset ${hex(offset)} is not cluster aligned`, fix: 'none: the table cannot be located safely',
    }), file);
  }
  if (size > 0 && offset + size * 8 > Number.MAX_SAFE_INTEGER) {
    throw Qcow2Error.fromFinding('invalid-table', finding({
      id: 'l1.offset-too-large', severity: 'error', structure: label, field: 'l1_table_offset', offset: fieldOffset + 4, length: 8,
      found: `${BigInt(offset)} + ${size * 8} bytes`, expected: `a table that ends below 2^53 (${SAFE_LIMIT})`,
      message: `${label} at ${BigInt(offset)} (${size} entries) lies at or beyond 2^53 bytes: no file is that large`, fix: 'none: the table cannot be located',
    }), file);
  }
  const findings: Finding[] = [];
  const { bytes, available } = size > 0 ? await readZeroPadded(img.source, offset, size * 8) : { bytes: new Uint8Array(0), available: 0 };
  if (available < size * 8) {
    findings.push(finding({
      id: 'l1.past-eof', severity: 'error', structure: label, field: 'entries', offset: offset + available, length: size * 8 - available,
      found: `file ends at ${g.fileSize}`, expected: `the table to end at ${offset + size * 8}`,
      message: `${label} at ${hex(offset)} (${size} entries) runs past the end of the file; missing entries read as unallocated`,
      fix: 'none: the file is truncated',
    }));
  }
  const t: L1Table = { label, offset, size, bytes, findings };
  // An L2 table beyond 2^53 is refused here, before any walk: every consumer (map, reads, the tables
  // view) would otherwise hand that position to the file system.
  const beyond = firstL1EntryBeyond2p53(t);
  if (beyond >= 0) {
    const v = u64be(bytes, beyond * 8);
    throw Qcow2Error.fromFinding('invalid-table', finding({
      id: 'l1.l2-offset-too-large', severity: 'error', structure: label, field: `entry ${beyond}`, offset: offset + beyond * 8, length: 8,
      found: `${hex(v, 16)} (L2 table at ${v & L1E_OFFSET_MASK})`, expected: `an L2 table offset below 2^53 (${SAFE_LIMIT})`,
      message: `${label} entry ${beyond} points to an L2 table at ${v & L1E_OFFSET_MASK}, at or beyond 2^53 bytes: no file is that large`,
      fix: 'none: QEMU would read the range as unallocated; the entry is garbage',
    }), file);
  }
  findings.push(...l1EntryFindings(t, g));
  return t;
}

/** Reserved bits, unaligned or past-EOF L2 offsets in the entries of an L1 table. */
export function l1EntryFindings(t: L1Table, g: TableGeometry): Finding[] {
  const out: Finding[] = [];
  let dropped = 0;
  const push = (f: Finding): void => {
    if (out.length < MAX_ENTRY_FINDINGS) out.push(f);
    else dropped++;
  };
  for (let i = 0; i < t.size; i++) {
    const hi = u32be(t.bytes, i * 8);
    const lo = u32be(t.bytes, i * 8 + 4);
    if (hi === 0 && lo === 0) continue;
    const e = l1Entry(t, i);
    const at = t.offset + i * 8;
    if (e.reservedBits !== 0n) {
      push(finding({ id: 'l1.reserved-bits', severity: 'warning', structure: t.label, field: `entry ${i}`, offset: at, length: 8, found: hex(e.raw, 16), expected: `reserved bits (${hex(L1E_RESERVED_MASK, 16)}) clear`, message: `${t.label} entry ${i} has reserved bits set: ${hex(e.reservedBits)}`, fix: 'clear the reserved bits' }));
    }
    if (e.l2Offset === 0) continue;
    if ((hi & HIGH_BEYOND_2_53) !== 0) {
      push(finding({ id: 'l1.l2-offset-too-large', severity: 'error', structure: t.label, field: `entry ${i}`, offset: at, length: 8, found: hex(e.raw, 16), expected: `an L2 table offset below 2^53 (${SAFE_LIMIT})`, message: `${t.label} entry ${i} points to an L2 table at ${e.raw & L1E_OFFSET_MASK}, at or beyond 2^53 bytes`, fix: 'none: the entry is garbage' }));
      continue;
    }
    if (e.l2Offset % g.clusterSize !== 0) {
      push(finding({ id: 'l1.l2-unaligned', severity: 'error', structure: t.label, field: `entry ${i}`, offset: at, length: 8, found: hex(e.l2Offset), expected: `a multiple of the cluster size ${g.clusterSize}`, message: `${t.label} entry ${i} points to an L2 table at ${hex(e.l2Offset)}, not cluster aligned`, fix: 'none: QEMU marks the image corrupt; the guest range is lost' }));
    } else if (e.l2Offset + g.clusterSize > g.fileSize) {
      push(finding({ id: 'l1.l2-past-eof', severity: 'error', structure: t.label, field: `entry ${i}`, offset: at, length: 8, found: hex(e.l2Offset), expected: `an L2 table inside the file (${g.fileSize} bytes)`, message: `${t.label} entry ${i} points to an L2 table at ${hex(e.l2Offset)}, past the end of the file`, fix: 'none: the table is missing; its range reads as unallocated' }));
    }
  }
  if (dropped > 0) out.push(summaryFinding('l1.more', t.label, t.offset, dropped));
  return out;
}

function summaryFinding(id: string, label: string, offset: number, n: number): Finding {
  return finding({ id, severity: 'info', structure: label, field: 'entries', offset, length: 0, found: `${n} more findings`, expected: '-', message: `${n} further findings in ${label} not listed`, fix: 'see the first findings' });
}

// ---------------------------------------------------------------- L2

/** One L2 table (one cluster) as read. */
export interface L2Table {
  offset: number;
  bytes: Uint8Array;
}

/** Host cluster offset of entry i, bits 9-55 (for compressed entries use decodeL2Entry). */
export function l2HostOffset(t: L2Table, i: number, g: TableGeometry): number {
  const o = i * g.l2EntrySize;
  return (u32be(t.bytes, o) & 0x00ffffff) * 0x1_0000_0000 + ((u32be(t.bytes, o + 4) & 0xfffffe00) >>> 0);
}

export function l2Entry(t: L2Table, i: number, g: TableGeometry): L2Entry {
  const o = i * g.l2EntrySize;
  return decodeL2Entry(u64be(t.bytes, o), g.clusterBits, g.extended, g.extended ? u64be(t.bytes, o + 8) : 0n);
}

/**
 * QEMU's subcluster types (block/qcow2.h QCow2SubclusterType). "invalid" is an extended entry whose
 * bitmap contradicts itself; QEMU refuses to read it.
 */
export type SubclusterType = 'normal' | 'compressed' | 'zero-plain' | 'zero-alloc' | 'unallocated-plain' | 'unallocated-alloc' | 'invalid';

/** The pieces of an entry the mapper needs, read without bigint. */
export interface RawL2 {
  hi: number;
  lo: number;
  /** Extended L2 bitmap: bits 0-31 allocated (alloc), 32-63 reads as zero (zero). */
  alloc: number;
  zero: number;
}

export function rawL2(t: L2Table, i: number, g: TableGeometry): RawL2 {
  const o = i * g.l2EntrySize;
  return {
    hi: u32be(t.bytes, o),
    lo: u32be(t.bytes, o + 4),
    zero: g.extended ? u32be(t.bytes, o + 8) : 0,
    alloc: g.extended ? u32be(t.bytes, o + 12) : 0,
  };
}

export function rawHostOffset(e: RawL2): number {
  return (e.hi & 0x00ffffff) * 0x1_0000_0000 + ((e.lo & 0xfffffe00) >>> 0);
}

/** qcow2_get_subcluster_type. */
export function subclusterType(e: RawL2, sc: number, g: TableGeometry): SubclusterType {
  if (e.hi & 0x40000000) return 'compressed';
  const off = rawHostOffset(e);
  if (!g.extended) {
    if (e.lo & 1) return off ? 'zero-alloc' : 'zero-plain';
    if (off) return 'normal';
    // Offset 0 is a valid host offset in an external data file; the copied flag tells it apart.
    return g.externalData && e.hi & 0x80000000 ? 'normal' : 'unallocated-plain';
  }
  const normal = off !== 0 || (g.externalData && (e.hi & 0x80000000) !== 0);
  const bit = 2 ** sc;
  if (normal) {
    if ((e.zero & e.alloc) !== 0) return 'invalid';
    if (e.zero & bit) return 'zero-alloc';
    if (e.alloc & bit) return 'normal';
    return 'unallocated-alloc';
  }
  if (e.alloc !== 0) return 'invalid';
  return e.zero & bit ? 'zero-plain' : 'unallocated-plain';
}

/** qcow2_get_subcluster_range_type: the type at sc and how many subclusters from sc share it. */
export function subclusterRange(e: RawL2, sc: number, g: TableGeometry): { type: SubclusterType; count: number } {
  const type = subclusterType(e, sc, g);
  if (type === 'invalid') return { type, count: 0 };
  if (!g.extended || type === 'compressed') return { type, count: g.subclustersPerCluster - sc };
  const below = sc === 0 ? 0 : (2 ** sc - 1) >>> 0;
  switch (type) {
    case 'normal':
      return { type, count: countTrailingOnes((e.alloc | below) >>> 0) - sc };
    case 'zero-plain':
    case 'zero-alloc':
      return { type, count: countTrailingOnes((e.zero | below) >>> 0) - sc };
    default:
      return { type, count: countTrailingZeros(((e.zero | e.alloc) & ~below) >>> 0) - sc };
  }
}

function countTrailingOnes(v: number): number {
  return countTrailingZeros(~v >>> 0);
}

function countTrailingZeros(v: number): number {
  if (v === 0) return 32;
  return 31 - Math.clz32(v & -v);
}

/** Reserved bits, unaligned or past-EOF host offsets, and impossible bitmaps in one L2 table. */
export function l2EntryFindings(t: L2Table, g: TableGeometry, label = `L2 table at ${hex(t.offset)}`, version = 3): Finding[] {
  const out: Finding[] = [];
  let dropped = 0;
  const push = (f: Finding): void => {
    if (out.length < MAX_ENTRY_FINDINGS) out.push(f);
    else dropped++;
  };
  for (let i = 0; i < g.l2Entries; i++) {
    const r = rawL2(t, i, g);
    if ((r.hi | r.lo | r.alloc | r.zero) === 0) continue;
    const e = l2Entry(t, i, g);
    const at = t.offset + i * g.l2EntrySize;
    const exact = e.compressed ? e.raw & ((1n << BigInt(compressedLayout(g.clusterBits).offsetBits)) - 1n) : e.raw & L2E_OFFSET_MASK;
    if (exact + BigInt(e.compressed ? e.compressedSize : g.clusterSize) > SAFE_LIMIT) {
      push(finding({ id: 'l2.offset-too-large', severity: 'error', structure: label, field: `entry ${i}`, offset: at, length: 8, found: `${hex(e.raw, 16)} (host offset ${exact})`, expected: `a host offset below 2^53 (${SAFE_LIMIT})`, message: `${label} entry ${i} points to host offset ${exact}, at or beyond 2^53 bytes: no file is that large`, fix: 'none: the entry is garbage' }));
      continue;
    }
    if (e.compressed) {
      if (g.externalData) push(finding({ id: 'l2.compressed-with-data-file', severity: 'error', structure: label, field: `entry ${i}`, offset: at, length: 8, found: hex(e.raw, 16), expected: 'no compressed clusters in an image with an external data file', message: `${label} entry ${i} is compressed, impossible with an external data file`, fix: 'none' }));
      if (e.hostOffset + e.compressedSize > g.fileSize) push(finding({ id: 'l2.compressed-past-eof', severity: 'error', structure: label, field: `entry ${i}`, offset: at, length: 8, found: `${hex(e.hostOffset)} + ${e.compressedSize}`, expected: `compressed data inside the file (${g.fileSize} bytes)`, message: `${label} entry ${i}: compressed data at ${hex(e.hostOffset)} runs past the end of the file`, fix: 'none: the data is lost' }));
      if (g.extended && (r.alloc | r.zero) !== 0) push(finding({ id: 'l2.compressed-bitmap', severity: 'warning', structure: label, field: `entry ${i} bitmap`, offset: at + 8, length: 8, found: hex(e.bitmap, 16), expected: '0 for a compressed cluster', message: `${label} entry ${i} is compressed but its subcluster bitmap is not zero`, fix: 'zero the bitmap' }));
      continue;
    }
    if (e.reservedBits !== 0n) {
      push(finding({ id: 'l2.reserved-bits', severity: 'warning', structure: label, field: `entry ${i}`, offset: at, length: 8, found: hex(e.raw, 16), expected: `reserved bits (${hex(g.extended ? L2E_STD_RESERVED_MASK | 1n : L2E_STD_RESERVED_MASK, 16)}) clear`, message: `${label} entry ${i} has reserved bits set: ${hex(e.reservedBits)}`, fix: 'clear the reserved bits' }));
    }
    if (version < 3 && (r.lo & 1) !== 0) {
      push(finding({ id: 'l2.zero-in-v2', severity: 'error', structure: label, field: `entry ${i}`, offset: at, length: 8, found: 'zero flag set', expected: 'no zero clusters in a version 2 image', message: `${label} entry ${i} is a zero cluster, which version 2 images cannot have`, fix: 'none: QEMU marks the image corrupt' }));
    }
    if (g.extended && subclusterType(r, 0, g) === 'invalid') {
      push(finding({ id: 'l2.invalid-bitmap', severity: 'error', structure: label, field: `entry ${i} bitmap`, offset: at + 8, length: 8, found: hex(e.bitmap, 16), expected: e.hostOffset ? 'no subcluster both allocated and zero' : 'no allocated subcluster in an unallocated cluster', message: `${label} entry ${i} has an impossible subcluster bitmap`, fix: 'none: QEMU refuses to read the cluster' }));
    }
    if (e.hostOffset === 0) continue;
    if (e.hostOffset % g.clusterSize !== 0) {
      push(finding({ id: 'l2.unaligned', severity: 'error', structure: label, field: `entry ${i}`, offset: at, length: 8, found: hex(e.hostOffset), expected: `a multiple of the cluster size ${g.clusterSize}`, message: `${label} entry ${i} points to host offset ${hex(e.hostOffset)}, not cluster aligned`, fix: 'none: QEMU marks the image corrupt' }));
    } else if (!g.externalData && e.hostOffset + g.clusterSize > g.fileSize) {
      push(finding({ id: 'l2.past-eof', severity: 'warning', structure: label, field: `entry ${i}`, offset: at, length: 8, found: hex(e.hostOffset), expected: `a data cluster inside the file (${g.fileSize} bytes)`, message: `${label} entry ${i} points to host offset ${hex(e.hostOffset)}, past the end of the file; it reads as zero`, fix: 'none' }));
    }
  }
  if (dropped > 0) out.push(summaryFinding('l2.more', label, t.offset, dropped));
  return out;
}

/**
 * Loads L2 tables for one L1 table. When an L2 table is requested, the tables that the following L1
 * entries place right behind it on disk are read in the same request (up to READ_CHUNK bytes), because
 * QEMU allocates L2 tables in runs; a small cache keeps the recent ones.
 */
export class L2Loader {
  private readonly cache = new Map<number, L2Table>();

  constructor(
    private readonly src: ByteSource,
    private readonly g: TableGeometry,
    private readonly l1: L1Table,
    private readonly maxCached = 64,
  ) {}

  /** The L2 table of L1 entry `l1Index`, or null when unallocated. Throws on an unaligned L2 offset. */
  async forL1Index(l1Index: number): Promise<L2Table | null> {
    if (l1Index >= this.l1.size) return null;
    const off = l1L2Offset(this.l1, l1Index);
    if (off === 0) return null;
    if (off % this.g.clusterSize !== 0) {
      throw Qcow2Error.fromFinding('invalid-table', finding({
        id: 'l1.l2-unaligned', severity: 'error', structure: this.l1.label, field: `entry ${l1Index}`, offset: this.l1.offset + l1Index * 8, length: 8,
        found: hex(off), expected: `a multiple of the cluster size ${this.g.clusterSize}`,
        message: `${this.l1.label} entry ${l1Index} points to an L2 table at ${hex(off)}, not cluster aligned`, fix: 'none: QEMU marks the image corrupt',
      }), this.src.name);
    }
    const hit = this.cache.get(off);
    if (hit) return hit;
    const cs = this.g.clusterSize;
    let run = 1;
    const maxRun = Math.max(1, Math.floor(READ_CHUNK / cs));
    while (run < maxRun && l1Index + run < this.l1.size && l1L2Offset(this.l1, l1Index + run) === off + run * cs) run++;
    const { bytes } = await readZeroPadded(this.src, off, run * cs);
    if (this.cache.size + run > this.maxCached) this.cache.clear();
    for (let k = 0; k < run; k++) this.cache.set(off + k * cs, { offset: off + k * cs, bytes: bytes.subarray(k * cs, (k + 1) * cs) });
    return this.cache.get(off) ?? null;
  }
}
