// What differs between two images (or an image and one of its internal snapshots): header fields,
// extensions and feature bits; zones; and guest data. Guest data is compared by walking both mappings
// (the extents qemu-img map computes, shared/qcow2/map.ts) side by side and reading only where the
// mappings cannot decide: zero against zero is equal, and the same host bytes of the same file (a cluster
// a snapshot shares with the active table, a backing file both sides use) are equal without a read. The
// verdict on guest data is qemu-img compare's (QEMU 7.2 qemu-img.c img_compare): identical when every
// guest byte is equal, bytes past the end of the shorter image counting as zeros; the first mismatch is
// reported at the 512-byte sector that holds it, as compare_buffers and find_nonzero do.
import { hex } from '../bytes';
import type { ByteSource } from './byte-source';
import type { Layer, Qcow2Layer } from './cluster-reader';
import { getHostOffset, readGuest } from './cluster-reader';
import type { ExtensionsResult, HeaderExtension } from './extensions';
import type { FeatureBit } from './features';
import { featureDisplayName } from './features';
import type { Field } from './field';
import type { AbortSignalLike } from './check';
import { Qcow2Error } from './findings';
import type { OpenedImage } from './image';
import { L2Loader, readL1Table } from './l1l2';
import type { SyncReadable } from './l2-window';
import { mapImage, type AllocationProbe, type MapEntry } from './map';
import type { Snapshot } from './snapshots';
import { getZoneCondition, zoneCapacity, zoneLength, zoneStart, zoneTypeName, type ZoneTable } from './zone-table';
import type { ZoneCondition, ZoneType } from './zoned-types';

/** qemu-img compare's sector: mismatches are reported at its granularity. */
export const COMPARE_SECTOR = 512;
/** Largest guest read per side in one step (qemu-img compare reads 2 MiB; one step's buffers stay small). */
export const DIFF_READ_CHUNK = 1 << 20;
/** Bytes of each side kept as a sample at the start of a content range (for display). */
export const DIFF_SAMPLE_BYTES = 32;

// ---------------------------------------------------------------- fields

export type FieldArea = 'header' | 'extension' | 'feature' | 'zoned' | 'snapshot';

/** One field that differs: its name, where it is in each file (null where absent) and both values. */
export interface FieldDifference {
  area: FieldArea;
  field: string;
  offsetA: number | null;
  offsetB: number | null;
  /** Display values; null where the side has no such field. */
  a: string | null;
  b: string | null;
}

/** The header-level facts of one side: the image's, or for a snapshot its own L1 table and size. */
export interface DiffSideMeta {
  label: string;
  fields: Field[];
  extensions: ExtensionsResult;
  features: { incompatible: FeatureBit[]; compatible: FeatureBit[]; autoclear: FeatureBit[] };
  /** The snapshot this side is, null for an image. */
  snapshot: { index: number; name: string; id: string } | null;
}

function fieldValue(f: Field): string {
  if (!f.present) return 'absent';
  return typeof f.value === 'number' && f.name !== 'magic' ? `${f.value}` : `${f.value ?? ''}`;
}

/** Header fields compared by name and raw bytes (a field beyond header_length is "absent"). */
export function diffHeaderFields(a: readonly Field[], b: readonly Field[], area: FieldArea = 'header'): FieldDifference[] {
  const out: FieldDifference[] = [];
  const byName = new Map(b.map((f) => [f.name, f]));
  const seen = new Set<string>();
  for (const fa of a) {
    seen.add(fa.name);
    const fb = byName.get(fa.name);
    if (!fb) {
      out.push({ area, field: fa.name, offsetA: fa.offset, offsetB: null, a: fieldValue(fa), b: null });
    } else if (fa.raw !== fb.raw || fa.present !== fb.present) {
      out.push({ area, field: fa.name, offsetA: fa.offset, offsetB: fb.offset, a: fieldValue(fa), b: fieldValue(fb) });
    }
  }
  for (const fb of b) if (!seen.has(fb.name)) out.push({ area, field: fb.name, offsetA: null, offsetB: fb.offset, a: null, b: fieldValue(fb) });
  return out;
}

