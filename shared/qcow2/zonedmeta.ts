// The zonedmeta array: one 64-bit write pointer per zone (ZONED-FORMAT.md section 3). Up to v10, bits 0-58
// hold the absolute guest byte offset, bit 59 marks a conventional zone, bits 60-63 carry a persisted
// condition in RFC-v3 images, and QEMU copies the in-memory u64, so the byte order is the writing host's.
// From the v11 family on (ZONED-REVISIONS-2026.md sections 2a, 4a) entries are big-endian, bits 0-62 the
// offset and bit 63 the conventional flag. We detect the byte order either way (section 7 item 3) with
// the one detector below, which knows the pre-v8 32-bit wrap. The array is read in bounded chunks and
// decoded into a columnar ZoneTable.
import type { ByteSource } from './byte-source';
import { finding, Qcow2Error, type Finding } from './findings';
import {
  conditionAtRest, createZoneTable, setZoneCondition, ZONE_TYPE_CONVENTIONAL, zoneCapacity, type ZoneTableGeometry, type ZoneTable,
} from './zone-table';
import { revisionLabel } from './zoned-open-rules';
import { ruleVerdict, seedMessage } from './zoned-rule-revisions';
import { ZONE_CONDITION_CODES, type WpByteOrder, type ZonedExtension } from './zoned-types';

export const WP_CONVENTIONAL_BIT = 59;
const TWO32 = 0x1_0000_0000;

/** How the high word of an entry splits, by the bit that flags a conventional zone (59 up to v10, 63 after). */
export interface WpEncoding {
  flagBit: 59 | 63;
  /** Address bits of the high word (bits 32-58, or 32-62). */
  addrMask: number;
  /** Shift of the flag bit within the high word. */
  flagShift: number;
  /** Flag plus condition-nibble bits of the high word: an entry with none of them set is a plain pointer. */
  topMask: number;
}

export const WP_ENCODING_BIT59: WpEncoding = { flagBit: 59, addrMask: 0x07ff_ffff, flagShift: 27, topMask: 0xf800_0000 };
export const WP_ENCODING_BIT63: WpEncoding = { flagBit: 63, addrMask: 0x7fff_ffff, flagShift: 31, topMask: 0x8000_0000 };

export function wpEncoding(flagBit: 59 | 63): WpEncoding {
  return flagBit === 63 ? WP_ENCODING_BIT63 : WP_ENCODING_BIT59;
}

/** The encoding of an extension's revision (bit 63 from the v11 family on). */
export function wpEncodingOf(z: Pick<ZonedExtension, 'wpFlagBit'>): WpEncoding {
  return wpEncoding(z.wpFlagBit);
}

/** The order a reader tries first: the revision's declared order, else little-endian (x86 hosts). */
export function preferredWpOrder(z: Pick<ZonedExtension, 'wpDeclaredOrder'>): WpByteOrder {
  return z.wpDeclaredOrder ?? 'little-endian';
}

/** Entries per read: 128 Ki entries = 1 MiB, so a million zones take 8 reads and memory stays bounded. */
export const ZONEDMETA_CHUNK_ENTRIES = 131072;

/** More zones than this cannot be tabled (10 bytes a zone): the v8 cap 536870911 would need 5 GiB. */
export const MAX_TABLE_ZONES = 1 << 24;

/** At most this many findings of one kind name single zones; the rest are counted in a summary. */
const MAX_FINDINGS_PER_KIND = 16;

/** Revisions whose entries carry the zone condition in bits 60-63 (RFC, v2, v3: section 3). */
export function revisionPersistsCondition(z: ZonedExtension): boolean {
  return z.revision === 'rfc' || z.revision === 'v2' || z.revision === 'v3-v4';
}

/** Revisions that compute zone starts in 32 bits (u32 zone size: RFC to v7), so pointers past 4 GiB wrap. */
export function revisionWraps32(z: ZonedExtension): boolean {
  return z.revision !== 'v8' && z.revision !== 'v11' && z.revision !== 'respin';
}

