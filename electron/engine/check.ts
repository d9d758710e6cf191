// Checking an image file: the pure checker over a read-only source, plus the backing file probe QEMU's
// open does (bdrv_open_backing_file).
import { closeSync, openSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fullBackingFilename } from '../../shared/qcow2/info-json';
import { analyzeImage, checkImage, type BackingProbe, type CheckAnalysis, type CheckOptions, type CheckReport } from '../../shared/qcow2/check';
import { SyncReadFileSource } from './sync-file-source';

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ELOOP: 'Too many levels of symbolic links',
};

/**
 * The backing and data file probe for the image at `imagePath`: a name with a protocol prefix ("nbd:…",
 * a ':' before any '/', QEMU's path_has_protocol) is not probed; an absolute name is opened as is; a
 * relative backing file name against the image's directory (bdrv_get_full_backing_filename_from_filename,
 * path_combine), a relative data file name as given, against the working directory (measured: qemu-img 7.2
 * fails to open an image whose data file sits beside it when run from elsewhere).
 */
export function backingProbe(imagePath: string): (name: string, kind: 'backing' | 'data-file') => Promise<BackingProbe | null> {
  return async (name, kind) => {
    if (/^[^:/]*:/.test(name)) return null;
    const path = kind === 'backing' ? fullBackingFilename(imagePath, name) : isAbsolute(name) ? name : resolve(name);
    try {
      closeSync(openSync(path, 'r'));
      return { path, error: null };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      return { path, error: STRERROR[code] ?? (code || (e as Error).message) };
    }
  };
}

/** Check the image at `path` (read-only; progress and cancellation through `options`). */
export async function checkFile(path: string, options: CheckOptions = {}): Promise<CheckReport> {
  const src = SyncReadFileSource.open(path);
  try {
    return await checkImage(src, { probeBacking: backingProbe(path), ...options });
  } finally {
    src.close();
  }
}

export async function analyzeFile(path: string, options: CheckOptions = {}): Promise<CheckAnalysis> {
  const src = SyncReadFileSource.open(path);
  try {
    return await analyzeImage(src, { probeBacking: backingProbe(path), ...options });
  } finally {
    src.close();
  }
}