const MASK_OFFSET = { incompatible: 72, compatible: 80, autoclear: 88 } as const;

/** Every feature bit set on one side and clear on the other, named. */
export function diffFeatureBits(a: DiffSideMeta['features'], b: DiffSideMeta['features']): FieldDifference[] {
  const out: FieldDifference[] = [];
  for (const kind of ['incompatible', 'compatible', 'autoclear'] as const) {
    const setA = new Map(a[kind].filter((x) => x.set).map((x) => [x.bit, x]));
    const setB = new Map(b[kind].filter((x) => x.set).map((x) => [x.bit, x]));
    const bits = [...new Set([...setA.keys(), ...setB.keys()])].sort((x, y) => x - y);
    for (const bit of bits) {
      const fa = setA.get(bit);
      const fb = setB.get(bit);
      if (fa && fb) continue;
      const named = (fa ?? fb) as FeatureBit;
      // The byte of the big-endian mask that holds the bit.
      const at = MASK_OFFSET[kind] + 7 - (bit >> 3);
      out.push({ area: 'feature', field: `${kind} bit ${bit} (${featureDisplayName(named)})`, offsetA: at, offsetB: at, a: fa ? 'set' : 'clear', b: fb ? 'set' : 'clear' });
    }
  }
  return out;
}

function extensionValue(e: HeaderExtension): string {
  const c = e.content;
  switch (c.kind) {
    case 'backing-format': return c.format;
    case 'data-file': return c.path;
    case 'feature-table': return `${c.entries.length} entries`;
    case 'bitmaps': return `${c.bitmaps.nbBitmaps} bitmaps, directory at ${hex(c.bitmaps.bitmapDirectoryOffset)} (${c.bitmaps.bitmapDirectorySize} bytes)`;
    case 'crypto': return `at ${hex(c.crypto.offset)}, ${c.crypto.length} bytes`;
    default: return e.raw.length > 64 ? `${e.length} bytes: ${e.raw.slice(0, 64)}…` : `${e.length} bytes: ${e.raw}`;
  }
}

/**
 * Extensions compared by type (magic): one present on one side only, or the same type with other bytes.
 * The zoned extension is compared field by field; the backing file name (not an extension, but stored
 * in the same cluster) is compared here too, as the text qemu-img prints.
 */
export function diffExtensions(a: ExtensionsResult, b: ExtensionsResult): FieldDifference[] {
  const out: FieldDifference[] = [];
  if (a.backingFile !== b.backingFile) out.push({ area: 'extension', field: 'backing file name', offsetA: null, offsetB: null, a: a.backingFile, b: b.backingFile });
  const list = (r: ExtensionsResult): HeaderExtension[] => r.extensions.filter((e) => e.content.kind !== 'end');
  const eb = new Map<number, HeaderExtension>();
  for (const e of list(b)) if (!eb.has(e.magic)) eb.set(e.magic, e);
  const seen = new Set<number>();
  for (const x of list(a)) {
    if (seen.has(x.magic)) continue;
    seen.add(x.magic);
    const y = eb.get(x.magic);
    const name = `${x.name} extension (${hex(x.magic, 8)})`;
    if (!y) {
      out.push({ area: 'extension', field: name, offsetA: x.offset, offsetB: null, a: extensionValue(x), b: null });
      continue;
    }
    if (x.raw === y.raw && x.length === y.length) continue;
    if (x.content.kind === 'zoned' && y.content.kind === 'zoned' && x.content.zoned && y.content.zoned) {
      const fy = new Map(y.content.zoned.fields.map((f) => [f.name, f]));
      let any = false;
      for (const f of x.content.zoned.fields) {
        const g = fy.get(f.name);
        if (g && g.raw === f.raw) continue;
        any = true;
        out.push({ area: 'zoned', field: f.name, offsetA: f.offset, offsetB: g?.offset ?? null, a: String(f.value), b: g ? String(g.value) : null });
      }
      for (const g of y.content.zoned.fields) {
        if (x.content.zoned.fields.some((f) => f.name === g.name)) continue;
        any = true;
        out.push({ area: 'zoned', field: g.name, offsetA: null, offsetB: g.offset, a: null, b: String(g.value) });
      }
      if (any) continue;
    }
    out.push({ area: 'extension', field: name, offsetA: x.offset, offsetB: y.offset, a: extensionValue(x), b: extensionValue(y) });
  }
  for (const y of list(b)) {
    if (seen.has(y.magic)) continue;
    seen.add(y.magic);
    out.push({ area: 'extension', field: `${y.name} extension (${hex(y.magic, 8)})`, offsetA: null, offsetB: y.offset, a: null, b: extensionValue(y) });
  }
  return out;
}

