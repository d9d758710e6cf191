// `qzs convert --zoned-layout TARGET`: rewrite a zoned image into another revision of the zoned format.
// Only two things differ between the revisions' images: the zoned extension in cluster 0 (its length and
// field order) and the encoding of the write-pointer array (byte order, conventional flag bit). The array
// is 8 x nr_zones bytes in every revision, so it stays where it is; every other cluster, data and
// metadata alike, is kept byte for byte (the engine copies the file, then applies this plan's writes).
// Whether the target can represent the source is the target's own create rules (ZONE_REVISION_RULES),
// evaluated on the source's values: one definition of what a revision accepts. Pure: no I/O.
import { putU32be, putU64be } from '../bytes';
import { MIB, ZONE_REVISION_RULES, type ZoneRuleValues } from './create-options';
import { EXT_END, EXT_ZONED, type HeaderExtension } from './extensions';
import type { Qcow2Header } from './header';
import { encodeZonedExtensionData, zonedLayoutLength } from './zoned-extension';
import type { WpByteOrder, ZonedExtension, ZonedRevision, ZonedWriteLayout } from './zoned-types';
import { ZONE_TYPE_CONVENTIONAL, type ZoneTable } from './zone-table';
import { encodeWpEntry } from './zonedmeta';

const U32_MAX = 0xffff_ffff;
const SECTOR = 512;

/** The layout an image of a decoded revision is written in, where we write it. */
export const LAYOUT_OF_REVISION: Partial<Record<ZonedRevision, ZonedWriteLayout>> = { 'v5-v7': 'v7', v8: 'v8', v11: 'v11', respin: 'respin' };

/** How each target stores write pointers (docs/DECISIONS.md 3: bit 59 up to v10, big-endian bit 63 from v11). */
export const TARGET_WP_ENCODING: Readonly<Record<ZonedWriteLayout, { order: WpByteOrder; flagBit: 59 | 63 }>> = {
  v7: { order: 'little-endian', flagBit: 59 },
  v8: { order: 'little-endian', flagBit: 59 },
  v11: { order: 'big-endian', flagBit: 63 },
  respin: { order: 'big-endian', flagBit: 63 },
};

export type ConvertCode =
  | 'not-zoned' | 'same-layout' | 'source-revision' | 'source-geometry' | 'data-file'
  | 'target-rule' | 'field-width' | 'append-dropped' | 'append-added' | 'append-option'
  | 'wp-rule' | 'header-space' | 'clamp' | 'v7-4gib';

export interface ConvertMessage {
  code: ConvertCode;
  /** The field of the zoned extension (or the structure) concerned. */
  field: string;
  message: string;
  /** A refusal that --force turns into a warning (the target drops something the source has). */
  forceable?: boolean;
}

export interface ConvertInput {
  header: Qcow2Header;
  /** Cluster 0 as stored (or the whole file when it is shorter). */
  cluster0: Uint8Array;
  extensions: HeaderExtension[];
  zoned: ZonedExtension;
  /** The decoded write-pointer array (addresses unwrapped, flag bits removed). */
  table: ZoneTable;
  /** The image keeps its data in an external data file (the file would be shared by IN and OUT). */
  externalDataFile: string | null;
  target: ZonedWriteLayout;
  force: boolean;
  /** zone.max_append_bytes for a target that stores one when the source (the respin) does not. */
  maxAppendBytes?: number;
}

export interface PlanPatch {
  offset: number;
  bytes: Uint8Array;
  /** What the bytes are, for the report. */
  what: string;
}

/** The zone fields written, by their extension field names. */
export type ZonedValues = Record<'zone_size' | 'zone_capacity' | 'conventional_zones' | 'nr_zones' | 'max_active_zones' | 'max_open_zones' | 'max_append_bytes' | 'zonedmeta_offset' | 'zonedmeta_size', number>;

export interface ConvertPlan {
  ok: boolean;
  source: ZonedWriteLayout | null;
  target: ZonedWriteLayout;
  refusals: ConvertMessage[];
  warnings: ConvertMessage[];
  /** Writes over the copy of IN, in order; empty when refused. */
  patches: PlanPatch[];
  values: ZonedValues | null;
}

