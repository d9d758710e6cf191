// The proposed zoned header extension (magic 0x007a6264), every posted revision (ZONED-FORMAT.md
// section 2; ZONED-REVISIONS-2026.md sections 1-5), detected by length and content (section 7 items 1-2,
// section 8 item 1; 2026 notes section 5). Pure: the bytes of the extension data in, the normalised
// extension (all sizes in bytes) plus findings out, including the open-time rules of the revision.
import { isPowerOfTwo, putU32be, putU64be, toHex, u32be, u32le, u64beNum } from '../bytes';
import { finding, type Finding } from './findings';
import { zonedOpenRuleFindings } from './zoned-open-rules';
import type { WpByteOrder, ZonedExtension, ZonedField, ZonedWriteLayout, ZonedRevision } from './zoned-types';

interface Spec {
  name: string;
  off: number;
  size: 1 | 2 | 3 | 4 | 8;
  le?: boolean;
  description: string;
}

/** Stored length of each revision's extension data (section 2; 2026 notes section 5). */
export const ZONED_EXT_LENGTH = { rfc: 55, v2: 48, 'v3-v4': 48, 'v5-v7': 48, v8: 56, v11: 48, respin: 44 } as const;

/** The v11 family (floatious State A, 2026 notes section 2a): 48 bytes, 64-bit fields aligned, no zonedmeta_size. */
const V11: Spec[] = [
  { name: 'zoned', off: 0, size: 1, description: 'zone model: 0 none, 1 host-managed (any other value is refused)' },
  { name: 'reserved', off: 1, size: 3, description: 'reserved (written 0, not checked)' },
  { name: 'nr_zones', off: 4, size: 4, description: 'number of zones: ceil(size / zone_size), at most 2^20' },
  { name: 'zone_size', off: 8, size: 8, description: 'zone size in bytes (a power of two)' },
  { name: 'zone_capacity', off: 16, size: 8, description: 'writable bytes per zone' },
  { name: 'conventional_zones', off: 24, size: 4, description: 'number of conventional zones (the first ones)' },
  { name: 'max_active_zones', off: 28, size: 4, description: 'limit on open + closed zones (0 = none)' },
  { name: 'max_open_zones', off: 32, size: 4, description: 'limit on open zones (0 = none)' },
  { name: 'max_append_bytes', off: 36, size: 4, description: 'largest zone append in bytes (a multiple of 512)' },
  { name: 'zonedmeta_offset', off: 40, size: 8, description: 'file offset of the write pointer array (8 x nr_zones bytes, big-endian entries)' },
];

/** The Cassel respin (floatious State B, 2026 notes section 4a): 44 bytes padded to 48, no append limit. */
const RESPIN: Spec[] = [
  { name: 'zoned', off: 0, size: 1, description: 'zone model: 0 none, 1 host-managed (any other value is refused)' },
  { name: 'reserved', off: 1, size: 3, description: 'reserved, must be zero (not checked)' },
  { name: 'nr_zones', off: 4, size: 4, description: 'number of zones: ceil(size / zone_size), at most 2^20' },
  { name: 'zone_size', off: 8, size: 8, description: 'zone size in bytes (a power of two, a multiple of the cluster size)' },
  { name: 'zone_capacity', off: 16, size: 8, description: 'writable bytes per zone' },
  { name: 'zonedmeta_offset', off: 24, size: 8, description: 'file offset of the write pointer array (8 x nr_zones bytes, big-endian entries)' },
  { name: 'conventional_zones', off: 32, size: 4, description: 'number of conventional zones (the first ones)' },
  { name: 'max_active_zones', off: 36, size: 4, description: 'limit on open + closed zones (0 = none)' },
  { name: 'max_open_zones', off: 40, size: 4, description: 'limit on open zones (0 = none)' },
];