/** Every field-level difference: header, feature bits, extensions. */
export function diffMeta(a: DiffSideMeta, b: DiffSideMeta): FieldDifference[] {
  return [...diffHeaderFields(a.fields, b.fields), ...diffFeatureBits(a.features, b.features), ...diffExtensions(a.extensions, b.extensions)];
}

/** The header-level side of an image. */
export function imageMeta(img: OpenedImage, label: string): DiffSideMeta {
  return { label, fields: img.header.fields, extensions: img.extensions, features: img.features, snapshot: null };
}

/**
 * The header-level side of snapshot `s` of `img`: the image's header with the fields a snapshot has of
 * its own (its L1 table and, from its extra data, its disk size) in place of the active ones, at the
 * offsets of the snapshot table entry, so that "A against A@snap" names what the snapshot changes.
 */
export function snapshotMeta(img: OpenedImage, s: Snapshot, label: string): DiffSideMeta {
  const own = new Map<string, string>([['l1_table_offset', 'l1_table_offset'], ['l1_size', 'l1_size'], ['size', 'disk_size']]);
  const fields = img.header.fields.map((f) => {
    const name = own.get(f.name);
    const sf = name ? s.fields.find((x) => x.name === name) : undefined;
    return sf ? { ...sf, name: f.name, description: `snapshot ${s.index} ("${s.name}"): ${sf.description}` } : f;
  });
  return { label, fields, extensions: img.extensions, features: img.features, snapshot: { index: s.index, name: s.name, id: s.id } };
}

/** The guest view of snapshot `s`: the image's mapping through the snapshot's L1 table, at its disk size. */
export async function snapshotLayer(top: Qcow2Layer, s: Snapshot): Promise<Qcow2Layer> {
  const l1 = await readL1Table(top.img, s.l1TableOffset, s.l1Size, `L1 table of snapshot ${s.index} ("${s.name}")`, s.offset);
  return { ...top, l1, l2: new L2Loader(top.img.source, top.g, l1), size: s.diskSize };
}

/** qemu-img's lookup of a snapshot by id or name (bdrv_snapshot_find: the id first, then the name). */
export function findSnapshot(snapshots: readonly Snapshot[], idOrName: string, file: string): Snapshot {
  const s = snapshots.find((x) => x.id === idOrName) ?? snapshots.find((x) => x.name === idOrName);
  if (!s) {
    const names = snapshots.map((x) => `"${x.name}"`).join(', ');
    throw new Qcow2Error({ code: 'invalid-argument', file, message: `no snapshot "${idOrName}" in ${file}${names ? ` (it has ${names})` : ' (it has none)'}` });
  }
  return s;
}

// ---------------------------------------------------------------- zones

export interface ZoneSideState {
  wp: number;
  condition: ZoneCondition;
  type: ZoneType;
  start: number;
  length: number;
  capacity: number;
}

export type ZoneChange = 'wp' | 'condition' | 'type' | 'geometry' | 'data';

export interface ZoneDifference {
  zone: number;
  /** Null on the side that has no such zone. */
  a: ZoneSideState | null;
  b: ZoneSideState | null;
  changes: ZoneChange[];
}

