// Create an image on disk from a validated plan. Nothing is written unless validation passes; the image
// (and an external data file) is written to a temporary file in the target's directory and moved into
// place only when complete, so a failed create leaves no partial file. An existing file is never replaced
// without `force`.
import { link, lstat, open, rename, stat, unlink } from 'node:fs/promises';
import { acquireWriteLock } from './qemu-lock';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { validateCreateOptions, type CreateInput, type CreateValidation } from '../../shared/qcow2/create-options';
import { planImage, type WritePlan } from '../../shared/qcow2/create-plan';
import { osErrorText, Qcow2Error } from '../../shared/qcow2/findings';
import { openImage } from '../../shared/qcow2/image';
import { qemuImgCreateCommand } from '../../shared/qcow2/qemu-img-command';
import { FileByteSource } from './file-source';

export interface CreateRequest extends CreateInput {
  /** Path of the image to create. */
  file: string;
  /** Replace an existing file (image or data file). */
  force?: boolean;
  /** Validate and plan, write nothing. */
  dryRun?: boolean;
  /** Directory a relative data_file is created in; qemu-img uses its working directory (and so does QEMU when it opens the image). */
  cwd?: string;
  /** Called as the plan's writes complete (phase 'writing', done/total writes): preallocation writes many tables. */
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
  /** Checked between writes: when aborted, creation stops and (as on any failure) no file is left. */
  signal?: { readonly aborted: boolean };
  /** qemu-img create -u: do not open the backing file (the size must then be given). */
  unsafeBacking?: boolean;
}

export interface CreateResult {
  /** True when validation passed (and, unless dry-run, the files were written). */
  ok: boolean;
  written: boolean;
  file: string;
  validation: CreateValidation;
  qemuImgCommand: string;
  fileSize: number | null;
  dataFile: string | null;
  dataFileSize: number | null;
  /** Number of regions the plan writes (header, refcount structures, zonedmeta, L1/L2 tables). */
  plannedWrites: number;
}

/** Paths stored in the image (backing file, data file) are relative to the image's directory, as QEMU reads them. */
export function resolveBeside(image: string, name: string): string {
  return isAbsolute(name) ? name : join(dirname(image), name);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Open the backing file as qemu-img 7.2 does at create time: it must exist and be of the given format;
 * returns its virtual size. We read qcow2 and raw backing files; other formats only when a size is given.
 */
export async function backingFileSize(image: string, backingFile: string, backingFmt: string | null, needSize: boolean): Promise<number | null> {
  const path = resolveBeside(image, backingFile);
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new Qcow2Error({ code: 'invalid-argument', message: `Could not open '${backingFile}': ${(e as NodeJS.ErrnoException).code ?? 'error'}. Could not open backing image.`, file: path, details: { option: 'backing_file' } });
  }
  if (backingFmt === 'raw') return st.size;
  if (backingFmt === 'qcow2') {
    const src = await FileByteSource.open(path, 'r');
    try {
      const img = await openImage(src);
      return img.header.size;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new Qcow2Error({ code: 'invalid-argument', message: `Could not open backing image '${backingFile}' as qcow2: ${msg}`, file: path, details: { option: 'backing_fmt' } });
    } finally {
      await src.close();
    }
  }
  if (needSize) {
    throw new Qcow2Error({ code: 'invalid-argument', message: `cannot read the size of a ${backingFmt ?? 'unknown'} backing file (Qcow2 Zone Studio reads qcow2 and raw): give the size explicitly`, file: path, details: { option: 'backing_fmt' } });
  }
  return null;
}

