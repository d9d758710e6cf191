// Header-level findings that openImage/decodeHeader/decodeExtensions do not produce themselves:
// contradictions between feature bits, extensions and fields that make QEMU refuse an image (or read it
// differently), named at the exact header bytes.
import { hex } from '../bytes';
import { EXT_BITMAPS, EXT_CRYPTO, EXT_DATA_FILE } from './extensions';
import { finding, type Finding } from './findings';
import type { OpenedImage } from './image';

/** QEMU's QCOW_MAX_SNAPSHOTS. */
export const MAX_SNAPSHOTS = 65536;
/** QEMU's QCOW2_MAX_BITMAPS. */
export const MAX_BITMAPS = 65535;
/** QEMU's QCOW2_MAX_BITMAP_DIRECTORY_SIZE: 1024 bytes per bitmap. */
export const MAX_BITMAP_DIRECTORY_SIZE = 1024 * MAX_BITMAPS;

function bit(mask: bigint, n: number): boolean {
  return ((mask >> BigInt(n)) & 1n) === 1n;
}

export function headerConsistencyFindings(img: OpenedImage): Finding[] {
  const out: Finding[] = [];
  const h = img.header;
  const ext = img.extensions;
  const cs = h.clusterSize;
  const push = (f: Parameters<typeof finding>[0]): void => { out.push(finding(f)); };
  const has = (magic: number) => ext.extensions.some((e) => e.magic === magic);

  if (bit(h.incompatibleFeatures, 4) && h.clusterBits < 14) {
    push({ id: 'header.extended-l2-cluster-size', severity: 'error', structure: 'header', field: 'cluster_bits', offset: 20, length: 4, found: `${h.clusterBits} (${cs}-byte clusters) with extended L2 entries`, expected: '>= 14 (16 KiB clusters) when incompatible bit 4 is set', message: `extended L2 entries need clusters of at least 16 KiB, but cluster_bits is ${h.clusterBits}: QEMU refuses the image`, fix: 'none: the cluster size cannot change in place' });
  }
  if (bit(h.incompatibleFeatures, 2) && !has(EXT_DATA_FILE)) {
    push({ id: 'header.data-file-missing', severity: 'error', structure: 'header', field: 'incompatible_features', offset: 72, length: 8, found: 'bit 2 (external data file) set, no external data file name extension', expected: 'an external data file name extension with bit 2', message: 'guest data lives in an external data file whose name is not recorded: QEMU refuses to open the image without -o data-file ("\'data-file\' is required for this image")', fix: 'none in place: name the data file with qemu-img amend -o data-file=FILE, or clear incompatible bit 2 if the data is in this file' });
  }
  if (bit(h.autoclearFeatures, 1) && !bit(h.incompatibleFeatures, 2)) {
    push({ id: 'header.data-file-raw-without-data-file', severity: 'error', structure: 'header', field: 'autoclear_features', offset: 88, length: 8, found: 'bit 1 (raw external data) set, incompatible bit 2 clear', expected: 'autoclear bit 1 only with an external data file', message: 'autoclear bit 1 (raw external data) is set but the image has no external data file: QEMU refuses the image', fix: 'clear autoclear bit 1' });
  }
  if (h.cryptMethod === 2 && !ext.crypto) {
    push({ id: 'header.crypto-header-missing', severity: 'error', structure: 'header', field: 'crypt_method', offset: 32, length: 4, found: '2 (LUKS), no encryption header pointer extension', expected: 'a full disk encryption header pointer extension', message: 'the image says it is LUKS-encrypted but has no encryption header pointer: QEMU refuses the image', fix: 'none: the encryption header is lost' });
  }
  if (h.cryptMethod !== 2 && has(EXT_CRYPTO)) {
    const e = ext.extensions.find((x) => x.magic === EXT_CRYPTO);
    push({ id: 'extension.crypto-unexpected', severity: 'error', structure: 'header extension', field: 'magic', offset: e?.offset ?? 0, length: 4, found: `encryption header pointer with crypt_method ${h.cryptMethod}`, expected: 'the pointer only with crypt_method 2 (LUKS)', message: `an encryption header pointer is present but crypt_method is ${h.cryptMethod}: QEMU refuses the image`, fix: 'drop the encryption header pointer extension' });
  }
  if (ext.crypto && cs > 0) {
    const e = ext.extensions.find((x) => x.magic === EXT_CRYPTO);
    if (ext.crypto.offset % cs !== 0) {
      push({ id: 'extension.crypto-offset', severity: 'error', structure: 'encryption header pointer', field: 'offset', offset: (e?.dataOffset ?? 0), length: 8, found: hex(ext.crypto.offset), expected: `a multiple of the cluster size ${cs}`, message: `the LUKS header offset ${hex(ext.crypto.offset)} is not cluster aligned: QEMU refuses the image`, fix: 'none' });
    }
  }
  if (ext.bitmaps) {
    const e = ext.extensions.find((x) => x.magic === EXT_BITMAPS);
    const d = e?.dataOffset ?? 0;
    const b = ext.bitmaps;
    if (!bit(h.autoclearFeatures, 0)) {
      push({ id: 'extension.bitmaps-autoclear', severity: 'warning', structure: 'bitmaps extension', field: 'autoclear_features', offset: 88, length: 8, found: 'bitmaps extension present, autoclear bit 0 clear', expected: 'autoclear bit 0 (bitmaps) set', message: 'a program without bitmap support modified the image: QEMU treats every bitmap as inconsistent and ignores them', fix: 'none: the bitmaps are stale; remove them with qemu-img bitmap --remove' });
    }
    if (b.nbBitmaps === 0 || b.nbBitmaps > MAX_BITMAPS) {
      push({ id: 'extension.bitmaps-count', severity: 'error', structure: 'bitmaps extension', field: 'nb_bitmaps', offset: d, length: 4, found: String(b.nbBitmaps), expected: `1..${MAX_BITMAPS}`, message: `bitmaps extension names ${b.nbBitmaps} bitmaps: QEMU refuses the image`, fix: 'none' });
    }
    if (b.reserved !== 0) {
      push({ id: 'extension.bitmaps-reserved', severity: 'error', structure: 'bitmaps extension', field: 'reserved32', offset: d + 4, length: 4, found: hex(b.reserved), expected: '0', message: 'the reserved field of the bitmaps extension is not zero: QEMU refuses the image', fix: 'zero the reserved field' });
    }
    if (b.bitmapDirectorySize > MAX_BITMAP_DIRECTORY_SIZE) {
      push({ id: 'extension.bitmaps-directory-size', severity: 'error', structure: 'bitmaps extension', field: 'bitmap_directory_size', offset: d + 8, length: 8, found: String(b.bitmapDirectorySize), expected: `<= ${MAX_BITMAP_DIRECTORY_SIZE}`, message: `bitmap directory of ${b.bitmapDirectorySize} bytes exceeds QEMU's limit`, fix: 'none' });
    }
    if (cs > 0 && b.bitmapDirectoryOffset % cs !== 0) {
      push({ id: 'extension.bitmaps-directory-offset', severity: 'error', structure: 'bitmaps extension', field: 'bitmap_directory_offset', offset: d + 16, length: 8, found: hex(b.bitmapDirectoryOffset), expected: `a multiple of the cluster size ${cs}`, message: 'the bitmap directory is not cluster aligned: QEMU refuses the image', fix: 'none' });
    }
  }
  // nb_snapshots beyond QEMU's limit is header.ts's finding (decodeHeader), reported once.
  if (h.backingFileOffset !== 0 && h.backingFileOffset < (h.version === 2 ? 72 : h.headerLength)) {
    push({ id: 'header.backing-file-overlap', severity: 'error', structure: 'header', field: 'backing_file_offset', offset: 8, length: 8, found: String(h.backingFileOffset), expected: `>= ${h.version === 2 ? 72 : h.headerLength} (after the header)`, message: `the backing file name at ${h.backingFileOffset} overlaps the header itself`, fix: 'none' });
  }
  const end = ext.extensions.find((e) => e.magic === 0);
  if (!end && !ext.findings.some((f) => f.id === 'extension.overrun') && h.version === 3) {
    const last = ext.extensions[ext.extensions.length - 1];
    const at = last ? last.dataOffset + last.paddedLength : h.headerLength;
    push({ id: 'extension.no-end', severity: 'warning', structure: 'header extensions', field: 'end marker', offset: at, length: 8, found: 'no end-of-extensions marker before the area ends', expected: 'an extension with magic 0', message: 'the header extension list has no terminator: readers stop at the end of the area', fix: 'none needed' });
  }
  return out;
}