function zoneSide(t: ZoneTable, i: number): ZoneSideState {
  return { wp: t.wp[i], condition: getZoneCondition(t, i), type: zoneTypeName(t.type[i]), start: zoneStart(t, i), length: zoneLength(t, i), capacity: zoneCapacity(t, i) };
}

/**
 * Zones whose write pointer, condition, type or placement differ, plus those whose guest data differs
 * (`dataZones`, indices in A's geometry, from the guest diff).
 */
export function diffZones(a: ZoneTable, b: ZoneTable, dataZones: ReadonlySet<number> = new Set(), max = Infinity): { list: ZoneDifference[]; count: number } {
  const out: ZoneDifference[] = [];
  let count = 0;
  const n = Math.max(a.count, b.count);
  for (let i = 0; i < n; i++) {
    const sa = i < a.count ? zoneSide(a, i) : null;
    const sb = i < b.count ? zoneSide(b, i) : null;
    const changes: ZoneChange[] = [];
    if (!sa || !sb) {
      changes.push('geometry');
    } else {
      if (sa.start !== sb.start || sa.length !== sb.length || sa.capacity !== sb.capacity) changes.push('geometry');
      if (sa.type !== sb.type) changes.push('type');
      if (sa.wp !== sb.wp) changes.push('wp');
      if (sa.condition !== sb.condition) changes.push('condition');
    }
    if (dataZones.has(i)) changes.push('data');
    if (!changes.length) continue;
    count++;
    if (out.length < max) out.push({ zone: i, a: sa, b: sb, changes });
  }
  return { list: out, count };
}

// ---------------------------------------------------------------- guest data

export type MappingKind = 'data' | 'compressed' | 'zero' | 'unallocated' | 'beyond-end';

/** How one side maps the first byte of a range. */
export interface RangeMapping {
  kind: MappingKind;
  /** 0: the image itself; n: the n-th backing file. */
  depth: number;
  /** Host offset of the range's first byte in `file` (data, and zero clusters that keep one). */
  host: number | null;
  /** The file the host offset is in. */
  file: string | null;
}

export interface GuestRange {
  start: number;
  length: number;
  a: RangeMapping;
  b: RangeMapping;
}

export interface ContentRange extends GuestRange {
  /** The first DIFF_SAMPLE_BYTES bytes of each side at `start`, as hex. */
  sampleA: string;
  sampleB: string;
}

export interface GuestDiff {
  sizeA: number;
  sizeB: number;
  identical: boolean;
  /** qemu-img compare's "Content mismatch at offset N!": the sector of the first differing byte. */
  firstMismatch: number | null;
  /** Ranges whose bytes differ, coalesced; at most maxRanges of them (contentRangeCount counts all). */
  content: ContentRange[];
  contentRangeCount: number;
  differingBytes: number;
  /** Ranges with the same bytes on both sides but another mapping (metadata only), coalesced and capped. */
  layout: GuestRange[];
  layoutRangeCount: number;
  layoutBytes: number;
  /** Guest bytes read from each side (the rest was decided from the mappings). */
  readA: number;
  readB: number;
  /** Zones (in the zone size given) that hold differing bytes. */
  dataZones: number[];
}

export interface GuestDiffOptions {
  signal?: AbortSignalLike;
  onProgress?: (done: number, total: number) => void;
  maxRanges?: number;
  /** When set, the zones of this size that hold a differing byte are listed. */
  zoneSize?: number;
  /**
   * Whether two equally long buffers hold the same bytes: the platform's memcmp where there is one
   * (the engine passes Node's Buffer.compare); differing buffers are then compared sector by sector here.
   */
  bytesEqual?: (a: Uint8Array, b: Uint8Array) => boolean;
  /** Host allocation (SEEK_DATA) for metadata-preallocated images, as qemu-img map and compare consult it. */
  probe?: AllocationProbe;
}

