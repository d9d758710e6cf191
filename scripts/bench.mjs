#!/usr/bin/env node
// `npm run bench`: our commands against qemu-img (and other floors) on the same inputs, in the same run.
// Each case runs alternately (A B A B …) after one warm-up pair, at least 5 measured pairs; we report the
// median time of each side, the median of per-pair ratios (ours / reference) and the peak RSS of each.
// Caches: inputs are generated first and every run reads them warm from the page cache (both sides alike;
// nothing is dropped between runs). Results: a table on stdout and bench/results.json (git-ignored).
import { createRequire } from 'node:module';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
// The launcher with node's flags from its #! line (bin/qzs-command.cjs), as users run it.
const { QZS_CMD } = createRequire(import.meta.url)('../bin/qzs-command.cjs');
const PAIRS = Number(process.env.BENCH_PAIRS ?? 5);
const only = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'qzs-bench-'));
const node = process.execPath;

// One child per measurement, under a tiny Python parent that reports wall time and the child's peak RSS
// (getrusage(RUSAGE_CHILDREN)), so the parent's own start-up is not in the number.
const MEASURE = `
import resource, subprocess, sys, time, os
out = open(os.devnull, 'wb')
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=out, stderr=subprocess.PIPE)
dt = time.perf_counter() - t
print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)
sys.stderr.write(r.stderr.decode(errors='replace')[-2000:])
`;

