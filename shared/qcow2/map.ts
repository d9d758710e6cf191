// `qemu-img map --output=json` (QEMU 7.2): block status per layer as bdrv_co_block_status computes it
// with want_zero, the chain walk of qemu-img's get_block_status (depth), and img_map's merge of adjacent
// entries. The extents are produced one at a time, so a map of a huge image streams.
import type { ByteSource } from './byte-source';
import { getHostOffset, type Layer, type Qcow2Layer } from './cluster-reader';
import { RefcountReader } from './refcount';

/** One line of qemu-img map --output=json (7.2 has no "compressed" key). */
export interface MapExtent {
  start: number;
  length: number;
  depth: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
}

/** A merged extent plus what the human format prints (the file the offset refers to). */
export interface MapEntry extends MapExtent {
  filename: string | null;
}

/**
 * What SEEK_DATA/SEEK_HOLE would say at `offset` of a host file: the next data and hole offsets, 'enxio'
 * past the last data, or null when unknown. Only metadata-preallocated images consult it (as QEMU does).
 */
export type AllocationProbe = (source: ByteSource, offset: number) => Promise<{ data: number; hole: number } | 'enxio' | null>;

export interface MapOptions {
  probe?: AllocationProbe;
}

interface Status {
  data: boolean;
  zero: boolean;
  allocated: boolean;
  offsetValid: boolean;
  map: number;
  pnum: number;
  file: string | null;
  eof: boolean;
}

const GIB = 1 << 30;

/** Per-layer state QEMU keeps in BDRVQcow2State (metadata_preallocation_checked). */
const preallocation = new WeakMap<Qcow2Layer, boolean>();

/** qcow2_detect_metadata_preallocation: far more refcounted clusters than the file has blocks. */
export async function detectMetadataPreallocation(layer: Qcow2Layer): Promise<boolean> {
  const known = preallocation.get(layer);
  if (known !== undefined) return known;
  let result = false;
  if (layer.allocatedBytes !== null) {
    const cs = layer.g.clusterSize;
    const realClusters = Math.floor(layer.allocatedBytes / cs);
    const threshold = Math.max(Math.floor((realClusters * 10) / 9), realClusters + 2);
    const endCluster = Math.ceil(layer.img.fileSize / cs);
    const refs = await RefcountReader.open(layer.img);
    let count = 0;
    for (let i = 0; i < endCluster && count <= threshold; i++) {
      if ((await refs.refcountOf(i)) !== 0) count++;
    }
    result = count > threshold;
  }
  preallocation.set(layer, result);
  return result;
}

/** bdrv_co_block_status of the host file (file-posix) for the recursion of preallocated images. */
async function fileStatus(source: ByteSource, offset: number, bytes: number, probe: AllocationProbe | undefined): Promise<Status> {
  const total = await source.size();
  const base: Status = { data: false, zero: false, allocated: false, offsetValid: false, map: offset, pnum: 0, file: source.name, eof: true };
  if (offset >= total) return base;
  bytes = Math.min(bytes, total - offset);
  const found = probe ? await probe(source, offset) : null;
  let data: boolean;
  let pnum: number;
  if (found === 'enxio') {
    data = false;
    pnum = bytes;
  } else if (found === null) {
    data = true;
    pnum = bytes;
  } else if (found.data === offset) {
    data = true;
    pnum = found.hole - offset;
  } else {
    data = false;
    pnum = found.data - offset;
  }
  pnum = Math.min(pnum, bytes);
  return { data, zero: !data, allocated: true, offsetValid: true, map: offset, pnum, file: source.name, eof: offset + pnum === total };
}