function mappingOf(e: MapEntry | null, pos: number): RangeMapping {
  if (!e) return { kind: 'beyond-end', depth: 0, host: null, file: null };
  const host = e.offset !== undefined ? e.offset + (pos - e.start) : null;
  const kind: MappingKind = e.data ? (e.offset === undefined ? 'compressed' : 'data') : e.present ? 'zero' : 'unallocated';
  return { kind, depth: e.depth, host, file: e.filename };
}

/** One side's extents in order, with the extent at the current position. */
class ExtentCursor {
  private readonly it: AsyncGenerator<MapEntry>;
  current: MapEntry | null = null;
  private done = false;

  constructor(readonly layer: Layer, probe?: AllocationProbe) {
    this.it = mapImage(layer, { probe });
  }

  /** The extent holding `pos`, or null at and past the end of the image. */
  async at(pos: number): Promise<MapEntry | null> {
    if (pos >= this.layer.size) return null;
    while (!this.done && (!this.current || this.current.start + this.current.length <= pos)) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        this.current = null;
      } else {
        this.current = r.value;
      }
    }
    return this.current;
  }

  async close(): Promise<void> {
    await this.it.return(undefined);
  }
}

/**
 * Reads as zeros (BDRV_BLOCK_ZERO, what qemu-img compare skips on): a zero cluster, unallocated to the
 * bottom of the chain, past the end, or data clusters of a metadata-preallocated image over host holes.
 */
function readsZero(e: MapEntry | null): boolean {
  return !e || e.zero;
}

/** Same bytes without reading: the same host bytes of the same file. */
function sameHostBytes(ea: MapEntry, eb: MapEntry, pos: number): boolean {
  if (!ea.data || !eb.data || ea.offset === undefined || eb.offset === undefined) return false;
  if (ea.filename === null || ea.filename !== eb.filename) return false;
  return ea.offset + (pos - ea.start) === eb.offset + (pos - eb.start);
}

/** Whether two mappings differ (host offsets compared relative to the range start; files not). */
function sameMapping(x: RangeMapping, y: RangeMapping): boolean {
  return x.kind === y.kind && x.depth === y.depth && x.host === y.host;
}

/**
 * The runs [from, to) of 512-byte sectors (relative to the buffers' start; the last may be short) in
 * which two buffers (null = zeros) differ, in order. Differences are kept at qemu-img compare's
 * granularity: a guest rewriting a sector with other data leaves some bytes equal by chance, and byte
 * ranges would split one write into hundreds of pieces.
 */
export function differingRuns(a: Uint8Array | null, b: Uint8Array | null, n: number, emit: (from: number, to: number) => void): void {
  const wa = a && a.byteOffset % 4 === 0 ? new Uint32Array(a.buffer, a.byteOffset, n >> 2) : null;
  const wb = b && b.byteOffset % 4 === 0 ? new Uint32Array(b.buffer, b.byteOffset, n >> 2) : null;
  const useWords = (a === null || wa !== null) && (b === null || wb !== null);
  const sectorDiffers = (from: number, to: number): boolean => {
    let i = from;
    if (useWords) {
      const wend = to >> 2;
      for (let k = from >> 2; k < wend; k++) if ((wa ? wa[k] : 0) !== (wb ? wb[k] : 0)) return true;
      i = wend << 2;
    }
    for (; i < to; i++) if ((a ? a[i] : 0) !== (b ? b[i] : 0)) return true;
    return false;
  };
  let first = 0;
  if (wa && wb) {
    // Equal buffers are the usual case: one tight scan, then sectors only from the first differing word.
    const words = n >> 2;
    let k = 0;
    while (k < words && wa[k] === wb[k]) k++;
    if (k === words) {
      let i = words << 2;
      while (i < n && (a as Uint8Array)[i] === (b as Uint8Array)[i]) i++;
      if (i === n) return;
      k = i >> 2;
    }
    first = (k << 2) - ((k << 2) % COMPARE_SECTOR);
  }
  let runFrom = -1;
  for (let s = first; s < n; s += COMPARE_SECTOR) {
    const e = Math.min(n, s + COMPARE_SECTOR);
    if (sectorDiffers(s, e)) {
      if (runFrom < 0) runFrom = s;
    } else if (runFrom >= 0) {
      emit(runFrom, s);
      runFrom = -1;
    }
  }
  if (runFrom >= 0) emit(runFrom, n);
}

