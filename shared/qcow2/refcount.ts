// Refcount table and refcount blocks (docs/interop/qcow2.rst "Host cluster management"), every
// refcount_order 0..6. The table is bounded by QEMU's 8 MiB limit and read in chunks; blocks are read on
// demand and cached.
import { hex, u32be } from '../bytes';
import { getRefcount, refcountsPerBlock } from './entries';
import { finding, Qcow2Error, type Finding } from './findings';
import { MAX_REFTABLE_BYTES, SAFE_LIMIT } from './header';
import type { OpenedImage } from './image';
import { MAX_ENTRY_FINDINGS, readZeroPadded } from './l1l2';

export interface RefcountTable {
  offset: number;
  /** Number of u64 entries (refcount_table_clusters * cluster_size / 8). */
  entries: number;
  bytes: Uint8Array;
  refcountOrder: number;
  refcountBits: number;
  /** Refcount entries per refcount block. */
  perBlock: number;
  findings: Finding[];
}

/**
 * Refcount block offset of table entry i (bits 9-63), 0 when none. Exact below 2^53 only: see
 * {@link refblockBeyond2p53}, which readRefcountTable reports and RefcountReader refuses.
 */
export function refblockOffset(t: RefcountTable, i: number): number {
  return u32be(t.bytes, i * 8) * 0x1_0000_0000 + ((u32be(t.bytes, i * 8 + 4) & 0xfffffe00) >>> 0);
}

/** Whether entry i points at or beyond 2^53 (bits 53-63 of the entry): never a real refcount block. */
export function refblockBeyond2p53(t: RefcountTable, i: number): boolean {
  return u32be(t.bytes, i * 8) >= 0x20_0000;
}

function exactRefblockOffset(t: RefcountTable, i: number): bigint {
  return ((BigInt(u32be(t.bytes, i * 8)) << 32n) | BigInt(u32be(t.bytes, i * 8 + 4))) & ~0x1ffn;
}

function beyondFinding(t: RefcountTable, i: number): Finding {
  const off = exactRefblockOffset(t, i);
  return finding({ id: 'refcount-table.offset-too-large', severity: 'error', structure: 'refcount table', field: `entry ${i}`, offset: t.offset + i * 8, length: 8, found: `${off} (${hex(off)})`, expected: `a refcount block offset below 2^53 (${SAFE_LIMIT})`, message: `refcount table entry ${i} points to a refcount block at ${off}, at or beyond 2^53 bytes: no file is that large`, fix: 'none: rebuild the refcounts' });
}

