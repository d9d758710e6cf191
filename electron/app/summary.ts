// OpenedImage (engine shape, with bigint masks and a live source) → ImageSummary (plain data).
import type { ImageSummary, SessionInfo } from '../../shared/contract/dto';
import { hex } from '../../shared/bytes';
import type { OpenedImage } from '../../shared/qcow2/image';

export function summarize(img: OpenedImage, session: SessionInfo): ImageSummary {
  const h = img.header;
  return {
    session,
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
