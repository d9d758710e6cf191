// Opening an image: header, extensions and feature bits, read with bounded positional reads. Everything
// deeper (tables, zones, check) starts from an OpenedImage.
import type { ByteSource } from './byte-source';
import { decodeExtensions, type ExtensionsResult } from './extensions';
import { describeFeatureBits, type FeatureBit, featureDisplayName } from './features';
import { finding, Qcow2Error, type Finding } from './findings';
import { decodeHeader, headerRefusesOpen, MAX_CLUSTER_BITS, type Qcow2Header } from './header';
import type { ZonedExtension } from './zoned-types';

export interface FeatureBits {
  incompatible: FeatureBit[];
  compatible: FeatureBit[];
  autoclear: FeatureBit[];
}

export interface OpenedImage {
  source: ByteSource;
  fileSize: number;
  header: Qcow2Header;
  extensions: ExtensionsResult;
  features: FeatureBits;
  /** The zoned extension when the image is zoned (extension present with mode 1), else null. */
  zoned: ZonedExtension | null;
  /** Everything noticed while opening (never fatal ones: those throw). */
  findings: Finding[];
}

export const ZONED_INCOMPAT_BIT = 5;

/**
 * Open an image for reading. Throws Qcow2Error when the bytes are not a qcow2 image we can interpret (bad
 * magic, version, cluster_bits, truncated header), when qcow2_do_open refuses it whatever the flags (a
 * header longer than the cluster, tables beyond QEMU's limits, "Image is too big", "L1 table is too small",
 * "Header extension too large"), or when a 64-bit value is beyond 2^53; every other problem is a finding.
 * The limits are checked on the header alone, so no consumer loops or allocates by an untrusted size.
 */