const V8: Spec[] = [
  { name: 'zoned', off: 0, size: 1, description: 'zone model: 0 none, 1 host-managed' },
  { name: 'reserved', off: 1, size: 3, description: 'reserved (written 0)' },
  { name: 'zone_size', off: 4, size: 8, description: 'zone size in bytes' },
  { name: 'zone_capacity', off: 12, size: 8, description: 'writable bytes per zone' },
  { name: 'conventional_zones', off: 20, size: 4, description: 'number of conventional zones (the first ones)' },
  { name: 'nr_zones', off: 24, size: 4, description: 'number of zones: ceil(size / zone_size)' },
  { name: 'max_active_zones', off: 28, size: 4, description: 'limit on open + closed zones (0 = none)' },
  { name: 'max_open_zones', off: 32, size: 4, description: 'limit on open zones (0 = none)' },
  { name: 'max_append_bytes', off: 36, size: 4, description: 'largest zone append in bytes' },
  { name: 'zonedmeta_size', off: 40, size: 8, description: 'size of the write pointer array in bytes (8 per zone)' },
  { name: 'zonedmeta_offset', off: 48, size: 8, description: 'file offset of the write pointer array' },
];

const V5_V7: Spec[] = [
  { name: 'zoned', off: 0, size: 1, description: 'zone model: 0 none, 1 host-managed' },
  { name: 'reserved', off: 1, size: 3, description: 'reserved (written 0)' },
  { name: 'zone_size', off: 4, size: 4, description: 'zone size in bytes (32-bit in this revision)' },
  { name: 'zone_capacity', off: 8, size: 4, description: 'writable bytes per zone (32-bit)' },
  { name: 'conventional_zones', off: 12, size: 4, description: 'number of conventional zones (the first ones)' },
  { name: 'nr_zones', off: 16, size: 4, description: 'number of zones: ceil(size / zone_size)' },
  { name: 'max_active_zones', off: 20, size: 4, description: 'limit on open + closed zones (0 = none)' },
  { name: 'max_open_zones', off: 24, size: 4, description: 'limit on open zones (0 = none)' },
  { name: 'max_append_bytes', off: 28, size: 4, description: 'largest zone append in bytes' },
  { name: 'zonedmeta_size', off: 32, size: 8, description: 'size of the write pointer array in bytes' },
  { name: 'zonedmeta_offset', off: 40, size: 8, description: 'file offset of the write pointer array' },
];

const V3_V4: Spec[] = [
  { name: 'zoned', off: 0, size: 1, description: 'zone model: 1 host-managed' },
  { name: 'reserved', off: 1, size: 3, description: 'reserved' },
  { name: 'zone_size', off: 4, size: 4, description: 'zone size in bytes' },
  { name: 'zone_capacity', off: 8, size: 4, description: 'writable bytes per zone' },
  { name: 'nr_conv_zones', off: 12, size: 4, description: 'number of conventional zones' },
  { name: 'nr_zones', off: 16, size: 4, description: 'number of zones' },
  { name: 'max_active_zones', off: 20, size: 4, description: 'limit on open + closed zones (0 = none)' },
  { name: 'max_open_zones', off: 24, size: 4, description: 'limit on open zones (0 = none)' },
  { name: 'max_append_sectors', off: 28, size: 4, description: 'largest zone append in 512-byte sectors' },
  { name: 'zonedmeta_offset', off: 32, size: 8, description: 'file offset of the write pointer array' },
  { name: 'zonedmeta_size', off: 40, size: 8, description: 'size of the write pointer array in bytes' },
];

const V2: Spec[] = [
  { name: 'zoned_profile', off: 0, size: 1, description: 'profile: 1 zbc, 2 zns' },
  { name: 'zoned', off: 1, size: 1, description: 'zone model: 1 host-managed' },
  { name: 'reserved', off: 2, size: 2, description: 'reserved (written 0)' },
  { name: 'zone_size', off: 4, size: 4, description: 'zone size in bytes' },
  { name: 'zone_capacity', off: 8, size: 4, description: 'writable bytes per zone' },
  { name: 'nr_zones', off: 12, size: 4, description: 'number of zones' },
  { name: 'zone_nr_conv', off: 16, size: 4, description: 'number of conventional zones' },
  { name: 'max_active_zones', off: 20, size: 4, description: 'limit on open + closed zones' },
  { name: 'max_open_zones', off: 24, size: 4, description: 'limit on open zones' },
  { name: 'max_append_sectors', off: 28, size: 4, description: 'largest zone append in 512-byte sectors' },
  { name: 'zonedmeta_offset', off: 32, size: 8, description: 'file offset of the write pointer array' },
  { name: 'zonedmeta_size', off: 40, size: 8, description: 'size of the write pointer array' },
];

