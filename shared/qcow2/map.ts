// `qemu-img map --output=json` (QEMU 7.2): block status per layer as bdrv_co_block_status computes it
// with want_zero, the chain walk of qemu-img's get_block_status (depth), and img_map's merge of adjacent
// entries. The extents are produced one at a time, so a map of a huge image streams.
import { AsciiWriter, asciiBytes } from '../ascii-writer';
import { hex } from '../bytes';
import type { ByteSource } from './byte-source';
import { hostMappingIn, hostMappingScratch, l1IndexOf, type Layer, type Qcow2Layer } from './cluster-reader';
import { getRefcount } from './entries';
import { finding, Qcow2Error } from './findings';
import type { L2Table } from './l1l2';
import { L2Window } from './l2-window';
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

function newStatus(): Status {
  return { data: false, zero: false, allocated: false, offsetValid: false, map: 0, pnum: 0, file: null, eof: false };
}

const GIB = 1 << 30;
/** 2^53: host offsets must stay below it to be exact (and to be read at all). */
const SAFE_END = 2 ** 53;

/**
 * The located error for a host range at or beyond 2^53: QEMU would map (and read zeros from) it, but no
 * file is that large and the offset cannot be printed or read exactly; the image is refused at the entry.
 */
function hostBeyond2p53(layer: Qcow2Layer, table: L2Table | null, guestOffset: number, hostOffset: number): Qcow2Error {
  const g = layer.g;
  const cs = g.clusterSize;
  const l2Index = Math.floor(guestOffset / cs) % g.l2Entries;
  const inCluster = guestOffset % cs;
  // The run starts at the queried entry; the first entry at or beyond 2^53 is where it crosses.
  const first = hostOffset - inCluster;
  const k = first >= SAFE_END ? 0 : Math.ceil((SAFE_END - first) / cs);
  const index = l2Index + k;
  const tableOffset = table?.offset ?? 0;
  const at = tableOffset + index * g.l2EntrySize;
  return Qcow2Error.fromFinding('invalid-table', finding({
    id: 'l2.offset-too-large', severity: 'error', structure: `L2 table at ${hex(tableOffset)}`, field: `entry ${index}`, offset: at, length: 8,
    found: `host offset ${BigInt(first + k * cs)}`, expected: `a host offset below 2^53 (${BigInt(SAFE_END)})`,
    message: `L2 table at ${hex(tableOffset)} entry ${index} maps guest offset ${guestOffset - inCluster + k * cs} to host offset ${BigInt(first + k * cs)}, at or beyond 2^53 bytes: no file is that large`,
    fix: 'none: the entry is garbage',
  }), layer.name);
}

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
    const { perBlock, refcountOrder, entries } = refs.table;
    // Block by block (what counting cluster by cluster through refcountOf amounts to, without a promise
    // per cluster); stops as soon as the count passes the threshold.
    let count = 0;
    for (let b = 0; b * perBlock < endCluster && b < entries && count <= threshold; b++) {
      const block = await refs.block(b);
      if (!block) continue;
      const n = Math.min(perBlock, endCluster - b * perBlock);
      for (let j = 0; j < n && count <= threshold; j++) {
        if (getRefcount(block, j, refcountOrder) !== 0) count++;
      }
    }
    result = count > threshold;
  }
  preallocation.set(layer, result);
  return result;
}

/**
 * One extent walk of img_map. Block status is computed synchronously from what is at hand (the L2
 * tables of the current window of each layer, file sizes, the last allocation probe); when something
 * is missing the step stops, `need` names the asynchronous load, and the step is retried after it. The
 * computation is a pure function of those loads, so a retry gives what an uninterrupted step would.
 */
class MapWalker {
  private readonly windows = new Map<Qcow2Layer, L2Window>();
  private readonly sizes = new Map<ByteSource, number>();
  /** The last allocation probe of each host file (one per source, so that no two evict each other). */
  private readonly probed = new Map<ByteSource, { offset: number; result: Awaited<ReturnType<AllocationProbe>> }>();
  private need: (() => Promise<unknown>) | null = null;
  private readonly hm = hostMappingScratch();
  private readonly st = newStatus();
  private readonly fst = newStatus();
  /** The extent being merged, and the status of the next piece. */
  private readonly curr: MapEntry = { start: 0, length: 0, depth: 0, present: false, zero: false, data: false, filename: null, offset: undefined };
  private readonly next: MapEntry = { start: 0, length: 0, depth: 0, present: false, zero: false, data: false, filename: null, offset: undefined };
  private done = false;

