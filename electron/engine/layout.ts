// The file layout map of an image file: the pure builder over a read-only source that reads on the
// calling thread (as the check: the walk never waits on the event loop).
import { buildLayout, type FileLayout, type LayoutOptions } from '../../shared/qcow2/layout';
import { backingProbe } from './check';
import { SyncReadFileSource } from './sync-file-source';

export async function layoutFile(path: string, options: LayoutOptions = {}): Promise<FileLayout> {
  const src = SyncReadFileSource.open(path);
  try {
    // The same backing and data file probe as check: the map's findings are the check's.
    return await buildLayout(src, { probeBacking: backingProbe(path), ...options });
  } finally {
    src.close();
  }
}