/** The layouts we write (section 8 item 2, docs/DECISIONS.md 3), each with the revision it decodes as. */
const WRITE_LAYOUTS: Record<ZonedWriteLayout, { specs: Spec[]; revision: 'v5-v7' | 'v8' | 'v11' | 'respin' }> = {
  v7: { specs: V5_V7, revision: 'v5-v7' },
  v8: { specs: V8, revision: 'v8' },
  v11: { specs: V11, revision: 'v11' },
  respin: { specs: RESPIN, revision: 'respin' },
};

/** Length of the extension data a layout writes (the respin's 44 bytes are padded to 48 in the file). */
export function zonedLayoutLength(layout: ZonedWriteLayout): number {
  return ZONED_EXT_LENGTH[WRITE_LAYOUTS[layout].revision];
}

/** Field names a layout stores (the respin has no max_append_bytes, v11 and the respin no zonedmeta_size). */
export function zonedLayoutFields(layout: ZonedWriteLayout): string[] {
  return WRITE_LAYOUTS[layout].specs.map((s) => s.name).filter((n) => n !== 'reserved');
}

/**
 * Encode the extension data of a layout we write, from the same field tables the decoder reads, so the
 * two can never disagree on an offset. `values` is keyed by field name; reserved bytes stay zero.
 */
export function encodeZonedExtensionData(layout: ZonedWriteLayout, values: Readonly<Record<string, number>>): Uint8Array {
  const specs = WRITE_LAYOUTS[layout].specs;
  const out = new Uint8Array(zonedLayoutLength(layout));
  for (const s of specs) {
    if (s.name === 'reserved') continue;
    const v = values[s.name] ?? 0;
    if (s.size === 1) out[s.off] = v;
    else if (s.size === 4) putU32be(out, s.off, v);
    else if (s.size === 8) putU64be(out, s.off, v);
  }
  return out;
}

function rfcSpecs(le: boolean): Spec[] {
  const order = le ? 'little' : 'big';
  return [
    { name: 'zoned_profile', off: 0, size: 4, le, description: `profile enum (host-endian, read as ${order}-endian): 1 zbc, 2 zns` },
    { name: 'zoned', off: 4, size: 4, le, description: `zone model enum (host-endian, read as ${order}-endian): 1 host-managed` },
    { name: 'zone_size', off: 8, size: 4, description: 'zone size in bytes' },
    { name: 'zone_capacity', off: 12, size: 4, description: 'writable bytes per zone' },
    { name: 'nr_zones', off: 16, size: 4, description: 'number of zones (floor(size / zone_size) at create)' },
    { name: 'zone_nr_conv', off: 20, size: 4, description: 'number of conventional zones' },
    { name: 'max_active_zones', off: 24, size: 4, description: 'limit on open + closed zones' },
    { name: 'max_open_zones', off: 28, size: 4, description: 'limit on open zones' },
    { name: 'max_append_sectors', off: 32, size: 4, description: 'largest zone append in 512-byte sectors' },
    { name: 'zonedmeta_offset', off: 36, size: 8, description: 'file offset of the write pointer array' },
    { name: 'zonedmeta_size', off: 44, size: 8, description: 'size of the write pointer array' },
    { name: 'padding', off: 52, size: 3, description: 'struct padding (not validated)' },
  ];
}

function readSpecs(data: Uint8Array, dataOffset: number, specs: Spec[]): { fields: ZonedField[]; v: Record<string, number> } {
  const fields: ZonedField[] = [];
  const v: Record<string, number> = {};
  for (const s of specs) {
    let value: number;
    if (s.size === 1) value = data[s.off];
    else if (s.size === 2) value = (data[s.off] << 8) | data[s.off + 1];
    else if (s.size === 3) value = (data[s.off] << 16) | (data[s.off + 1] << 8) | data[s.off + 2];
    else if (s.size === 4) value = s.le ? u32le(data, s.off) : u32be(data, s.off);
    else value = u64beNum(data, s.off);
    v[s.name] = value;
    fields.push({
      name: s.name, offset: dataOffset + s.off, size: s.size, raw: toHex(data, s.off, s.size),
      value: Number.isSafeInteger(value) ? value : String(value), description: s.description,
    });
  }
  return { fields, v };
}