export interface DecodedWpEntry {
  /** Bits 0-58 (or 0-62 with the bit-63 flag): absolute guest byte offset. */
  address: number;
  /** Bit 59 (or 63). */
  conventional: boolean;
  /** Bits 60-63 (always 0 with the bit-63 flag). */
  nibble: number;
}

/** Decode one 8-byte entry. */
export function decodeWpEntry(b: Uint8Array, off: number, order: WpByteOrder, flagBit: 59 | 63 = 59): DecodedWpEntry {
  const e = wpEncoding(flagBit);
  const dv = new DataView(b.buffer, b.byteOffset + off, 8);
  const le = order === 'little-endian';
  const lo = dv.getUint32(le ? 0 : 4, le);
  const hi = dv.getUint32(le ? 4 : 0, le);
  return { address: (hi & e.addrMask) * TWO32 + lo, conventional: ((hi >>> e.flagShift) & 1) === 1, nibble: flagBit === 63 ? 0 : hi >>> 28 };
}

/** Encode one entry (writers keep the image's byte order and flag bit: section 8 item 3). */
export function encodeWpEntry(address: number, conventional: boolean, order: WpByteOrder, nibble = 0, flagBit: 59 | 63 = 59): Uint8Array {
  const e = wpEncoding(flagBit);
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  const le = order === 'little-endian';
  const nib = flagBit === 63 ? 0 : (nibble & 0xf) << 28;
  const hi = ((Math.floor(address / TWO32) & e.addrMask) | (conventional ? 1 << e.flagShift : 0) | nib) >>> 0;
  const lo = address % TWO32;
  dv.setUint32(le ? 0 : 4, lo, le);
  dv.setUint32(le ? 4 : 0, hi, le);
  return out;
}

/** File offset of zone i's entry. */
export function wpEntryOffset(z: ZonedExtension, i: number): number {
  return z.zonedmetaOffset + 8 * i;
}

// ---------------------------------------------------------------------------------------------------
// Geometry

export interface GeometryResult {
  /** Null when no zone can be placed (zone size 0, or more zones than we can table). */
  geometry: ZoneTableGeometry | null;
  findings: Finding[];
}

function extField(z: ZonedExtension, name: string): { offset: number; length: number } {
  const f = z.fields.find((x) => x.name === name);
  return { offset: f?.offset ?? z.dataOffset, length: f?.size ?? 0 };
}

/**
 * Zone geometry from the extension and the virtual size (section 4): nr_zones = ceil(size / zone_size)
 * (the RFC created floor(size / zone_size)). A stored nr_zones that disagrees is reported, and only the
 * zones both agree on are tabled.
 */
export function zoneGeometry(z: ZonedExtension, virtualSize: number): GeometryResult {
  const findings: Finding[] = [];
  if (z.zoneSize <= 0) return { geometry: null, findings };
  const ceil = Math.ceil(virtualSize / z.zoneSize);
  const floor = Math.floor(virtualSize / z.zoneSize);
  let count = z.nrZones;
  if (z.nrZones !== ceil && !(z.revision === 'rfc' && z.nrZones === floor)) {
    count = Math.min(z.nrZones, ceil);
    const nr = z.fields.find((x) => x.name === 'nr_zones');
    const nrVerdict = ruleVerdict('nr-zones', z.revision);
    findings.push(finding({
      id: 'zoned.nr-zones', structure: 'zoned extension', field: 'nr_zones', offset: nr?.offset ?? z.dataOffset, length: 4,
      found: String(z.nrZones), expected: `${ceil} (ceil(virtual size ${virtualSize} / zone size ${z.zoneSize}))${z.revision === 'rfc' ? ` or ${floor} (RFC)` : ''}`,
      severity: nrVerdict.severity,
      message: `nr_zones ${z.nrZones} does not match the virtual size: ${ceil} zones of ${z.zoneSize} bytes cover it; ${nrVerdict.text}${z.revision === 'v5-v7' ? `; ${seedMessage('nr-zones', z)}` : ''}; ${count} zones are reported`,
      fix: `set nr_zones to ${ceil}`,
    }));
  }
  if (count > MAX_TABLE_ZONES) {
    const nr = extField(z, 'nr_zones');
    findings.push(finding({ id: 'zoned.too-many-zones', severity: 'error', structure: 'zoned extension', field: 'nr_zones', ...nr, found: String(count), expected: `<= ${MAX_TABLE_ZONES}`, message: `${count} zones are more than this tool tables (${MAX_TABLE_ZONES}): no zone report`, fix: 'none' }));
    return { geometry: null, findings };
  }
  return {
    geometry: { zoneSize: z.zoneSize, zoneCapacity: z.zoneCapacity, deviceSize: virtualSize, count, conventionalZones: Math.min(z.conventionalZones, count) },
    findings,
  };
}