/** The file that holds the data of the extent at `depth` below `top`. */
function sourceAt(top: Layer, depth: number): ByteSource | null {
  const l = layerAt(top, depth);
  if (!l) return null;
  return l.kind === 'raw' ? l.source : l.data;
}

function canReadSync(src: ByteSource): src is ByteSource & SyncReadable {
  return typeof (src as Partial<SyncReadable>).readIntoSync === 'function';
}

/**
 * Guest bytes [pos, pos + n) of one side into `buf` (reused between steps): straight from the host file
 * when the extent maps them to one contiguous host range (no allocation, no copy), else through readGuest
 * (compressed clusters, subclusters, anything else).
 */
async function readSide(layer: Layer, e: MapEntry, pos: number, n: number, buf: Uint8Array): Promise<Uint8Array> {
  const src = e.data && e.offset !== undefined ? sourceAt(layer, e.depth) : null;
  if (!src || e.offset === undefined) return readGuest(layer, pos, n);
  const host = e.offset + (pos - e.start);
  const out = buf.subarray(0, n);
  let got: number;
  if (canReadSync(src)) {
    got = src.readIntoSync(host, out);
  } else {
    const bytes = await src.read(host, n);
    out.set(bytes);
    got = bytes.length;
  }
  // Past the end of the file reads as zeros, as QEMU's file driver pads short reads.
  if (got < n) out.fill(0, got);
  return out;
}

/** The layer `depth` levels below `top`. */
function layerAt(top: Layer, depth: number): Layer | null {
  let l: Layer | null = top;
  for (let d = 0; d < depth && l; d++) l = l.kind === 'qcow2' ? l.backing : null;
  return l;
}

/**
 * Bytes from `pos` to the end of its cluster when both sides map it to the same compressed cluster of the
 * same file (a compressed cluster a snapshot shares), else 0: then it is neither read nor decompressed.
 */
async function sharedCompressed(a: Layer, ea: MapEntry, b: Layer, eb: MapEntry, pos: number): Promise<number> {
  if (!ea.data || !eb.data || ea.offset !== undefined || eb.offset !== undefined) return 0;
  const la = layerAt(a, ea.depth);
  const lb = layerAt(b, eb.depth);
  if (la?.kind !== 'qcow2' || lb?.kind !== 'qcow2' || la.name !== lb.name || la.g.clusterSize !== lb.g.clusterSize) return 0;
  const cs = la.g.clusterSize;
  const rest = cs - (pos % cs);
  const [ma, mb] = [await getHostOffset(la, pos, rest), await getHostOffset(lb, pos, rest)];
  return ma.type === 'compressed' && mb.type === 'compressed' && ma.compressedEntry === mb.compressedEntry ? rest : 0;
}

function sampleHex(buf: Uint8Array | null, at: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += (buf ? buf[at + i] : 0).toString(16).padStart(2, '0');
  return s;
}

function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw new Qcow2Error({ code: 'internal', message: 'the diff was cancelled', details: { cancelled: true } });
}

/**
 * Compare the guest data of two layers (each with its backing chain) from offset 0 to the larger size.
 * Both mappings are walked together; a piece where both read as zeros, or where both map the same host
 * bytes of the same file, is decided without a read; elsewhere the pieces are read (a side that reads
 * as zeros is not) in chunks of at most DIFF_READ_CHUNK and compared byte by byte.
 */
