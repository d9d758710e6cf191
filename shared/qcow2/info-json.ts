// `qemu-img info --output=json` (QEMU 7.2) for a qcow2 image, plus our own keys, all prefixed "qzs-"
// (or "zoned", which qemu-img never prints) so they cannot clash with keys QEMU may add. Info reads only
// what qemu-img reads for it: header, extensions, snapshot table, bitmap directory; never the L2 tables.
import { readBitmapDirectory, bitmapsInfoJson, type BitmapDirectory, type BitmapInfoJson } from './bitmaps';
import type { Field } from './field';
import { Qcow2Error, type Finding } from './findings';
import { featureDisplayName, type FeatureBit } from './features';
import type { OpenedImage } from './image';
import { readSnapshotTable, snapshotsInfoJson, type Snapshot, type SnapshotInfoJson } from './snapshots';
import { zonedInfoJson, type ZonedInfoJson } from './zoned-info';

export interface Qcow2SpecificJson {
  compat: '0.10' | '1.1';
  'compression-type': string;
  'lazy-refcounts'?: boolean;
  'refcount-bits': number;
  corrupt?: boolean;
  'extended-l2'?: boolean;
  'data-file'?: string;
  'data-file-raw'?: boolean;
  bitmaps?: BitmapInfoJson[];
}

export interface QzsFeatureJson {
  bit: number;
  set: boolean;
  name: string;
  'known-name': string | null;
  'image-name': string | null;
  unknown: boolean;
  disagreement: boolean;
}

export interface QzsExtensionJson {
  magic: string;
  name: string;
  offset: number;
  'data-offset': number;
  length: number;
  raw: string;
  value: unknown;
}

export interface InfoJson {
  'virtual-size': number;
  filename: string;
  'cluster-size': number;
  format: 'qcow2';
  'actual-size'?: number;
  encrypted?: boolean;
  'dirty-flag': boolean;
  'backing-filename'?: string;
  'full-backing-filename'?: string;
  'backing-filename-format'?: string;
  snapshots?: SnapshotInfoJson[];
  'format-specific': { type: 'qcow2'; data: Qcow2SpecificJson };
  'qzs-header': Field[];
  'qzs-extensions': QzsExtensionJson[];
  'qzs-features': { incompatible: QzsFeatureJson[]; compatible: QzsFeatureJson[]; autoclear: QzsFeatureJson[] };
  'qzs-snapshots'?: Snapshot[];
  'qzs-findings': Finding[];
  zoned?: ZonedInfoJson;
}

export interface InfoInputs {
  /** The file name as the user gave it (qemu-img prints it unchanged). */
  filename: string;
  /** st_blocks * 512 of the image file (the Node side knows it). */
  actualSize?: number;
  snapshots: Snapshot[];
  bitmaps: BitmapDirectory | null;
  /** Extra findings gathered while reading (snapshot table, bitmap directory). */
  findings: Finding[];
  /** Write pointer byte order of a zoned image, from the zoned reader. */
  wpByteOrder?: string;
}

const INCOMPAT_DIRTY = 1n;
const INCOMPAT_CORRUPT = 2n;
const INCOMPAT_DATA_FILE = 4n;
const INCOMPAT_EXTL2 = 16n;
const COMPAT_LAZY = 1n;
const AUTOCLEAR_DATA_FILE_RAW = 2n;

/** Findings on which QEMU refuses to open the image: qzs info reports those as unreadable too. */
const REFUSED = new Set([
  'extension.overrun', 'header.l1_table_offset', 'header.refcount_table_offset', 'header.refcount_table_clusters',
  'header.refcount_order', 'header.compression_type', 'header.compression-bit', 'header.backing_file_size',
  'header.backing_file_offset', 'features.unknown-incompatible', 'header.backing-file-name',
]);

/** Throw the first finding that makes QEMU refuse the image (kept as a typed error). */
export function assertOpenable(img: OpenedImage): void {
  for (const f of img.findings) {
    const refused = REFUSED.has(f.id) || (f.id === 'header.l1_size' && f.expected.startsWith('<=')) ||
      (f.id === 'header.header_length' && f.severity === 'error');
    if (refused && f.severity === 'error') {
      const code = f.id.startsWith('extension') ? 'invalid-extension' : f.id.startsWith('features') ? 'unsupported-feature' : 'invalid-header';
      throw Qcow2Error.fromFinding(code, f, img.source.name);
    }
  }
}

/** qemu's bdrv_make_absolute_filename: a relative backing name is relative to the image's directory. */
export function fullBackingFilename(imageName: string, backing: string): string {
  const protocol = /^[^:/]*:/.test(backing);
  if (protocol || backing.startsWith('/')) return backing;
  const slash = imageName.lastIndexOf('/');
  return (slash >= 0 ? imageName.slice(0, slash + 1) : '') + backing;
}

