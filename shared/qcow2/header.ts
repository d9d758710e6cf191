// qcow2 header v2/v3 (docs/interop/qcow2.rst "Header"). Pure: bytes of cluster 0 in, decoded header and
// findings out. Fields beyond header_length read as absent (zero), as QEMU does.
import { hex, isSafeU64, toHex, u32be, u64be } from '../bytes';
import type { Field, FieldValue } from './field';
import { finding, type Finding } from './findings';

export const QCOW_MAGIC = 0x514649fb;
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
/** QEMU's QCOW_MAX_L1_SIZE (include/block/qcow2.h): 32 MiB of L1 entries. */
export const MAX_L1_BYTES = 0x2000000;
/** QEMU's QCOW_MAX_REFTABLE_SIZE (include/block/qcow2.h): 8 MiB. */
export const MAX_REFTABLE_BYTES = 0x800000;
/** QEMU's QCOW_MAX_SNAPSHOTS (include/block/qcow2.h). */
export const MAX_SNAPSHOTS = 65536;
/** sizeof(QCowSnapshotHeader): the fixed part of a snapshot table entry. */
export const SNAPSHOT_HEADER_BYTES = 40;
/** INT_MAX: qcow2_do_open refuses an image whose virtual size needs more L1 entries ("Image is too big"). */
export const MAX_L1_INDEX = 0x7fffffff;
/** 2^53: integers at and above it are not exact as JavaScript numbers. */
export const SAFE_LIMIT = 2n ** 53n;
export const V2_HEADER_LENGTH = 72;
export const V3_MIN_HEADER_LENGTH = 104;

/**
 * The decoded header. 64-bit fields are numbers: decodeHeader reports any at or above 2^53 with a
 * "<field>-too-large" finding that openImage refuses, so a header that reaches a consumer holds exact values.
 */
export interface Qcow2Header {
  magic: number;
  version: number;
  backingFileOffset: number;
  backingFileSize: number;
  clusterBits: number;
  clusterSize: number;
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  headerLength: number;
  compressionType: number;
  /** Every field in file order, for display. */
  fields: Field[];
}

interface FieldSpec {
  name: string;
  offset: number;
  size: 1 | 4 | 8;
  minVersion: 2 | 3;
  description: string;
}

const SPECS: FieldSpec[] = [
  { name: 'magic', offset: 0, size: 4, minVersion: 2, description: 'QFI\\xfb: identifies a qcow file' },
  { name: 'version', offset: 4, size: 4, minVersion: 2, description: 'format version: 2 or 3' },
  { name: 'backing_file_offset', offset: 8, size: 8, minVersion: 2, description: 'offset of the backing file name in the image (0 = no backing file)' },
  { name: 'backing_file_size', offset: 16, size: 4, minVersion: 2, description: 'length of the backing file name in bytes (at most 1023)' },
  { name: 'cluster_bits', offset: 20, size: 4, minVersion: 2, description: 'log2 of the cluster size (9..21)' },
  { name: 'size', offset: 24, size: 8, minVersion: 2, description: 'virtual disk size in bytes' },
  { name: 'crypt_method', offset: 32, size: 4, minVersion: 2, description: 'encryption: 0 none, 1 AES, 2 LUKS' },
  { name: 'l1_size', offset: 36, size: 4, minVersion: 2, description: 'number of entries in the active L1 table' },
  { name: 'l1_table_offset', offset: 40, size: 8, minVersion: 2, description: 'offset of the active L1 table (cluster aligned)' },
  { name: 'refcount_table_offset', offset: 48, size: 8, minVersion: 2, description: 'offset of the refcount table (cluster aligned)' },
  { name: 'refcount_table_clusters', offset: 56, size: 4, minVersion: 2, description: 'clusters occupied by the refcount table' },
  { name: 'nb_snapshots', offset: 60, size: 4, minVersion: 2, description: 'number of internal snapshots' },
  { name: 'snapshots_offset', offset: 64, size: 8, minVersion: 2, description: 'offset of the snapshot table (cluster aligned)' },
  { name: 'incompatible_features', offset: 72, size: 8, minVersion: 3, description: 'features a reader must understand to open the image' },
  { name: 'compatible_features', offset: 80, size: 8, minVersion: 3, description: 'features a reader may ignore' },
  { name: 'autoclear_features', offset: 88, size: 8, minVersion: 3, description: 'features a writer that does not know them must clear' },
  { name: 'refcount_order', offset: 96, size: 4, minVersion: 3, description: 'refcount width is 1 << refcount_order bits (0..6)' },
  { name: 'header_length', offset: 100, size: 4, minVersion: 3, description: 'length of this header structure in bytes' },
  { name: 'compression_type', offset: 104, size: 1, minVersion: 3, description: 'compressed cluster method: 0 deflate (zlib), 1 zstd' },
];

