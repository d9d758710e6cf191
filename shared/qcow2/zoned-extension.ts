// The proposed zoned header extension (magic 0x007a6264), every posted revision (ZONED-FORMAT.md
// section 2), detected by length and content (section 7 items 1-2, section 8 item 1). Pure: the bytes of
// the extension data in, the normalised extension (all sizes in bytes) plus findings out.
import { putU32be, putU64be, toHex, u32be, u32le, u64beNum } from '../bytes';
import { finding, type Finding } from './findings';
import type { ZonedExtension, ZonedField, ZonedRevision } from './zoned-types';

interface Spec {
  name: string;
  off: number;
  size: 1 | 2 | 3 | 4 | 8;
  le?: boolean;
  description: string;
}

/** Stored length of each revision's extension data (section 2). */
export const ZONED_EXT_LENGTH = { rfc: 55, v2: 48, 'v3-v4': 48, 'v5-v7': 48, v8: 56 } as const;

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

/** The layouts we write (section 8 item 2): the seed's 48 bytes (v5-v7) or v8's 56. */
const WRITE_LAYOUTS = { v7: V5_V7, v8: V8 } as const;

/**
 * Encode the extension data of a layout we write, from the same field tables the decoder reads, so the
 * two can never disagree on an offset. `values` is keyed by field name; reserved bytes stay zero.
 */
export function encodeZonedExtensionData(layout: 'v7' | 'v8', values: Readonly<Record<string, number>>): Uint8Array {
  const specs = WRITE_LAYOUTS[layout];
  const out = new Uint8Array(ZONED_EXT_LENGTH[layout === 'v7' ? 'v5-v7' : 'v8']);
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

interface Detection {
  revision: ZonedRevision;
  specs: Spec[];
  reason: string;
}

function detect48(data: Uint8Array, clusterSize: number, fileSize: number | undefined): Detection {
  if ((data[0] === 1 || data[0] === 2) && data[1] === 1 && data[2] === 0 && data[3] === 0) {
    return {
      revision: 'v2', specs: V2,
      reason: `length 48 with profile byte ${data[0]} (${data[0] === 1 ? 'zbc' : 'zns'}) followed by zoned byte 1: v2 layout`,
    };
  }
  const nr = u32be(data, 16);
  const a32 = u64beNum(data, 32);
  const a40 = u64beNum(data, 40);
  const seed = metaScore(a40, a32, nr, clusterSize, fileSize);
  const old = metaScore(a32, a40, nr, clusterSize, fileSize);
  const facts = `+32 = ${a32}, +40 = ${a40}, nr_zones = ${nr} (8 x nr_zones = ${8 * nr})`;
  if (old > seed) {
    return {
      revision: 'v3-v4', specs: V3_V4,
      reason: `length 48 without a profile byte; ${facts}: the value at +32 is the plausible offset and the one at +40 the size, so v3/v4 order (offset before size, max append in sectors)`,
    };
  }
  return {
    revision: 'v5-v7', specs: V5_V7,
    reason: seed > old
      ? `length 48 without a profile byte; ${facts}: the value at +32 is the plausible size and the one at +40 the offset, so the v5-v7 (seed) layout`
      : `length 48 without a profile byte; ${facts}: both field orders fit equally, so the seed (v5-v7) layout is assumed`,
  };
}

/**
 * Decode the zoned extension data. `clusterSize` and (optionally) `fileSize` decide the 48-byte field order.
 * Returns null for lengths no revision uses: the image is then read as plain qcow2 (section 8 item 1).
 */
export function decodeZonedExtension(data: Uint8Array, dataOffset: number, clusterSize: number, fileSize?: number): ZonedDecodeResult {
  const findings: Finding[] = [];
  const len = data.length;
  const lengthField = { structure: 'zoned extension', field: 'length', offset: dataOffset - 4, length: 4 };
  let det: Detection;

  if (len >= 56) {
    det = {
      revision: 'v8', specs: V8,
      reason: len === 56
        ? 'length 56: v8/v9 layout (64-bit zone size and capacity)'
        : `length ${len} > 56: parsed with the v8/v9 layout, the ${len - 56} trailing bytes kept raw`,
    };
    if (len > 56) {
      findings.push(finding({ id: 'zoned.length-longer', severity: 'warning', ...lengthField, found: String(len), expected: '48 (v2-v7), 55 (RFC) or 56 (v8/v9)', message: `zoned extension is ${len} bytes, longer than any known revision: read with the v8/v9 layout, the trailing ${len - 56} bytes kept as they are`, fix: 'none needed: the bytes are preserved' }));
    }
  } else if (len === 55) {
    // The RFC stored two C enums in host order; the profile (1 or 2) tells which order the host had.
    const le = u32le(data, 0) === 1 || u32le(data, 0) === 2 || !(u32be(data, 0) === 1 || u32be(data, 0) === 2);
    det = { revision: 'rfc', specs: rfcSpecs(le), reason: `length 55: RFC layout (host-endian enums at +0 and +4, read as ${le ? 'little' : 'big'}-endian)` };
  } else if (len === 48) {
    det = detect48(data, clusterSize, fileSize);
  } else {
    findings.push(finding({ id: 'zoned.length-unknown', severity: 'warning', ...lengthField, found: String(len), expected: '48 (v2-v7), 55 (RFC) or 56 (v8/v9)', message: `zoned extension of ${len} bytes matches no known revision: kept raw, the image is read as plain qcow2`, fix: 'none: the bytes are preserved as they are' }));
    return { zoned: null, findings };
  }

  const { fields, v } = readSpecs(data, dataOffset, det.specs);
  if (len > 56) {
    fields.push({ name: 'trailing', offset: dataOffset + 56, size: len - 56, raw: toHex(data, 56, len - 56), value: `${len - 56} bytes`, description: 'bytes beyond the v8/v9 layout, kept raw' });
  }
  const revision = det.revision;
  const sectors = revision === 'v3-v4' || revision === 'v2' || revision === 'rfc';
  const zoned: ZonedExtension = {
    revision,
    revisionReason: det.reason,
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
    maxAppendBytes: sectors ? (v['max_append_sectors'] ?? 0) * 512 : v['max_append_bytes'],
    zonedmetaOffset: v['zonedmeta_offset'],
    zonedmetaSize: v['zonedmeta_size'],
    fields,
    raw: toHex(data),
  };
  findings.push(...fieldFindings(zoned, data));
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
