// Repairing an image into a copy (--output): the original is never modified. In place, a repair is a write
// like any other and goes through the image's session (image-session.ts: lock, backup, undo log); this
// module keeps the result shape both share. The repaired file is checked again afterwards, and the result
// lists every byte range written; a copy that fails is removed.
import { constants } from 'node:fs';
import { copyFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { backingProbe } from './check';
import { analyzeImage, checkImage, type CheckOptions, type CheckReport } from '../../shared/qcow2/check';
import { osErrorText, Qcow2Error } from '../../shared/qcow2/findings';
import { planRepair, type RepairMode, type RepairPlan } from '../../shared/qcow2/repair';
import { FileByteSource } from './file-source';

export interface RepairOptions extends CheckOptions {
  mode: RepairMode;
  /** Write the repaired image here (must not exist). Default: IMAGE.repaired.qcow2 beside the image. */
  output?: string;
}

export interface ChangedRange {
  offset: number;
  length: number;
  why: string;
}

export interface RepairResult {
  /** The file that was repaired (the copy, or the image itself with inPlace). */
  target: string;
  /** The backup written before an in-place repair (null when nothing was written). */
  backup: string | null;
  before: CheckReport;
  /** The re-check of the repaired file, with corruptions-fixed / leaks-fixed as qemu-img reports them. */
  after: CheckReport;
  changes: ChangedRange[];
  notes: string[];
  /** RepairPlan.refused: why part of the repair was not done (the check could not walk a table), or null. */
  refused: string | null;
  /** RepairPlan.checkFailed: why qemu-img check would fail (exit 1) in this mode, or null. */
  checkFailed: string | null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export function defaultRepairOutput(image: string): string {
  return join(dirname(image), `${basename(image).replace(/\.qcow2$/, '')}.repaired.qcow2`);
}

/** A backup name beside the image that does not exist yet. */
export async function freshBackupName(image: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (let i = 0; ; i++) {
    const p = `${image}.backup-${stamp}${i ? `-${i}` : ''}`;
    if (!(await exists(p))) return p;
  }
}

/** Copy `from` to a new file `to`; a copy that fails part way is removed. */
async function copyNew(from: string, to: string, image: string): Promise<void> {
  try {
    await copyFile(from, to, constants.COPYFILE_EXCL);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // EEXIST: the name was taken meanwhile and the file is someone else's; otherwise ours, partial.
    if (err.code !== 'EEXIST') await rm(to, { force: true });
    throw new Qcow2Error({ code: err.code === 'EEXIST' ? 'exists' : 'io', message: `cannot write ${to}: ${osErrorText(e)}`, file: image });
  }
}

async function applyPlan(src: FileByteSource, plan: RepairPlan): Promise<void> {
  for (const p of plan.patches) await src.write(p.offset, p.bytes);
  await src.flush();
}

export async function repairFile(image: string, opts: RepairOptions): Promise<RepairResult> {
  const target = opts.output ?? defaultRepairOutput(image);
  const backup: string | null = null;
  let before: CheckReport;
  let plan: RepairPlan;
  if (await exists(target)) throw new Qcow2Error({ code: 'exists', message: `output ${target} already exists: choose another name`, file: image });
  await copyNew(image, target, image);
  try {
    const src = await FileByteSource.open(target, 'r+');
    try {
      const analysis = await analyzeImage(src, { probeBacking: backingProbe(image), ...opts });
      before = analysis.report;
      plan = await planRepair(analysis, opts.mode);
      await applyPlan(src, plan);
    } finally {
      await src.close();
    }
  } catch (e) {
    await rm(target, { force: true });
    throw e;
  }
  const changes = plan.patches.map((p) => ({ offset: p.offset, length: p.bytes.length, why: p.why }));
  const check = await FileByteSource.open(target, 'r');
  let after: CheckReport;
  try {
    after = await checkImage(check, { signal: opts.signal, maxClusters: opts.maxClusters, probeBacking: backingProbe(target) });
  } finally {
    await check.close();
  }
  after.filename = image;
  after['corruptions-fixed'] = Math.max(0, before.corruptions - after.corruptions);
  after['leaks-fixed'] = Math.max(0, before.leaks - after.leaks);
  return { target, backup, before, after, changes, notes: plan.notes, refused: plan.refused, checkFailed: plan.checkFailed };
}
