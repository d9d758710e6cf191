// A reader that stops early (`qzs … | head`) ends any command quietly: exit 0, nothing on stderr, for
// commands that stream a lot (layout, map, zones) as for the rest.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QZS } from '../helpers/cli';
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
    const child = spawn(process.execPath, [QZS, ...args]);
    let stderr = '';
    let got = 0;
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.once('data', (d: Buffer) => { got = d.length; child.stdout.destroy(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, got }));
  });
}

describe('stdout closed by its reader', () => {
  for (const args of [['layout'], ['layout', '--json'], ['map', '--json']]) {
    it(`qzs ${args.join(' ')}: exit 0, no error text`, async () => {
      const r = await firstChunkThenClose([...args, big]);
      expect(r.got).toBeGreaterThan(0);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    });
  }
});
