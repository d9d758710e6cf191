// Persistent dirty bitmaps (docs/interop/qcow2.rst "Bitmaps extension"): the bitmap directory and each
// bitmap's table, plus the "bitmaps" list of qemu-img info's format-specific data.
import { hex, toHex, u16be, u32be, u64be, u64beNum, utf8Decode } from '../bytes';
import type { Field } from './field';
import { finding, type Finding } from './findings';
import { SAFE_LIMIT } from './header';
import type { OpenedImage } from './image';
import { readZeroPadded } from './l1l2';

/** QEMU's QCOW2_MAX_BITMAPS and QCOW2_MAX_BITMAP_DIRECTORY_SIZE. */
export const MAX_BITMAPS = 65535;
export const MAX_BITMAP_DIRECTORY_SIZE = 1024 * MAX_BITMAPS;
/** QEMU's BME_MAX_TABLE_SIZE (entries) and BME_MAX_NAME_SIZE. */
export const MAX_BITMAP_TABLE_ENTRIES = 0x8000000;
export const MAX_BITMAP_NAME = 1023;
export const BME_FLAG_IN_USE = 1;
export const BME_FLAG_AUTO = 2;
export const BME_FLAG_EXTRA_DATA_COMPATIBLE = 4;
const AUTOCLEAR_BITMAPS = 1n;

export interface BitmapEntry {
  index: number;
  offset: number;
  length: number;
  tableOffset: number;
  tableSize: number;
  flags: number;
  type: number;
  granularityBits: number;
  name: string;
  extraDataSize: number;
  fields: Field[];
}

export interface BitmapDirectory {
  /** False when the autoclear bit is clear: QEMU then treats every bitmap as gone. */
  consistent: boolean;
  bitmaps: BitmapEntry[];
  findings: Finding[];
}

export interface BitmapInfoJson {
  flags: string[];
  name: string;
  granularity: number;
}