  /** Whether plainTable may walk the image, and the file name its extents with an offset carry. */
  private readonly plain: boolean;
  private readonly plainFile: string;

  constructor(private readonly top: Layer, private readonly opts: MapOptions) {
    this.plain = top.kind === 'qcow2' && !top.backing && !top.g.extended && !top.g.externalData && top.data === top.img.source;
    this.plainFile = top.kind === 'qcow2' ? top.data?.name ?? top.name : top.name;
  }

  /**
   * Advance by at least `budget` pieces (or to the end), calling `emit` with every completed extent; the
   * object passed is reused, valid only during the call. Returns false once the last extent is emitted.
   */
  async step(emit: (e: MapEntry) => void, budget = 4096): Promise<boolean> {
    if (this.done) return false;
    const length = this.top.size;
    const curr = this.curr;
    const next = this.next;
    let stopped = false;
    for (let n = 0; n < budget; n++) {
      if (curr.start + curr.length >= length) break;
      if (this.plain && this.plainTable(emit, length)) continue;
      const offset = curr.start + curr.length;
      while (!this.chainStatus(this.top, offset, Math.min(GIB, length - offset), next)) {
        const load = this.need as () => Promise<unknown>;
        this.need = null;
        await load();
      }
      if (next.length === 0) {
        stopped = true;
        break;
      }
      this.absorb(emit);
    }
    if (curr.start + curr.length < length && !stopped) return true;
    emit(curr);
    this.done = true;
    return false;
  }

  /** img_map's merge: `next` extends the current extent, or the current one is complete. */
  private absorb(emit: (e: MapEntry) => void): void {
    const curr = this.curr;
    const next = this.next;
    if (mergeable(curr, next)) {
      curr.length += next.length;
      return;
    }
    if (curr.length > 0) emit(curr);
    curr.start = next.start;
    curr.length = next.length;
    curr.depth = next.depth;
    curr.present = next.present;
    curr.zero = next.zero;
    curr.data = next.data;
    curr.filename = next.filename;
    curr.offset = next.offset;
  }

  /**
   * The walk of a plain image straight from its L2 entries: one qcow2 layer without backing file, data
   * file or extended entries. From the current position to the end of its L2 table, entries are taken
   * in runs of one kind (contiguous on the host where they have an offset): each run is a piece with the
   * block status the general step would compute, merged the same way. It stops at the first entry it
   * leaves to the general step: one QEMU refuses (which the general step reports), or the first data
   * cluster while it is not yet known whether the image is metadata-preallocated (or when it is: then
   * data ranges consult the host file). Returns false when it took nothing.
   */
  private plainTable(emit: (e: MapEntry) => void, length: number): boolean {
    const top = this.top as Qcow2Layer;
    const g = top.g;
    const cs = g.clusterSize;
    const pos = this.curr.start + this.curr.length;
    if (pos % cs !== 0) return false;
    const l1Index = l1IndexOf(top, pos);
    const table = this.window(top).get(l1Index);
    if (table === undefined) return false;
    const base = l1Index * g.l2Entries * cs;
    const tableEnd = Math.min(base + g.l2Entries * cs, length);
    const next = this.next;
    if (table === null) {
      setPiece(next, PLAIN_UNALLOCATED, pos, tableEnd - pos, 0, null);
      this.absorb(emit);
      return true;
    }
    const b = table.bytes;
    // Words of the table for the scan over unallocated entries (a sparse image is mostly zeros).
    const words = (b.byteOffset & 3) === 0 ? new Int32Array(b.buffer, b.byteOffset, b.length >> 2) : null;
    const v3 = top.img.header.version >= 3;
    const dataAllowed = preallocation.get(top) === false;
    const file = this.plainFile;
    const endIndex = Math.ceil((tableEnd - base) / cs);
    let i = (pos - base) / cs;
    const first = i;
    while (i < endIndex) {
      const kind = plainKind(b, i);
      const host = entryHost(b, i);
      if (kind === PLAIN_ZERO_ALLOC || kind === PLAIN_ZERO_PLAIN) {
        if (!v3) break;
      }
      if (kind === PLAIN_DATA || kind === PLAIN_ZERO_ALLOC) {
        if (host % cs !== 0) break;
        if (kind === PLAIN_DATA && !dataAllowed) break;
      }
      const j = kind === PLAIN_DATA || kind === PLAIN_ZERO_ALLOC ? contiguousEnd(b, i, endIndex, kind, host, cs) : sameKindEnd(b, words, i, endIndex, kind);
      // A run that reaches 2^53 on the host is left to the general step, which refuses it at its entry.
      if ((kind === PLAIN_DATA || kind === PLAIN_ZERO_ALLOC) && host + (j - i) * cs > SAFE_END) break;
      const start = base + i * cs;
      setPiece(next, kind, start, Math.min(base + j * cs, tableEnd) - start, host, file);
      this.absorb(emit);
      i = j;
    }
    return i > first;
  }

