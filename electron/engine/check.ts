// Checking an image file: the pure checker over a read-only FileByteSource.
import { analyzeImage, checkImage, type CheckAnalysis, type CheckOptions, type CheckReport } from '../../shared/qcow2/check';
import { FileByteSource } from './file-source';

/** Check the image at `path` (read-only; progress and cancellation through `options`). */
export async function checkFile(path: string, options: CheckOptions = {}): Promise<CheckReport> {
  const src = await FileByteSource.open(path, 'r');
  try {
    return await checkImage(src, options);
  } finally {
    await src.close();
  }
}

export async function analyzeFile(path: string, options: CheckOptions = {}): Promise<CheckAnalysis> {
  const src = await FileByteSource.open(path, 'r');
  try {
    return await analyzeImage(src, options);
  } finally {
    await src.close();
  }
}
