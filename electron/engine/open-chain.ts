// Opening an image together with the files it names: the backing chain (relative names resolve against
// the image's directory, as QEMU's bdrv_get_full_backing_filename) and the external data file. The
// mapping itself stays in shared/qcow2/cluster-reader.ts; this is only the part that needs the file system.
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { ByteSource } from '../../shared/qcow2/byte-source';
import { openQcow2Layer, openRawLayer, type Layer, type Qcow2Layer } from '../../shared/qcow2/cluster-reader';
import { osErrorText, Qcow2Error } from '../../shared/qcow2/findings';
import { openImage, type OpenedImage } from '../../shared/qcow2/image';
import { fullBackingFilename } from '../../shared/qcow2/info-json';
import { FileByteSource } from './file-source';
import { SyncReadFileSource } from './sync-file-source';

/** QEMU refuses chains deeper than this too (it would recurse without end on a loop). */
export const MAX_CHAIN_DEPTH = 64;

export interface OpenedChain {
  top: Qcow2Layer;
  img: OpenedImage;
  close(): Promise<void>;
}

/** st_blocks * 512: what qemu-img reports as actual-size / disk size. */
export async function allocatedBytes(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

async function isQcow2(src: ByteSource): Promise<boolean> {
  const b = await src.read(0, 4);
  return b.length === 4 && b[0] === 0x51 && b[1] === 0x46 && b[2] === 0x49 && b[3] === 0xfb;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export interface OpenChainOptions {
  /**
   * Read with synchronous pread (SyncReadFileSource): faster for a one-shot CLI command, where nothing
   * else waits on the event loop; never in the app.
   */
  syncReads?: boolean;
  /**
   * The top image, already open (an ImageSession's): only the files below it are opened, and closing
   * the chain leaves its source open.
   */
  top?: OpenedImage;
}

type ChainSource = ByteSource & { close(): void | Promise<void> };

/**
 * Open `path` with its backing chain and data file, read-only. Throws Qcow2Error when a named file is
 * missing or the chain loops or is too deep.
 */
export async function openChain(path: string, opts: OpenChainOptions = {}): Promise<OpenedChain> {
  const openFile = async (name: string): Promise<ChainSource> => (opts.syncReads ? SyncReadFileSource.open(name) : FileByteSource.open(name));
  const sources: ChainSource[] = [];
  const close = async (): Promise<void> => {
    for (const s of sources) {
      try {
        await s.close();
      } catch {
        // closing a read-only file cannot lose anything
      }
    }
  };
  try {
    const seen = new Set<string>();
    const openQcow2 = async (name: string, depth: number): Promise<{ layer: Qcow2Layer; img: OpenedImage }> => {
      const key = resolve(name);
      if (seen.has(key)) throw new Qcow2Error({ code: 'invalid-header', message: `backing chain loops back to ${name}`, file: name });
      if (depth > MAX_CHAIN_DEPTH) throw new Qcow2Error({ code: 'invalid-header', message: `backing chain deeper than ${MAX_CHAIN_DEPTH}`, file: name });
      seen.add(key);
      let img: OpenedImage;
      if (depth === 0 && opts.top) {
        img = opts.top;
      } else {
        const src = await openFile(name);
        sources.push(src);
        img = await openImage(src);
      }
      let data: ByteSource | null = null;
      if (img.extensions.dataFile !== null && ((img.header.incompatibleFeatures >> 2n) & 1n) === 1n) {
        const d = await openDataFile(name, img.extensions.dataFile, openFile);
        sources.push(d);
        data = d;
      }
      let backing: Layer | null = null;
      const b = img.extensions.backingFile;
      if (b) {
        const full = fullBackingFilename(name, b);
        const bsrc = await openFile(full).catch((e: unknown) => {
          // openFile's error already says "<path>: cannot open: …": keep only the reason, named once.
          const why = e instanceof Qcow2Error && e.file !== undefined ? e.message.slice(e.file.length + 2).replace(/^cannot open: /, '') : osErrorText(e);
          throw new Qcow2Error({ code: 'io', message: `cannot open backing file ${full}: ${why}`, file: name });
        });
        const fmt = img.extensions.backingFormat ?? ((await isQcow2(bsrc)) ? 'qcow2' : 'raw');
        if (fmt === 'qcow2') {
          await bsrc.close();
          backing = (await openQcow2(full, depth + 1)).layer;
        } else if (fmt === 'raw') {
          sources.push(bsrc);
          backing = await openRawLayer(bsrc);
        } else {
          await bsrc.close();
          throw new Qcow2Error({ code: 'unsupported-feature', message: `backing file format "${fmt}" is not supported (qcow2 and raw are)`, file: name });
        }
      }
      const layer = await openQcow2Layer(img, { data, backing, allocatedBytes: await allocatedBytes(name) });
      return { layer, img };
    };
    const { layer, img } = await openQcow2(path, 0);
    return { top: layer, img, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** QEMU opens the data file name relative to the working directory; we also try the image's directory. */
async function openDataFile(imagePath: string, name: string, openFile: (path: string) => Promise<ChainSource>): Promise<ChainSource> {
  const candidates = isAbsolute(name) ? [name] : [name, fullBackingFilename(imagePath, name)];
  for (const c of candidates) {
    if (await exists(c)) return openFile(c);
  }
  throw new Qcow2Error({ code: 'io', message: `cannot open the external data file "${name}"`, file: imagePath });
}