function readField(b: Uint8Array, s: FieldSpec): { raw: string; value: number | bigint } {
  if (s.offset + s.size > b.length) return { raw: '', value: 0 };
  const raw = toHex(b, s.offset, s.size);
  if (s.size === 1) return { raw, value: b[s.offset] };
  if (s.size === 4) return { raw, value: u32be(b, s.offset) };
  return { raw, value: u64be(b, s.offset) };
}

function displayValue(v: number | bigint, name: string): FieldValue {
  if (typeof v === 'number') return v;
  if (name.endsWith('_features')) return hex(v, 16);
  return isSafeU64(v) ? Number(v) : v.toString();
}

export interface HeaderDecodeResult {
  header: Qcow2Header | null;
  findings: Finding[];
}

/**
 * Decode the header from the first bytes of the file (at least 112 bytes, ideally the whole of cluster 0).
 * Returns header = null only when the image cannot be interpreted as qcow2 at all; every other problem
 * is a finding.
 */
export function decodeHeader(b: Uint8Array, fileSize: number): HeaderDecodeResult {
  const findings: Finding[] = [];
  const err = (field: string, offset: number, length: number, found: string, expected: string, message: string, id = `header.${field}`, fix?: string): void => {
    findings.push(finding({ id, severity: 'error', structure: 'header', field, offset, length, found, expected, message, fix }));
  };

  if (b.length < V2_HEADER_LENGTH) {
    err('magic', 0, b.length, `${b.length} bytes in file`, `at least ${V2_HEADER_LENGTH} bytes`, `file is too short for a qcow2 header: ${b.length} bytes, a header needs at least ${V2_HEADER_LENGTH}`, 'header.truncated', 'none: the header is missing');
    return { header: null, findings };
  }
  const magic = u32be(b, 0);
  if (magic !== QCOW_MAGIC) {
    err('magic', 0, 4, hex(magic, 8), hex(QCOW_MAGIC, 8) + " ('QFI\\xfb')", `not a qcow2 image: magic is ${hex(magic, 8)}, expected ${hex(QCOW_MAGIC, 8)}`, 'header.magic', 'none: this is not a qcow2 file, or its first cluster is lost');
    return { header: null, findings };
  }
  const version = u32be(b, 4);
  if (version !== 2 && version !== 3) {
    err('version', 4, 4, String(version), '2 or 3', `unsupported qcow version ${version}: only versions 2 and 3 exist for qcow2`, 'header.version', 'none: set version to 2 or 3 only if the rest of the header follows that version');
    return { header: null, findings };
  }

  // header_length governs which v3 fields are present.
  let headerLength = V2_HEADER_LENGTH;
  if (version === 3) {
    if (b.length < V3_MIN_HEADER_LENGTH) {
      err('header_length', 100, 4, `${b.length} bytes in file`, `at least ${V3_MIN_HEADER_LENGTH} bytes`, `file ends inside the version 3 header at byte ${b.length}`, 'header.truncated', 'none: the header is incomplete');
      return { header: null, findings };
    }
    headerLength = u32be(b, 100);
  }

  const values = new Map<string, number | bigint>();
  const fields: Field[] = [];
  for (const s of SPECS) {
    const present = version >= s.minVersion && (version === 2 || s.offset + s.size <= headerLength);
    const { raw, value } = present ? readField(b, s) : { raw: '', value: 0 };
    values.set(s.name, value);
    fields.push({
      name: s.name,
      offset: s.offset,
      size: s.size,
      raw: present ? raw : '',
      value: present ? displayValue(value, s.name) : null,
      present,
      description: s.description,
    });
  }
  if (version === 3 && headerLength > 105) {
    const padEnd = Math.min(headerLength, 112, b.length);
    if (padEnd > 105) {
      fields.push({ name: 'padding', offset: 105, size: padEnd - 105, raw: toHex(b, 105, padEnd - 105), value: null, present: true, description: 'padding to a multiple of 8 bytes (zero)' });
    }
  }

  // Not clamped: a value at or above 2^53 is rounded here, and reported (and refused) by validateHeader.
  const num = (name: string): number => {
    const v = values.get(name) ?? 0;
    return typeof v === 'bigint' ? Number(v) : v;
  };
  const big = (name: string): bigint => {
    const v = values.get(name) ?? 0n;
    return typeof v === 'bigint' ? v : BigInt(v);
  };

  const clusterBits = num('cluster_bits');
  const header: Qcow2Header = {
    magic,
    version,
    backingFileOffset: num('backing_file_offset'),
    backingFileSize: num('backing_file_size'),
    clusterBits,
    clusterSize: clusterBits >= MIN_CLUSTER_BITS && clusterBits <= MAX_CLUSTER_BITS ? 2 ** clusterBits : 0,
    size: num('size'),
    cryptMethod: num('crypt_method'),
    l1Size: num('l1_size'),
    l1TableOffset: num('l1_table_offset'),
    refcountTableOffset: num('refcount_table_offset'),
    refcountTableClusters: num('refcount_table_clusters'),
    nbSnapshots: num('nb_snapshots'),
    snapshotsOffset: num('snapshots_offset'),
    incompatibleFeatures: big('incompatible_features'),
    compatibleFeatures: big('compatible_features'),
    autoclearFeatures: big('autoclear_features'),
    refcountOrder: version === 2 ? 4 : num('refcount_order'),
    headerLength,
    compressionType: num('compression_type'),
    fields,
  };

  validateHeader(header, b, fileSize, findings, big);
  return { header, findings };
}

