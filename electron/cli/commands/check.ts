// qzs check [--json] [-r leaks|all] [--output FILE] [--in-place] IMAGE
// Exit codes as `qemu-img check -f qcow2` (shared/qcow2/check-exit.ts): 0 clean; 1 the image could not
// be checked (we cannot read it, stock qemu-img cannot open it — bad magic, a missing backing file, an
// unknown incompatible bit… —, the check had errors, or the walk missed tables: unproven leaks are not
// leaks); 2 corruptions or other error findings; 3 leaks only; 4 (ours) only zoned errors. 63 is
// qemu-img's "this image format does not support checks", which never applies to a qcow2 file. A
// `-r leaks` that needs a refcount rebuild exits 1, as qemu-img's "Check failed" does.
import type { CheckProgress, CheckReport } from '../../../shared/qcow2/check';
import { allocationLine } from '../../../shared/qcow2/check-summary';
import { checkExitCode, EXIT_CHECK_FAILED, qemuRefusesOpen, zonedOnly } from '../../../shared/qcow2/check-exit';
import type { Finding } from '../../../shared/qcow2/findings';
import { checkFile } from '../../engine/check';
import type { RepairResult } from '../../engine/repair';
import { parse, progressPrinter, UsageError, type CliIo } from '../io';

const USAGE = 'qzs check [--json] [-r leaks|all] [--output FILE] [--in-place] IMAGE';

export { checkExitCode };

function findingText(f: Finding): string {
  return `${f.severity.toUpperCase()} ${f.id} at offset ${f.offset} (0x${f.offset.toString(16)}), ${f.length} byte(s): ${f.message}\n` +
    `    ${f.structure} / ${f.field}: found ${f.found}; expected ${f.expected}\n` +
    (f.fix && f.fix !== 'none needed' ? `    fix: ${f.fix}\n` : '');
}

function humanReport(r: CheckReport): string {
  let s = '';
  for (const f of r.findings) s += findingText(f);
  if (!r.openable) return s + '\nThe file cannot be read as a qcow2 image.\n';
  const refusal = r.findings.find(qemuRefusesOpen);
  if (refusal) s += `\nQEMU cannot open this image (${refusal.id}), so qemu-img check cannot check it.\n`;
  const errors = r.findings.filter((f) => f.severity === 'error');
  if (r.corruptions === 0 && errors.length && errors.every(zonedOnly)) s += `\nThe qcow2 structures are clean; ${errors.length} error(s) above concern the zoned metadata only.\n`;
  if (r.corruptions === 0 && r.leaks === 0 && r['check-errors'] === 0 && !errors.length) {
    s += r.findings.length ? '\nNo errors were found on the image (see the notes above).\n' : 'No errors were found on the image.\n';
  } else {
    if (r.corruptions) s += `\n${r.corruptions} errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n`;
    if (r.leaks) s += `\n${r.leaks} leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n`;
    if (r['check-errors']) s += `\n${r['check-errors']} internal errors have occurred during the check.\n`;
  }
  if (r.incompleteWalks.length) {
    s += `\nThe check could not walk ${r.incompleteWalks.length === 1 ? 'a table' : `${r.incompleteWalks.length} tables`}:\n`;
    for (const w of r.incompleteWalks) s += `    the ${w.structure} at ${w.offset} (0x${w.offset.toString(16)}) ${w.why}\n`;
    if (r.unverified) s += `${r.unverified} clusters have a refcount above the references found; they are unverified, not leaks, and no repair frees them.\n`;
  }
  const allocation = allocationLine(r);
  if (allocation) s += allocation + '\n';
  if (r['image-end-offset']) s += `Image end offset: ${r['image-end-offset']}\n`;
  return s;
}

