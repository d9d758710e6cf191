// Hostile files through the built CLI (npm run build:cli), as users run it: a FIFO, virtual sizes qemu-img
// refuses, 64-bit offsets at and beyond 2^53 in every offset field and table, header extensions longer
// than the cluster, refcount tables and L1 tables beyond QEMU's limits. Every command, with and without
// --json, must end within 5 s with a documented exit code, never an internal error, and print on stdout
// one valid JSON document or nothing.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QZS_CMD } from '../helpers/cli';
import { qemuImg, qemuIo, tmpDir, type TmpDir } from '../helpers/qemu';

/** qemu-img map of 20,000 extents passes execFileSync's default 1 MiB buffer. */
const qemuMap = (p: string): string => execFileSync('qemu-img', ['map', '--output=json', p], { encoding: 'utf8', maxBuffer: 1 << 28 });

const TIMEOUT_MS = 5000;

interface Run { args: string[]; status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [...QZS_CMD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ args, status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - t0 });
    });
  });
}

/** Run all, a few at a time (the machine has two cores; most of a run is Node starting). */
async function runAll(list: string[][], parallel = 4): Promise<Run[]> {
  const results: Run[] = new Array<Run>(list.length);
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < list.length) {
      const i = next++;
      results[i] = await run(list[i]);
    }
  }));
  return results;
}

const EXIT: Record<string, number[]> = { info: [0, 1], map: [0, 1], zones: [0, 1], check: [0, 1, 2, 3] };

/** The contract of every run on a hostile file; returns the typed error code printed, if any. */
function expectContained(r: Run): string | null {
  const what = `qzs ${r.args.join(' ')} (exit ${r.status}, ${r.ms} ms): ${r.stderr.slice(0, 400)}`;
  expect(r.signal, `${what}: killed after ${TIMEOUT_MS} ms`).toBeNull();
  expect(EXIT[r.args[0]], what).toContain(r.status);
  expect(r.stderr, what).not.toMatch(/internal|RangeError|TypeError|ERR_OUT_OF_RANGE|\n\s+at /);
  const json = r.args.includes('--json');
  let code: string | null = null;
  if (json) {
    if (r.stdout !== '') expect(() => JSON.parse(r.stdout) as unknown, `${what}: stdout is not one JSON document`).not.toThrow();
    if (r.stderr.trim() !== '') {
      const e = JSON.parse(r.stderr) as { error: { code: string } };
      code = e.error.code;
      expect(code, what).not.toBe('internal');
    }
    if (r.args[0] === 'check' && r.stdout !== '') {
      const report = JSON.parse(r.stdout) as { findings: { id: string; message: string }[] };
      for (const f of report.findings) expect(f.message, what).not.toMatch(/out of range|internal/);
    }
  }
  return code;
}

let dir: TmpDir;
const files: Record<string, string> = {};

const u64 = (b: Buffer, off: number): bigint => b.readBigUInt64BE(off);

beforeAll(() => {
  execFileSync('npm', ['run', '-s', 'build:cli'], { stdio: 'ignore' });
  dir = tmpDir('qzs-cli-hostile-');
  const basePath = dir.file('base.qcow2');
  qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', basePath, '2M']);
  qemuIo(basePath, ['write -P 1 0 8k']);
  qemuImg(['snapshot', '-c', 's1', basePath]);
  const base = readFileSync(basePath);
  const l1 = Number(u64(base, 40));
  const l2 = Number(u64(base, l1) & 0x00ff_ffff_ffff_fe00n);
  const rt = Number(u64(base, 48));
  const hl = base.readUInt32BE(100);
  const make = (name: string, patch: (b: Buffer) => void): void => {
    const b = Buffer.from(base);
    patch(b);
    files[name] = dir.file(`${name}.qcow2`);
    writeFileSync(files[name], b);
  };
  make('image-too-big', (b) => b.writeBigUInt64BE(2n ** 53n + 4096n, 24));
  make('l1-too-small', (b) => b.writeBigUInt64BE(2n ** 50n, 24));
  make('size-2^60-2MiB-clusters', (b) => { b.writeUInt32BE(21, 20); b.writeBigUInt64BE(2n ** 60n, 24); b.writeUInt32BE(2 ** 21, 36); });
  // 2^53 exactly (the first value a number cannot hold with its neighbours) or 2^63 (the sign bit)
  for (const [field, off, v] of [['backing_file_offset', 8, 53n], ['l1_table_offset', 40, 63n], ['refcount_table_offset', 48, 53n], ['snapshots_offset', 64, 63n]] as const) {
    make(`${field}-2^${v}`, (b) => b.writeBigUInt64BE(2n ** v, off));
  }
  make('l1-entry-2^55', (b) => b.writeBigUInt64BE((1n << 63n) | (1n << 55n), l1));
  make('l2-entry-2^55', (b) => b.writeBigUInt64BE((1n << 63n) | (1n << 55n), l2 + 8));
  make('refcount-entry-2^60', (b) => b.writeBigUInt64BE(1n << 60n, rt + 8));
  make('snapshot-l1-2^56', (b) => b.writeBigUInt64BE(1n << 56n, Number(u64(b, 64))));
  make('extension-too-long', (b) => { b.writeUInt32BE(0x12345678, hl); b.writeUInt32BE(8192, hl + 4); });
  make('refcount-table-clusters-2^29', (b) => b.writeUInt32BE(2 ** 29, 56));
  make('l1-size-huge', (b) => b.writeUInt32BE(0xffffffff, 36));
  files.fifo = dir.file('fifo');
  execFileSync('mkfifo', [files.fifo]);
});
afterAll(() => dir.cleanup());

