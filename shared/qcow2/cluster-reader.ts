// Guest-to-host mapping and guest reads over a chain of layers (qcow2 images, raw backing files). The
// mapping follows QEMU's qcow2_get_host_offset exactly (run lengths included), because qemu-img map's
// output depends on it. Opening files by name (backing file, data file) is the caller's job: this module
// only receives ByteSources, so it stays pure.
import { hex, u32be } from '../bytes';
import type { ByteSource } from './byte-source';
import { compressionMethod, type CompressionMethod } from './compression';
import { decodeL2Entry } from './entries';
import { finding, Qcow2Error } from './findings';
import type { OpenedImage } from './image';
import { L2Loader, rawHostOffset, readL1Table, readZeroPadded, READ_CHUNK, subclusterRange, tableGeometry, type L1Table, type L2Table, type RawL2, type SubclusterType, type TableGeometry } from './l1l2';

export interface RawLayer {
  kind: 'raw';
  name: string;
  source: ByteSource;
  /** Virtual size = file size. */
  size: number;
}

export interface Qcow2Layer {
  kind: 'qcow2';
  name: string;
  img: OpenedImage;
  g: TableGeometry;
  l1: L1Table;
  l2: L2Loader;
  /** Where data clusters live: the image itself, or the external data file (null when not opened). */
  data: ByteSource | null;
  compression: CompressionMethod | null;
  /** The backing layer, null when the image has none (or it was not opened). */
  backing: Layer | null;
  size: number;
  /** st_blocks * 512 of the image file, when known (metadata preallocation detection needs it). */
  allocatedBytes: number | null;
}

export type Layer = RawLayer | Qcow2Layer;

export interface OpenLayerOptions {
  /** The external data file, when the image has one. */
  data?: ByteSource | null;
  backing?: Layer | null;
  allocatedBytes?: number | null;
}

export async function openQcow2Layer(img: OpenedImage, opts: OpenLayerOptions = {}): Promise<Qcow2Layer> {
  const g = tableGeometry(img);
  const l1 = await readL1Table(img);
  return {
    kind: 'qcow2', name: img.source.name, img, g, l1, l2: new L2Loader(img.source, g, l1),
    data: g.externalData ? opts.data ?? null : img.source,
    compression: compressionMethod(img.header.compressionType),
    backing: opts.backing ?? null, size: img.header.size, allocatedBytes: opts.allocatedBytes ?? null,
  };
}

export async function openRawLayer(source: ByteSource): Promise<RawLayer> {
  return { kind: 'raw', name: source.name, source, size: await source.size() };
}

export interface HostMapping {
  type: SubclusterType;
  /** Bytes from the queried offset that share this mapping. */
  bytes: number;
  /** Host offset of the queried byte (normal, zero-alloc, unallocated-alloc), else 0. */
  hostOffset: number;
  /** For compressed clusters: the raw L2 entry word. */
  compressedEntry: bigint | null;
}

function corrupt(layer: Qcow2Layer, id: string, structure: string, field: string, offset: number, found: string, expected: string, message: string): Qcow2Error {
  return Qcow2Error.fromFinding('invalid-table', finding({ id, severity: 'error', structure, field, offset, length: 8, found, expected, message, fix: 'none: QEMU marks the image corrupt' }), layer.name);
}

/** What hostMappingIn fills in: a HostMapping without the bigint, reused across calls. */
export interface HostMappingScratch {
  type: SubclusterType;
  bytes: number;
  hostOffset: number;
  /** The raw L2 entry word of the queried cluster, in 32-bit halves (compressed clusters need it). */
  hi: number;
  lo: number;
}

export function hostMappingScratch(): HostMappingScratch {
  return { type: 'unallocated-plain', bytes: 0, hostOffset: 0, hi: 0, lo: 0 };
}

/** The L1 index whose L2 table maps guest `offset`. */
export function l1IndexOf(layer: Qcow2Layer, offset: number): number {
  return Math.floor(Math.floor(offset / layer.g.clusterSize) / layer.g.l2Entries);
}

/**
 * qcow2_get_host_offset: the mapping of `offset` and how many following bytes (at most `bytes`) share
 * its type and run contiguously on the host, never past the end of the L2 table.
 */