/** Findings about where the array sits and how big it says it is (section 8 item 8). */
export function zonedmetaPlacementFindings(z: ZonedExtension, clusterSize: number, fileSize: number): Finding[] {
  const out: Finding[] = [];
  const size = extField(z, 'zonedmeta_size');
  const off = extField(z, 'zonedmeta_offset');
  if (z.zonedmetaSize !== 8 * z.nrZones) {
    out.push(finding({ id: 'zoned.zonedmeta-size', severity: 'warning', structure: 'zoned extension', field: 'zonedmeta_size', ...size, found: String(z.zonedmetaSize), expected: `${8 * z.nrZones} (8 x nr_zones ${z.nrZones})`, message: `zonedmeta_size ${z.zonedmetaSize} is not 8 x nr_zones (${8 * z.nrZones}): the array is read for nr_zones entries`, fix: `set zonedmeta_size to ${8 * z.nrZones}` }));
  }
  if (z.zonedmetaOffset % clusterSize !== 0) {
    out.push(finding({ id: 'zoned.zonedmeta-unaligned', severity: 'warning', structure: 'zoned extension', field: 'zonedmeta_offset', ...off, found: String(z.zonedmetaOffset), expected: `a multiple of the cluster size ${clusterSize}`, message: `zonedmeta_offset ${z.zonedmetaOffset} is not cluster aligned: QEMU allocates the array in whole clusters`, fix: 'none: move the array to a fresh cluster-aligned allocation' }));
  }
  if (z.zonedmetaOffset < clusterSize) {
    out.push(finding({ id: 'zoned.zonedmeta-in-header', severity: 'error', structure: 'zoned extension', field: 'zonedmeta_offset', ...off, found: String(z.zonedmetaOffset), expected: `>= ${clusterSize} (past the header cluster)`, message: `zonedmeta_offset ${z.zonedmetaOffset} points into the header cluster`, fix: 'none: the write pointers are lost' }));
  }
  const need = 8 * z.nrZones;
  if (!Number.isSafeInteger(z.zonedmetaOffset) || z.zonedmetaOffset + need > fileSize) {
    out.push(finding({ id: 'zoned.zonedmeta-past-eof', severity: 'error', structure: 'zoned extension', field: 'zonedmeta_offset', ...off, found: `${z.zonedmetaOffset} + ${need} bytes`, expected: `within the file (${fileSize} bytes)`, message: `the write pointer array (${need} bytes at ${z.zonedmetaOffset}) runs past the end of the file (${fileSize} bytes): zones without an entry are reported offline`, fix: 'none: the missing write pointers cannot be recovered' }));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Reading

/**
 * Visit entries [0, count) in chunks of at most `chunkEntries`: fn gets the chunk's first zone index, its
 * bytes, and how many whole entries they hold (fewer than asked at the end of the file).
 */
export async function forEachZonedmetaChunk(
  source: ByteSource, z: ZonedExtension, count: number, fileSize: number,
  fn: (first: number, bytes: Uint8Array, entries: number) => boolean | void,
  chunkEntries = ZONEDMETA_CHUNK_ENTRIES,
): Promise<void> {
  if (!Number.isSafeInteger(z.zonedmetaOffset)) return;
  for (let first = 0; first < count; first += chunkEntries) {
    const n = Math.min(chunkEntries, count - first);
    const off = z.zonedmetaOffset + 8 * first;
    if (off >= fileSize) return;
    const bytes = await source.read(off, 8 * n);
    const entries = Math.floor(bytes.length / 8);
    if (fn(first, bytes, entries) === false || entries < n) return;
  }
}

/** Undo a 32-bit wrap: the pointer in [start, start + zone_size] congruent to `address` mod 2^32, or null. */
function unwrap32(address: number, start: number, zoneSize: number): number | null {
  if (address >= TWO32 || start + zoneSize < TWO32) return null;
  for (let k = Math.floor(start / TWO32); k <= Math.floor((start + zoneSize) / TWO32); k++) {
    const v = address + k * TWO32;
    if (v >= start && v <= start + zoneSize) return v;
  }
  return null;
}

function entryFits(address: number, i: number, zoneSize: number, wraps: boolean): boolean {
  const start = i * zoneSize;
  if (address >= start && address <= start + zoneSize) return true;
  return wraps && unwrap32(address, start, zoneSize) !== null;
}

export interface ByteOrderDetection {
  order: WpByteOrder;
  reason: string;
  /** Entries whose little-endian reading falls outside their zone (counted until the answer is known). */
  leMisfits: number;
  beMisfits: number;
}

/**
 * Counts, entry by entry, where each reading of the write pointers falls outside its zone; stops
 * counting once both readings have failed somewhere (then the preferred order stands). The one byte-order
 * detector of the project: the zone report, check, info and the zoned device all use it.
 */
export class ByteOrderDetector {
  leMisfits = 0;
  beMisfits = 0;

  constructor(
    private readonly g: Pick<ZoneTableGeometry, 'zoneSize'>,
    private readonly wraps: boolean,
    private readonly enc: WpEncoding = WP_ENCODING_BIT59,
    private readonly preferred: WpByteOrder = 'little-endian',
  ) {}

  get decided(): boolean {
    return this.leMisfits > 0 && this.beMisfits > 0;
  }

  /** Entries [0, entries) of a chunk starting at zone `first`; false once decided. */
  visit(first: number, dv: DataView, entries: number): boolean {
    const zs = this.g.zoneSize;
    const wraps = this.wraps;
    const mask = this.enc.addrMask;
    for (let k = 0; k < entries; k++) {
      const i = first + k;
      if (this.leMisfits === 0 || this.beMisfits > 0) {
        const lo = dv.getUint32(8 * k, true);
        const hi = dv.getUint32(8 * k + 4, true);
        if (!entryFits((hi & mask) * TWO32 + lo, i, zs, wraps)) this.leMisfits++;
      }
      if (this.beMisfits === 0 || this.leMisfits > 0) {
        const hi = dv.getUint32(8 * k, false);
        const lo = dv.getUint32(8 * k + 4, false);
        if (!entryFits((hi & mask) * TWO32 + lo, i, zs, wraps)) this.beMisfits++;
      }
      if (this.decided) return false;
    }
    return true;
  }

  result(): ByteOrderDetection {
    const { leMisfits, beMisfits, preferred } = this;
    const other: WpByteOrder = preferred === 'little-endian' ? 'big-endian' : 'little-endian';
    const misfits = (o: WpByteOrder): number => (o === 'little-endian' ? leMisfits : beMisfits);
    const name = (o: WpByteOrder): string => (o === 'little-endian' ? 'little-endian' : 'big-endian');
    if (misfits(preferred) === 0) return { order: preferred, reason: `every pointer read ${name(preferred)} lies in its zone`, leMisfits, beMisfits };
    if (misfits(other) === 0) return { order: other, reason: `${misfits(preferred)} pointer(s) read ${name(preferred)} fall outside their zone while every ${name(other)} reading fits`, leMisfits, beMisfits };
    return { order: preferred, reason: `neither byte order fits every zone: ${name(preferred)} (the default) assumed`, leMisfits, beMisfits };
  }
}

/** The detector for an extension: its revision's flag bit, preferred order and 32-bit wrap. */
export function byteOrderDetectorFor(z: ZonedExtension, g: Pick<ZoneTableGeometry, 'zoneSize'>): ByteOrderDetector {
  return new ByteOrderDetector(g, revisionWraps32(z), wpEncodingOf(z), preferredWpOrder(z));
}

/**
 * Byte order of the write pointers (section 7 item 3): the revision's declared order (little-endian for
 * host-order revisions) unless that reading puts a pointer outside its zone ([start, start + zone_size],
 * or a 32-bit wrap of it for pre-v8 revisions) while the other reading fits every zone.
 */
export async function detectWpByteOrder(source: ByteSource, z: ZonedExtension, g: ZoneTableGeometry, fileSize: number): Promise<ByteOrderDetection> {
  const d = byteOrderDetectorFor(z, g);
  await forEachZonedmetaChunk(source, z, g.count, fileSize, (first, bytes, entries) => d.visit(first, new DataView(bytes.buffer, bytes.byteOffset, entries * 8), entries));
  return d.result();
}

/** The same detection over entries already in memory (the zoned device reads the whole array). */
export function detectWpByteOrderIn(raw: Uint8Array, z: ZonedExtension, nrZones: number): ByteOrderDetection {
  const d = byteOrderDetectorFor(z, { zoneSize: z.zoneSize });
  const entries = Math.min(nrZones, Math.floor(raw.length / 8));
  d.visit(0, new DataView(raw.buffer, raw.byteOffset, entries * 8), entries);
  return d.result();
}

/** Collects findings of one kind, naming the first few zones and summarising the rest. */
class FindingCap {
  private counts = new Map<string, number>();
  private firstZones = new Map<string, number[]>();
  constructor(private readonly out: Finding[]) {}

  add(id: string, zone: number, make: () => Finding): void {
    const n = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, n);
    if (n <= MAX_FINDINGS_PER_KIND) {
      this.out.push(make());
      const zs = this.firstZones.get(id) ?? [];
      zs.push(zone);
      this.firstZones.set(id, zs);
    }
  }

  summarise(z: ZonedExtension): void {
    for (const [id, n] of this.counts) {
      if (n <= MAX_FINDINGS_PER_KIND) continue;
      const first = this.out.find((f) => f.id === id);
      this.out.push(finding({
        id, severity: first?.severity ?? 'warning', structure: 'zonedmeta', field: 'write pointers', offset: z.zonedmetaOffset, length: 8 * z.nrZones,
        found: `${n} zones in all`, expected: 'none', message: `${n - MAX_FINDINGS_PER_KIND} more zones have the same problem (${id}); ${MAX_FINDINGS_PER_KIND} are listed individually`,
        fix: first?.fix ?? 'none',
      }));
    }
  }
}

export interface ZonedmetaResult {
  table: ZoneTable;
  byteOrder: ByteOrderDetection;
  findings: Finding[];
}

/**
 * Decode the write-pointer array into a ZoneTable, detecting the byte order in the same pass: the array
 * is decoded as little-endian (what QEMU writes on x86 and arm64) while the detector looks at it, and
 * read a second time only when it turns out big-endian. Memory: the table (10 bytes a zone) plus one
 * chunk. Throws Qcow2Error when no zone can be placed.
 */
export async function readZonedmeta(
  source: ByteSource, z: ZonedExtension, virtualSize: number, clusterSize: number, fileSize: number,
  opts: { byteOrder?: WpByteOrder } = {},
): Promise<ZonedmetaResult> {
  const geo = zoneGeometry(z, virtualSize);
  const findings: Finding[] = [...geo.findings];
  if (!geo.geometry) {
    const f = findings[0] ?? finding({ id: 'zoned.zone-size-zero', severity: 'error', structure: 'zoned extension', field: 'zone_size', ...extField(z, 'zone_size'), found: '0', expected: '> 0', message: 'zone size is 0: no zone can be placed', fix: 'none' });
    throw Qcow2Error.fromFinding('invalid-extension', f, source.name);
  }
  const g = geo.geometry;
  findings.push(...zonedmetaPlacementFindings(z, clusterSize, fileSize));
  let decoded: Decoded;
  let detection: ByteOrderDetection;
  const preferred = preferredWpOrder(z);
  if (opts.byteOrder) {
    detection = { order: opts.byteOrder, reason: 'given by the caller', leMisfits: 0, beMisfits: 0 };
    decoded = await decodeZonedmeta(source, z, g, fileSize, opts.byteOrder === 'little-endian', null);
  } else {
    // Decode in the preferred order while the detector looks; a second pass only when it says otherwise.
    const detector = byteOrderDetectorFor(z, g);
    decoded = await decodeZonedmeta(source, z, g, fileSize, preferred === 'little-endian', detector);
    detection = detector.result();
    if (detection.order !== preferred) decoded = await decodeZonedmeta(source, z, g, fileSize, detection.order === 'little-endian', null);
  }
  // Only a byte order other than the revision's is a finding: a pointer that fits neither order is reported
  // as its own finding (zoned.wp-out-of-range), not as a byte-order warning that finds what it expects.
  if (detection.order !== preferred) {
    const declared = z.wpDeclaredOrder !== null;
    const expected = declared
      ? `${preferred} (what ${revisionLabel(z.revision)} writes, with the conventional flag in bit ${z.wpFlagBit})`
      : 'little-endian (what QEMU writes on x86 and arm64)';
    const against = declared && detection.order !== preferred ? `, which contradicts the revision's ${preferred} entries: the revision detection may be wrong` : '';
    findings.push(finding({ id: 'zoned.wp-byte-order', severity: detection.order !== preferred && !declared ? 'info' : 'warning', structure: 'zonedmeta', field: 'write pointers', offset: z.zonedmetaOffset, length: 8 * g.count, found: detection.order, expected, message: `write pointers read as ${detection.order}: ${detection.reason}${against}`, fix: 'none needed: edits keep the image\'s byte order' }));
  }
  findings.push(...decoded.findings);
  return { table: decoded.table, byteOrder: detection, findings };
}

interface Decoded {
  table: ZoneTable;
  findings: Finding[];
}

/** Whether this machine stores numbers little-endian: then a Uint32Array view reads LE words directly. */
const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Decode every entry in `le` order (showing each chunk to `detector` first, when given). */
async function decodeZonedmeta(source: ByteSource, z: ZonedExtension, g: ZoneTableGeometry, fileSize: number, le: boolean, detector: ByteOrderDetector | null): Promise<Decoded> {
  const persists = revisionPersistsCondition(z);
  const wraps = revisionWraps32(z);
  const enc = wpEncodingOf(z);
  const table = createZoneTable(g, persists, false); // every zone is set below
  const findings: Finding[] = [];
  const cap = new FindingCap(findings);
  let readEntries = 0;
  await forEachZonedmetaChunk(source, z, g.count, fileSize, (first, bytes, entries) => {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, entries * 8);
    if (detector && !detector.decided) detector.visit(first, dv, entries);
    const words = le && HOST_LE && (bytes.byteOffset & 3) === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, entries * 2) : null;
    decodeChunk(table, z, first, dv, words, entries, le, persists, wraps, cap, enc);
    readEntries = first + entries;
  });
  for (let i = readEntries; i < g.count; i++) {
    table.wp[i] = i * table.zoneSize;
    setZoneCondition(table, i, 'offline');
  }
  cap.summarise(z);
  return { table, findings };
}