export async function readBitmapDirectory(img: OpenedImage): Promise<BitmapDirectory | null> {
  const ext = img.extensions.bitmaps;
  if (!ext) return null;
  const findings: Finding[] = [];
  const consistent = (img.header.autoclearFeatures & AUTOCLEAR_BITMAPS) !== 0n;
  const dirFinding = (field: string, found: string, expected: string, message: string, severity: 'error' | 'warning' = 'error'): void => {
    findings.push(finding({ id: `bitmaps.${field}`, severity, structure: 'bitmaps extension', field, offset: extOffset(img), length: 24, found, expected, message, fix: 'none: QEMU refuses the image' }));
  };
  if (!consistent) {
    findings.push(finding({ id: 'bitmaps.autoclear', severity: 'warning', structure: 'header', field: 'autoclear_features', offset: 88, length: 8, found: 'bit 0 (bitmaps) clear', expected: 'bit 0 set while a bitmaps extension exists', message: 'a program without bitmap support modified the image: QEMU considers every bitmap inconsistent and ignores them', fix: 'remove the bitmaps extension' }));
    return { consistent, bitmaps: [], findings };
  }
  const cs = img.header.clusterSize;
  if (ext.nbBitmaps === 0) dirFinding('nb_bitmaps', '0', '>= 1', 'bitmaps extension with zero bitmaps');
  if (ext.nbBitmaps > MAX_BITMAPS) dirFinding('nb_bitmaps', String(ext.nbBitmaps), `<= ${MAX_BITMAPS}`, `too many bitmaps: ${ext.nbBitmaps}`);
  if (ext.reserved !== 0) dirFinding('reserved', String(ext.reserved), '0', 'bitmaps extension reserved field is not zero');
  if (ext.bitmapDirectorySize > MAX_BITMAP_DIRECTORY_SIZE) dirFinding('bitmap_directory_size', String(ext.bitmapDirectorySize), `<= ${MAX_BITMAP_DIRECTORY_SIZE}`, 'bitmap directory is too large');
  if (ext.bitmapDirectoryOffset % cs !== 0) dirFinding('bitmap_directory_offset', hex(ext.bitmapDirectoryOffset), `a multiple of the cluster size ${cs}`, 'bitmap directory offset is not cluster aligned');
  // (openImage refuses a directory offset or size at or beyond 2^53: extension.bitmaps-too-large)
  if (ext.bitmapDirectoryOffset + ext.bitmapDirectorySize > img.fileSize) dirFinding('bitmap_directory_offset', `${hex(ext.bitmapDirectoryOffset)} + ${ext.bitmapDirectorySize}`, `inside the file (${img.fileSize} bytes)`, 'bitmap directory runs past the end of the file');
  if (findings.length > 0) return { consistent, bitmaps: [], findings };

  const dir = (await readZeroPadded(img.source, ext.bitmapDirectoryOffset, ext.bitmapDirectorySize)).bytes;
  const bitmaps: BitmapEntry[] = [];
  let rel = 0;
  for (let i = 0; i < ext.nbBitmaps; i++) {
    const at = ext.bitmapDirectoryOffset + rel;
    if (rel + 24 > dir.length) {
      findings.push(finding({ id: 'bitmaps.directory-short', severity: 'error', structure: 'bitmap directory', field: `entry ${i}`, offset: at, length: 0, found: `directory of ${dir.length} bytes`, expected: `${ext.nbBitmaps} entries`, message: `bitmap directory ends before entry ${i}`, fix: 'none' }));
      break;
    }
    const e = dir.subarray(rel);
    const nameLen = u16be(e, 18);
    const extraLen = u32be(e, 20);
    const len = Math.ceil((24 + extraLen + nameLen) / 8) * 8;
    if (rel + 24 + extraLen + nameLen > dir.length) {
      findings.push(finding({ id: 'bitmaps.entry-overrun', severity: 'error', structure: 'bitmap directory', field: `entry ${i}`, offset: at, length: 24, found: `${24 + extraLen + nameLen} bytes`, expected: `<= ${dir.length - rel} bytes left in the directory`, message: `bitmap directory entry ${i} runs past the end of the directory`, fix: 'none' }));
      break;
    }
    const name = utf8Decode(e.subarray(24 + extraLen, 24 + extraLen + nameLen));
    const f = (n: string, o: number, size: number, value: number | string, description: string): Field => ({ name: n, offset: at + o, size, raw: toHex(e, o, size), value, present: true, description });
    const entry: BitmapEntry = {
      index: i, offset: at, length: len, tableOffset: u64beNum(e, 0), tableSize: u32be(e, 8), flags: u32be(e, 12), type: e[16],
      granularityBits: e[17], name, extraDataSize: extraLen,
      fields: [
        f('bitmap_table_offset', 0, 8, u64beNum(e, 0), 'offset of the bitmap table'),
        f('bitmap_table_size', 8, 4, u32be(e, 8), 'entries in the bitmap table'),
        f('flags', 12, 4, u32be(e, 12), 'bit 0 in_use, bit 1 auto, bit 2 extra_data_compatible'),
        f('type', 16, 1, e[16], '1 = dirty tracking bitmap'),
        f('granularity_bits', 17, 1, e[17], 'log2 of bytes per bit'),
        f('name_size', 18, 2, nameLen, 'length of the name'),
        f('extra_data_size', 20, 4, extraLen, 'bytes of extra data'),
        { name: 'name', offset: at + 24 + extraLen, size: nameLen, raw: toHex(e, 24 + extraLen, nameLen), value: name, present: true, description: 'bitmap name' },
      ],
    };
    const tableOffset = u64be(e, 0);
    if (tableOffset >= SAFE_LIMIT) {
      findings.push(finding({ id: 'bitmaps.bitmap_table_offset-too-large', severity: 'error', structure: `bitmap "${name}"`, field: 'bitmap_table_offset', offset: at, length: 8, found: `${tableOffset} (${hex(tableOffset)})`, expected: `< 2^53 (${SAFE_LIMIT})`, message: `bitmap "${name}" table offset ${tableOffset} is at or beyond 2^53 bytes: no file is that large`, fix: 'remove the bitmap' }));
    } else {
      findings.push(...checkEntry(entry, img));
    }
    bitmaps.push(entry);
    rel += len;
  }
  return { consistent, bitmaps, findings };
}

function extOffset(img: OpenedImage): number {
  return img.extensions.extensions.find((x) => x.content.kind === 'bitmaps')?.offset ?? 0;
}

