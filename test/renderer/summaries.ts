// Plain ImageSummary / SessionInfo values for component tests: a decoded image and a degraded one (the
// shape electron/app/summary.ts gives a file that cannot be decoded: zeroed geometry, no features, the
// fatal finding first).
import type { ImageSummary, SessionInfo } from '../../shared/contract/dto';
import type { AppError, Finding } from '../../shared/qcow2/findings';

export function session(over: Partial<SessionInfo> = {}): SessionInfo {
  // writable: the handle is read-write, which the engine makes it only with editing on.
  return { id: 's1', name: 'disk.qcow2', location: '/images', size: 196_608, writable: over.editing ?? false, editing: false, degraded: null, inUse: null, lockWarning: null, generation: 0, ...over };
}

export function decoded(over: Partial<ImageSummary> = {}, sess: Partial<SessionInfo> = {}): ImageSummary {
  return {
    session: session(sess), degraded: null, fileSize: 196_608, version: 3, virtualSize: 64 << 20, clusterSize: 65536, clusterBits: 16, refcountBits: 16,
    compressionType: 'zlib', backingFile: null, backingFormat: null, dataFile: null,
    masks: { incompatible: '0000000000000000', compatible: '0000000000000000', autoclear: '0000000000000000' },
    headerFields: [], extensions: [], features: { incompatible: [], compatible: [], autoclear: [] }, zoned: null, findings: [], ...over,
  };
}

export const CLUSTER_BITS_FINDING: Finding = {
  id: 'header.cluster_bits', severity: 'error', structure: 'header', field: 'cluster_bits', offset: 20, length: 4,
  found: '40', expected: '9 to 21', message: 'header cluster_bits at offset 20: found 40, expected 9 to 21', fix: 'no safe repair: the cluster size is unknown',
};

/** As the engine sends it: the message starts with the file's path. */
export const CLUSTER_BITS_ERROR: AppError = { code: 'invalid-header', message: `/images/broken.qcow2: ${CLUSTER_BITS_FINDING.message}`, file: '/images/broken.qcow2', finding: CLUSTER_BITS_FINDING };

export function degraded(error: AppError = CLUSTER_BITS_ERROR, findings: Finding[] = error.finding ? [error.finding] : []): ImageSummary {
  const sess = session({ id: 's2', name: 'broken.qcow2', degraded: error, size: 196_608 });
  return {
    ...decoded({}, {}), session: sess, degraded: error, version: 0, virtualSize: 0, clusterSize: 0, clusterBits: 0, refcountBits: 0, compressionType: '',
    masks: { incompatible: '', compatible: '', autoclear: '' }, headerFields: [], findings,
  };
}