describe('hostile files through every command', () => {
  it('info, map, zones, check, with and without --json: bounded, typed, never a partial document', async () => {
    const names = Object.keys(files);
    const list: string[][] = [];
    for (const name of names) {
      for (const cmd of ['info', 'map', 'zones', 'check']) {
        list.push([cmd, files[name]]);
        list.push([cmd, '--json', files[name]]);
      }
    }
    const runs = await runAll(list);
    const byFile = new Map<string, Run[]>();
    for (const r of runs) {
      expectContained(r);
      const f = r.args[r.args.length - 1];
      byFile.set(f, [...(byFile.get(f) ?? []), r]);
    }
    // What qemu-img refuses at open, every command refuses (check: cannot be read as qcow2).
    for (const name of ['image-too-big', 'l1-too-small', 'size-2^60-2MiB-clusters', 'extension-too-long', 'refcount-table-clusters-2^29', 'l1-size-huge', 'l1_table_offset-2^63', 'refcount_table_offset-2^53', 'backing_file_offset-2^53']) {
      for (const r of byFile.get(files[name]) ?? []) {
        expect([r.args.join(' '), r.status]).toEqual([r.args.join(' '), 1]);
        if (r.args[0] !== 'check') expect(r.stdout, r.args.join(' ')).toBe('');
      }
    }
    for (const r of byFile.get(files.fifo) ?? []) {
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('a FIFO, not a regular file');
    }
    // info no longer prints a clamped size.
    const info = runs.find((r) => r.args.join(' ') === `info --json ${files['size-2^60-2MiB-clusters']}`);
    expect(info?.stdout).toBe('');
    expect(info?.stderr).toContain(String(2n ** 60n));
    for (const r of runs) expect(r.stdout + r.stderr).not.toContain(String(Number.MAX_SAFE_INTEGER));
  }, 120_000);

  it('opening an image that does not exist says its error code once', async () => {
    const missing = dir.file('missing.qcow2');
    const [h, j] = await runAll([['info', missing], ['map', '--json', missing]]);
    expect(h.status).toBe(1);
    expect(h.stderr).toBe(`qzs: ${missing}: cannot open: no such file or directory (ENOENT)\n`);
    expect((JSON.parse(j.stderr) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'io', message: `${missing}: cannot open: no such file or directory (ENOENT)` });
  });
});

describe('map --json prints one JSON document or nothing', () => {
  /** 20,480 extents (2 MB of JSON, past what map keeps in memory): 40 L2 tables of alternating entries. */
  function manyExtents(name: string, poison: boolean): string {
    const p = dir.file(`${name}.qcow2`);
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', p, '80M']);
    qemuIo(p, Array.from({ length: 40 }, (_, k) => `write -P ${k + 1} ${k * 2}M 4k`));
    const b = readFileSync(p);
    const l1 = Number(u64(b, 40));
    for (let k = 0; k < 40; k++) {
      const l2 = Number(u64(b, l1 + 8 * k) & 0x00ff_ffff_ffff_fe00n);
      const first = u64(b, l2);
      for (let i = 2; i < 512; i += 2) b.writeBigUInt64BE(first, l2 + 8 * i);
      if (poison && k === 39) b.writeBigUInt64BE((1n << 63n) | (1n << 55n), l2 + 8 * 511);
    }
    writeFileSync(p, b);
    return p;
  }

  it('a walk that fails near the end of a large map: nothing on stdout, the located error on stderr', async () => {
    const p = manyExtents('late-failure', true);
    const [r] = await runAll([['map', '--json', p]]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect((JSON.parse(r.stderr) as { error: { code: string; finding: { id: string } } }).error).toMatchObject({ code: 'invalid-table', finding: { id: 'l2.offset-too-large' } });
  }, 30_000);

  it('the same map without the bad entry (walked twice, then streamed) is exactly qemu-img\'s', async () => {
    const p = manyExtents('large-ok', false);
    const [r] = await runAll([['map', '--json', p]]);
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(1 << 20);
    expect(r.stdout).toBe(qemuMap(p));
  }, 30_000);

  it('a failure in a small map: nothing on stdout either', async () => {
    const p = dir.file('small-failure.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', p, '2M']);
    qemuIo(p, ['write -P 1 0 8k']);
    const b = readFileSync(p);
    const l2 = Number(u64(b, Number(u64(b, 40))) & 0x00ff_ffff_ffff_fe00n);
    b.writeBigUInt64BE((1n << 63n) | 2n ** 53n, l2 + 8 * 101);
    b.writeBigUInt64BE((1n << 63n) | (2n ** 53n - 4096n), l2 + 8 * 100);
    writeFileSync(p, b);
    const [r] = await runAll([['map', '--json', p]]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
  });
});
