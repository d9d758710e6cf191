// Header extensions (docs/interop/qcow2.rst "Header extensions"): walked from header_length to the backing
// file name (or the end of cluster 0). Each known type is decoded; unknown ones are kept raw. The zoned
// extension is decoded by zoned-extension.ts for every revision.
import { hex, toHex, u32be, u64be, utf8Decode } from '../bytes';
import type { FeatureKind, FeatureTableEntry } from './features';
import { finding, type Finding } from './findings';
import { SAFE_LIMIT, type Qcow2Header } from './header';
import { decodeZonedExtension } from './zoned-extension';
import type { ZonedExtension } from './zoned-types';

export const EXT_END = 0x00000000;
export const EXT_BACKING_FORMAT = 0xe2792aca;
/** sizeof(BlockDriverState.backing_format) in QEMU (include/block/block_int-common.h): names must be shorter. */
export const BACKING_FORMAT_MAX = 16;
export const EXT_FEATURE_TABLE = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_CRYPTO = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;
export const EXT_ZONED = 0x007a6264;

export const EXTENSION_NAMES: Record<number, string> = {
  [EXT_END]: 'end of extensions',
  [EXT_BACKING_FORMAT]: 'backing file format',
  [EXT_FEATURE_TABLE]: 'feature name table',
  [EXT_BITMAPS]: 'bitmaps',
  [EXT_CRYPTO]: 'full disk encryption header pointer',
  [EXT_DATA_FILE]: 'external data file name',
  [EXT_ZONED]: 'zoned format (proposed)',
};

export interface BitmapsExtension {
  nbBitmaps: number;
  reserved: number;
  bitmapDirectorySize: number;
  bitmapDirectoryOffset: number;
}

export interface CryptoExtension {
  offset: number;
  length: number;
}

export type ExtensionContent =
  | { kind: 'end' }
  | { kind: 'backing-format'; format: string }
  | { kind: 'feature-table'; entries: FeatureTableEntry[] }
  | { kind: 'bitmaps'; bitmaps: BitmapsExtension }
  | { kind: 'crypto'; crypto: CryptoExtension }
  | { kind: 'data-file'; path: string }
  | { kind: 'zoned'; zoned: ZonedExtension | null }
  | { kind: 'unknown' };

export interface HeaderExtension {
  magic: number;
  name: string;
  /** Offset of the 8-byte extension header (magic, length). */
  offset: number;
  /** Offset of the data. */
  dataOffset: number;
  /** Data length as stored. */
  length: number;
  /** Data length rounded up to a multiple of 8. */
  paddedLength: number;
  /** The data bytes as hex (all of them; bounded by the cluster size). */
  raw: string;
  content: ExtensionContent;
}

export interface ExtensionsResult {
  extensions: HeaderExtension[];
  backingFile: string | null;
  backingFormat: string | null;
  dataFile: string | null;
  featureTable: FeatureTableEntry[];
  bitmaps: BitmapsExtension | null;
  crypto: CryptoExtension | null;
  zoned: ZonedExtension | null;
  findings: Finding[];
}

const KIND_BY_CODE: Record<number, FeatureKind> = { 0: 'incompatible', 1: 'compatible', 2: 'autoclear' };

function decodeFeatureTable(data: Uint8Array, dataOffset: number, findings: Finding[]): FeatureTableEntry[] {
  const entries: FeatureTableEntry[] = [];
  if (data.length % 48 !== 0) {
    findings.push(finding({ id: 'extension.feature-table.length', severity: 'warning', structure: 'feature name table', field: 'length', offset: dataOffset - 4, length: 4, found: String(data.length), expected: 'a multiple of 48', message: `feature name table length ${data.length} is not a multiple of 48 bytes; trailing bytes ignored`, fix: 'truncate the table to whole entries' }));
  }
  for (let i = 0; i + 48 <= data.length; i += 48) {
    const typeCode = data[i];
    const nameBytes = data.subarray(i + 2, i + 48);
    const nul = nameBytes.indexOf(0);
    const name = utf8Decode(nul >= 0 ? nameBytes.subarray(0, nul) : nameBytes);
    const kind = (KIND_BY_CODE[typeCode] as FeatureKind | undefined) ?? ('unknown' as const);
    if (kind === 'unknown') {
      findings.push(finding({ id: 'extension.feature-table.type', severity: 'warning', structure: 'feature name table', field: `entry ${i / 48} type`, offset: dataOffset + i, length: 1, found: String(typeCode), expected: '0, 1 or 2', message: `feature name table entry ${i / 48} ("${name}") has unknown type ${typeCode}`, fix: 'drop the entry' }));
    }
    if (data[i + 1] > 63) {
      findings.push(finding({ id: 'extension.feature-table.bit', severity: 'warning', structure: 'feature name table', field: `entry ${i / 48} bit`, offset: dataOffset + i + 1, length: 1, found: String(data[i + 1]), expected: '0..63', message: `feature name table entry ${i / 48} ("${name}") names bit ${data[i + 1]}, beyond 63`, fix: 'drop the entry' }));
    }
    entries.push({ kind, typeCode, bit: data[i + 1], name, offset: dataOffset + i });
  }
  return entries;
}

