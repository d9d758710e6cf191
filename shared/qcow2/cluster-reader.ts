// Guest-to-host mapping and guest reads over a chain of layers (qcow2 images, raw backing files). The
// mapping follows QEMU's qcow2_get_host_offset exactly (run lengths included), because qemu-img map's
// output depends on it. Opening files by name (backing file, data file) is the caller's job: this module
// only receives ByteSources, so it stays pure.
import { hex } from '../bytes';
import type { ByteSource } from './byte-source';
import { compressionMethod, decompressCluster, DecompressError, type CompressionMethod } from './decompress';
import { decodeL2Entry } from './entries';
import { finding, Qcow2Error } from './findings';
import type { OpenedImage } from './image';
import { L2Loader, rawHostOffset, rawL2, readL1Table, readZeroPadded, READ_CHUNK, subclusterRange, tableGeometry, type L1Table, type SubclusterType, type TableGeometry } from './l1l2';

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

/**
 * qcow2_get_host_offset: the mapping of `offset` and how many following bytes (at most `bytes`) share
 * its type and run contiguously on the host, never past the end of the L2 table.
 */
export async function getHostOffset(layer: Qcow2Layer, offset: number, bytes: number): Promise<HostMapping> {
  const g = layer.g;
  const cs = g.clusterSize;
  const offsetInCluster = offset % cs;
  const guestCluster = Math.floor(offset / cs);
  const l2Index = guestCluster % g.l2Entries;
  const l1Index = Math.floor(guestCluster / g.l2Entries);
  let bytesNeeded = bytes + offsetInCluster;
  const bytesAvailableInTable = (g.l2Entries - l2Index) * cs;
  if (bytesNeeded > bytesAvailableInTable) bytesNeeded = bytesAvailableInTable;

  const table = await layer.l2.forL1Index(l1Index);
  if (!table) {
    return { type: 'unallocated-plain', bytes: bytesNeeded - offsetInCluster, hostOffset: 0, compressedEntry: null };
  }
  const sc = Math.floor(offsetInCluster / 2 ** g.subclusterBits);
  const first = rawL2(table, l2Index, g);
  const entryOffset = table.offset + l2Index * g.l2EntrySize;
  const firstRange = subclusterRange(first, sc, g);
  const type = firstRange.type;
  let hostOffset = 0;
  let compressedEntry: bigint | null = null;
  if (type === 'invalid') {
    throw corrupt(layer, 'l2.invalid-bitmap', `L2 table at ${hex(table.offset)}`, `entry ${l2Index}`, entryOffset, 'an impossible subcluster bitmap', 'a valid subcluster bitmap', `invalid cluster entry found (L2 offset ${hex(table.offset)}, L2 index ${l2Index})`);
  }
  if (layer.img.header.version < 3 && (type === 'zero-plain' || type === 'zero-alloc')) {
    throw corrupt(layer, 'l2.zero-in-v2', `L2 table at ${hex(table.offset)}`, `entry ${l2Index}`, entryOffset, 'zero flag set', 'no zero clusters in a version 2 image', `zero cluster entry found in pre-v3 image (L2 offset ${hex(table.offset)}, L2 index ${l2Index})`);
  }
  if (type === 'compressed') {
    if (g.externalData) throw corrupt(layer, 'l2.compressed-with-data-file', `L2 table at ${hex(table.offset)}`, `entry ${l2Index}`, entryOffset, 'a compressed cluster', 'none with an external data file', 'compressed cluster entry found in image with external data file');
    // Compressed clusters are mapped one at a time.
    compressedEntry = (BigInt(first.hi) << 32n) | BigInt(first.lo);
    return { type, bytes: Math.min(bytesNeeded, cs) - offsetInCluster, hostOffset: 0, compressedEntry };
  }
  const checkOffset = type === 'normal' || type === 'zero-alloc' || type === 'unallocated-alloc';
  if (checkOffset) {
    const hostCluster = rawHostOffset(first);
    hostOffset = hostCluster + offsetInCluster;
    if (hostCluster % cs !== 0) {
      throw corrupt(layer, 'l2.unaligned', `L2 table at ${hex(table.offset)}`, `entry ${l2Index}`, entryOffset, hex(hostCluster), `a multiple of the cluster size ${cs}`, `cluster allocation offset ${hex(hostCluster)} unaligned (L2 offset ${hex(table.offset)}, L2 index ${l2Index})`);
    }
    if (g.externalData && hostOffset !== offset) {
      throw corrupt(layer, 'l2.data-file-offset', `L2 table at ${hex(table.offset)}`, `entry ${l2Index}`, entryOffset, hex(hostCluster), hex(offset - offsetInCluster), `external data file host cluster offset ${hex(hostCluster)} does not match guest cluster offset ${hex(offset - offsetInCluster)}`);
    }
  }
  // count_contiguous_subclusters
  const nbClusters = Math.ceil(bytesNeeded / cs);
  let count = 0;
  let expectedOffset = rawHostOffset(first);
  for (let i = 0; i < nbClusters; i++) {
    const firstSc = i === 0 ? sc : 0;
    const e = i === 0 ? first : rawL2(table, l2Index + i, g);
    const r = i === 0 ? firstRange : subclusterRange(e, firstSc, g);
    if (r.type === 'invalid') {
      if (i === 0) break;
      throw corrupt(layer, 'l2.invalid-bitmap', `L2 table at ${hex(table.offset)}`, `entry ${l2Index + i}`, table.offset + (l2Index + i) * g.l2EntrySize, 'an impossible subcluster bitmap', 'a valid subcluster bitmap', `invalid cluster entry found (L2 offset ${hex(table.offset)}, L2 index ${l2Index + i})`);
    }
    if (i > 0) {
      if (r.type !== type) break;
      if (checkOffset) {
        expectedOffset += cs;
        if (expectedOffset !== rawHostOffset(e)) break;
      }
    }
    count += r.count;
    if (firstSc + r.count < g.subclustersPerCluster) break;
  }
  let available = (count + sc) * 2 ** g.subclusterBits;
  if (available > bytesNeeded) available = bytesNeeded;
  return { type, bytes: available - offsetInCluster, hostOffset, compressedEntry };
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
