// OpenedImage (engine shape, with bigint masks and a live source) → ImageSummary (plain data).
import type { ImageSummary, SessionInfo } from '../../shared/contract/dto';
import { hex } from '../../shared/bytes';
import type { OpenedImage } from '../../shared/qcow2/image';
import type { AppError, Finding } from '../../shared/qcow2/findings';
import { decodeHeader } from '../../shared/qcow2/header';
import type { ByteSource } from '../../shared/qcow2/byte-source';

export function summarize(img: OpenedImage, session: SessionInfo): ImageSummary {
  const h = img.header;
  return {
    session,
    degraded: null,
    fileSize: img.fileSize,
    version: h.version,
    virtualSize: h.size,
    clusterSize: h.clusterSize,
    clusterBits: h.clusterBits,
    refcountBits: h.refcountOrder <= 6 ? 2 ** h.refcountOrder : 0,
    compressionType: h.compressionType === 0 ? 'zlib' : h.compressionType === 1 ? 'zstd' : `unknown (${h.compressionType})`,
    backingFile: img.extensions.backingFile,
    backingFormat: img.extensions.backingFormat,
    dataFile: img.extensions.dataFile,
    masks: {
      incompatible: hex(h.incompatibleFeatures, 16),
      compatible: hex(h.compatibleFeatures, 16),
      autoclear: hex(h.autoclearFeatures, 16),
    },
    headerFields: h.fields,
    extensions: img.extensions.extensions,
    features: img.features,
    zoned: img.zoned,
    findings: img.findings,
  };
}

const NO_BITS = { incompatible: [], compatible: [], autoclear: [] };

/**
 * A degraded session: what the header decoder could still make of the first bytes (its fields when the
 * magic and version were right), and every finding on the way, the fatal one first.
 */
export async function summarizeDegraded(src: ByteSource, error: AppError, session: SessionInfo): Promise<ImageSummary> {
  const fileSize = await src.size();
  const d = decodeHeader(await src.read(0, 4096), fileSize);
  const h = d.header;
  const findings: Finding[] = [...d.findings];
  if (error.finding && !findings.some((f) => f.id === error.finding?.id && f.offset === error.finding.offset)) findings.unshift(error.finding);
  return {
    session,
    degraded: error,
    fileSize,
    version: h?.version ?? 0,
    virtualSize: h?.size ?? 0,
    clusterSize: h?.clusterSize ?? 0,
    clusterBits: h?.clusterBits ?? 0,
    refcountBits: h && h.refcountOrder <= 6 ? 2 ** h.refcountOrder : 0,
    compressionType: '',
    backingFile: null,
    backingFormat: null,
    dataFile: null,
    masks: h ? { incompatible: hex(h.incompatibleFeatures, 16), compatible: hex(h.compatibleFeatures, 16), autoclear: hex(h.autoclearFeatures, 16) } : { incompatible: '', compatible: '', autoclear: '' },
    headerFields: h?.fields ?? [],
    extensions: [],
    features: NO_BITS,
    zoned: null,
    findings,
  };
}