function jsonReport(r: CheckReport, repair?: RepairResult): string {
  const { openable, complete, incompleteWalks, unverified, findings, ...counts } = r;
  const out: Record<string, unknown> = { ...counts, openable, complete, incompleteWalks, unverified, findings };
  if (repair) {
    out.repair = {
      target: repair.target, backup: repair.backup, refused: repair.refused, checkFailed: repair.checkFailed, changes: repair.changes, notes: repair.notes,
      before: { corruptions: repair.before.corruptions, leaks: repair.before.leaks, 'check-errors': repair.before['check-errors'] },
    };
  }
  return JSON.stringify(out, null, 2) + '\n';
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean' },
    repair: { type: 'string', short: 'r' },
    output: { type: 'string', short: 'o' },
    'in-place': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (values.help) {
    io.out(`usage: ${USAGE}\n\n  -r leaks   lower refcounts that are too high (free leaked clusters)\n  -r all     also fix refcounts that are too low, rebuild broken refcount structures,\n             OFLAG_COPIED flags, reserved bits, and header fields with one safe fix\n  --output   write the repaired copy here (default IMAGE.repaired.qcow2; the image is not touched)\n  --in-place repair the image itself, after writing a backup beside it\n  --json     qemu-img's ImageCheck keys plus findings\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one IMAGE\nusage: ${USAGE}`);
  const image = positionals[0];
  const mode = values.repair;
  if (mode !== undefined && mode !== 'leaks' && mode !== 'all') throw new UsageError(`-r takes "leaks" or "all", not "${mode}"`);
  if ((values.output || values['in-place']) && !mode) throw new UsageError('--output and --in-place need -r leaks or -r all');
  if (values.output && values['in-place']) throw new UsageError('--output and --in-place exclude each other');
  const onProgress = progressPrinter<CheckProgress>(io);

  if (!mode) {
    const report = await checkFile(image, { onProgress });
    if (onProgress) io.err('\r\x1b[K');
    io.out(values.json ? jsonReport(report) : humanReport(report));
    return checkExitCode(report);
  }

  // The repair code (a large module) loads only for -r: a plain check never pays for it.
  const { repairFile } = await import('../../engine/repair');
  const result = values['in-place'] ? await repairInPlace(image, mode, onProgress) : await repairFile(image, { mode, output: values.output, onProgress });
  if (onProgress) io.err('\r\x1b[K');
  if (values.json) {
    if (result.refused) io.err(`qzs check: repair refused: ${result.refused}\n`);
    io.out(jsonReport(result.after, result));
  } else {
    let s = '';
    if (result.refused) s += `Repair refused: ${result.refused}.\n`;
    if (result.backup) s += `Backup of the original written to ${result.backup}\n`;
    s += `Repaired image: ${result.target}\n`;
    s += `\nThe following inconsistencies were found and repaired:\n\n    ${result.after['leaks-fixed']} leaked clusters\n    ${result.after['corruptions-fixed']} corruptions\n\n`;
    if (result.changes.length) {
      s += 'Bytes written:\n';
      for (const c of result.changes) s += `    ${c.offset} (0x${c.offset.toString(16)}) +${c.length}: ${c.why}\n`;
    } else {
      s += 'No bytes were written.\n';
    }
    for (const n of result.notes) s += `note: ${n}\n`;
    s += '\nDouble checking the fixed image now...\n';
    s += humanReport(result.after);
    io.out(s);
  }
  if (result.checkFailed) {
    // qemu-img check -r leaks: "ERROR need to rebuild refcount structures" then "Check failed: Input/output error".
    io.err(`qzs check: check failed: ${result.checkFailed}\n`);
    return EXIT_CHECK_FAILED;
  }
  return checkExitCode(result.after);
}

/**
 * In place, the repair is a write like any other: through the image's session (QEMU's write lock for the
 * command, backup, undo log, re-check), refused while another process writes the image.
 */
async function repairInPlace(image: string, mode: 'leaks' | 'all', onProgress?: (p: CheckProgress) => void): Promise<RepairResult> {
  const { ImageSession } = await import('../../engine/image-session');
  const session = await ImageSession.open(image, { gate: false });
  try {
    return await session.repair(mode, { onProgress });
  } finally {
    await session.close();
  }
}
