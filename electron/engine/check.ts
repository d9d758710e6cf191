// Checking an image file: the pure checker over a read-only source.
import { analyzeImage, checkImage, type CheckAnalysis, type CheckOptions, type CheckReport } from '../../shared/qcow2/check';
import { SyncReadFileSource } from './sync-file-source';

/** Check the image at `path` (read-only; progress and cancellation through `options`). */
export async function checkFile(path: string, options: CheckOptions = {}): Promise<CheckReport> {
  const src = SyncReadFileSource.open(path);
  try {
    return await checkImage(src, options);
  } finally {
    src.close();
  }
}

export async function analyzeFile(path: string, options: CheckOptions = {}): Promise<CheckAnalysis> {
  const src = SyncReadFileSource.open(path);
  try {
    return await analyzeImage(src, options);
  } finally {
    src.close();
  }
}