function decodeChunk(
  table: ZoneTable, z: ZonedExtension, first: number, dv: DataView, words: Uint32Array | null, entries: number,
  le: boolean, persists: boolean, wraps: boolean, cap: FindingCap, enc: WpEncoding,
): void {
  const zs = table.zoneSize;
  const addrMask = enc.addrMask;
  const topMask = enc.topMask;
  const flagShift = enc.flagShift;
  const nibbles = enc.flagBit === 59;
  // The respin validates every pointer at open: those rules need the slow path for each entry.
  const strict = z.revision === 'respin';
  const type = table.type;
  const wp = table.wp;
  const condition = table.condition;
  for (let k = 0; k < entries; k++) {
    const i = first + k;
    let lo: number;
    let hi: number;
    if (words) {
      lo = words[2 * k];
      hi = words[2 * k + 1];
    } else {
      lo = dv.getUint32(8 * k + (le ? 0 : 4), le);
      hi = dv.getUint32(8 * k + (le ? 4 : 0), le);
    }
    const address = (hi & addrMask) * TWO32 + lo;
    const start = i * zs;
    // Fast path, allocation-free: a sequential zone with a clean in-range pointer (nearly all zones).
    if (type[i] !== ZONE_TYPE_CONVENTIONAL && (hi & topMask) === 0 && address >= start && address <= start + zs && (!strict || address % 512 === 0)) {
      wp[i] = address;
      const capEnd = start + Math.min(table.zoneCapacity, zoneLengthAt(table, start));
      condition[i] = address === start ? EMPTY : address >= capEnd ? FULL : CLOSED;
      continue;
    }
    decodeEntry(table, z, i, address, ((hi >>> flagShift) & 1) === 1, nibbles ? hi >>> 28 : 0, persists, wraps, cap);
  }
}