/** bdrv_co_block_status(want_zero = true) of one layer. */
async function layerStatus(layer: Layer, offset: number, bytes: number, opts: MapOptions): Promise<Status> {
  const total = layer.size;
  if (offset >= total) return { data: false, zero: false, allocated: false, offsetValid: false, map: 0, pnum: 0, file: null, eof: true };
  bytes = Math.min(bytes, total - offset);
  if (layer.kind === 'raw') {
    // The raw driver passes the request through to its file.
    const st = await fileStatus(layer.source, offset, bytes, opts.probe);
    return { ...st, eof: st.eof || offset + st.pnum === total };
  }
  const m = await getHostOffset(layer, offset, Math.min(bytes, 0x7fffffff));
  const st: Status = { data: false, zero: false, allocated: false, offsetValid: false, map: 0, pnum: m.bytes, file: null, eof: false };
  if (m.type === 'normal' || m.type === 'zero-alloc' || m.type === 'unallocated-alloc') {
    st.offsetValid = true;
    st.map = m.hostOffset;
    st.file = layer.data?.name ?? layer.img.extensions.dataFile ?? layer.name;
  }
  if (m.type === 'zero-plain' || m.type === 'zero-alloc') st.zero = true;
  else if (m.type !== 'unallocated-plain' && m.type !== 'unallocated-alloc') st.data = true;
  const recurse = st.data && st.offsetValid && (await detectMetadataPreallocation(layer));

  if (st.data || st.zero) {
    st.allocated = true;
  } else if (!layer.backing) {
    st.zero = true;
  } else if (offset >= layer.backing.size) {
    st.zero = true;
  }
  if (recurse && layer.data && !st.zero) {
    const f = await fileStatus(layer.data, st.map, st.pnum, opts.probe);
    if (f.eof && (f.pnum === 0 || f.zero)) {
      st.zero = true;
    } else {
      st.pnum = f.pnum;
      if (f.zero) st.zero = true;
    }
  }
  st.eof = offset + st.pnum === total;
  return st;
}

/** qemu-img's get_block_status: walk down the chain until a layer allocates the range. */
async function chainStatus(top: Layer, offset: number, bytes: number, opts: MapOptions): Promise<MapEntry> {
  let layer: Layer | null = top;
  let depth = 0;
  let st: Status;
  for (;;) {
    st = await layerStatus(layer, offset, bytes, opts);
    bytes = st.pnum;
    if (st.zero || st.data) break;
    const next: Layer | null = layer.kind === 'qcow2' ? layer.backing : null;
    if (!next) break;
    layer = next;
    depth++;
  }
  const e: MapEntry = { start: offset, length: bytes, depth, present: st.allocated, zero: st.zero, data: st.data, filename: st.offsetValid ? st.file : null };
  if (st.offsetValid) e.offset = st.map;
  return e;
}

function mergeable(curr: MapEntry, next: MapEntry): boolean {
  if (curr.length === 0) return false;
  if (curr.zero !== next.zero || curr.data !== next.data || curr.depth !== next.depth || curr.present !== next.present) return false;
  if ((curr.filename === null) !== (next.filename === null)) return false;
  if ((curr.offset === undefined) !== (next.offset === undefined)) return false;
  if (curr.filename !== null && curr.filename !== next.filename) return false;
  if (curr.offset !== undefined && curr.offset + curr.length !== next.offset) return false;
  return true;
}

/** img_map: merged extents from guest offset 0 to the virtual size, yielded as they are completed. */
export async function* mapImage(top: Layer, opts: MapOptions = {}): AsyncGenerator<MapEntry> {
  const length = top.size;
  let curr: MapEntry = { start: 0, length: 0, depth: 0, present: false, zero: false, data: false, filename: null };
  while (curr.start + curr.length < length) {
    const offset = curr.start + curr.length;
    const next = await chainStatus(top, offset, Math.min(GIB, length - offset), opts);
    if (next.length === 0) break;
    if (mergeable(curr, next)) {
      curr.length += next.length;
      continue;
    }
    if (curr.length > 0) yield curr;
    curr = next;
  }
  yield curr;
}

/** The JSON value of one extent, keys in qemu-img's order. */
export function mapExtentJson(e: MapEntry): MapExtent {
  const out: MapExtent = { start: e.start, length: e.length, depth: e.depth, present: e.present, zero: e.zero, data: e.data };
  if (e.offset !== undefined) out.offset = e.offset;
  return out;
}

/** qemu-img's exact text for one JSON line (no trailing separator). */
export function mapExtentJsonText(e: MapEntry): string {
  return `{ "start": ${e.start}, "length": ${e.length}, "depth": ${e.depth}, "present": ${e.present}, "zero": ${e.zero}, "data": ${e.data}` +
    (e.offset !== undefined ? `, "offset": ${e.offset}` : '') + '}';
}

export async function mapImageAll(top: Layer, opts: MapOptions = {}): Promise<MapExtent[]> {
  const out: MapExtent[] = [];
  for await (const e of mapImage(top, opts)) out.push(mapExtentJson(e));
  return out;
}