export async function readRefcountTable(img: OpenedImage): Promise<RefcountTable> {
  const h = img.header;
  const file = img.source.name;
  const fail = (field: string, offset: number, length: number, found: string, expected: string, message: string): never => {
    throw Qcow2Error.fromFinding('invalid-table', finding({ id: `refcount-table.${field}`, severity: 'error', structure: 'refcount table', field, offset, length, found, expected, message, fix: 'none: rebuild the refcounts with a full repair' }), file);
  };
  if (h.refcountOrder > 6) fail('refcount_order', 96, 4, String(h.refcountOrder), '0..6', `refcount_order ${h.refcountOrder} is out of range`);
  const bytesLen = h.refcountTableClusters * h.clusterSize;
  if (bytesLen > MAX_REFTABLE_BYTES) fail('refcount_table_clusters', 56, 4, String(h.refcountTableClusters), `<= ${MAX_REFTABLE_BYTES / h.clusterSize}`, `refcount table of ${h.refcountTableClusters} clusters exceeds QEMU's 8 MiB limit`);
  if (h.refcountTableOffset % h.clusterSize !== 0) fail('refcount_table_offset', 48, 8, hex(h.refcountTableOffset), `a multiple of the cluster size ${h.clusterSize}`, `refcount table offset ${hex(h.refcountTableOffset)} is not cluster aligned`);
  if (h.refcountTableOffset + bytesLen > Number.MAX_SAFE_INTEGER) fail('refcount_table_offset', 48, 8, `${h.refcountTableOffset} + ${bytesLen} bytes`, `a table that ends below 2^53 (${SAFE_LIMIT})`, 'the refcount table lies at or beyond 2^53 bytes');
  const findings: Finding[] = [];
  const { bytes, available } = await readZeroPadded(img.source, h.refcountTableOffset, bytesLen);
  if (available < bytesLen) {
    findings.push(finding({ id: 'refcount-table.past-eof', severity: 'error', structure: 'refcount table', field: 'entries', offset: h.refcountTableOffset + available, length: bytesLen - available, found: `file ends at ${img.fileSize}`, expected: `the table to end at ${h.refcountTableOffset + bytesLen}`, message: 'the refcount table runs past the end of the file; missing entries read as zero', fix: 'none: the file is truncated' }));
  }
  const t: RefcountTable = {
    offset: h.refcountTableOffset, entries: bytesLen / 8, bytes, refcountOrder: h.refcountOrder,
    refcountBits: 1 << h.refcountOrder, perBlock: refcountsPerBlock(h.clusterSize, h.refcountOrder), findings,
  };
  let n = 0;
  for (let i = 0; i < t.entries && n < MAX_ENTRY_FINDINGS; i++) {
    const lo = u32be(bytes, i * 8 + 4);
    const off = refblockOffset(t, i);
    const at = t.offset + i * 8;
    if (lo & 0x1ff) {
      n++;
      findings.push(finding({ id: 'refcount-table.reserved-bits', severity: 'warning', structure: 'refcount table', field: `entry ${i}`, offset: at, length: 8, found: hex(lo & 0x1ff), expected: 'bits 0-8 clear', message: `refcount table entry ${i} has reserved bits set`, fix: 'clear the reserved bits' }));
    }
    if (off === 0) continue;
    if (refblockBeyond2p53(t, i)) {
      n++;
      findings.push(beyondFinding(t, i));
    } else if (off % h.clusterSize !== 0) {
      n++;
      findings.push(finding({ id: 'refcount-table.unaligned', severity: 'error', structure: 'refcount table', field: `entry ${i}`, offset: at, length: 8, found: hex(off), expected: `a multiple of the cluster size ${h.clusterSize}`, message: `refcount table entry ${i} points to a refcount block at ${hex(off)}, not cluster aligned`, fix: 'none: rebuild the refcounts' }));
    } else if (off + h.clusterSize > img.fileSize) {
      n++;
      findings.push(finding({ id: 'refcount-table.past-eof', severity: 'error', structure: 'refcount table', field: `entry ${i}`, offset: at, length: 8, found: hex(off), expected: `a refcount block inside the file (${img.fileSize} bytes)`, message: `refcount table entry ${i} points to a refcount block at ${hex(off)}, past the end of the file`, fix: 'none: rebuild the refcounts' }));
    }
  }
  return t;
}

/**
 * refcountOf(cluster index) with a cache of refcount blocks. Clusters beyond the table have refcount 0,
 * as in QEMU. An unaligned refcount block offset is an error (QEMU refuses it too).
 */
export class RefcountReader {
  private readonly blocks = new Map<number, Uint8Array>();

  private constructor(
    private readonly img: OpenedImage,
    readonly table: RefcountTable,
    private readonly maxCached: number,
  ) {}

  static async open(img: OpenedImage, maxCached = 32): Promise<RefcountReader> {
    return new RefcountReader(img, await readRefcountTable(img), maxCached);
  }

  async refcountOf(clusterIndex: number): Promise<number> {
    const t = this.table;
    const tableIndex = Math.floor(clusterIndex / t.perBlock);
    if (tableIndex >= t.entries) return 0;
    const block = await this.block(tableIndex);
    return block ? getRefcount(block, clusterIndex % t.perBlock, t.refcountOrder) : 0;
  }

  /** The refcount block of table entry i, or null when the entry is 0. */
  async block(tableIndex: number): Promise<Uint8Array | null> {
    const off = refblockOffset(this.table, tableIndex);
    if (off === 0) return null;
    if (refblockBeyond2p53(this.table, tableIndex)) throw Qcow2Error.fromFinding('invalid-table', beyondFinding(this.table, tableIndex), this.img.source.name);
    const cs = this.img.header.clusterSize;
    if (off % cs !== 0) {
      throw Qcow2Error.fromFinding('invalid-table', finding({ id: 'refcount-table.unaligned', severity: 'error', structure: 'refcount table', field: `entry ${tableIndex}`, offset: this.table.offset + tableIndex * 8, length: 8, found: hex(off), expected: `a multiple of the cluster size ${cs}`, message: `refcount block offset ${hex(off)} is not cluster aligned`, fix: 'none: rebuild the refcounts' }), this.img.source.name);
    }
    let b = this.blocks.get(off);
    if (!b) {
      b = (await readZeroPadded(this.img.source, off, cs)).bytes;
      if (this.blocks.size >= this.maxCached) this.blocks.delete(this.blocks.keys().next().value as number);
      this.blocks.set(off, b);
    }
    return b;
  }
}