/** The zone values the targeted revision's create rules see, from the source's extension. */
function ruleValues(z: ZonedExtension, h: Qcow2Header, maxAppend: number): ZoneRuleValues {
  return {
    size: h.size, clusterSize: h.clusterSize, zoneSize: z.zoneSize, zoneCapacity: z.zoneCapacity,
    conventionalZones: z.conventionalZones, nrZones: z.nrZones, maxActiveZones: z.maxActiveZones,
    maxOpenZones: z.maxOpenZones, maxAppendBytes: maxAppend,
  };
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/**
 * The respin validates every write pointer at open (ZONED-REVISIONS-2026.md 4b, the floatious iotest's
 * texts): inside [start, start + zone_size], a multiple of 512, and flagged iff conventional. The first few
 * zones that break a rule, each with the text the respin prints.
 */
function respinPointerRefusals(t: ZoneTable): ConvertMessage[] {
  const out: ConvertMessage[] = [];
  for (let i = 0; i < t.count && out.length < 4; i++) {
    const start = i * t.zoneSize;
    const wp = t.wp[i];
    const conventional = t.type[i] === ZONE_TYPE_CONVENTIONAL;
    if (conventional !== (i < t.conventionalZones)) {
      out.push({ code: 'wp-rule', field: `zone ${i}`, message: `the respin refuses to open the result: "Zone ${i} contradicts the header, which declares the first ${t.conventionalZones} zones conventional"` });
    } else if (!conventional && (wp < start || wp > start + t.zoneSize)) {
      out.push({ code: 'wp-rule', field: `zone ${i}`, message: `the respin refuses to open the result: "Zone ${i} has write pointer ${hex(wp)} outside its writable range ${hex(start)}..${hex(start + t.zoneSize)}"` });
    } else if (!conventional && wp % SECTOR !== 0) {
      out.push({ code: 'wp-rule', field: `zone ${i}`, message: `the respin refuses to open the result: "Zone ${i} has write pointer ${hex(wp)} that is not sector aligned"` });
    }
  }
  return out;
}

/** The extension area of cluster 0 re-encoded with the target's zoned extension in place of the source's. */
function rebuildCluster0(input: ConvertInput, zonedData: Uint8Array): { bytes: Uint8Array; fits: boolean; needed: number } {
  const { header: h, cluster0, extensions } = input;
  const headerEnd = h.version >= 3 ? h.headerLength : 72;
  const parts: Uint8Array[] = [];
  let oldEnd = headerEnd;
  for (const e of extensions) {
    const end = e.dataOffset + e.paddedLength;
    oldEnd = Math.max(oldEnd, end);
    if (e.magic === EXT_END) continue;
    if (e.magic === EXT_ZONED) {
      const padded = new Uint8Array(8 + Math.ceil(zonedData.length / 8) * 8);
      putU32be(padded, 0, EXT_ZONED);
      putU32be(padded, 4, zonedData.length);
      padded.set(zonedData, 8);
      parts.push(padded);
    } else {
      parts.push(cluster0.slice(e.offset, end));
    }
  }
  parts.push(new Uint8Array(8)); // end of extensions
  const backing = h.backingFileOffset > 0 ? cluster0.slice(h.backingFileOffset, h.backingFileOffset + h.backingFileSize) : null;
  if (backing) oldEnd = Math.max(oldEnd, h.backingFileOffset + h.backingFileSize);
  let pos = headerEnd;
  for (const p of parts) pos += p.length;
  const backingAt = pos;
  const needed = pos + (backing?.length ?? 0);
  const bytes = new Uint8Array(Math.max(needed, oldEnd)); // zeros over whatever the old area held past the new end
  bytes.set(cluster0.subarray(0, headerEnd), 0);
  pos = headerEnd;
  for (const p of parts) {
    bytes.set(p, pos);
    pos += p.length;
  }
  if (backing) {
    bytes.set(backing, backingAt);
    putU64be(bytes, 8, backingAt);
  }
  return { bytes, fits: needed <= h.clusterSize, needed };
}

/** Plan the conversion: refusals (with the exact reason), warnings, and the bytes to write over the copy. */
export function planConvert(input: ConvertInput): ConvertPlan {
  const { zoned: z, header: h, target, table: t } = input;
  const refusals: ConvertMessage[] = [];
  const warnings: ConvertMessage[] = [];
  const source = LAYOUT_OF_REVISION[z.revision] ?? null;
  const result = (): ConvertPlan => ({ ok: false, source, target, refusals, warnings, patches: [], values: null });
  const rules = ZONE_REVISION_RULES[target];

  if (!source) {
    refusals.push({ code: 'source-revision', field: 'zoned extension', message: `the source is a ${z.revision} image: convert reads the revisions it writes (v5-v7, the v8 family, the v11 family, the respin); older revisions persist zone conditions in their write pointers, which no target can hold` });
    return result();
  }
  if (source === target) {
    refusals.push({ code: 'same-layout', field: 'zoned extension', message: `the source is already in the ${target} layout (${z.revision}): nothing to convert` });
    return result();
  }
  const ceil = z.zoneSize > 0 ? Math.ceil(h.size / z.zoneSize) : 0;
  if (z.zoneSize <= 0 || z.nrZones !== ceil || t.count !== z.nrZones) {
    refusals.push({ code: 'source-geometry', field: 'nr_zones', message: `the source's zone geometry does not hold (zone_size ${z.zoneSize}, nr_zones ${z.nrZones}, ceil(size / zone_size) = ${ceil}): run qzs check on it first` });
    return result();
  }
  if (input.externalDataFile) {
    refusals.push({ code: 'data-file', field: 'data file', message: `the image keeps its guest data in the external data file '${input.externalDataFile}': a converted copy would share that file with the source, and a write to one would change the other` });
    return result();
  }

  // The append limit: the respin stores none; the others must be given one.
  const targetHasAppend = rules.defaultMaxAppend !== null;
  let maxAppend = z.maxAppendBytes;
  if (!targetHasAppend) {
    maxAppend = 0;
    if (input.maxAppendBytes !== undefined) refusals.push({ code: 'append-option', field: 'max_append_bytes', message: `--max-append-bytes is for a target that stores an append limit; the respin stores none` });
    if (z.hasAppendLimit && z.maxAppendBytes > 0) {
      const text = `the respin stores no append limit: max_append_bytes ${z.maxAppendBytes} is dropped, and the result accepts a zone append of any size up to a zone's capacity`;
      if (input.force) warnings.push({ code: 'append-dropped', field: 'max_append_bytes', message: text });
      else refusals.push({ code: 'append-dropped', field: 'max_append_bytes', message: `${text}: pass --force to drop it`, forceable: true });
    }
  } else if (input.maxAppendBytes !== undefined) {
    maxAppend = input.maxAppendBytes;
  } else if (!z.hasAppendLimit) {
    maxAppend = rules.defaultMaxAppend ?? 0;
    warnings.push({ code: 'append-added', field: 'max_append_bytes', message: `the respin stores no append limit; ${rules.label} needs one: written as ${maxAppend}, the default of its create${maxAppend === 0 ? ' (every zone append then fails)' : ''} (--max-append-bytes N sets another)` });
  }

  // What the target itself refuses, in its order and words.
  const v = ruleValues(z, h, maxAppend);
  if (rules.fields32) {
    for (const [field, val] of [['zone_size', z.zoneSize], ['zone_capacity', z.zoneCapacity]] as const) {
      if (val > U32_MAX) refusals.push({ code: 'field-width', field, message: `${field} ${val} does not fit the 32-bit field of the v7 layout (a v7 QEMU would truncate it)` });
    }
  }
  if (targetHasAppend && maxAppend > U32_MAX) refusals.push({ code: 'field-width', field: 'max_append_bytes', message: `max_append_bytes ${maxAppend} does not fit its 32-bit field` });
  for (const r of rules.refusals) {
    if (!targetHasAppend && r.option === 'zone.max_append_bytes') continue;
    if (r.broken(v)) refusals.push({ code: 'target-rule', field: r.option.replace(/^zone\./, ''), message: `${rules.label} cannot represent the source: ${r.message(v)} (${r.limit(v)} required)` });
  }
  if (target === 'respin') refusals.push(...respinPointerRefusals(t));
  if (refusals.length > 0) return result();

  // Clamps the target applies when it opens (v11/respin) or would have applied at create: stored as they are.
  for (const k of rules.clamps) {
    if (k.applies(v)) warnings.push({ code: 'clamp', field: k.option.replace(/^zone\./, ''), message: `kept as stored (${v[k.field]}); ${rules.label} would clamp it: ${k.message(v, k.to(v))}` });
  }
  if (target === 'v7' && h.size > 4 * 1024 * MIB && z.nrZones > 1) {
    warnings.push({ code: 'v7-4gib', field: 'write pointers', message: 'the image is larger than 4 GiB: the write pointers are written as correct 64-bit values, but a v7 QEMU computes zone starts in 32 bits and misreads the zones at or past 4 GiB' });
  }

  const values: ZonedValues = {
    zone_size: z.zoneSize, zone_capacity: z.zoneCapacity, conventional_zones: z.conventionalZones, nr_zones: z.nrZones,
    max_active_zones: z.maxActiveZones, max_open_zones: z.maxOpenZones, max_append_bytes: maxAppend,
    zonedmeta_offset: z.zonedmetaOffset, zonedmeta_size: 8 * z.nrZones,
  };
  const zonedData = encodeZonedExtensionData(target, { zoned: 1, ...values });
  const c0 = rebuildCluster0(input, zonedData);
  if (!c0.fits) {
    refusals.push({ code: 'header-space', field: 'header extensions', message: `the header, its extensions (the ${target} zoned extension is ${zonedLayoutLength(target)} bytes) and the backing file name need ${c0.needed} bytes, more than cluster 0 holds (${h.clusterSize})` });
    return result();
  }

  const enc = TARGET_WP_ENCODING[target];
  const wp = new Uint8Array(8 * t.count);
  for (let i = 0; i < t.count; i++) wp.set(encodeWpEntry(t.wp[i], t.type[i] === ZONE_TYPE_CONVENTIONAL, enc.order, 0, enc.flagBit), 8 * i);
  return {
    ok: true, source, target, refusals, warnings, values,
    patches: [
      { offset: 0, bytes: c0.bytes, what: `header extensions (zoned extension ${z.length} → ${zonedLayoutLength(target)} bytes)` },
      { offset: z.zonedmetaOffset, bytes: wp, what: `${t.count} write pointers, ${enc.order} with bit ${enc.flagBit} for conventional zones` },
    ],
  };
}