/**
 * How well an (offset, size) pair fits a real zonedmeta array for nr_zones zones (section 7 item 2):
 * 2 points for size == 8 x nr_zones, 1 for a cluster-aligned offset past cluster 0, 1 for an array inside
 * the file (when its size is known).
 */
function metaScore(offset: number, size: number, nrZones: number, clusterSize: number, fileSize: number | undefined): number {
  let score = 0;
  if (size === 8 * nrZones && nrZones > 0) score += 2;
  if (offset >= clusterSize && offset % clusterSize === 0) score += 1;
  if (fileSize !== undefined && offset > 0 && offset + Math.min(size, 8 * nrZones) <= fileSize) score += 1;
  return score;
}

export interface ZonedDecodeResult {
  /** The decoded extension, or null when its length matches no revision (then kept raw only). */
  zoned: ZonedExtension | null;
  findings: Finding[];
}

/** What the decoder knows of the image around the extension (header fields; all optional). */
export interface ZonedDecodeContext {
  /** Virtual size (header offset 24): decides nr_zones == ceil(size / zone_size) between 48-byte layouts. */
  size?: number;
  /** qcow2 version (the respin requires 3). */
  version?: number;
}

interface Detection {
  revision: ZonedRevision;
  specs: Spec[];
  candidates: string[];
  discriminators: string[];
  ambiguity: string[];
}

const V8_CANDIDATES = ['v8', 'v9', 'v10'];
const V11_CANDIDATES = ['v11', 'v12?', 'v13?', 'floatious State A'];
const V11_AMBIGUITY = [
  'v11, the later Sam Li postings ("v12?", "v13?") and floatious State A share this layout as far as is known: they cannot be told apart',
  'that posted v11 already had this layout rather than the 56-byte one is inferred (2026 notes section 2a, medium certainty)',
];

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** State A (v11 family) tests on a 48-byte extension (2026 notes section 5, step 2); each passing one is named. */
function stateATests(data: Uint8Array, clusterSize: number, size: number | undefined): { passed: string[]; failed: string[]; nrFits: boolean | null } {
  const passed: string[] = [];
  const failed: string[] = [];
  const nr = u32be(data, 4);
  const zs = u64beNum(data, 8);
  const cap = u64beNum(data, 16);
  const meta = u64beNum(data, 40);
  const append = u32be(data, 36);
  const note = (ok: boolean, text: string): void => { (ok ? passed : failed).push(text); };
  let nrFits: boolean | null = null;
  if (size !== undefined && zs > 0) {
    nrFits = nr === ceilDiv(size, zs);
    note(nrFits, `read as v11: nr_zones@4 = ${nr} ${nrFits ? '==' : '!='} ceil(size ${size} / zone_size@8 ${zs}) = ${ceilDiv(size, zs)}`);
  }
  note(zs > 0 && isPowerOfTwo(zs), `read as v11: zone_size@8 = ${zs} ${zs > 0 && isPowerOfTwo(zs) ? 'is' : 'is not'} a power of two`);
  note(cap <= zs && cap > 0, `read as v11: capacity@16 = ${cap} ${cap <= zs && cap > 0 ? '<=' : 'is not in 1..'} zone_size ${zs}`);
  note(meta > 0 && meta % clusterSize === 0, `read as v11: zonedmeta_offset@40 = ${meta} ${meta > 0 && meta % clusterSize === 0 ? 'is' : 'is not'} cluster aligned`);
  note(append % 512 === 0, `read as v11: max_append_bytes@36 = ${append} ${append % 512 === 0 ? 'is' : 'is not'} a multiple of 512`);
  return { passed, failed, nrFits };
}