export async function openImage(source: ByteSource): Promise<OpenedImage> {
  const fileSize = await source.size();
  // Cluster 0 is at most 2 MiB (cluster_bits <= 21); read the header first to learn its size.
  const head = await source.read(0, 4096);
  const decoded = decodeHeader(head, fileSize);
  const fatal = decoded.findings.find(headerRefusesOpen);
  if (!decoded.header || fatal) {
    const f = fatal ?? decoded.findings[0];
    throw Qcow2Error.fromFinding(f.id === 'header.magic' ? 'not-qcow2' : f.id === 'header.version' ? 'unsupported-version' : f.id === 'header.truncated' ? 'truncated' : 'invalid-header', f, source.name);
  }
  const header = decoded.header;
  const cluster0 = header.clusterSize > head.length ? await source.read(0, header.clusterSize) : head.subarray(0, Math.min(head.length, header.clusterSize));
  const extensions = decodeExtensions(header, cluster0, fileSize);
  const refused = extensions.findings.find(extensionRefusesOpen);
  if (refused) throw Qcow2Error.fromFinding('invalid-extension', refused, source.name);
  const findings = [...decoded.findings, ...extensions.findings];

  const table = extensions.featureTable;
  const features: FeatureBits = {
    incompatible: describeFeatureBits('incompatible', header.incompatibleFeatures, table),
    compatible: describeFeatureBits('compatible', header.compatibleFeatures, table),
    autoclear: describeFeatureBits('autoclear', header.autoclearFeatures, table),
  };
  for (const b of [...features.incompatible, ...features.compatible, ...features.autoclear]) {
    const fieldOffset = b.kind === 'incompatible' ? 72 : b.kind === 'compatible' ? 80 : 88;
    if (b.set && b.unknown) {
      findings.push(finding({
        id: `features.unknown-${b.kind}`,
        severity: b.kind === 'incompatible' ? 'error' : 'warning',
        structure: 'header', field: `${b.kind}_features`, offset: fieldOffset, length: 8,
        found: `bit ${b.bit} set${b.imageName ? ` ("${b.imageName}" in the image's feature table)` : ''}`,
        expected: 'only known bits',
        message: `unknown ${b.kind} feature bit ${b.bit}${b.imageName ? ` ("${b.imageName}")` : ''} is set` +
          (b.kind === 'incompatible' ? ': QEMU refuses to open the image' : b.kind === 'autoclear' ? ': a writer that does not know it clears it' : ''),
        fix: b.kind === 'incompatible' ? 'none: the bit means the image needs a feature we do not know' : `clear ${b.kind} bit ${b.bit}`,
      }));
    }
    if (b.disagreement) {
      const entry = table.find((e) => e.kind === b.kind && e.bit === b.bit);
      findings.push(finding({
        id: 'features.name-mismatch', severity: 'info', structure: 'feature name table', field: `${b.kind} bit ${b.bit}`,
        offset: entry?.offset ?? fieldOffset, length: 48, found: `"${b.imageName}"`, expected: `"${b.knownName}"`,
        message: `the image's feature name table calls ${b.kind} bit ${b.bit} "${b.imageName}", QEMU calls it "${b.knownName}"`,
        fix: 'none needed: names are informational',
      }));
    }
  }
  const dirty = features.incompatible.find((b) => b.bit === 0 && b.set);
  if (dirty) findings.push(finding({ id: 'features.dirty', severity: 'warning', structure: 'header', field: 'incompatible_features', offset: 72, length: 8, found: 'bit 0 (dirty) set', expected: 'clear after a clean close', message: 'the dirty bit is set: refcounts may be stale (lazy refcounts, or QEMU did not close the image)', fix: 'rebuild refcounts (check -r all), then clear the dirty bit' }));
  const corrupt = features.incompatible.find((b) => b.bit === 1 && b.set);
  if (corrupt) findings.push(finding({ id: 'features.corrupt', severity: 'error', structure: 'header', field: 'incompatible_features', offset: 72, length: 8, found: 'bit 1 (corrupt) set', expected: 'clear', message: 'the corrupt bit is set: QEMU found corruption and opens the image read-only', fix: 'run a check, repair what it finds, then clear the corrupt bit' }));

  // Zoned iff the extension exists with zoned == 1 (ZONED-FORMAT.md section 7 item 5).
  const ext = extensions.zoned;
  const bit5 = ((header.incompatibleFeatures >> BigInt(ZONED_INCOMPAT_BIT)) & 1n) === 1n;
  const zoned = ext && ext.mode === 1 ? ext : null;
  if (bit5 && !ext) {
    findings.push(finding({ id: 'zoned.bit-without-extension', severity: 'error', structure: 'header', field: 'incompatible_features', offset: 72, length: 8, found: 'bit 5 (zoned format) set, no zoned extension', expected: 'bit 5 only together with the zoned extension', message: 'incompatible bit 5 (zoned format) is set but the image has no zoned extension: it opens nowhere — stock QEMU refuses the unknown bit ("Unsupported qcow2 feature(s): Unknown incompatible feature: 20"), and to a zoned QEMU the bit says zone metadata that is not there (a v5-series artefact sets the bit on plain images); read here as a plain image', fix: 'clear incompatible bit 5 if the image is meant to be plain' }));
  } else if (ext && ext.mode === 1 && !bit5) {
    findings.push(finding({ id: 'zoned.extension-without-bit', severity: 'warning', structure: 'header', field: 'incompatible_features', offset: 72, length: 8, found: header.version === 2 ? 'version 2 image (no feature bits) with a zoned extension' : 'bit 5 clear, zoned extension present', expected: 'bit 5 set when the zoned extension is present', message: 'the zoned extension is present but incompatible bit 5 is clear: read as zoned; an unpatched QEMU would ignore the zones', fix: header.version === 2 ? 'upgrade to version 3 and set incompatible bit 5' : 'set incompatible bit 5' }));
  }
  return { source, fileSize, header, extensions, features, zoned, findings };
}

/** qcow2_read_extensions' "Header extension too large", and 64-bit extension values beyond 2^53. */
function extensionRefusesOpen(f: Finding): boolean {
  return f.severity === 'error' && (f.id === 'extension.overrun' || (f.id.startsWith('extension.') && f.id.endsWith('-too-large')));
}

export function featureNames(bits: FeatureBit[]): string[] {
  return bits.filter((b) => b.set).map(featureDisplayName);
}

export { MAX_CLUSTER_BITS };