export async function getHostOffset(layer: Qcow2Layer, offset: number, bytes: number): Promise<HostMapping> {
  const table = await layer.l2.forL1Index(l1IndexOf(layer, offset));
  const m = hostMappingScratch();
  hostMappingIn(layer, table, offset, bytes, m);
  // Compressed clusters are mapped one at a time, by their descriptor.
  const compressedEntry = m.type === 'compressed' ? (BigInt(m.hi) << 32n) | BigInt(m.lo) : null;
  return { type: m.type, bytes: m.bytes, hostOffset: m.hostOffset, compressedEntry };
}

/** The last run of standard entries counted to its end, by table (the bytes view identifies it). */
const lastRun: { bytes: Uint8Array | null; first: number; end: number } = { bytes: null, first: 0, end: 0 };

/** Reused entry views, so that the walk over a table allocates nothing. */
const firstEntry: RawL2 = { hi: 0, lo: 0, alloc: 0, zero: 0 };
const nextEntry: RawL2 = { hi: 0, lo: 0, alloc: 0, zero: 0 };

function loadEntry(e: RawL2, t: L2Table, i: number, g: TableGeometry): RawL2 {
  const o = i * g.l2EntrySize;
  e.hi = u32be(t.bytes, o);
  e.lo = u32be(t.bytes, o + 4);
  e.zero = g.extended ? u32be(t.bytes, o + 8) : 0;
  e.alloc = g.extended ? u32be(t.bytes, o + 12) : 0;
  return e;
}

/**
 * The synchronous core of getHostOffset, over the L2 table of `offset`'s L1 entry (null when that entry
 * is unallocated), already loaded by the caller. Fills `out`; throws the located errors QEMU reports.
 */
