// A reader that stops early (`qzs … | head`) ends any command quietly: exit 0, nothing on stderr, for
// commands that stream a lot (layout, map, zones) as for the rest. A stdout that fails for another reason
// (a full disk) is an error. And the launcher runs node as its #! line says, which is what keeps a stopped
// reader from hanging qzs at exit (bin/qzs.js; nodejs/node#54918).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