function detect48(data: Uint8Array, clusterSize: number, fileSize: number | undefined, size: number | undefined): Detection {
  if ((data[0] === 1 || data[0] === 2) && data[1] === 1 && data[2] === 0 && data[3] === 0) {
    return {
      revision: 'v2', specs: V2, candidates: ['v2'], ambiguity: [],
      discriminators: [`length 48 with profile byte ${data[0]} (${data[0] === 1 ? 'zbc' : 'zns'}) followed by zoned byte 1: v2 layout`],
    };
  }
  const nr = u32be(data, 16);
  const zs32 = u32be(data, 4);
  const a32 = u64beNum(data, 32);
  const a40 = u64beNum(data, 40);
  const seedSizeFits = a32 === 8 * nr && nr > 0;
  const oldSizeFits = a40 === 8 * nr && nr > 0;
  const oldNrFits = size !== undefined && zs32 > 0 ? nr === ceilDiv(size, zs32) : null;
  const a = stateATests(data, clusterSize, size);
  const oldFacts = [
    `read as v3-v7: +32 = ${a32}, +40 = ${a40}, nr_zones@16 = ${nr} (8 x nr_zones = ${8 * nr})`,
    ...(oldNrFits === null ? [] : [`read as v3-v7: nr_zones@16 = ${nr} ${oldNrFits ? '==' : '!='} ceil(size ${size ?? 0} / zone_size@4 ${zs32}) = ${zs32 > 0 && size !== undefined ? ceilDiv(size, zs32) : '-'}`]),
  ];
  const old = oldSizeFits || seedSizeFits;
  // Discriminators 1 and 2 of the 2026 notes (section 5): v3-v7 need 8 x nr_zones at +32 or +40 and
  // nr_zones at +16; State A needs nr_zones at +4. Unknown virtual size: only the metadata sizes speak.
  let stateA: boolean;
  const ambiguity: string[] = [];
  if (a.nrFits === true && oldNrFits !== true) {
    // nr_zones is the strong discriminator: only the v11 reading covers the virtual size.
    stateA = true;
    if (old) ambiguity.push(`8 x nr_zones@16 sits at ${seedSizeFits ? '+32' : '+40'} as a v3-v7 zonedmeta_size would, but only the v11 reading gives the right nr_zones: read as v11 (the write pointers' byte order and flag bit confirm or contradict it)`);
  }
  else if (a.nrFits !== true && oldNrFits === true) stateA = false;
  else if (a.nrFits === true && oldNrFits === true) {
    stateA = !old;
    ambiguity.push('both readings give the right nr_zones: decided by whether 8 x nr_zones sits at +32 or +40 (the v3-v7 zonedmeta_size); the write pointers\' byte order and flag bit confirm it');
  } else {
    // Neither reading (or no virtual size) settles nr_zones: the other State A tests and the v3-v7 size decide.
    stateA = !old && a.failed.filter((t) => !t.includes('nr_zones')).length === 0;
    ambiguity.push(size === undefined
      ? 'virtual size unknown: nr_zones could not be checked against either reading'
      : 'neither reading gives the right nr_zones: decided by the other fields');
  }
  if (stateA) {
    return {
      revision: 'v11', specs: V11, candidates: V11_CANDIDATES,
      discriminators: [
        'length 48 without a profile byte',
        ...a.passed,
        ...(old ? [] : [`no 8 x nr_zones@16 at +32 or +40 (+32 = ${a32}, +40 = ${a40}): not a v3-v7 zonedmeta_size`]),
      ],
      ambiguity: [...ambiguity, ...V11_AMBIGUITY],
    };
  }
  const oldDisc = ['length 48 without a profile byte', ...oldFacts, ...(a.nrFits === false ? a.failed.filter((t) => t.includes('nr_zones')) : [])];
  const seed = metaScore(a40, a32, nr, clusterSize, fileSize);
  const older = metaScore(a32, a40, nr, clusterSize, fileSize);
  if (older > seed) {
    return {
      revision: 'v3-v4', specs: V3_V4, candidates: ['v3', 'v4'], ambiguity,
      discriminators: [...oldDisc, 'the value at +32 is the plausible offset and the one at +40 the size, so v3/v4 order (offset before size, max append in sectors)'],
    };
  }
  if (seed === older) ambiguity.push('v3/v4 (offset before size) or v5-v7 (size before offset): nothing in the bytes decides');
  return {
    revision: 'v5-v7', specs: V5_V7, candidates: ['v5', 'v6', 'v7'], ambiguity,
    discriminators: [...oldDisc, seed > older
      ? 'the value at +32 is the plausible size and the one at +40 the offset, so the v5-v7 (seed) layout'
      : 'both field orders fit equally, so the seed (v5-v7) layout is assumed'],
  };
}