export function hostMappingIn(layer: Qcow2Layer, table: L2Table | null, offset: number, bytes: number, out: HostMappingScratch): void {
  const g = layer.g;
  const cs = g.clusterSize;
  const offsetInCluster = offset % cs;
  const guestCluster = Math.floor(offset / cs);
  const l2Index = guestCluster % g.l2Entries;
  let bytesNeeded = bytes + offsetInCluster;
  const bytesAvailableInTable = (g.l2Entries - l2Index) * cs;
  if (bytesNeeded > bytesAvailableInTable) bytesNeeded = bytesAvailableInTable;
  out.hi = 0;
  out.lo = 0;
  out.hostOffset = 0;
  if (!table) {
    out.type = 'unallocated-plain';
    out.bytes = bytesNeeded - offsetInCluster;
    return;
  }
  const sc = offsetInCluster >>> g.subclusterBits; // both below 2^21
  const first = loadEntry(firstEntry, table, l2Index, g);
  out.hi = first.hi;
  out.lo = first.lo;
  const entryOffset = table.offset + l2Index * g.l2EntrySize;
  const firstRange = subclusterRange(first, sc, g);
  const type = firstRange.type;
  out.type = type;
  if (type === 'invalid') {
    throw corrupt(layer, 'l2.invalid-bitmap', `L2 table at ${hex(table.offset)}`, `entry ${l2Index}`, entryOffset, 'an impossible subcluster bitmap', 'a valid subcluster bitmap', `invalid cluster entry found (L2 offset ${hex(table.offset)}, L2 index ${l2Index})`);
  }
  if (layer.img.header.version < 3 && (type === 'zero-plain' || type === 'zero-alloc')) {
    throw corrupt(layer, 'l2.zero-in-v2', `L2 table at ${hex(table.offset)}`, `entry ${l2Index}`, entryOffset, 'zero flag set', 'no zero clusters in a version 2 image', `zero cluster entry found in pre-v3 image (L2 offset ${hex(table.offset)}, L2 index ${l2Index})`);
  }
  if (type === 'compressed') {
    if (g.externalData) throw corrupt(layer, 'l2.compressed-with-data-file', `L2 table at ${hex(table.offset)}`, `entry ${l2Index}`, entryOffset, 'a compressed cluster', 'none with an external data file', 'compressed cluster entry found in image with external data file');
    // Compressed clusters are mapped one at a time.
    out.bytes = Math.min(bytesNeeded, cs) - offsetInCluster;
    return;
  }
  const checkOffset = type === 'normal' || type === 'zero-alloc' || type === 'unallocated-alloc';
  const firstHost = rawHostOffset(first);
  if (checkOffset) {
    out.hostOffset = firstHost + offsetInCluster;
    if (firstHost % cs !== 0) {
      throw corrupt(layer, 'l2.unaligned', `L2 table at ${hex(table.offset)}`, `entry ${l2Index}`, entryOffset, hex(firstHost), `a multiple of the cluster size ${cs}`, `cluster allocation offset ${hex(firstHost)} unaligned (L2 offset ${hex(table.offset)}, L2 index ${l2Index})`);
    }
    if (g.externalData && out.hostOffset !== offset) {
      throw corrupt(layer, 'l2.data-file-offset', `L2 table at ${hex(table.offset)}`, `entry ${l2Index}`, entryOffset, hex(firstHost), hex(offset - offsetInCluster), `external data file host cluster offset ${hex(firstHost)} does not match guest cluster offset ${hex(offset - offsetInCluster)}`);
    }
  }
  // count_contiguous_subclusters
  const nbClusters = Math.ceil(bytesNeeded / cs);
  let count = firstRange.count;
  if (!g.extended && lastRun.bytes === table.bytes && l2Index >= lastRun.first && l2Index < lastRun.end) {
    // Inside a run counted before to its natural end: counting again would stop at the same entry.
    count = Math.min(lastRun.end, l2Index + nbClusters) - l2Index;
  } else if (!g.extended) {
    // One subcluster per cluster: a following entry continues the run when it has the same type (and,
    // for types with a host offset, the next host cluster). The type is tested on the entry's bytes:
    // bit 62 compressed, bit 0 reads-as-zero, bits 9-55 the host offset, bit 63 (copied) for a data file.
    const b = table.bytes;
    const end = l2Index + nbClusters;
    let i = l2Index + 1;
    if (checkOffset) {
      // normal or zero-alloc: the next host cluster (never 0, so a host offset is there) and the same
      // zero bit; with a data file, offset 0 as normal needs no special case since expected > 0.
      // The offset is compared in two small integers, bits 32-55 and bits 9-31 (in 512-byte units), so
      // that the loop makes no heap numbers before it is optimised.
      const zeroBit = type === 'zero-alloc' ? 1 : 0;
      // `| 0`: small integers for the interpreter too (a division may leave a heap number).
      const step = (cs / 512) | 0;
      let expHigh = Math.floor(firstHost / 0x1_0000_0000) | 0;
      let expLow = ((firstHost % 0x1_0000_0000) / 512) | 0;
      for (; i < end; i++) {
        const o = i * 8;
        if ((b[o] & 0x40) !== 0 || (b[o + 7] & 1) !== zeroBit) break;
        expLow += step;
        if (expLow >= 0x80_0000) {
          expLow -= 0x80_0000;
          expHigh++;
        }
        if (((b[o + 4] << 15) | (b[o + 5] << 7) | (b[o + 6] >> 1)) !== expLow) break;
        if (((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) !== expHigh) break;
      }
    } else {
      // zero-plain or unallocated-plain: no host offset, the same zero bit, and (unallocated with a data
      // file) no copied flag, which would make offset 0 a normal cluster.
      const zeroBit = type === 'zero-plain' ? 1 : 0;
      const copiedMatters = g.externalData && zeroBit === 0;
      for (; i < end; i++) {
        const o = i * 8;
        if ((b[o] & 0x40) !== 0 || (b[o + 7] & 1) !== zeroBit) break;
        if ((b[o + 1] | b[o + 2] | b[o + 3] | b[o + 4] | b[o + 5] | (b[o + 6] & 0xfe)) !== 0) break;
        if (copiedMatters && (b[o] & 0x80) !== 0) break;
      }
    }
    count = i - l2Index;
    i -= l2Index;
    // Remember the run when it ended by itself (not at the caller's bound): a metadata-preallocated image
    // is mapped in many queries inside one long run, each of which would count it again.
    if (i < nbClusters || l2Index + nbClusters === g.l2Entries) {
      lastRun.bytes = table.bytes;
      lastRun.first = l2Index;
      lastRun.end = l2Index + i;
    }
  } else if (sc + count >= g.subclustersPerCluster) {
    let expected = firstHost;
    for (let i = 1; i < nbClusters; i++) {
      const e = loadEntry(nextEntry, table, l2Index + i, g);
      const r = subclusterRange(e, 0, g);
      if (r.type === 'invalid') {
        throw corrupt(layer, 'l2.invalid-bitmap', `L2 table at ${hex(table.offset)}`, `entry ${l2Index + i}`, table.offset + (l2Index + i) * g.l2EntrySize, 'an impossible subcluster bitmap', 'a valid subcluster bitmap', `invalid cluster entry found (L2 offset ${hex(table.offset)}, L2 index ${l2Index + i})`);
      }
      if (r.type !== type) break;
      if (checkOffset) {
        expected += cs;
        if (expected !== rawHostOffset(e)) break;
      }
      count += r.count;
      if (r.count < g.subclustersPerCluster) break;
    }
  }
  let available = (count + sc) * 2 ** g.subclusterBits;
  if (available > bytesNeeded) available = bytesNeeded;
  out.bytes = available - offsetInCluster;
}

/** Decompressed clusters, keyed by the L2 entry, to serve sequential reads of one cluster. */
const lastCluster = new WeakMap<Qcow2Layer, { entry: bigint; data: Uint8Array }>();

async function readCompressed(layer: Qcow2Layer, entry: bigint): Promise<Uint8Array> {
  const hit = lastCluster.get(layer);
  if (hit && hit.entry === entry) return hit.data;
  const g = layer.g;
  const d = decodeL2Entry(entry, g.clusterBits, false);
  if (!layer.compression) {
    throw new Qcow2Error({ code: 'unsupported-feature', message: `unknown compression_type ${layer.img.header.compressionType}`, file: layer.name });
  }
  // The descriptor covers at most 2^(cluster_bits - 8) sectors, so this read is bounded by the format.
  const size = d.compressedSize;
  const raw = (await readZeroPadded(layer.img.source, d.hostOffset, size)).bytes;
  // The codecs load on first use: most images have no compressed cluster.
  const { decompressCluster, DecompressError } = await import('./decompress');
  let data: Uint8Array;
  try {
    data = decompressCluster(raw, g.clusterSize, layer.compression);
  } catch (e) {
    if (!(e instanceof DecompressError)) throw e;
    throw Qcow2Error.fromFinding('invalid-table', finding({ id: 'data.decompress', severity: 'error', structure: 'compressed cluster', field: 'data', offset: d.hostOffset, length: size, found: e.message, expected: `a ${layer.compression} stream of one ${g.clusterSize}-byte cluster`, message: `compressed cluster at ${hex(d.hostOffset)} cannot be decompressed: ${e.message}`, fix: 'none: the cluster is lost' }), layer.name);
  }
  lastCluster.set(layer, { entry, data });
  return data;
}

async function readInto(src: ByteSource, offset: number, out: Uint8Array, at: number, length: number): Promise<void> {
  const { bytes } = await readZeroPadded(src, offset, length);
  out.set(bytes, at);
}

/**
 * Read guest bytes [offset, offset + length) of a layer, through its backing chain. Unallocated ranges
 * read from the backing layer (zero past its end), zero clusters as zeros, compressed clusters
 * decompressed. `length` is the caller's bound (the UI reads a page, the CLI a chunk).
 */
export async function readGuest(layer: Layer, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await readGuestInto(layer, offset, out, 0, length);
  return out;
}

async function readGuestInto(layer: Layer, offset: number, out: Uint8Array, at: number, length: number): Promise<void> {
  const end = Math.min(offset + length, layer.size);
  if (layer.kind === 'raw') {
    if (end > offset) await readInto(layer.source, offset, out, at, end - offset);
    return;
  }
  let pos = offset;
  while (pos < end) {
    const m = await getHostOffset(layer, pos, Math.min(end - pos, READ_CHUNK));
    const n = Math.min(m.bytes, end - pos);
    const dst = at + (pos - offset);
    switch (m.type) {
      case 'normal':
        if (!layer.data) throw new Qcow2Error({ code: 'io', message: 'the external data file is not open', file: layer.name });
        await readInto(layer.data, m.hostOffset, out, dst, n);
        break;
      case 'compressed': {
        const cluster = await readCompressed(layer, m.compressedEntry ?? 0n);
        const inCluster = pos % layer.g.clusterSize;
        out.set(cluster.subarray(inCluster, inCluster + n), dst);
        break;
      }
      case 'zero-plain':
      case 'zero-alloc':
        out.fill(0, dst, dst + n);
        break;
      case 'unallocated-plain':
      case 'unallocated-alloc':
        if (layer.backing) await readGuestInto(layer.backing, pos, out, dst, n);
        else out.fill(0, dst, dst + n);
        break;
      case 'invalid':
        throw new Qcow2Error({ code: 'invalid-table', message: `invalid cluster entry at guest offset ${hex(pos)}`, file: layer.name });
    }
    pos += n;
  }
}