function validateHeader(h: Qcow2Header, b: Uint8Array, fileSize: number, findings: Finding[], raw: (name: string) => bigint): void {
  const push = (field: string, offset: number, length: number, found: string, expected: string, message: string, fix: string, severity: 'error' | 'warning' = 'error', id = `header.${field}`): void => {
    findings.push(finding({ id, severity, structure: 'header', field, offset, length, found, expected, message, fix }));
  };
  const cs = h.clusterSize;

  if (h.clusterBits < MIN_CLUSTER_BITS || h.clusterBits > MAX_CLUSTER_BITS) {
    push('cluster_bits', 20, 4, String(h.clusterBits), `${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS}`, `cluster_bits ${h.clusterBits} is out of range: QEMU supports ${MIN_CLUSTER_BITS} to ${MAX_CLUSTER_BITS} (512 B to 2 MiB clusters)`, 'none: the cluster size cannot be guessed safely');
  }
  if (h.version === 3) {
    if (h.headerLength < V3_MIN_HEADER_LENGTH) {
      push('header_length', 100, 4, String(h.headerLength), `>= ${V3_MIN_HEADER_LENGTH}`, `header_length ${h.headerLength} is smaller than the version 3 minimum of ${V3_MIN_HEADER_LENGTH}`, 'rewrite header_length as 104 (or 112 with compression_type)');
    } else if (h.headerLength % 8 !== 0) {
      push('header_length', 100, 4, String(h.headerLength), 'a multiple of 8', `header_length ${h.headerLength} is not a multiple of 8`, 'round header_length down to a multiple of 8 if the fields beyond are padding', 'warning');
    }
    if (cs > 0 && h.headerLength > cs) {
      push('header_length', 100, 4, String(h.headerLength), `<= cluster size ${cs}`, `header_length ${h.headerLength} runs past the first cluster (${cs} bytes): QEMU refuses the image ("qcow2 header exceeds cluster size")`, 'none: the header must fit in cluster 0');
    }
    if (h.refcountOrder > 6) {
      push('refcount_order', 96, 4, String(h.refcountOrder), '0..6', `refcount_order ${h.refcountOrder} is out of range: refcount width would be ${h.refcountOrder < 32 ? 2 ** h.refcountOrder : 'huge'} bits, at most 64 exist`, 'none: the refcount width cannot be guessed safely');
    }
    const compressionBit = (h.incompatibleFeatures >> 3n) & 1n;
    if (h.compressionType > 1) {
      push('compression_type', 104, 1, String(h.compressionType), '0 (zlib) or 1 (zstd)', `unknown compression_type ${h.compressionType}`, 'none: compressed clusters cannot be read');
    } else if (h.compressionType !== 0 && compressionBit === 0n) {
      push('compression_type', 104, 1, String(h.compressionType), '0 unless incompatible bit 3 is set', `compression_type is ${h.compressionType} but incompatible feature bit 3 (compression type) is clear`, 'set incompatible bit 3, or set compression_type to 0 if no cluster is compressed with zstd');
    } else if (h.compressionType === 0 && compressionBit === 1n) {
      push('incompatible_features', 72, 8, 'bit 3 set', 'bit 3 clear when compression_type is 0 (zlib)', 'incompatible feature bit 3 (compression type) is set but compression_type is 0 (zlib)', 'clear incompatible bit 3', 'error', 'header.compression-bit');
    }
    const padEnd = Math.min(h.headerLength, 112, b.length);
    for (let i = 105; i < padEnd; i++) {
      if (b[i] !== 0) {
        push('padding', 105, padEnd - 105, toHex(b, 105, padEnd - 105), 'zero bytes', `header padding after compression_type is not zero (byte ${i} = ${hex(b[i], 2)})`, 'zero the padding bytes', 'warning');
        break;
      }
    }
  }
  // 64-bit fields this reader keeps as numbers: at or above 2^53 they are no longer exact, and a read there
  // would reach the file system with a position it refuses. QEMU would go on (it reads zeros past the end
  // of the file), but no file is that large, so the image is refused here, with the exact value.
  const tooLarge = new Set<string>();
  for (const [name, offset] of [['backing_file_offset', 8], ['size', 24], ['l1_table_offset', 40], ['refcount_table_offset', 48], ['snapshots_offset', 64]] as const) {
    const v = raw(name);
    if (v < SAFE_LIMIT) continue;
    tooLarge.add(name);
    // size and backing_file_offset are judged below with QEMU's own limits first
    if (name === 'size' || name === 'backing_file_offset') continue;
    push(name, offset, 8, `${v} (${hex(v)})`, `< 2^53 (${SAFE_LIMIT})`, `${name} ${v} (${hex(v)}) is at or beyond 2^53 bytes: no file is that large, and this reader cannot address it exactly`, 'none: the value is implausible', 'error', `header.${name}-too-large`);
  }
  if (cs === 0) return;

  // The order of qcow2_do_open (block/qcow2.c), so that the first refusal is the one QEMU reports.
  const backingOffset = raw('backing_file_offset');
  if (backingOffset > BigInt(cs)) {
    push('backing_file_offset', 8, 8, String(backingOffset), `<= the cluster size ${cs}`, `backing_file_offset ${backingOffset} lies beyond the first cluster (${cs} bytes): QEMU refuses the image ("Invalid backing file offset")`, 'none: the backing file name cannot be located', 'error', 'header.backing-file-offset-invalid');
  }
  const aligned = (name: string, off: number, fieldOff: number, what: string): void => {
    if (tooLarge.has(name)) return;
    if (off % cs !== 0) push(name, fieldOff, 8, `${off} (${hex(off)})`, `a multiple of the cluster size ${cs}`, `${what} ${hex(off)} is not aligned to a cluster boundary`, 'none: the table cannot be located safely');
    else if (off !== 0 && off >= fileSize) push(name, fieldOff, 8, `${off} (${hex(off)})`, `below the file size ${fileSize}`, `${what} ${hex(off)} lies past the end of the file (${fileSize} bytes)`, 'none: the table is missing', 'error', `header.${name}-past-eof`);
  };
  if (h.refcountTableOffset === 0) {
    push('refcount_table_offset', 48, 8, '0', 'a cluster-aligned offset', 'refcount table offset is 0: the image has no refcount table', 'none: rebuild refcounts with a full repair');
  }
  if (h.refcountTableClusters === 0) {
    push('refcount_table_clusters', 56, 4, '0', '>= 1', 'refcount_table_clusters is 0: the image has no refcount table', 'rebuild refcounts with a full repair');
  } else if (h.refcountTableClusters > MAX_REFTABLE_BYTES / cs) {
    // qcow2_validate_table(..., QCOW_MAX_REFTABLE_SIZE, "Reference count table")
    push('refcount_table_clusters', 56, 4, String(h.refcountTableClusters), `<= ${MAX_REFTABLE_BYTES / cs} (QCOW_MAX_REFTABLE_SIZE, ${MAX_REFTABLE_BYTES} bytes, in ${cs}-byte clusters)`, `refcount table of ${h.refcountTableClusters} clusters exceeds QEMU's limit of ${MAX_REFTABLE_BYTES} bytes: QEMU refuses the image ("Reference count table too large")`, 'none: the value is implausible', 'error', 'header.reftable-too-large');
  }
  aligned('refcount_table_offset', h.refcountTableOffset, 48, 'refcount table offset');
  // qcow2_validate_table's "offset invalid" (offset + size past INT64_MAX), with 2^53 for INT64_MAX: a
  // table that starts below 2^53 must end below it too, or its last entries cannot be read.
  const endsBeyond = (name: string, fieldOff: number, start: number, bytes: number, what: string): void => {
    if (tooLarge.has(name) || BigInt(start) + BigInt(bytes) <= SAFE_LIMIT) return;
    tooLarge.add(name);
    push(name, fieldOff, 8, `${start} + ${bytes} bytes`, `a table that ends at or below 2^53 (${SAFE_LIMIT})`, `${what} at ${start} (${bytes} bytes) ends beyond 2^53 bytes: no file is that large, and this reader cannot address it exactly`, 'none: the table cannot be located', 'error', `header.${name}-too-large`);
  };
  if (h.refcountTableClusters <= MAX_REFTABLE_BYTES / cs) endsBeyond('refcount_table_offset', 48, h.refcountTableOffset, h.refcountTableClusters * cs, 'the refcount table');
  // qcow2_validate_table(..., sizeof(QCowSnapshotHeader) * QCOW_MAX_SNAPSHOTS, "Snapshot table"); not fatal
  // here, because qemu-img check (BDRV_O_CHECK) skips it and reports the table itself.
  if (h.nbSnapshots > MAX_SNAPSHOTS) {
    push('nb_snapshots', 60, 4, String(h.nbSnapshots), `<= ${MAX_SNAPSHOTS}`, `${h.nbSnapshots} snapshots exceed QEMU's limit of ${MAX_SNAPSHOTS}: QEMU refuses the image ("Snapshot table too large")`, 'none: the snapshot table cannot be trusted');
  }
  if (h.nbSnapshots > 0 || h.snapshotsOffset !== 0) aligned('snapshots_offset', h.snapshotsOffset, 64, 'snapshot table offset');
  if (h.nbSnapshots > 0) endsBeyond('snapshots_offset', 64, h.snapshotsOffset, h.nbSnapshots * SNAPSHOT_HEADER_BYTES, 'the snapshot table');
  // qcow2_validate_table(..., QCOW_MAX_L1_SIZE, "Active L1 table")
  const l1TooLarge = h.l1Size > MAX_L1_BYTES / 8;
  if (l1TooLarge) {
    push('l1_size', 36, 4, String(h.l1Size), `<= ${MAX_L1_BYTES / 8}`, `l1_size ${h.l1Size} exceeds QEMU's limit of ${MAX_L1_BYTES / 8} entries (QCOW_MAX_L1_SIZE, 32 MiB): QEMU refuses the image ("Active L1 table too large")`, 'none: the value is implausible');
  }
  if (!l1TooLarge) endsBeyond('l1_table_offset', 40, h.l1TableOffset, h.l1Size * 8, 'the active L1 table');
  aligned('l1_table_offset', h.l1TableOffset, 40, 'L1 table offset');

  // size_to_l1 (block/qcow2.h) of the exact size: more than INT_MAX entries is "Image is too big".
  const size = raw('size');
  const l2Bits = BigInt(h.clusterBits - (((h.incompatibleFeatures >> 4n) & 1n) === 1n ? 4 : 3));
  const shift = BigInt(h.clusterBits) + l2Bits;
  const needL1 = (size + (1n << shift) - 1n) >> shift;
  if (needL1 > BigInt(MAX_L1_INDEX)) {
    push('size', 24, 8, String(size), `<= ${BigInt(MAX_L1_INDEX) << shift} (at most ${MAX_L1_INDEX} L1 entries of ${1n << shift} bytes each)`, `virtual size ${size} needs ${needL1} L1 entries, more than QEMU's INT_MAX: QEMU refuses the image ("Image is too big")`, 'none: the value is implausible');
  } else if (tooLarge.has('size')) {
    push('size', 24, 8, String(size), `< 2^53 (${SAFE_LIMIT})`, `virtual size ${size} is at or beyond 2^53 bytes: too large to be real, and this reader cannot address it exactly`, 'none: the value is implausible');
  } else if (h.l1Size < Number(needL1) && !l1TooLarge) {
    push('l1_size', 36, 4, String(h.l1Size), `>= ${needL1} for a virtual size of ${h.size}`, `l1_size ${h.l1Size} is too small to map the virtual size ${h.size} bytes (needs ${needL1} entries): QEMU refuses the image ("L1 table is too small")`, `set l1_size to ${needL1} after growing the L1 table`);
  }
  if (!tooLarge.has('l1_table_offset') && h.l1TableOffset !== 0 && h.l1TableOffset % cs === 0 && h.l1TableOffset < fileSize && h.l1TableOffset + h.l1Size * 8 > fileSize && !l1TooLarge) {
    push('l1_size', 36, 4, String(h.l1Size), `an L1 table that ends within the file (${fileSize} bytes)`, `L1 table at ${hex(h.l1TableOffset)} with ${h.l1Size} entries runs past the end of the file`, 'none: the file is truncated', 'error', 'header.l1-past-eof');
  }
  if (h.cryptMethod > 2) {
    push('crypt_method', 32, 4, String(h.cryptMethod), '0, 1 or 2', `unknown crypt_method ${h.cryptMethod}: QEMU refuses the image ("Unsupported encryption method: ${h.cryptMethod}")`, 'none');
  } else if (h.cryptMethod === 1) {
    push('crypt_method', 32, 4, '1 (AES)', '0 (none) or 2 (LUKS)', 'crypt_method 1 is qcow2\'s legacy built-in AES-CBC encryption (deprecated, weak: the key is a password, no integrity): QEMU opens such an image only with its key ("Parameter \'encrypt.key-secret\' is required for cipher" without one) and system emulators refuse AES images outright; without the key the guest data cannot be read', 'none without the key: convert with the key to a LUKS image (qemu-img convert --object secret,… -o encrypt.format=luks); if the data is in fact plaintext, setting crypt_method to 0 makes it readable', 'error', 'header.crypt-aes');
  }
  if (h.backingFileOffset !== 0 && h.backingFileOffset <= cs) {
    if (h.backingFileSize > 1023) {
      push('backing_file_size', 16, 4, String(h.backingFileSize), '<= 1023', `backing file name length ${h.backingFileSize} exceeds QEMU's limit of 1023 bytes`, 'none');
    }
    if (h.backingFileOffset + h.backingFileSize > cs) {
      push('backing_file_offset', 8, 8, `${h.backingFileOffset} + ${h.backingFileSize}`, `within the first cluster (${cs} bytes)`, `backing file name at ${h.backingFileOffset} (${h.backingFileSize} bytes) runs past the first cluster`, 'none');
    }
  }
}

/**
 * Header findings for which qcow2_do_open refuses the image whatever the open flags (qemu-img check
 * included), and those this reader cannot go on with (values beyond 2^53): openImage throws the first.
 */
export function headerRefusesOpen(f: Finding): boolean {
  if (f.severity !== 'error') return false;
  switch (f.id) {
    case 'header.magic':
    case 'header.version':
    case 'header.truncated':
    case 'header.cluster_bits':
    case 'header.header_length': // "qcow2 header too short", "qcow2 header exceeds cluster size"
    case 'header.backing-file-offset-invalid': // "Invalid backing file offset"
    case 'header.reftable-too-large': // "Reference count table too large"
    case 'header.l1_size': // "Active L1 table too large", "L1 table is too small"
    case 'header.size': // "Image is too big", or beyond 2^53
      return true;
    default:
      return f.id.startsWith('header.') && f.id.endsWith('-too-large');
  }
}