  private window(layer: Qcow2Layer): L2Window {
    let w = this.windows.get(layer);
    if (!w) {
      w = new L2Window(layer.img.source, layer.g, layer.l1, layer.l2);
      this.windows.set(layer, w);
    }
    return w;
  }

  /** bdrv_co_block_status of the host file (file-posix) for the recursion of preallocated images. */
  private fileStatus(source: ByteSource, offset: number, bytes: number, out: Status): boolean {
    const total = this.sizes.get(source);
    if (total === undefined) {
      this.need = async () => this.sizes.set(source, await source.size());
      return false;
    }
    out.data = false;
    out.zero = false;
    out.allocated = false;
    out.offsetValid = false;
    out.map = offset;
    out.pnum = 0;
    out.file = source.name;
    out.eof = true;
    if (offset >= total) return true;
    bytes = Math.min(bytes, total - offset);
    const probe = this.opts.probe;
    let found: Awaited<ReturnType<AllocationProbe>> = null;
    if (probe) {
      const p = this.probed.get(source);
      if (!p || p.offset !== offset) {
        this.need = async () => { this.probed.set(source, { offset, result: await probe(source, offset) }); };
        return false;
      }
      found = p.result;
    }
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
    out.data = data;
    out.zero = !data;
    out.allocated = true;
    out.offsetValid = true;
    out.pnum = pnum;
    out.eof = offset + pnum === total;
    return true;
  }

  /** bdrv_co_block_status(want_zero = true) of one layer. */
  private layerStatus(layer: Layer, offset: number, bytes: number, st: Status): boolean {
    const total = layer.size;
    if (offset >= total) {
      st.data = false;
      st.zero = false;
      st.allocated = false;
      st.offsetValid = false;
      st.map = 0;
      st.pnum = 0;
      st.file = null;
      st.eof = true;
      return true;
    }
    bytes = Math.min(bytes, total - offset);
    if (layer.kind === 'raw') {
      // The raw driver passes the request through to its file.
      if (!this.fileStatus(layer.source, offset, bytes, st)) return false;
      st.eof = st.eof || offset + st.pnum === total;
      return true;
    }
    const w = this.window(layer);
    const l1Index = l1IndexOf(layer, offset);
    const table = w.get(l1Index);
    if (table === undefined) {
      this.need = () => w.load(l1Index);
      return false;
    }
    const m = this.hm;
    hostMappingIn(layer, table, offset, Math.min(bytes, 0x7fffffff), m);
    st.data = false;
    st.zero = false;
    st.allocated = false;
    st.offsetValid = false;
    st.map = 0;
    st.pnum = m.bytes;
    st.file = null;
    st.eof = false;
    const type = m.type;
    if (type === 'normal' || type === 'zero-alloc' || type === 'unallocated-alloc') {
      if (m.hostOffset + m.bytes > SAFE_END) throw hostBeyond2p53(layer, table, offset, m.hostOffset);
      st.offsetValid = true;
      st.map = m.hostOffset;
      st.file = layer.data?.name ?? layer.img.extensions.dataFile ?? layer.name;
    }
    if (type === 'zero-plain' || type === 'zero-alloc') st.zero = true;
    else if (type !== 'unallocated-plain' && type !== 'unallocated-alloc') st.data = true;
    let recurse = false;
    if (st.data && st.offsetValid) {
      const known = preallocation.get(layer);
      if (known === undefined) {
        this.need = () => detectMetadataPreallocation(layer);
        return false;
      }
      recurse = known;
    }

    if (st.data || st.zero) {
      st.allocated = true;
    } else if (!layer.backing) {
      st.zero = true;
    } else if (offset >= layer.backing.size) {
      st.zero = true;
    }
    if (recurse && layer.data && !st.zero) {
      const f = this.fst;
      if (!this.fileStatus(layer.data, st.map, st.pnum, f)) return false;
      if (f.eof && (f.pnum === 0 || f.zero)) {
        st.zero = true;
      } else {
        st.pnum = f.pnum;
        if (f.zero) st.zero = true;
      }
    }
    st.eof = offset + st.pnum === total;
    return true;
  }