export async function diffGuest(a: Layer, b: Layer, opts: GuestDiffOptions = {}): Promise<GuestDiff> {
  const maxRanges = opts.maxRanges ?? 10_000;
  const total = Math.max(a.size, b.size);
  const ca = new ExtentCursor(a, opts.probe);
  const cb = new ExtentCursor(b, opts.probe);
  const r: GuestDiff = {
    sizeA: a.size, sizeB: b.size, identical: true, firstMismatch: null,
    content: [], contentRangeCount: 0, differingBytes: 0, layout: [], layoutRangeCount: 0, layoutBytes: 0, readA: 0, readB: 0, dataZones: [],
  };
  const zones = new Set<number>();
  const scratchA = new Uint8Array(DIFF_READ_CHUNK);
  const scratchB = new Uint8Array(DIFF_READ_CHUNK);
  // The open (not yet emitted) content and layout ranges, extended while the next piece touches them.
  let open: ContentRange | null = null;
  let openLayout: GuestRange | null = null;
  const closeContent = (): void => {
    if (!open) return;
    r.contentRangeCount++;
    r.differingBytes += open.length;
    if (r.content.length < maxRanges) r.content.push(open);
    open = null;
  };
  const closeLayout = (): void => {
    if (!openLayout) return;
    r.layoutRangeCount++;
    r.layoutBytes += openLayout.length;
    if (r.layout.length < maxRanges) r.layout.push(openLayout);
    openLayout = null;
  };
  const addContent = (start: number, end: number, ma: RangeMapping, mb: RangeMapping, bufA: Uint8Array | null, bufB: Uint8Array | null, bufAt: number): void => {
    if (r.firstMismatch === null) {
      r.firstMismatch = start - (start % COMPARE_SECTOR);
      r.identical = false;
    }
    if (opts.zoneSize) {
      for (let z = Math.floor(start / opts.zoneSize); z * opts.zoneSize < end; z++) zones.add(z);
    }
    if (open && open.start + open.length === start) {
      open.length = end - open.start;
      return;
    }
    closeContent();
    const n = Math.min(DIFF_SAMPLE_BYTES, end - start);
    open = { start, length: end - start, a: ma, b: mb, sampleA: sampleHex(bufA, start - bufAt, n), sampleB: sampleHex(bufB, start - bufAt, n) };
  };
  const addLayout = (start: number, end: number, ma: RangeMapping, mb: RangeMapping): void => {
    if (openLayout && openLayout.start + openLayout.length === start && openLayout.a.kind === ma.kind && openLayout.b.kind === mb.kind) {
      openLayout.length = end - openLayout.start;
      return;
    }
    closeLayout();
    openLayout = { start, length: end - start, a: ma, b: mb };
  };
  try {
    let pos = 0;
    while (pos < total) {
      throwIfAborted(opts.signal);
      const ea = await ca.at(pos);
      const eb = await cb.at(pos);
      const endA = ea ? ea.start + ea.length : total;
      const endB = eb ? eb.start + eb.length : total;
      const end = Math.min(endA, endB, total);
      const ma = mappingOf(ea, pos);
      const mb = mappingOf(eb, pos);
      // Past the end of one side the difference is in the sizes (a header field), not in the layout.
      const layoutDiffers = ea !== null && eb !== null && !sameMapping(ma, mb);
      const zeroA = readsZero(ea);
      const zeroB = readsZero(eb);
      if ((zeroA && zeroB) || (ea && eb && sameHostBytes(ea, eb, pos))) {
        if (layoutDiffers) addLayout(pos, end, ma, mb);
        pos = end;
        opts.onProgress?.(pos, total);
        continue;
      }
      // Read the piece in chunks; each chunk's mapping starts at its own first byte.
      while (pos < end) {
        throwIfAborted(opts.signal);
        const shared = ea && eb ? await sharedCompressed(a, ea, b, eb, pos) : 0;
        if (shared > 0) {
          pos = Math.min(end, pos + shared);
          opts.onProgress?.(pos, total);
          continue;
        }
        const n = Math.min(DIFF_READ_CHUNK, end - pos);
        const bufA = zeroA || !ea ? null : await readSide(a, ea, pos, n, scratchA);
        const bufB = zeroB || !eb ? null : await readSide(b, eb, pos, n, scratchB);
        if (bufA) r.readA += n;
        if (bufB) r.readB += n;
        const ca0 = mappingOf(ea, pos);
        const cb0 = mappingOf(eb, pos);
        let equalFrom = 0;
        if (!(bufA && bufB && opts.bytesEqual?.(bufA, bufB))) differingRuns(bufA, bufB, n, (from, to) => {
          if (layoutDiffers && from > equalFrom) addLayout(pos + equalFrom, pos + from, mappingOf(ea, pos + equalFrom), mappingOf(eb, pos + equalFrom));
          const s = pos + from;
          addContent(s, pos + to, from === 0 ? ca0 : mappingOf(ea, s), from === 0 ? cb0 : mappingOf(eb, s), bufA, bufB, pos);
          equalFrom = to;
        });
        if (layoutDiffers && equalFrom < n) addLayout(pos + equalFrom, pos + n, mappingOf(ea, pos + equalFrom), mappingOf(eb, pos + equalFrom));
        pos += n;
        opts.onProgress?.(pos, total);
      }
    }
  } finally {
    await ca.close();
    await cb.close();
  }
  closeContent();
  closeLayout();
  r.dataZones = [...zones].sort((x, y) => x - y);
  return r;
}