function measure(cmd, prep) {
  if (prep) prep();
  const r = spawnSync('python3', ['-c', MEASURE, ...cmd], { encoding: 'utf8' });
  const [secs, rssKb, code] = r.stdout.trim().split(/\s+/).map(Number);
  return { ms: secs * 1000, rssKb, code, stderr: r.stderr };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

const results = [];
function benchCase(name, ours, reference, { prep, okCodes = [0], target, refLabel = 'qemu-img' } = {}) {
  if (only.length && !only.some((o) => name.includes(o))) return;
  process.stderr.write(`bench: ${name} …\n`);
  const a = [], b = [];
  for (let i = 0; i <= PAIRS; i++) {
    const x = measure(ours, prep);
    const y = measure(reference, prep);
    if (!okCodes.includes(x.code)) throw new Error(`${name}: ours exited ${x.code}: ${x.stderr}`);
    if (!okCodes.includes(y.code) && !(refLabel.startsWith('qemu-img check') && y.code === 3)) throw new Error(`${name}: reference exited ${y.code}: ${y.stderr}`);
    if (i > 0) { a.push(x); b.push(y); } // pair 0 is the warm-up
  }
  const row = {
    case: name,
    reference: refLabel,
    oursMs: median(a.map((x) => x.ms)),
    refMs: median(b.map((x) => x.ms)),
    ratio: median(a.map((x, i) => x.ms / b[i].ms)),
    oursRssMb: Math.max(...a.map((x) => x.rssKb)) / 1024,
    refRssMb: Math.max(...b.map((x) => x.rssKb)) / 1024,
    target: target ?? null,
  };
  results.push(row);
  return row;
}

/** A case measured in-process by a bench entry point that prints its own {ours, reference} ms samples. */
function inProcessCase(name, script, args, target) {
  if (only.length && !only.some((o) => name.includes(o))) return;
  process.stderr.write(`bench: ${name} …\n`);
  const out = execFileSync(node, [script, ...args, String(PAIRS)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const r = JSON.parse(out);
  results.push({ case: name, reference: r.referenceLabel, oursMs: median(r.ours), refMs: median(r.reference), ratio: median(r.ours.map((x, i) => x / r.reference[i])), oursRssMb: r.rssMb ?? null, refRssMb: null, target });
}

function sh(cmd, args, opts = {}) { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'], maxBuffer: 1 << 26, ...opts }); }

try {
  // The CLI bundle (about 1 s) always, so that the numbers are those of the sources and the in-process
  // bench entry exists; the UI only when it was never built (bench-ui needs it).
  sh('npm', ['run', 'build:cli', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (!existsSync(join(ROOT, 'dist/renderer/index.html'))) sh('npm', ['run', 'build:app', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const qzs = (...a) => [node, ...QZS_CMD, ...a];

  // Floor for small commands: Node's own start-up.
  benchCase('floor: node -e 0 vs qemu-img --version', [node, '-e', '0'], ['qemu-img', '--version'], { refLabel: 'qemu-img --version' });
  const floor = results.at(-1)?.oursMs;

  // Inputs.
  const big = join(dir, 'big64g.qcow2');
  sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', big, '64G']);
  const scattered = join(dir, 'scattered.qcow2');
  makeScattered(scattered);
  sh('sync', []);

  benchCase('info --json, 64 GiB preallocation=metadata', qzs('info', '--json', big), ['qemu-img', 'info', '--output=json', big], { target: floor ? `≤ 1.3 × node -e 0 (${(floor * 1.3).toFixed(0)} ms)` : null });
  benchCase('check, 64 GiB preallocation=metadata', qzs('check', '--json', big), ['qemu-img', 'check', '--output=json', big], { target: '≤ 1.0×, RSS ≤ 2×', refLabel: 'qemu-img check' });
  benchCase('check, 100k scattered clusters + 3 snapshots', qzs('check', '--json', scattered), ['qemu-img', 'check', '--output=json', scattered], { target: '≤ 1.0×, RSS ≤ 2×', refLabel: 'qemu-img check' });
  benchCase('map --json, 64 GiB preallocation=metadata', qzs('map', '--json', big), ['qemu-img', 'map', '--output=json', big], { target: '≤ 1.0×' });
  benchCase('map --json, 100k scattered clusters', qzs('map', '--json', scattered), ['qemu-img', 'map', '--output=json', scattered], { target: '≤ 1.0×' });
  const created = join(dir, 'created.qcow2');
  const rmCreated = () => rmSync(created, { force: true });
  benchCase('create 1 TiB', qzs('create', created, '1T'), ['qemu-img', 'create', '-q', '-f', 'qcow2', created, '1T'], { prep: rmCreated, target: floor ? `≤ 1.3 × node -e 0 (${(floor * 1.3).toFixed(0)} ms)` : null });
  benchCase('create 1 TiB preallocation=metadata', qzs('create', '-o', 'preallocation=metadata', created, '1T'), ['qemu-img', 'create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', created, '1T'], { prep: rmCreated, target: '≤ 1.0×' });
  rmCreated();
  // The layout map is the check's walk plus a sweep over the clusters: the ratio to qemu-img check of the
  // same image is the figure (16 M clusters, 2048 L2 tables, a sparse 1 TiB file).
  // Issue 14's scale rows use the same image: check and map of 16 M clusters in 2048 L2 tables.
  const layoutName = 'layout --json, 1 TiB preallocation=metadata (vs qemu-img check)';
  const tibNames = ['check, 1 TiB preallocation=metadata', 'map --json, 1 TiB preallocation=metadata', layoutName];
  if (!only.length || only.some((o) => tibNames.some((n) => n.includes(o)))) {
    const tib = join(dir, 'layout-1t.qcow2');
    sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', tib, '1T']);
    // Its 160 MiB of fresh metadata would otherwise be written back while the first case runs.
    sh('sync', []);
    benchCase(tibNames[0], qzs('check', '--json', tib), ['qemu-img', 'check', '--output=json', tib], { target: '≤ 0.5×, RSS ≤ 1.5×', refLabel: 'qemu-img check' });
    benchCase(tibNames[1], qzs('map', '--json', tib), ['qemu-img', 'map', '--output=json', tib], { target: '≤ 0.5×' });
    benchCase(layoutName, qzs('layout', '--json', tib), ['qemu-img', 'check', '--output=json', tib], { target: '≤ 1.5×, RSS ≤ 2×', refLabel: 'qemu-img check' });
    rmSync(tib, { force: true });
  }

  // Diff (issue 12): two sparse 64 GiB images with the same 128 MiB of data, the second converted (its own
  // file): every data cluster is read on both sides by both tools, which then agree "identical".
  const diffA = join(dir, 'diff-a.qcow2');
  const diffB = join(dir, 'diff-b.qcow2');
  const diffCases = ['diff --data-only, two 64 GiB sparse images, 128 MiB of data each (vs qemu-img compare)', 'diff (fields, zones, layout too), same pair'];
  if (!only.length || only.some((o) => diffCases.some((n) => n.includes(o)))) {
    sh('qemu-img', ['create', '-q', '-f', 'qcow2', diffA, '64G']);
    const writes = Array.from({ length: 128 }, (_, i) => `write -q -P ${(i % 255) + 1} ${i * 512}M 1M`).join('\n') + '\nquit\n';
    sh('qemu-io', ['-t', 'writeback', '-f', 'qcow2', diffA], { input: writes });
    sh('qemu-img', ['convert', '-O', 'qcow2', diffA, diffB]);
  }
  benchCase(diffCases[0], qzs('diff', '--data-only', diffA, diffB), ['qemu-img', 'compare', diffA, diffB], { target: '≤ 1.5×', refLabel: 'qemu-img compare' });
  benchCase(diffCases[1], qzs('diff', diffA, diffB), ['qemu-img', 'compare', diffA, diffB], { okCodes: [0, 1], target: '≤ 1.5×', refLabel: 'qemu-img compare' });

  const zoned = join(dir, 'zoned-1m.qcow2');
  sh(node, [...QZS_CMD, 'create', '-o', 'zone.mode=host-managed,zone.size=64M,zone.max_active_zones=128,zone.max_open_zones=64', '--zoned-layout', 'v8', zoned, '64T']);
  benchCase('zones --json, 1,048,576 zones (vs info --json of the same image)', qzs('zones', '--json', zoned), qzs('info', '--json', zoned), { refLabel: 'qzs info --json (same image)' });
  // The per-step report of `qzs zone` (issue 14: it was quadratic) against the streamed `qzs zones`.
  const zone64kName = 'zone IMAGE report, 65,536 zones (vs zones --json of the same image)';
  if (!only.length || only.some((o) => zone64kName.includes(o))) {
    const z64k = join(dir, 'zoned-64k.qcow2');
    sh(node, [...QZS_CMD, 'create', '-o', 'zone.mode=host-managed,zone.size=64M', '--zoned-layout', 'v8', z64k, '4T']);
    benchCase(zone64kName, qzs('zone', z64k, 'report', '--json'), qzs('zones', '--json', z64k), { refLabel: 'qzs zones --json (same image)', target: '≤ 2×' });
    rmSync(z64k, { force: true });
  }
  const zbench = join(ROOT, 'dist/cli/bench-zone-report.cjs');
  if (existsSync(zbench)) inProcessCase('zone report in process, 1,048,576 zones (vs plain positional read of zonedmeta)', zbench, [zoned], '≤ 50 ms');
  const uibench = join(ROOT, 'scripts/bench-ui.mjs');
  // Its rows are named "zone map: …" and "serve: …"; a filter that names none of them skips it.
  const uiWanted = !only.length || only.some((o) => ['zone map', 'serve'].some((n) => n.includes(o) || o.includes(n)));
  if (existsSync(uibench) && uiWanted) {
    const out = execFileSync(node, [uibench, zoned], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    for (const r of JSON.parse(out)) results.push(r);
  }

  // create --like a 1 M-zone blkzone report restoring its write pointers (issue 14): one full zone and three
  // partial ones, so 70 MiB of zeros through some 80 zone writes. The reference shapes the same image from
  // the same report without the pointers: the ratio is what restoring them adds (each zone write once
  // copied the whole 1 M-entry table).
  const likeName = 'create --like 1 M-zone blkzone report --with-write-pointers (vs without)';
  if (!only.length || only.some((o) => likeName.includes(o))) {
    const src = join(dir, 'like-src.qcow2');
    sh(node, [...QZS_CMD, 'create', '-o', 'zone.mode=host-managed,zone.size=64M', '--zoned-layout', 'v8', src, '64T']);
    sh(node, [...QZS_CMD, 'io', '-c', 'zone_finish 192M 64M', '-c', 'write -z 320M 4M', '-c', 'write 640000M 1M', '-c', 'write 6400000M 1M', src]);
    const report = join(dir, 'like-src.blkzone');
    writeFileSync(report, sh(node, [...QZS_CMD, 'zones', '--format', 'blkzone', src], { maxBuffer: 1 << 28 }));
    rmSync(src, { force: true });
    const like = join(dir, 'like.qcow2');
    const rmLike = () => rmSync(like, { force: true });
    benchCase(likeName, qzs('create', '--like', report, '--with-write-pointers', like), qzs('create', '--like', report, like), { prep: rmLike, refLabel: 'qzs create --like (same report)' });
    rmLike();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? '-' : Number(v).toFixed(d));
const header = ['case', 'ours ms', 'ref ms', 'ratio', 'ours RSS MB', 'ref RSS MB', 'reference', 'target'];
const rows = results.map((r) => [r.case, fmt(r.oursMs), fmt(r.refMs), fmt(r.ratio, 2), fmt(r.oursRssMb), fmt(r.refRssMb), r.reference, r.target ?? '']);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const line = (r) => '| ' + r.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
console.log(line(header));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of rows) console.log(line(r));
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, qemuImg: sh('qemu-img', ['--version']).split('\n')[0] };
console.log(`\nmachine: ${machine.cpus} × ${machine.cpu}, ${machine.memGiB} GiB, Node ${machine.node}, ${machine.qemuImg}; ${PAIRS} measured pairs per case after one warm-up pair, page cache warm for both sides.`);
mkdirSync(join(ROOT, 'bench'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results.json'), JSON.stringify({ date: new Date().toISOString(), machine, pairs: PAIRS, results }, null, 2));

function makeScattered(file) {
  // 100,000 data clusters of 4 KiB spread over a 4 GiB disk (a pseudo-random permutation), in four rounds
  // with an internal snapshot between rounds, so that the check walks three snapshot L1 tables too.
  sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', file, '4G']);
  const clusters = 4 * 2 ** 30 / 4096;
  // 32-bit LCG in exact integer arithmetic (Math.imul): a float product would pass 2^53, lose its low
  // bits and fall into a short cycle that never yields 100,000 distinct clusters. High bits pick the cluster.
  let x = 12345;
  const picks = new Set();
  while (picks.size < 100_000) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; picks.add(Math.floor((x / 2 ** 32) * clusters)); }
  const all = [...picks];
  for (let round = 0; round < 4; round++) {
    const part = all.slice(round * 25_000, (round + 1) * 25_000);
    const cmds = part.map((c) => `write -q -P ${(c % 255) + 1} ${c * 4096} 4096`).join('\n') + '\nquit\n';
    sh('qemu-io', ['-t', 'writeback', '-f', 'qcow2', file], { input: cmds }); // writethrough (the default) syncs per write: 25× slower
    if (round < 3) sh('qemu-img', ['snapshot', '-c', `s${round + 1}`, file]);
  }
}
void readFileSync;