/** QEMU's check_dir_entry. */
function checkEntry(b: BitmapEntry, img: OpenedImage): Finding[] {
  const out: Finding[] = [];
  const cs = img.header.clusterSize;
  const bad = (field: string, found: string, expected: string, message: string, severity: 'error' | 'warning' = 'error'): void => {
    out.push(finding({ id: `bitmaps.${field}`, severity, structure: `bitmap "${b.name}"`, field, offset: b.offset, length: 24, found, expected, message, fix: 'remove the bitmap' }));
  };
  if (b.type !== 1) bad('type', String(b.type), '1 (dirty tracking)', `bitmap "${b.name}" has unknown type ${b.type}`);
  if (b.granularityBits < 9 || b.granularityBits > 31) bad('granularity_bits', String(b.granularityBits), '9..31', `bitmap "${b.name}" granularity_bits ${b.granularityBits} out of range`);
  if (b.name.length === 0 || b.name.length > MAX_BITMAP_NAME) bad('name_size', String(b.name.length), `1..${MAX_BITMAP_NAME}`, `bitmap name length out of range`);
  if (b.flags & ~(BME_FLAG_IN_USE | BME_FLAG_AUTO | BME_FLAG_EXTRA_DATA_COMPATIBLE)) bad('flags', hex(b.flags), 'only bits 0-2', `bitmap "${b.name}" has reserved flags set`);
  if (b.extraDataSize !== 0 && !(b.flags & BME_FLAG_EXTRA_DATA_COMPATIBLE)) bad('extra_data_size', String(b.extraDataSize), '0 unless extra_data_compatible', `bitmap "${b.name}" has extra data QEMU cannot interpret`);
  if (b.tableSize > MAX_BITMAP_TABLE_ENTRIES) bad('bitmap_table_size', String(b.tableSize), `<= ${MAX_BITMAP_TABLE_ENTRIES}`, `bitmap "${b.name}" table is too large`);
  if (b.tableOffset % cs !== 0) bad('bitmap_table_offset', hex(b.tableOffset), `a multiple of the cluster size ${cs}`, `bitmap "${b.name}" table offset is not cluster aligned`);
  else if (b.tableOffset + b.tableSize * 8 > img.fileSize) bad('bitmap_table_offset', `${hex(b.tableOffset)} + ${b.tableSize * 8}`, `inside the file (${img.fileSize} bytes)`, `bitmap "${b.name}" table runs past the end of the file`);
  return out;
}

export interface BitmapTableEntry {
  /** Data cluster offset, 0 when the cluster is not stored. */
  offset: number;
  /** Only for offset 0: the whole cluster reads as ones (bit 0), else as zeros. */
  allOnes: boolean;
  reservedBits: number;
}

/** A bitmap's table, read in bounded chunks (the size is checked against QEMU's limit first). */
export async function readBitmapTable(img: OpenedImage, b: BitmapEntry): Promise<{ entries: BitmapTableEntry[]; findings: Finding[] }> {
  const findings: Finding[] = [];
  if (b.tableSize > MAX_BITMAP_TABLE_ENTRIES || b.tableOffset % img.header.clusterSize !== 0) return { entries: [], findings };
  if (b.tableOffset + b.tableSize * 8 > Number.MAX_SAFE_INTEGER) return { entries: [], findings }; // reported by readBitmapDirectory
  const { bytes } = await readZeroPadded(img.source, b.tableOffset, b.tableSize * 8);
  const entries: BitmapTableEntry[] = [];
  for (let i = 0; i < b.tableSize; i++) {
    const hi = u32be(bytes, i * 8);
    const lo = u32be(bytes, i * 8 + 4);
    const offset = (hi & 0x00ffffff) * 0x1_0000_0000 + ((lo & 0xfffffe00) >>> 0);
    const reservedBits = (hi & 0xff000000) !== 0 || (lo & 0x1fe) !== 0 || (offset !== 0 && (lo & 1) !== 0) ? 1 : 0;
    if ((hi & 0x00e00000) !== 0) {
      const exact = ((BigInt(hi) << 32n) | BigInt(lo)) & 0x00ff_ffff_ffff_fe00n;
      findings.push(finding({ id: 'bitmaps.table-offset-too-large', severity: 'error', structure: `bitmap "${b.name}" table`, field: `entry ${i}`, offset: b.tableOffset + i * 8, length: 8, found: `${exact} (${hex(exact)})`, expected: `a data cluster offset below 2^53 (${SAFE_LIMIT})`, message: `bitmap "${b.name}" table entry ${i} points to ${exact}, at or beyond 2^53 bytes`, fix: 'remove the bitmap' }));
    }
    if (reservedBits) findings.push(finding({ id: 'bitmaps.table-reserved', severity: 'warning', structure: `bitmap "${b.name}" table`, field: `entry ${i}`, offset: b.tableOffset + i * 8, length: 8, found: hex(hi * 0x1_0000_0000 + lo, 16), expected: 'reserved bits clear', message: `bitmap "${b.name}" table entry ${i} has reserved bits set`, fix: 'clear them' }));
    entries.push({ offset, allOnes: offset === 0 && (lo & 1) === 1, reservedBits });
  }
  return { entries, findings };
}

export function bitmapsInfoJson(dir: BitmapDirectory): BitmapInfoJson[] {
  return dir.bitmaps.map((b) => {
    const flags: string[] = [];
    if (b.flags & BME_FLAG_IN_USE) flags.push('in-use');
    if (b.flags & BME_FLAG_AUTO) flags.push('auto');
    return { flags, name: b.name, granularity: 2 ** b.granularityBits };
  });
}