const EMPTY = ZONE_CONDITION_CODES.empty;
const FULL = ZONE_CONDITION_CODES.full;
const CLOSED = ZONE_CONDITION_CODES.closed;

function zoneLengthAt(g: ZoneTableGeometry, start: number): number {
  const left = g.deviceSize - start;
  return left > 0 && left < g.zoneSize ? left : g.zoneSize;
}

const CONDITION_NAMES: Record<number, string> = { 0: 'not-wp', 1: 'empty', 2: 'implicit-open', 3: 'explicit-open', 4: 'closed', 0xd: 'read-only', 0xe: 'full', 0xf: 'offline' };

function decodeEntry(
  t: ZoneTable, z: ZonedExtension, i: number, address: number, convBit: boolean, nibble: number,
  persists: boolean, wraps: boolean, cap: FindingCap,
): void {
  const start = i * t.zoneSize;
  const entryAt = { structure: 'zonedmeta', field: `write pointer of zone ${i}`, offset: z.zonedmetaOffset + 8 * i, length: 8 };
  const conventional = t.type[i] === ZONE_TYPE_CONVENTIONAL;
  const bit = z.wpFlagBit;
  let wp = address;
  if (z.revision === 'respin') respinEntryRules(t, z, i, address, convBit, cap);

  if (conventional) {
    // Conventional entries hold start | the flag bit forever (section 3); anything else is odd but harmless.
    if (address !== start || !convBit) {
      cap.add('zoned.conventional-wp', i, () => finding({ id: 'zoned.conventional-wp', severity: 'warning', ...entryAt, found: `${address}${convBit ? ` with bit ${bit}` : ` without bit ${bit}`}`, expected: `${start} with bit ${bit} (zone start | conventional)`, message: `conventional zone ${i} has write pointer entry ${address}${convBit ? '' : ` without the conventional bit ${bit}`}, expected its start ${start} with bit ${bit}`, fix: `rewrite the entry as ${start} | 1 << ${bit}` }));
    }
    t.wp[i] = start;
    t.condition[i] = ZONE_CONDITION_CODES['not-wp'];
    if (t.persisted) t.persisted[i] = nibble;
    return;
  }

  if (convBit) {
    cap.add('zoned.conventional-bit', i, () => finding({ id: 'zoned.conventional-bit', severity: 'warning', ...entryAt, found: `bit ${bit} set`, expected: `bit ${bit} clear (zone ${i} is sequential: conventional_zones = ${z.conventionalZones})`, message: `sequential zone ${i} has the conventional bit ${bit} set in its write pointer`, fix: `clear bit ${bit}` }));
  }
  if (address < start || address > start + t.zoneSize) {
    const unwrapped = wraps ? unwrap32(address, start, t.zoneSize) : null;
    if (unwrapped !== null) {
      wp = unwrapped;
      cap.add('zoned.wp-wrapped', i, () => finding({ id: 'zoned.wp-wrapped', severity: 'warning', ...entryAt, found: String(address), expected: `${unwrapped} (in [${start}, ${start + t.zoneSize}])`, message: `zone ${i}'s write pointer ${address} is its real value ${unwrapped} wrapped to 32 bits (pre-v8 32-bit overflow past 4 GiB): read as ${unwrapped}`, fix: `rewrite the entry as ${unwrapped} (a v7 QEMU will wrap it again)` }));
    } else {
      cap.add('zoned.wp-out-of-range', i, () => finding({ id: 'zoned.wp-out-of-range', severity: 'error', ...entryAt, found: String(address), expected: `in [${start}, ${start + t.zoneSize}]`, message: `zone ${i}'s write pointer ${address} lies outside the zone [${start}, ${start + t.zoneSize}]`, fix: `reset the zone (write pointer ${start}) or finish it (${start + t.zoneSize})` }));
    }
  }
  if (nibble !== 0 && !persists) {
    cap.add('zoned.state-bits', i, () => finding({ id: 'zoned.state-bits', severity: 'warning', ...entryAt, found: `bits 60-63 = ${nibble}`, expected: `0 (revision ${z.revision} stores no condition)`, message: `zone ${i}'s write pointer has bits 60-63 set (${nibble}), which only RFC-v3 images use: ignored`, fix: 'clear bits 60-63' }));
  }
  t.wp[i] = wp;
  const cond = conditionAtRest(t, i, t.type[i], wp);
  t.condition[i] = ZONE_CONDITION_CODES[cond];
  if (t.persisted) {
    t.persisted[i] = nibble;
    // RFC-v3 stored open states too; they are informational, the pointer decides at rest.
    if (nibble !== 0 && nibble !== ZONE_CONDITION_CODES[cond] && !(cond === 'closed' && (nibble === 2 || nibble === 3))) {
      cap.add('zoned.persisted-condition', i, () => finding({ id: 'zoned.persisted-condition', severity: 'info', ...entryAt, found: `${nibble} (${CONDITION_NAMES[nibble] ?? 'unknown'})`, expected: `${ZONE_CONDITION_CODES[cond]} (${cond}, from the write pointer; capacity ${zoneCapacity(t, i)})`, message: `zone ${i}'s persisted condition ${CONDITION_NAMES[nibble] ?? nibble} disagrees with its write pointer (${cond})`, fix: 'none needed: the write pointer decides' }));
    }
  }
}