/** One line for `qzs info`: the revision, the postings it could be, what decided, what stays open. */
function reasonLine(d: Detection): string {
  const family = d.candidates.length > 1 ? ` (one family: ${d.candidates.join(', ')})` : '';
  const open = d.ambiguity.length > 0 ? `; ambiguous: ${d.ambiguity.join('; ')}` : '';
  return `${d.discriminators.join('; ')}${family}${open}`;
}

/**
 * Decode the zoned extension data. `clusterSize`, `fileSize` and the header context decide the 48-byte
 * field order. Returns null for lengths no revision uses: the image is then read as plain qcow2 (section 8
 * item 1).
 */
export function decodeZonedExtension(data: Uint8Array, dataOffset: number, clusterSize: number, fileSize?: number, ctx: ZonedDecodeContext = {}): ZonedDecodeResult {
  const findings: Finding[] = [];
  const len = data.length;
  const lengthField = { structure: 'zoned extension', field: 'length', offset: dataOffset - 4, length: 4 };
  const known = '44 (respin), 48 (v2-v7, v11 family), 55 (RFC) or 56 (v8/v9/v10)';
  let det: Detection;

  if (len >= 56) {
    det = {
      revision: 'v8', specs: V8, candidates: V8_CANDIDATES,
      discriminators: [len === 56
        ? 'length 56: v8/v9/v10 layout (64-bit zone size and capacity)'
        : `length ${len} > 56: parsed with the v8/v9/v10 layout, the ${len - 56} trailing bytes kept raw`],
      ambiguity: ['v8, v9 and v10 write byte-identical images'],
    };
    if (len > 56) {
      findings.push(finding({ id: 'zoned.length-longer', severity: 'warning', ...lengthField, found: String(len), expected: known, message: `zoned extension is ${len} bytes, longer than any known revision: read with the v8/v9/v10 layout, the trailing ${len - 56} bytes kept as they are`, fix: 'none needed: the bytes are preserved' }));
    }
  } else if (len === 55) {
    // The RFC stored two C enums in host order; the profile (1 or 2) tells which order the host had.
    const le = u32le(data, 0) === 1 || u32le(data, 0) === 2 || !(u32be(data, 0) === 1 || u32be(data, 0) === 2);
    det = { revision: 'rfc', specs: rfcSpecs(le), candidates: ['RFC'], ambiguity: [], discriminators: [`length 55: RFC layout (host-endian enums at +0 and +4, read as ${le ? 'little' : 'big'}-endian)`] };
  } else if (len === 48) {
    det = detect48(data, clusterSize, fileSize, ctx.size);
  } else if (len === 44) {
    det = {
      revision: 'respin', specs: RESPIN, candidates: ['Cassel respin #1', 'Cassel respin #2', 'floatious State B'],
      discriminators: ['length 44: the only 44-byte layout, the Cassel respin (no max_append_bytes; big-endian write pointers, bit 63 conventional)'],
      ambiguity: ['respin #1 and #2 are assumed to share the 44-byte layout; their posted bytes are not stored (2026 notes section 4a)'],
    };
  } else {
    findings.push(finding({ id: 'zoned.length-unknown', severity: 'warning', ...lengthField, found: String(len), expected: known, message: `zoned extension of ${len} bytes matches no known revision: kept raw, the image is read as plain qcow2`, fix: 'none: the bytes are preserved as they are' }));
    return { zoned: null, findings };
  }

  const { fields, v } = readSpecs(data, dataOffset, det.specs);
  if (len > 56) {
    fields.push({ name: 'trailing', offset: dataOffset + 56, size: len - 56, raw: toHex(data, 56, len - 56), value: `${len - 56} bytes`, description: 'bytes beyond the v8/v9/v10 layout, kept raw' });
  }
  const revision = det.revision;
  const sectors = revision === 'v3-v4' || revision === 'v2' || revision === 'rfc';
  const newFamily = revision === 'v11' || revision === 'respin';
  const declaredOrder: WpByteOrder | null = newFamily ? 'big-endian' : null;
  const zoned: ZonedExtension = {
    revision,
    revisionReason: reasonLine(det),
    revisionCandidates: det.candidates,
    revisionDiscriminators: det.discriminators,
    revisionAmbiguity: det.ambiguity,
    wpFlagBit: newFamily ? 63 : 59,
    wpDeclaredOrder: declaredOrder,
    hasAppendLimit: revision !== 'respin',
    length: len,
    dataOffset,
    mode: v['zoned'],
    profile: revision === 'v2' || revision === 'rfc' ? v['zoned_profile'] : null,
    zoneSize: v['zone_size'],
    zoneCapacity: v['zone_capacity'],
    conventionalZones: v['conventional_zones'] ?? v['nr_conv_zones'] ?? v['zone_nr_conv'] ?? 0,
    nrZones: v['nr_zones'],
    maxActiveZones: v['max_active_zones'],
    maxOpenZones: v['max_open_zones'],
    maxAppendBytes: sectors ? (v['max_append_sectors'] ?? 0) * 512 : v['max_append_bytes'] ?? 0,
    zonedmetaOffset: v['zonedmeta_offset'],
    // v11 and the respin store no size: the table is always 8 x nr_zones.
    zonedmetaSize: v['zonedmeta_size'] ?? 8 * v['nr_zones'],
    fields,
    raw: toHex(data),
  };
  findings.push(...fieldFindings(zoned, data));
  findings.push(...zonedOpenRuleFindings(zoned, { clusterSize, fileSize, size: ctx.size, version: ctx.version }));
  return { zoned, findings };
}