/** Validate (looking up the backing file's size if needed), plan, and write unless dry-run. */
export async function createImage(req: CreateRequest): Promise<CreateResult> {
  const input: CreateInput = { options: req.options, size: req.size, zonedLayout: req.zonedLayout };
  const command = qemuImgCreateCommand(input, req.file);
  let validation = validateCreateOptions(input);
  const backing = req.options['backing_file'];
  if (backing && !req.unsafeBacking && validation.errors.length === 0) {
    const size = await backingFileSize(req.file, backing, req.options['backing_fmt'] ?? null, validation.needsBackingSize);
    if (validation.needsBackingSize) validation = validateCreateOptions({ ...input, backingSize: size });
  }
  const base: CreateResult = { ok: false, written: false, file: req.file, validation, qemuImgCommand: command, fileSize: null, dataFile: null, dataFileSize: null, plannedWrites: 0 };
  if (!validation.ok || !validation.normalized) return base;
  const o = validation.normalized;
  const plan = planImage(o);
  const dataPath = o.dataFile ? (isAbsolute(o.dataFile) ? o.dataFile : join(req.cwd ?? process.cwd(), o.dataFile)) : null;
  const result: CreateResult = { ...base, ok: true, fileSize: plan.fileSize, dataFile: dataPath, dataFileSize: plan.dataFileSize, plannedWrites: plan.writes.length };
  if (req.dryRun) return result;

  if (!req.force) {
    if (await exists(req.file)) throw new Qcow2Error({ code: 'exists', message: 'file exists (use --force to replace it)', file: req.file });
    if (dataPath && await exists(dataPath)) throw new Qcow2Error({ code: 'exists', message: 'data file exists (use --force to replace it)', file: dataPath });
  }
  const placed: string[] = [];
  try {
    if (dataPath && plan.dataFileSize !== null) {
      await writeAtomically(dataPath, !!req.force, async (fh) => { await fh.truncate(plan.dataFileSize ?? 0); });
      placed.push(dataPath);
    }
    await writeAtomically(req.file, !!req.force, (fh) => writePlan(fh, plan, req));
  } catch (e) {
    for (const p of placed) await unlink(p).catch(() => undefined);
    throw e;
  }
  return { ...result, written: true };
}

type Handle = Awaited<ReturnType<typeof open>>;

async function writePlan(fh: Handle, plan: WritePlan, req: Pick<CreateRequest, 'onProgress' | 'signal' | 'file'> = { file: '' }): Promise<void> {
  await fh.truncate(plan.fileSize);
  const total = plan.writes.length;
  for (const [k, w] of plan.writes.entries()) {
    if (req.signal?.aborted) throw new Qcow2Error({ code: 'internal', message: 'creation cancelled: no file was left behind', file: req.file, details: { cancelled: true } });
    req.onProgress?.({ phase: 'writing', done: k, total });
    let off = w.offset;
    for (const chunk of w.chunks()) {
      let done = 0;
      while (done < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, off + done);
        done += bytesWritten;
      }
      off += chunk.length;
    }
  }
  req.onProgress?.({ phase: 'writing', done: total, total });
}

/** The write lock of an existing image (null when there is none); throws 'locked' while a writer holds it. */
async function holdWriteLock(path: string): Promise<Handle | null> {
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return null;
  try {
    acquireWriteLock(fh.fd, path);
    return fh;
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Write to a temporary file beside `target`, sync, then move it into place; on failure remove it. */
async function writeAtomically(target: string, replace: boolean, fill: (fh: Handle) => Promise<void>): Promise<void> {
  // The name only has to be unlikely to collide ('wx' refuses an existing file); node:crypto would add
  // several milliseconds of start-up to every qzs create.
  const nonce = Math.floor(Math.random() * 0x1_0000_0000).toString(16).padStart(8, '0');
  const tmp = join(dirname(target), `.${basename(target)}.qzs-${process.pid}-${nonce}.tmp`);
  let fh: Handle | null = null;
  try {
    fh = await open(tmp, 'wx', 0o644);
    await fill(fh);
    await fh.sync();
    await fh.close();
    fh = null;
    if (replace) {
      // Replacing an image QEMU (or another qzs) has open for writing would leave it writing to the old,
      // unlinked inode: hold the image's write lock across the rename, refusing as qemu-img does.
      const held = await holdWriteLock(target);
      try {
        await rename(tmp, target);
      } finally {
        await held?.close();
      }
    } else {
      // link() refuses an existing target: no window in which another file could be replaced.
      try {
        await link(tmp, target);
        await unlink(tmp);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // File systems without hard links: check, then rename (a narrow race, but never a partial file).
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
        if (await exists(target)) throw Object.assign(new Error('file exists'), { code: 'EEXIST' });
        await rename(tmp, target);
      }
    }
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    const err = e as NodeJS.ErrnoException;
    if (e instanceof Qcow2Error) throw e;
    if (err.code === 'EEXIST') throw new Qcow2Error({ code: 'exists', message: 'file exists (use --force to replace it)', file: target });
    throw new Qcow2Error({ code: 'io', message: `cannot create: ${osErrorText(e)}`, file: target });
  }
}
