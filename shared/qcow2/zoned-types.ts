// Types of the proposed zoned extension (ZONED-FORMAT.md sections 2-4, 8), shared by the decoder, the
// zone report, the writer, the create validation and the UI.

/**
 * Layout revisions we can tell apart on disk (ZONED-FORMAT.md section 2 and 8 item 1; ZONED-REVISIONS-2026.md
 * section 5). 'v8' is the 56-byte family v8/v9/v10 (byte-identical); 'v11' the 48-byte v11 family (floatious
 * State A: v11, "v12?", "v13?"); 'respin' the 44-byte Cassel respin (State B).
 */
export type ZonedRevision = 'rfc' | 'v2' | 'v3-v4' | 'v5-v7' | 'v8' | 'v11' | 'respin' | 'unknown';

/**
 * The layouts we can write (section 8 item 2; docs/DECISIONS.md 3): the 48-byte seed layout (v7), the 56-byte
 * v8 family, the 48-byte v11 family (State A), or the 44-byte respin (State B).
 */
export type ZonedWriteLayout = 'v7' | 'v8' | 'v11' | 'respin';

/**
 * The layouts the app's create form can request today (the IPC contract and electron/app carry only
 * these); the CLI and the shared create code take every ZonedWriteLayout.
 */
export type ZonedLayout = Extract<ZonedWriteLayout, 'v7' | 'v8'>;

export const ZONED_WRITE_LAYOUTS: readonly ZonedWriteLayout[] = ['v7', 'v8', 'v11', 'respin'];

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
  /**
   * Why this revision was chosen: the discriminators that decided and what stays ambiguous, in one line
   * (what `qzs info` prints); the same facts, structured, in the three fields below.
   */
  revisionReason: string;
  /** Postings whose bytes this image could be (e.g. v8, v9, v10): they cannot be told apart. */
  revisionCandidates: string[];
  /** Each test on the bytes that decided, with the values it saw. */
  revisionDiscriminators: string[];
  /** What the bytes cannot settle (empty when nothing is left open). */
  revisionAmbiguity: string[];
  /** Bit of a write-pointer entry that marks a conventional zone: 59 up to v10, 63 from the v11 family on. */
  wpFlagBit: 59 | 63;
  /** Byte order the revision writes entries in: null = the writing host's (little-endian on x86), else fixed. */
  wpDeclaredOrder: WpByteOrder | null;
  /** False for the respin, which stores no append limit (maxAppendBytes is then 0 and means "no limit"). */
  hasAppendLimit: boolean;
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