function fieldOf(z: ZonedExtension, name: string): ZonedField {
  return z.fields.find((f) => f.name === name) ?? { name, offset: z.dataOffset, size: 1, raw: '', value: 0, description: '' };
}

/** Findings that the extension bytes alone show (mode, profile, reserved bytes). */
function fieldFindings(z: ZonedExtension, data: Uint8Array): Finding[] {
  const out: Finding[] = [];
  const modeField = fieldOf(z, 'zoned');
  if (z.mode !== 0 && z.mode !== 1) {
    out.push(finding({ id: 'zoned.mode', severity: 'error', structure: 'zoned extension', field: 'zoned', offset: modeField.offset, length: modeField.size, found: String(z.mode), expected: '0 (none) or 1 (host-managed)', message: `zoned extension mode ${z.mode} is unknown: the image is not read as zoned`, fix: 'set the zoned byte to 1 (host-managed) if the rest of the extension is valid' }));
  } else if (z.mode === 0) {
    out.push(finding({ id: 'zoned.mode-none', severity: 'info', structure: 'zoned extension', field: 'zoned', offset: modeField.offset, length: modeField.size, found: '0 (none)', expected: '1 (host-managed) for a zoned image', message: 'the zoned extension says the device is not zoned: its other fields are ignored and the image is read as plain qcow2', fix: 'none needed' }));
  }
  if (z.profile !== null && z.profile !== 1 && z.profile !== 2) {
    const p = fieldOf(z, 'zoned_profile');
    out.push(finding({ id: 'zoned.profile', severity: 'warning', structure: 'zoned extension', field: 'zoned_profile', offset: p.offset, length: p.size, found: String(z.profile), expected: '1 (zbc) or 2 (zns)', message: `zoned profile ${z.profile} is neither zbc (1) nor zns (2)`, fix: 'none: informational in these revisions' }));
  }
  const reserved = fieldOf(z, 'reserved');
  if (z.revision === 'v2' ? data[2] !== 0 || data[3] !== 0 : (z.revision !== 'rfc' && (data[1] !== 0 || data[2] !== 0 || data[3] !== 0))) {
    const start = z.revision === 'v2' ? 2 : 1;
    out.push(finding({ id: 'zoned.reserved', severity: 'warning', structure: 'zoned extension', field: 'reserved', offset: reserved.offset, length: 4 - start, found: toHex(data, start, 4 - start), expected: '00'.repeat(4 - start), message: 'reserved bytes of the zoned extension are not zero', fix: 'zero the reserved bytes' }));
  }
  return out;
}
