// The proposed zoned header extension (magic 0x007a6264), every posted revision (ZONED-FORMAT.md
// section 2), detected by length and content (section 7 items 1-2, section 8 item 1).
import { hex, toHex, u32be, u32le, u64beNum } from '../bytes';
import { finding, type Finding } from './findings';
import type { ZonedExtension, ZonedField, ZonedRevision } from './zoned-types';

interface Spec {
  name: string;
  off: number;
  size: 1 | 4 | 8;
  le?: boolean;
  description: string;
}

const V8: Spec[] = [
  { name: 'zoned', off: 0, size: 1, description: 'zone model: 0 none, 1 host-managed' },
  { name: 'reserved', off: 1, size: 1, description: 'reserved (3 bytes, written 0)' },
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
  { name: 'reserved', off: 1, size: 1, description: 'reserved (3 bytes, written 0)' },
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
  { name: 'reserved', off: 1, size: 1, description: 'reserved (3 bytes)' },
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

function rfcSpecs(le: boolean): Spec[] {
  return [
    { name: 'zoned_profile', off: 0, size: 4, le, description: `profile enum (host-endian, read as ${le ? 'little' : 'big'}-endian): 1 zbc, 2 zns` },
    { name: 'zoned', off: 4, size: 4, le, description: 'zone model enum (host-endian): 1 host-managed' },
    { name: 'zone_size', off: 8, size: 4, description: 'zone size in bytes' },
    { name: 'zone_capacity', off: 12, size: 4, description: 'writable bytes per zone' },
    { name: 'nr_zones', off: 16, size: 4, description: 'number of zones' },
    { name: 'zone_nr_conv', off: 20, size: 4, description: 'number of conventional zones' },
    { name: 'max_active_zones', off: 24, size: 4, description: 'limit on open + closed zones' },
    { name: 'max_open_zones', off: 28, size: 4, description: 'limit on open zones' },
    { name: 'max_append_sectors', off: 32, size: 4, description: 'largest zone append in 512-byte sectors' },
    { name: 'zonedmeta_offset', off: 36, size: 8, description: 'file offset of the write pointer array' },
    { name: 'zonedmeta_size', off: 44, size: 8, description: 'size of the write pointer array' },
  ];
}

function readSpecs(data: Uint8Array, dataOffset: number, specs: Spec[]): { fields: ZonedField[]; v: Record<string, number> } {
  const fields: ZonedField[] = [];
  const v: Record<string, number> = {};
  for (const s of specs) {
    const size = s.name === 'reserved' ? 3 : s.size;
    let value: number;
    if (s.size === 1) value = data[s.off];
    else if (s.size === 4) value = s.le ? u32le(data, s.off) : u32be(data, s.off);
    else value = u64beNum(data, s.off);
    if (s.name === 'reserved') value = (data[1] << 16) | (data[2] << 8) | data[3];
    v[s.name] = value;
    fields.push({ name: s.name, offset: dataOffset + s.off, size, raw: toHex(data, s.off, size), value: Number.isSafeInteger(value) ? value : String(value), description: s.description });
  }
  return { fields, v };
}

/** Does this (offset, size) pair look like a real zonedmeta array for nr_zones zones? */
function plausibleMeta(offset: number, size: number, nrZones: number, clusterSize: number): boolean {
  return size === 8 * nrZones && offset > 0 && offset % clusterSize === 0 && offset >= clusterSize;
}

export interface ZonedDecodeResult {
  zoned: ZonedExtension | null;
  findings: Finding[];
}

export function decodeZonedExtension(data: Uint8Array, dataOffset: number, clusterSize: number): ZonedDecodeResult {
  const findings: Finding[] = [];
  const len = data.length;
  let revision: ZonedRevision;
  let reason: string;
  let specs: Spec[];

  if (len >= 56) {
    revision = 'v8';
    specs = V8;
    reason = len === 56
      ? 'length 56: v8/v9 layout (64-bit zone size and capacity)'
      : `length ${len} > 56: parsed with the v8/v9 layout, the ${len - 56} trailing bytes kept raw`;
    if (len > 56) {
      findings.push(finding({ id: 'zoned.length-unknown', severity: 'warning', structure: 'zoned extension', field: 'length', offset: dataOffset - 4, length: 4, found: String(len), expected: '48 (v5-v7) or 56 (v8/v9)', message: `zoned extension is ${len} bytes, longer than any known revision; read with the v8 layout, trailing bytes kept`, fix: 'none needed: the bytes are preserved' }));
    }
  } else if (len === 55) {
    revision = 'rfc';
    const leProfile = u32le(data, 0);
    const le = leProfile === 1 || leProfile === 2 || u32be(data, 0) > 2;
    specs = rfcSpecs(le);
    reason = `length 55: RFC layout (host-endian enums, read as ${le ? 'little' : 'big'}-endian)`;
  } else if (len === 48) {
    if ((data[0] === 1 || data[0] === 2) && data[1] === 1 && data[2] === 0 && data[3] === 0) {
      revision = 'v2';
      specs = V2;
      reason = `length 48 with profile byte ${data[0]} (${data[0] === 1 ? 'zbc' : 'zns'}) and zoned byte 1: v2 layout`;
    } else {
      const nr = u32be(data, 16);
      const a32 = u64beNum(data, 32);
      const a40 = u64beNum(data, 40);
      const seedOk = plausibleMeta(a40, a32, nr, clusterSize);
      const oldOk = plausibleMeta(a32, a40, nr, clusterSize);
      if (oldOk && !seedOk) {
        revision = 'v3-v4';
        specs = V3_V4;
        reason = `length 48; the value at +32 (${a32}) is a cluster-aligned offset and the value at +40 (${a40}) equals 8 x nr_zones (${nr}): v3/v4 order (offset before size, append in sectors)`;
      } else {
        revision = 'v5-v7';
        specs = V5_V7;
        reason = seedOk
          ? `length 48; the value at +32 (${a32}) equals 8 x nr_zones (${nr}) and the value at +40 (${a40}) is a cluster-aligned offset: v5-v7 (seed) layout`
          : `length 48; neither field order is plausible (+32 = ${a32}, +40 = ${a40}, nr_zones = ${nr}): seed (v5-v7) layout assumed`;
      }
    }
  } else {
    findings.push(finding({ id: 'zoned.length-unknown', severity: 'warning', structure: 'zoned extension', field: 'length', offset: dataOffset - 4, length: 4, found: String(len), expected: '48, 55 or 56', message: `zoned extension of ${len} bytes matches no known revision: kept raw, the image is read as plain qcow2`, fix: 'none: the bytes are preserved as they are' }));
    return { zoned: null, findings };
  }

  const { fields, v } = readSpecs(data, dataOffset, specs);
  const sectors = revision === 'v3-v4' || revision === 'v2' || revision === 'rfc';
  const zoned: ZonedExtension = {
    revision,
    revisionReason: reason,
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

  const modeField = fields.find((f) => f.name === 'zoned');
  if (zoned.mode !== 0 && zoned.mode !== 1 && modeField) {
    findings.push(finding({ id: 'zoned.mode', severity: 'error', structure: 'zoned extension', field: 'zoned', offset: modeField.offset, length: modeField.size, found: String(zoned.mode), expected: '0 (none) or 1 (host-managed)', message: `zoned extension mode ${zoned.mode} is unknown: the image is not read as zoned`, fix: 'set the zoned byte to 1 (host-managed) if the rest of the extension is valid' }));
  }
  if (revision === 'v5-v7' || revision === 'v3-v4' || revision === 'v8') {
    if (data[1] !== 0 || data[2] !== 0 || data[3] !== 0) {
      findings.push(finding({ id: 'zoned.reserved', severity: 'warning', structure: 'zoned extension', field: 'reserved', offset: dataOffset + 1, length: 3, found: toHex(data, 1, 3), expected: '000000', message: 'reserved bytes of the zoned extension are not zero', fix: 'zero the reserved bytes' }));
    }
  }
  void hex;
  return { zoned, findings };
}