/**
 * Decode every header extension from cluster 0 (`cluster0` holds the first cluster, or the whole file if
 * shorter: what lies past the end of the file reads as zeros, as QEMU reads it).
 *
 * The walk is qcow2_read_extensions (block/qcow2.c): from header_length to ext_end, the backing file name
 * offset or else the end of cluster 0; an extension whose header or data would pass ext_end is "Header
 * extension too large" and QEMU refuses the image (openImage does too: extension.overrun).
 */
export function decodeExtensions(h: Qcow2Header, cluster0: Uint8Array, fileSize?: number): ExtensionsResult {
  const findings: Finding[] = [];
  const result: ExtensionsResult = {
    extensions: [], backingFile: null, backingFormat: null, dataFile: null, featureTable: [], bitmaps: null,
    crypto: null, zoned: null, findings,
  };
  const cs = h.clusterSize || 65536;
  const start = h.version === 2 ? 72 : h.headerLength;
  // decodeHeader refuses a backing_file_offset beyond the cluster; this keeps the walk inside it anyway.
  const areaEnd = h.backingFileOffset !== 0 ? Math.min(h.backingFileOffset, cs) : cs;
  const fileBytes = cluster0; // the backing file name must exist in the file itself
  if (cluster0.length < areaEnd) {
    const padded = new Uint8Array(areaEnd);
    padded.set(cluster0);
    cluster0 = padded;
  }
  const seen = new Map<number, number>();
  const areaName = h.backingFileOffset !== 0 ? 'the backing file name' : 'the end of cluster 0';
  const tooLarge = (field: string, at: number, length: number, found: string, expected: string, message: string): void => {
    findings.push(finding({ id: 'extension.overrun', severity: 'error', structure: 'header extensions', field, offset: at, length, found, expected, message: `${message}: QEMU refuses the image ("Header extension too large")`, fix: 'none: QEMU refuses the image; drop the extension and everything after it' }));
  };

  // A 64-bit value this reader keeps as a number must be exact (below 2^53): refused otherwise
  // (extension.<name>-too-large; openImage throws it), never rounded into an offset that is read.
  const u64TooLarge = (ext: string, structure: string, field: string, at: number, v: bigint): void => {
    if (v < SAFE_LIMIT) return;
    findings.push(finding({ id: `extension.${ext}-too-large`, severity: 'error', structure, field, offset: at, length: 8, found: `${v} (${hex(v)})`, expected: `< 2^53 (${SAFE_LIMIT})`, message: `${structure} ${field} ${v} is at or beyond 2^53 bytes: no file is that large, and this reader cannot address it exactly`, fix: 'none: the value is implausible' }));
  };

  // From header_length itself, as QEMU reads (a header_length that is not a multiple of 8 is a warning).
  let off = start;
  while (off < areaEnd) {
    if (off + 8 > areaEnd) {
      tooLarge('magic', off, areaEnd - off, `an extension header at ${off} (8 bytes)`, `<= ${areaEnd - off} bytes left before ${areaName} (${areaEnd})`, `header extension at offset ${off} does not fit before ${areaName} at ${areaEnd}`);
      break;
    }
    const magic = u32be(cluster0, off);
    const length = u32be(cluster0, off + 4);
    const name = EXTENSION_NAMES[magic] ?? `unknown extension ${hex(magic, 8)}`;
    const dataOffset = off + 8;
    // QEMU tests the length before it looks at the magic, so an end marker with a length past the area
    // is "Header extension too large" too (a header_length off by a few bytes reads one so).
    if (magic === EXT_END && length <= areaEnd - dataOffset) {
      result.extensions.push({ magic, name, offset: off, dataOffset: off + 8, length, paddedLength: 0, raw: '', content: { kind: 'end' } });
      break;
    }
    if (length > areaEnd - dataOffset) {
      findings.push(finding({ id: 'extension.overrun', severity: 'error', structure: `header extension ${hex(magic, 8)} (${name})`, field: 'length', offset: off + 4, length: 4, found: String(length), expected: `<= ${areaEnd - dataOffset} (space left before ${areaName})`, message: `header extension ${name} at offset ${off} claims ${length} bytes but only ${areaEnd - dataOffset} remain before ${areaName}: QEMU refuses the image ("Header extension too large")`, fix: 'none: QEMU refuses the image; drop the extension and everything after it' }));
      break;
    }
    const data = cluster0.subarray(dataOffset, dataOffset + length);
    const paddedLength = Math.ceil(length / 8) * 8;
    const prev = seen.get(magic);
    if (prev !== undefined) {
      findings.push(finding({ id: 'extension.duplicate', severity: 'error', structure: `header extension ${name}`, field: 'magic', offset: off, length: 4, found: `a second ${name} extension at ${off}`, expected: `at most one (first at ${prev})`, message: `header extension ${name} appears twice (offsets ${prev} and ${off})`, fix: 'drop the second copy' }));
    } else {
      seen.set(magic, off);
    }
    let content: ExtensionContent;
    switch (magic) {
      case EXT_BACKING_FORMAT:
        content = { kind: 'backing-format', format: utf8Decode(data) };
        result.backingFormat ??= content.format;
        // qcow2_read_extensions reads the name into BlockDriverState.backing_format[16] and refuses longer ones.
        if (length >= BACKING_FORMAT_MAX) {
          findings.push(finding({ id: 'extension.backing-format-too-long', severity: 'error', structure: 'backing file format extension', field: 'length', offset: off + 4, length: 4, found: String(length), expected: `< ${BACKING_FORMAT_MAX} (QEMU's backing_format buffer)`, message: `the backing file format name is ${length} bytes, more than QEMU accepts: QEMU refuses the image ("ERROR: ext_backing_format: len=${length} too large (>=${BACKING_FORMAT_MAX})")`, fix: 'none in place: name the format again with qemu-img rebase -u -F FORMAT' }));
        }
        break;
      case EXT_DATA_FILE:
        content = { kind: 'data-file', path: utf8Decode(data) };
        result.dataFile ??= content.path;
        break;
      case EXT_FEATURE_TABLE: {
        content = { kind: 'feature-table', entries: decodeFeatureTable(data, dataOffset, findings) };
        if (result.featureTable.length === 0) result.featureTable = content.entries;
        break;
      }
      case EXT_BITMAPS: {
        if (length < 24) {
          findings.push(finding({ id: 'extension.bitmaps.length', severity: 'error', structure: 'bitmaps extension', field: 'length', offset: off + 4, length: 4, found: String(length), expected: '24', message: `bitmaps extension is ${length} bytes, expected 24`, fix: 'none' }));
          content = { kind: 'unknown' };
        } else {
          const size = u64be(data, 8);
          const offset = u64be(data, 16);
          u64TooLarge('bitmaps', 'bitmaps extension', 'bitmap_directory_size', dataOffset + 8, size);
          u64TooLarge('bitmaps', 'bitmaps extension', 'bitmap_directory_offset', dataOffset + 16, offset);
          const bitmaps: BitmapsExtension = {
            nbBitmaps: u32be(data, 0), reserved: u32be(data, 4), bitmapDirectorySize: Number(size), bitmapDirectoryOffset: Number(offset),
          };
          content = { kind: 'bitmaps', bitmaps };
          result.bitmaps ??= bitmaps;
        }
        break;
      }
      case EXT_CRYPTO: {
        if (length < 16) {
          findings.push(finding({ id: 'extension.crypto.length', severity: 'error', structure: 'encryption header pointer', field: 'length', offset: off + 4, length: 4, found: String(length), expected: '16', message: `full disk encryption header pointer is ${length} bytes, expected 16`, fix: 'none' }));
          content = { kind: 'unknown' };
        } else {
          const offset = u64be(data, 0);
          const len = u64be(data, 8);
          u64TooLarge('crypto', 'encryption header pointer', 'offset', dataOffset, offset);
          u64TooLarge('crypto', 'encryption header pointer', 'length', dataOffset + 8, len);
          const crypto = { offset: Number(offset), length: Number(len) };
          content = { kind: 'crypto', crypto };
          result.crypto ??= crypto;
        }
        break;
      }
      case EXT_ZONED: {
        const decoded = decodeZonedExtension(data, dataOffset, cs, fileSize, { size: h.size, version: h.version });
        findings.push(...decoded.findings);
        content = { kind: 'zoned', zoned: decoded.zoned };
        if (result.zoned === null && decoded.zoned !== null) result.zoned = decoded.zoned;
        break;
      }
      default:
        content = { kind: 'unknown' };
    }
    result.extensions.push({ magic, name, offset: off, dataOffset, length, paddedLength, raw: toHex(data), content });
    off = dataOffset + paddedLength;
  }

  if (h.backingFileOffset !== 0 && h.backingFileSize > 0 && h.backingFileSize <= 1023) {
    const end = h.backingFileOffset + h.backingFileSize;
    if (end <= fileBytes.length) {
      result.backingFile = utf8Decode(fileBytes.subarray(h.backingFileOffset, end));
    } else {
      findings.push(finding({ id: 'header.backing-file-name', severity: 'error', structure: 'backing file name', field: 'backing_file_offset', offset: 8, length: 8, found: `${h.backingFileOffset} + ${h.backingFileSize}`, expected: `within the first ${fileBytes.length} bytes`, message: 'backing file name lies outside the first cluster or past the end of the file', fix: 'none' }));
    }
  }
  return result;
}