  /** qemu-img's get_block_status: walk down the chain until a layer allocates the range. */
  private chainStatus(top: Layer, offset: number, bytes: number, e: MapEntry): boolean {
    let layer: Layer = top;
    let depth = 0;
    const st = this.st;
    for (;;) {
      if (!this.layerStatus(layer, offset, bytes, st)) return false;
      bytes = st.pnum;
      if (st.zero || st.data) break;
      const next: Layer | null = layer.kind === 'qcow2' ? layer.backing : null;
      if (!next) break;
      layer = next;
      depth++;
    }
    e.start = offset;
    e.length = bytes;
    e.depth = depth;
    e.present = st.allocated;
    e.zero = st.zero;
    e.data = st.data;
    e.filename = st.offsetValid ? st.file : null;
    e.offset = st.offsetValid ? st.map : undefined;
    return true;
  }
}

// Kinds of standard L2 entries in an image without backing file or data file, and the block status
// each has there: unallocated reads as zeros (nothing below), the rest is allocated.
const PLAIN_UNALLOCATED = 0;
const PLAIN_ZERO_PLAIN = 1;
const PLAIN_ZERO_ALLOC = 2;
const PLAIN_DATA = 3;
const PLAIN_COMPRESSED = 4;

/** Host cluster offset of standard entry i (bits 9-55), in small-integer arithmetic. */
function entryHost(b: Uint8Array, i: number): number {
  const o = i * 8;
  const high = (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  return high * 0x1_0000_0000 + b[o + 4] * 0x100_0000 + ((b[o + 5] << 16) | ((b[o + 6] & 0xfe) << 8));
}

/** qcow2_get_subcluster_type of standard entry i, for an image without data file. */
function plainKind(b: Uint8Array, i: number): number {
  const o = i * 8;
  if (b[o] & 0x40) return PLAIN_COMPRESSED;
  const some = b[o + 1] | b[o + 2] | b[o + 3] | b[o + 4] | b[o + 5] | (b[o + 6] & 0xfe);
  if (b[o + 7] & 1) return some ? PLAIN_ZERO_ALLOC : PLAIN_ZERO_PLAIN;
  return some ? PLAIN_DATA : PLAIN_UNALLOCATED;
}

/** The end of the run of entries from i on that share `kind` (one without a host offset). */
function sameKindEnd(b: Uint8Array, words: Int32Array | null, i: number, end: number, kind: number): number {
  let j = i + 1;
  while (j < end) {
    if (words && kind === PLAIN_UNALLOCATED) {
      // Whole zero entries first, two words at a time; anything else is classified below.
      let k = j * 2;
      while (j < end && (words[k] | words[k + 1]) === 0) { j++; k += 2; }
      if (j === end) break;
    }
    if (plainKind(b, j) !== kind) break;
    j++;
  }
  return j;
}

/**
 * The end of the run of entries from i on that share `kind` and follow each other on the host. Offsets
 * are compared as two small integers, bits 32-55 and bits 9-31 in 512-byte units (no heap numbers).
 */
function contiguousEnd(b: Uint8Array, i: number, end: number, kind: number, host: number, cs: number): number {
  const step = (cs / 512) | 0;
  let expHigh = Math.floor(host / 0x1_0000_0000) | 0;
  let expLow = ((host % 0x1_0000_0000) / 512) | 0;
  let j = i + 1;
  for (; j < end; j++) {
    if (plainKind(b, j) !== kind) break;
    expLow += step;
    if (expLow >= 0x80_0000) {
      expLow -= 0x80_0000;
      expHigh++;
    }
    const o = j * 8;
    if (((b[o + 4] << 15) | (b[o + 5] << 7) | (b[o + 6] >> 1)) !== expLow) break;
    if (((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) !== expHigh) break;
  }
  return j;
}

function setPiece(e: MapEntry, kind: number, start: number, length: number, host: number, file: string | null): void {
  const hasOffset = kind === PLAIN_DATA || kind === PLAIN_ZERO_ALLOC;
  e.start = start;
  e.length = length;
  e.depth = 0;
  e.present = kind !== PLAIN_UNALLOCATED;
  e.zero = kind === PLAIN_UNALLOCATED || kind === PLAIN_ZERO_PLAIN || kind === PLAIN_ZERO_ALLOC;
  e.data = kind === PLAIN_DATA || kind === PLAIN_COMPRESSED;
  e.filename = hasOffset ? file : null;
  e.offset = hasOffset ? host : undefined;
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

/**
 * img_map's extents, merged, from guest offset 0 to the virtual size, each passed to `emit` as soon as
 * it is complete. The object passed is reused: copy what must outlive the call.
 */
/**
 * Every extent of the map, in order, to `emit`. `between`, when given, is awaited after each step of the
 * walk: a caller streaming the extents waits there for its output to drain (or stops by throwing), which
 * a walk on synchronous reads would otherwise never let it do.
 */
export async function eachMapExtent(top: Layer, emit: (e: MapEntry) => void, opts: MapOptions = {}, between?: () => Promise<void>): Promise<void> {
  const w = new MapWalker(top, opts);
  if (!between) {
    while (await w.step(emit));
    return;
  }
  // Small steps: a piece can be a whole L2 table, and a 4 GiB image of 4 KiB clusters is 2,048 of them,
  // one default step.
  while (await w.step(emit, STREAM_STEP)) await between();
}

/** Pieces per step of a walk whose caller waits between steps (eachMapExtent's `between`). */
const STREAM_STEP = 64;

/** img_map: merged extents from guest offset 0 to the virtual size, yielded as they are completed. */
export async function* mapImage(top: Layer, opts: MapOptions = {}): AsyncGenerator<MapEntry> {
  const w = new MapWalker(top, opts);
  const batch: MapEntry[] = [];
  const keep = (e: MapEntry): void => {
    const c: MapEntry = { start: e.start, length: e.length, depth: e.depth, present: e.present, zero: e.zero, data: e.data, filename: e.filename };
    if (e.offset !== undefined) c.offset = e.offset;
    batch.push(c);
  };
  for (;;) {
    const more = await w.step(keep);
    yield* batch.splice(0);
    if (!more) return;
  }
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

const J_START = asciiBytes('{ "start": ');
const J_LENGTH = asciiBytes(', "length": ');
const J_DEPTH = asciiBytes(', "depth": ');
const J_OFFSET = asciiBytes(', "offset": ');
const flagsText = (present: boolean, zero: boolean, data: boolean): string => `, "present": ${present}, "zero": ${zero}, "data": ${data}`;
/** The flags, indexed by present * 4 + zero * 2 + data; with the depth in front for depth 0, the usual one. */
const J_FLAGS = Array.from({ length: 8 }, (_, k) => asciiBytes(flagsText(k >= 4, (k & 2) !== 0, (k & 1) !== 0)));
const J_DEPTH0_FLAGS = Array.from({ length: 8 }, (_, k) => asciiBytes(', "depth": 0' + flagsText(k >= 4, (k & 2) !== 0, (k & 1) !== 0)));

/** mapExtentJsonText(e), written as ASCII bytes. */
export function putMapExtentJson(w: AsciiWriter, e: MapEntry): void {
  const flags = (e.present ? 4 : 0) + (e.zero ? 2 : 0) + (e.data ? 1 : 0);
  w.put(J_START); w.num(e.start);
  w.put(J_LENGTH); w.num(e.length);
  if (e.depth === 0) {
    w.put(J_DEPTH0_FLAGS[flags]);
  } else {
    w.put(J_DEPTH); w.num(e.depth);
    w.put(J_FLAGS[flags]);
  }
  if (e.offset !== undefined) { w.put(J_OFFSET); w.num(e.offset); }
  w.byte(0x7d);
}

export async function mapImageAll(top: Layer, opts: MapOptions = {}): Promise<MapExtent[]> {
  const out: MapExtent[] = [];
  for await (const e of mapImage(top, opts)) out.push(mapExtentJson(e));
  return out;
}