// ---------------------------------------------------------------- the whole diff

export interface ImageDiff {
  a: string;
  b: string;
  fields: FieldDifference[];
  /** Null when either side has no zones (not zoned, or a snapshot: zone state is not snapshotted). */
  /** At most maxRanges of them; zoneDifferenceCount counts all (another zone capacity changes every zone). */
  zones: ZoneDifference[] | null;
  zoneDifferenceCount: number;
  /** Why zones were not compared, when they were not. */
  zonesNote: string | null;
  guest: GuestDiff;
  /** True when anything at all differs (fields, zones, guest bytes or layout). */
  different: boolean;
}

export interface DiffSide {
  meta: DiffSideMeta;
  layer: Layer;
  zones: ZoneTable | null;
  zoned: boolean;
}

export async function diffImages(a: DiffSide, b: DiffSide, opts: GuestDiffOptions = {}): Promise<ImageDiff> {
  const fields = diffMeta(a.meta, b.meta);
  const zoneSize = a.zones?.zoneSize ?? b.zones?.zoneSize;
  const guest = await diffGuest(a.layer, b.layer, { ...opts, zoneSize: zoneSize || undefined });
  let zones: ZoneDifference[] | null = null;
  let zoneDifferenceCount = 0;
  let zonesNote: string | null = null;
  if (a.zones && b.zones) {
    const z = diffZones(a.zones, b.zones, new Set(guest.dataZones), opts.maxRanges ?? 10_000);
    zones = z.list;
    zoneDifferenceCount = z.count;
  } else if (a.zoned || b.zoned) {
    const snap = a.meta.snapshot ?? b.meta.snapshot;
    zonesNote = snap
      ? `zones not compared: a snapshot keeps no zone state (the write pointers are the image's, not the snapshot's)`
      : `zones not compared: ${a.zoned ? b.meta.label : a.meta.label} is not zoned`;
  }
  const different = fields.length > 0 || zoneDifferenceCount > 0 || !guest.identical || guest.layoutRangeCount > 0 || (zonesNote !== null && !(a.meta.snapshot ?? b.meta.snapshot));
  return { a: a.meta.label, b: b.meta.label, fields, zones, zoneDifferenceCount, zonesNote, guest, different };
}

/** qemu-img compare's lines for the guest verdict (without -s), in its order. */
export function compareVerdictLines(g: GuestDiff): string[] {
  const common = Math.min(g.sizeA, g.sizeB);
  const lines: string[] = [];
  if (g.firstMismatch !== null && g.firstMismatch < common) return [`Content mismatch at offset ${g.firstMismatch}!`];
  if (g.sizeA !== g.sizeB) lines.push('Warning: Image size mismatch!');
  lines.push(g.firstMismatch !== null ? `Content mismatch at offset ${g.firstMismatch}!` : 'Images are identical.');
  return lines;
}