/** Read what info needs beyond the header (snapshot table, bitmap directory). */
export async function collectInfoInputs(img: OpenedImage, filename: string, actualSize?: number, wpByteOrder?: string): Promise<InfoInputs> {
  const snaps = await readSnapshotTable(img);
  const bitmaps = await readBitmapDirectory(img);
  const findings = [...snaps.findings, ...(bitmaps?.findings ?? [])];
  return { filename, actualSize, snapshots: snaps.snapshots, bitmaps, findings, wpByteOrder };
}

function featuresJson(bits: FeatureBit[]): QzsFeatureJson[] {
  return bits.map((b) => ({ bit: b.bit, set: b.set, name: featureDisplayName(b), 'known-name': b.knownName, 'image-name': b.imageName, unknown: b.unknown, disagreement: b.disagreement }));
}

function extensionValue(c: OpenedImage['extensions']['extensions'][number]['content']): unknown {
  switch (c.kind) {
    case 'backing-format': return c.format;
    case 'data-file': return c.path;
    case 'feature-table': return c.entries.map((e) => ({ type: e.kind, bit: e.bit, name: e.name, offset: e.offset }));
    case 'bitmaps': return { 'nb-bitmaps': c.bitmaps.nbBitmaps, reserved: c.bitmaps.reserved, 'bitmap-directory-size': c.bitmaps.bitmapDirectorySize, 'bitmap-directory-offset': c.bitmaps.bitmapDirectoryOffset };
    case 'crypto': return { offset: c.crypto.offset, length: c.crypto.length };
    case 'zoned': return c.zoned ? { revision: c.zoned.revision, 'revision-reason': c.zoned.revisionReason } : null;
    default: return null;
  }
}

export function buildInfoJson(img: OpenedImage, inp: InfoInputs): InfoJson {
  const h = img.header;
  const ext = img.extensions;
  const data: Qcow2SpecificJson = h.version === 2
    ? { compat: '0.10', 'compression-type': 'zlib', 'refcount-bits': 1 << h.refcountOrder }
    : {
      compat: '1.1',
      'compression-type': h.compressionType === 1 ? 'zstd' : 'zlib',
      'lazy-refcounts': (h.compatibleFeatures & COMPAT_LAZY) !== 0n,
      'refcount-bits': 1 << h.refcountOrder,
      corrupt: (h.incompatibleFeatures & INCOMPAT_CORRUPT) !== 0n,
      'extended-l2': (h.incompatibleFeatures & INCOMPAT_EXTL2) !== 0n,
    };
  if (h.version === 3) {
    if (ext.dataFile !== null) data['data-file'] = ext.dataFile;
    if ((h.incompatibleFeatures & INCOMPAT_DATA_FILE) !== 0n) data['data-file-raw'] = (h.autoclearFeatures & AUTOCLEAR_DATA_FILE_RAW) !== 0n;
    if (inp.bitmaps && inp.bitmaps.bitmaps.length > 0) data.bitmaps = bitmapsInfoJson(inp.bitmaps);
  }
  const out: InfoJson = {
    'virtual-size': h.size,
    filename: inp.filename,
    'cluster-size': h.clusterSize,
    format: 'qcow2',
    'dirty-flag': (h.incompatibleFeatures & INCOMPAT_DIRTY) !== 0n,
    'format-specific': { type: 'qcow2', data },
    'qzs-header': h.fields,
    'qzs-extensions': ext.extensions.map((e) => ({ magic: '0x' + e.magic.toString(16).padStart(8, '0'), name: e.name, offset: e.offset, 'data-offset': e.dataOffset, length: e.length, raw: e.raw, value: extensionValue(e.content) })),
    'qzs-features': { incompatible: featuresJson(img.features.incompatible), compatible: featuresJson(img.features.compatible), autoclear: featuresJson(img.features.autoclear) },
    'qzs-findings': [...img.findings, ...inp.findings],
  };
  if (inp.actualSize !== undefined) out['actual-size'] = inp.actualSize;
  if (h.cryptMethod !== 0) out.encrypted = true;
  if (ext.backingFile !== null && ext.backingFile !== '') {
    out['backing-filename'] = ext.backingFile;
    out['full-backing-filename'] = fullBackingFilename(inp.filename, ext.backingFile);
    if (ext.backingFormat) out['backing-filename-format'] = ext.backingFormat;
  }
  if (inp.snapshots.length > 0) {
    out.snapshots = snapshotsInfoJson(inp.snapshots);
    out['qzs-snapshots'] = inp.snapshots;
  }
  if (img.zoned) out.zoned = zonedInfoJson(img.zoned, inp.wpByteOrder ?? 'little-endian');
  return out;
}
