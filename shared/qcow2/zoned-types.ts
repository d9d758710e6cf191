// Types of the proposed zoned extension (ZONED-FORMAT.md sections 2-4, 8), shared by the decoder, the
// zone report, the writer, the create validation and the UI.

/** Layout revisions we can tell apart on disk (ZONED-FORMAT.md section 2 and 8 item 1). */
export type ZonedRevision = 'rfc' | 'v2' | 'v3-v4' | 'v5-v7' | 'v8' | 'unknown';

/** The layouts we can write (section 8 item 2): 48-byte seed layout (v7) or 56-byte v8. */
export type ZonedLayout = 'v7' | 'v8';

export type WpByteOrder = 'little-endian' | 'big-endian';

export type ZoneType = 'conventional' | 'sequential';

export type ZoneCondition =
  | 'not-wp'
  | 'empty'
  | 'implicit-open'
  | 'explicit-open'
  | 'closed'
  | 'full'
  | 'read-only'
  | 'offline';

export const ZONE_CONDITIONS: readonly ZoneCondition[] = [
  'not-wp', 'empty', 'implicit-open', 'explicit-open', 'closed', 'full', 'read-only', 'offline',
];

/** Numeric codes as QEMU/ZBC use them (BLK_ZS_*), for qemu-io style output and RFC-v3 state nibbles. */
export const ZONE_CONDITION_CODES: Record<ZoneCondition, number> = {
  'not-wp': 0, empty: 1, 'implicit-open': 2, 'explicit-open': 3, closed: 4, 'read-only': 0xd, full: 0xe, offline: 0xf,
};

export interface ZonedField {
  name: string;
  offset: number;
  size: number;
  raw: string;
  value: number | string;
  description: string;
}

/** The decoded zoned header extension, whatever its revision, normalised to bytes. */
export interface ZonedExtension {
  revision: ZonedRevision;
  /** Why this revision was chosen (length, profile byte, offset/size plausibility…). */
  revisionReason: string;
  /** Data length field of the extension. */
  length: number;
  /** Offset of the extension data in the file. */
  dataOffset: number;
  /** 0 none, 1 host-managed (as stored; RFC/v2 map their model/profile here). */
  mode: number;
  /** RFC/v2 profile byte (1 zbc, 2 zns), null elsewhere. */
  profile: number | null;
  zoneSize: number;
  zoneCapacity: number;
  conventionalZones: number;
  nrZones: number;
  maxActiveZones: number;
  maxOpenZones: number;
  /** In bytes (v3/v4 store sectors; converted here). */
  maxAppendBytes: number;
  zonedmetaOffset: number;
  zonedmetaSize: number;
  /** Every field as stored, with offsets, for display. */
  fields: ZonedField[];
  /** Raw extension data as hex (always preserved). */
  raw: string;
}

/** Limits after applying the v8 clamp order of section 5.1 (section 7 item 7). */
export interface EffectiveZoneLimits {
  maxActiveZones: number;
  maxOpenZones: number;
  maxAppendBytes: number;
  /** Human-readable notes on each clamp applied. */
  clamps: string[];
}

export interface ZoneInfo {
  index: number;
  /** Guest byte offset of the zone start. */
  start: number;
  length: number;
  capacity: number;
  /** Write pointer, absolute guest byte offset (bits 59-63 masked). */
  wp: number;
  type: ZoneType;
  condition: ZoneCondition;
}
