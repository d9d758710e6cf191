// A reader that stops early (`qzs … | head`) ends any command quietly: exit 0, nothing on stderr, for
// commands that stream a lot (layout, map, zones) as for the rest. A stdout that fails for another reason
// (a full disk) is an error. And the launcher runs node as its #! line says, which is what keeps a stopped
// reader from hanging qzs at exit (bin/qzs.js; nodejs/node#54918).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_FLAGS, QZS, QZS_CMD } from '../helpers/cli';
import { qemuImg, tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-epipe-');
let big = '';
beforeAll(() => {
  // 256 GiB with metadata preallocated: thousands of runs and extents, far more than one pipe buffer.
  big = dir.file('prealloc.qcow2');
  qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata,cluster_size=65536', big, '256G']);
});
afterAll(() => dir.cleanup());

function firstChunkThenClose(args: string[]): Promise<{ code: number | null; stderr: string; got: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...QZS_CMD, ...args]);
    let stderr = '';
    let got = 0;
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.once('data', (d: Buffer) => { got = d.length; child.stdout.destroy(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, got }));
  });
}

describe('stdout closed by its reader', () => {
  for (const args of [['layout'], ['layout', '--json'], ['map', '--json'], ['map']]) {
    // Several times: the exit hang this guards against came in about one run in four.
    it(`qzs ${args.join(' ')}: exit 0, no error text, every time`, async () => {
      for (let k = 0; k < 3; k++) {
        const r = await firstChunkThenClose([...args, big]);
        expect(r.got).toBeGreaterThan(0);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      }
    });
  }
});

describe('a walk stops when its reader goes', () => {
  // 20,000 lone 4 KiB clusters spread over 4 GiB: 2.3 MB of map --json (walked twice), 0.6 MB of table.
  let spread = '';
  beforeAll(() => {
    spread = dir.file('spread.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', spread, '4G']);
    const writes = Array.from({ length: 20_000 }, (_x, i) => `write -q ${i * 50 * 4096} 4096`).join('\n');
    // writeback: writethrough (qemu-io's default) syncs after every write
    execFileSync('qemu-io', ['-t', 'writeback', '-f', 'qcow2', spread], { input: `${writes}\nquit\n`, stdio: ['pipe', 'ignore', 'inherit'] });
  });
  // Bytes the child reads with fs.readSync (map walks on synchronous reads), printed at its exit: work
  // counted in bytes, not milliseconds.
  const probe = (): string => {
    const f = dir.file('count-reads.cjs');
    writeFileSync(f, "const fs = require('node:fs'); const read = fs.readSync; let bytes = 0;\n" +
      'fs.readSync = function (...a) { const n = read.apply(this, a); bytes += n; return n; };\n' +
      "process.on('exit', () => fs.writeSync(2, `read-bytes ${bytes}\\n`));\n");
    return f;
  };
  const readBytes = (stderr: string): number => Number(/read-bytes (\d+)/.exec(stderr)?.[1] ?? NaN);
  const run = (args: string[], stopEarly: boolean): Promise<{ code: number | null; read: number; rest: string }> => new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', probe(), ...QZS_CMD, ...args, spread]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    if (stopEarly) child.stdout.once('data', () => child.stdout.destroy());
    else child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, read: readBytes(stderr), rest: stderr.replace(/read-bytes \d+\n/, '') }));
  });

  // map --json walks twice when its output is large (once to know it succeeds, then streamed): a reader
  // that leaves spares the second walk; the table is walked once, and that walk stops.
  for (const [args, most] of [[['map', '--json'], 0.75], [['map'], 0.5]] as const) {
    it(`qzs ${args.join(' ')} | head reads less than ${most * 100} % of what the whole output needs`, async () => {
      const whole = await run([...args], false);
      const early = await run([...args], true);
      expect({ code: whole.code, rest: whole.rest, code2: early.code, rest2: early.rest }).toEqual({ code: 0, rest: '', code2: 0, rest2: '' });
      expect(whole.read).toBeGreaterThan(4 << 20); // its L2 tables alone are 8 MiB
      expect(early.read).toBeLessThan(most * whole.read);
    });
  }
});

describe.runIf(existsSync('/dev/full'))('stdout that cannot be written (/dev/full: ENOSPC)', () => {
  for (const args of [['info', '--json'], ['map', '--json'], ['layout']]) {
    it(`qzs ${args.join(' ')}: exit 1 and one line naming standard output and the error`, () => {
      // The command itself succeeds (stdout /dev/null)…
      const ok = spawnSync(process.execPath, [...QZS_CMD, ...args, big], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      expect(ok.status).toBe(0);
      // …but not when its output cannot be written.
      const full = spawnSync('sh', ['-c', '"$0" "$@" > /dev/full', process.execPath, ...QZS_CMD, ...args, big], { encoding: 'utf8' });
      expect(full.status).toBe(1);
      expect(full.stderr).toBe('qzs: cannot write to standard output: ENOSPC: no space left on device, write\n');
    });
  }
});

describe('the launcher', () => {
  it('runs node with --no-concurrent-recompilation from its #! line, and tests and scripts take the same flags', () => {
    // Without the flag, `qzs zones --json big.qcow2 | head` could hang at exit (bin/qzs.js says why).
    expect(readFileSync(QZS, 'utf8').split('\n', 1)[0]).toBe('#!/usr/bin/env -S node --no-concurrent-recompilation');
    expect(NODE_FLAGS).toEqual(['--no-concurrent-recompilation']);
    expect(QZS_CMD).toEqual([...NODE_FLAGS, QZS]);
  });

  it('runs as a program of its own (the #! line works with this env)', () => {
    const r = spawnSync(QZS, ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` } });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'qzs (Qcow2 Zone Studio) 0.1.0\n', stderr: '' });
  });
});
