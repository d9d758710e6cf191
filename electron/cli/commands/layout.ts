// qzs layout [--json] IMAGE: every host cluster of the file, classified by what owns it, as runs. The
// human form is a summary by kind followed by the runs; --json prints the same runs ({start, clusters,
// kind, owner, ...}) so that a 1 TiB image stays a few hundred kilobytes. Exit 0 when the map is drawn
// (conflicts included: they are what it shows), 1 when the file cannot be read as qcow2.
import { LAYOUT_KINDS, LAYOUT_KIND_NAMES, type FileLayout, type LayoutProgress, type LayoutRun } from '../../../shared/qcow2/layout';
import { layoutFile } from '../../engine/layout';
import { EXIT_OK, EXIT_UNREADABLE, parse, printError, progressPrinter, UsageError, type CliIo } from '../io';

const USAGE = 'qzs layout [--json] IMAGE';
/** Runs per write of the output. */
const RUNS_PER_WRITE = 512;

function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

function runLine(r: LayoutRun, cs: number): string {
  const at = r.start * cs;
  return `${String(r.start).padStart(12)} ${String(r.clusters).padStart(10)}  0x${at.toString(16).padStart(12, '0')}  ${r.kind.padEnd(16)} ${r.owner}\n`;
}

function writeHuman(io: CliIo, l: FileLayout): void {
  let s = `${l.file}: ${l.fileSize} bytes, ${l.clusters} cluster(s) of ${l.clusterSize} bytes, ${l.runs.length} run(s)\n`;
  if (!l.check.openable) s += 'The file cannot be read as qcow2: no cluster can be classified.\n';
  else if (!l.check.complete) s += 'The check walk is incomplete: some references are unknown (see qzs check).\n';
  s += `\n${'kind'.padEnd(16)} ${'clusters'.padStart(12)} ${'size'.padStart(10)} ${'runs'.padStart(8)}  meaning\n`;
  let total = 0;
  for (const k of LAYOUT_KINDS) {
    const t = l.totals[k];
    if (!t.clusters) continue;
    total += t.clusters;
    s += `${k.padEnd(16)} ${String(t.clusters).padStart(12)} ${bytesText(t.clusters * l.clusterSize).padStart(10)} ${String(t.runs).padStart(8)}  ${LAYOUT_KIND_NAMES[k]}\n`;
  }
  s += `${'total'.padEnd(16)} ${String(total).padStart(12)} ${bytesText(l.fileSize).padStart(10)} ${String(l.runs.length).padStart(8)}\n`;
  const conflicts = l.runs.filter((r) => r.kind === 'conflict');
  if (conflicts.length) {
    s += `\n${l.totals.conflict.clusters} conflict cluster(s):\n`;
    for (const r of conflicts) s += runLine(r, l.clusterSize);
  }
  s += `\n${'cluster'.padStart(12)} ${'clusters'.padStart(10)}  ${'host offset'.padEnd(14)}  ${'kind'.padEnd(16)} owner\n`;
  io.out(s);
  for (let i = 0; i < l.runs.length; i += RUNS_PER_WRITE) {
    let chunk = '';
    for (const r of l.runs.slice(i, i + RUNS_PER_WRITE)) chunk += runLine(r, l.clusterSize);
    io.out(chunk);
  }
}

function writeJson(io: CliIo, l: FileLayout): void {
  const { runs, ...rest } = l;
  const head = JSON.stringify(rest, null, 2);
  // The runs one per line, written in slices: the output never exists as one string.
  io.out(`${head.slice(0, -2)},\n  "runs": [\n`);
  for (let i = 0; i < runs.length; i += RUNS_PER_WRITE) {
    const slice = runs.slice(i, i + RUNS_PER_WRITE);
    io.out(slice.map((r, j) => `    ${JSON.stringify(r)}${i + j < runs.length - 1 ? ',' : ''}\n`).join(''));
  }
  io.out('  ]\n}\n');
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (values.help) {
    io.out(`usage: ${USAGE}\n\nEvery host cluster of the file by owner (header, L1/L2 tables, refcount structures, snapshots,\nbitmaps, zonedmeta, data with its guest offset and zone, free, leaked, conflicts), as runs.\n  --json   {file, fileSize, clusterSize, clusters, totals, pastEof, check, findings, runs: [{start, clusters, kind, owner, ...}]}\n`);
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError(`expected exactly one IMAGE\nusage: ${USAGE}`);
  const path = positionals[0];
  const json = values.json === true;
  const onProgress = progressPrinter<LayoutProgress>(io);
  let layout: FileLayout;
  try {
    layout = await layoutFile(path, { onProgress });
  } catch (e) {
    if (onProgress) io.err('\r\x1b[K');
    printError(io, e, json, path);
    return EXIT_UNREADABLE;
  }
  if (onProgress) io.err('\r\x1b[K');
  if (json) writeJson(io, layout);
  else writeHuman(io, layout);
  return layout.check.openable ? EXIT_OK : EXIT_UNREADABLE;
}
