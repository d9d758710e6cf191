// Repairing an image file. The original is never modified unless the caller asks for --in-place, and
// then only after a backup copy exists beside it. The repaired file is checked again afterwards, and
// the result lists every byte range written.
import { constants } from 'node:fs';
import { copyFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { analyzeImage, checkImage, type CheckOptions, type CheckReport } from '../../shared/qcow2/check';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { planRepair, type RepairMode } from '../../shared/qcow2/repair';
import { FileByteSource } from './file-source';

export interface RepairOptions extends CheckOptions {
  mode: RepairMode;
  /** Write the repaired image here (must not exist). Default: IMAGE.repaired.qcow2 beside the image. */
  output?: string;
  /** Repair the image itself, after writing a backup beside it. */
  inPlace?: boolean;
}

export interface ChangedRange {
  offset: number;
  length: number;
  why: string;
}

export interface RepairResult {
  /** The file that was repaired (the copy, or the image itself with inPlace). */
  target: string;
  /** The backup written before an in-place repair. */
  backup: string | null;
  before: CheckReport;
  /** The re-check of the repaired file, with corruptions-fixed / leaks-fixed as qemu-img reports them. */
  after: CheckReport;
  changes: ChangedRange[];
  notes: string[];
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

async function freshBackupName(image: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (let i = 0; ; i++) {
    const p = `${image}.backup-${stamp}${i ? `-${i}` : ''}`;
    if (!(await exists(p))) return p;
  }
}

export async function repairFile(image: string, opts: RepairOptions): Promise<RepairResult> {
  let target: string;
  let backup: string | null = null;
  if (opts.inPlace) {
    if (opts.output) throw new Qcow2Error({ code: 'invalid-argument', message: '--in-place and --output exclude each other', file: image });
    backup = await freshBackupName(image);
    await copyFile(image, backup, constants.COPYFILE_EXCL);
    target = image;
  } else {
    target = opts.output ?? defaultRepairOutput(image);
    if (await exists(target)) throw new Qcow2Error({ code: 'exists', message: `output ${target} already exists: choose another name`, file: image });
    await copyFile(image, target, constants.COPYFILE_EXCL);
  }

  const src = await FileByteSource.open(target, 'r+');
  let before: CheckReport;
  let changes: ChangedRange[];
  let notes: string[];
  try {
    const analysis = await analyzeImage(src, opts);
    before = analysis.report;
    const plan = await planRepair(analysis, opts.mode);
    for (const p of plan.patches) await src.write(p.offset, p.bytes);
    await src.flush();
    changes = plan.patches.map((p) => ({ offset: p.offset, length: p.bytes.length, why: p.why }));
    notes = plan.notes;
  } finally {
    await src.close();
  }
  const check = await FileByteSource.open(target, 'r');
  let after: CheckReport;
  try {
    after = await checkImage(check, { signal: opts.signal, maxClusters: opts.maxClusters });
  } finally {
    await check.close();
  }
  after.filename = image;
  after['corruptions-fixed'] = Math.max(0, before.corruptions - after.corruptions);
  after['leaks-fixed'] = Math.max(0, before.leaks - after.leaks);
  return { target, backup, before, after, changes, notes };
}