const hex0x = (v: number): string => `0x${v.toString(16)}`;

/**
 * The respin's open-time checks of every write pointer (2026 notes section 4b, verbatim from the floatious
 * iotest .out): inside [start, start + zone_size], a multiple of 512, and flag bit 63 set iff the zone is
 * one of the first conventional_zones. A broken one is a finding quoting the refusal.
 */
function respinEntryRules(t: ZoneTable, z: ZonedExtension, i: number, address: number, convBit: boolean, cap: FindingCap): void {
  const start = i * t.zoneSize;
  const end = start + t.zoneSize;
  const conventional = i < z.conventionalZones;
  const entryAt = { structure: 'zonedmeta', field: `write pointer of zone ${i}`, offset: z.zonedmetaOffset + 8 * i, length: 8 };
  const refuse = (rule: string, text: string, found: string, expected: string): void => {
    cap.add(`zoned.open-refused.${rule}`, i, () => finding({
      id: `zoned.open-refused.${rule}`, severity: 'error', ...entryAt, found, expected,
      message: `${revisionLabel('respin')} refuses to open this image: "can't open: ${text}"`,
      fix: `rewrite zone ${i}'s entry (reset the zone: ${start}${conventional ? ' | 1 << 63' : ''})`,
    }));
  };
  if (convBit !== conventional) {
    refuse('wp-flag', `Zone ${i} contradicts the header, which declares the first ${z.conventionalZones} zones conventional`, convBit ? 'bit 63 set' : 'bit 63 clear', conventional ? 'bit 63 set (conventional zone)' : 'bit 63 clear (sequential zone)');
    return;
  }
  if (conventional) return;
  if (address < start || address > end) {
    refuse('wp-range', `Zone ${i} has write pointer ${hex0x(address)} outside its writable range ${hex0x(start)}..${hex0x(end)}`, hex0x(address), `${hex0x(start)}..${hex0x(end)}`);
  } else if (address % 512 !== 0) {
    refuse('wp-unaligned', `Zone ${i} has write pointer ${hex0x(address)} that is not sector aligned`, hex0x(address), 'a multiple of 512');
  }
}
