// `qzs serve --open-dir DIR`: listing and opening under one folder. Every request path is relative to it;
// the real path (symlinks resolved) must stay inside the folder's own real path, or the request is refused
// with the same words whether the target exists or not, so the browser learns nothing about the rest of
// the host's file system.
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { MAX_DIR_ENTRIES, relPathProblem, type DirEntry, type DirListing } from '../../shared/contract/browse';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { QCOW_MAGIC } from '../../shared/qcow2/header';

/** Folders first, then by name as a person reads it (disk2 before disk10), the same on every host locale. */
const NAME_ORDER = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function refused(why: string): Qcow2Error {
  return new Qcow2Error({ code: 'invalid-argument', message: why });
}

function inside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}

export class OpenDir {
  private constructor(private readonly root: string) {}

  /** The folder as given on the command line, resolved once to its real path. */
  static async at(dir: string): Promise<OpenDir> {
    const root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw refused(`--open-dir ${dir} is not a folder`);
    return new OpenDir(root);
  }

  /**
   * The real path of `rel` if it names something inside the folder. A symlink is followed and judged by
   * where it lands; a missing target and one outside get the same refusal.
   */
  async resolve(rel: string): Promise<string> {
    const why = relPathProblem(rel);
    if (why) throw refused(why);
    const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
    const real = await realpath(join(this.root, ...parts)).catch(() => null);
    if (real === null || !inside(this.root, real)) throw refused(`${rel || '.'}: no such file or folder in the open folder`);
    return real;
  }

  async list(rel: string): Promise<DirListing> {
    const dir = await this.resolve(rel);
    if (!(await stat(dir)).isDirectory()) throw refused(`${rel}: not a folder`);
    const names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort(NAME_ORDER.compare);
    const entries: DirEntry[] = [];
    for (const name of names.slice(0, MAX_DIR_ENTRIES)) {
      // Symlinks are listed only when they land inside the folder, as what they point to.
      const real = await realpath(join(dir, name)).catch(() => null);
      if (real === null || !inside(this.root, real)) continue;
      const st = await stat(real).catch(() => null);
      if (!st) continue;
      if (st.isDirectory()) entries.push({ name, kind: 'dir', size: 0, qcow2: false });
      else if (st.isFile()) entries.push({ name, kind: 'file', size: st.size, qcow2: await hasQcowMagic(real) });
    }
    entries.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'dir' ? -1 : 1));
    const relDir = rel.split('/').filter((p) => p !== '' && p !== '.').join('/');
    return { rootName: basename(this.root), dir: relDir, entries, truncated: names.length > MAX_DIR_ENTRIES };
  }

  /** The real path of a regular file inside the folder, for SessionRegistry.open. */
  async file(rel: string): Promise<string> {
    const real = await this.resolve(rel);
    if (!(await stat(real)).isFile()) throw refused(`${rel}: not a file`);
    return real;
  }
}

async function hasQcowMagic(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return false;
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return bytesRead === 4 && b.readUInt32BE(0) === QCOW_MAGIC;
  } finally {
    await fh.close();
  }
}
