// qzs io on an image that is not zoned (issue 10): write, aio_write and read work as qemu-io's do, through
// the ImageSession write path. The oracle is Debian's qemu-io 7.2 on a twin image: the same session prints
// the same lines (qemu-io-cmds.c write_f/read_f/aio_write_f: "wrote N/N bytes at offset M"; 7.2 prints
// command failures on stdout without a prefix, hence --legacy-errors), and afterwards the two images hold
// the same guest bytes (qemu-img compare) and both check clean. Needs `npm run build:cli` first.
import { copyFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qzs } from '../helpers/cli';
import { qemuImg, qemuImgStatus, tmpDir, type TmpDir } from '../helpers/qemu';

let tmp: TmpDir;
beforeAll(() => { tmp = tmpDir('qzs-io-plain-'); });
afterAll(() => tmp.cleanup());

/** The timing line differs between runs (the issue allows it): keep its size and op count. */
function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '').map((l) => l.replace(/^([\d.]+ \S+), (\d+) ops; .*$/, '$1, $2 ops; TIMING'));
}

describe('qzs io on a plain image, against qemu-io', () => {
  it.each([
    ['64 KiB clusters', ['-o', 'cluster_size=64k']],
    ['4 KiB clusters, lazy refcounts', ['-o', 'cluster_size=4k,lazy_refcounts=on']],
    ['extended L2 (subclusters)', ['-o', 'extended_l2=on']],
  ])('%s: the same output and the same guest bytes', (_name, opts) => {
    const a = tmp.file(`plain-ref-${Math.random().toString(36).slice(2)}.qcow2`);
    const b = `${a}.qzs`;
    qemuImg(['create', '-q', '-f', 'qcow2', ...opts, a, '8M']);
    copyFileSync(a, b);
    const session = [
      'write -P 0x5a 0 4k', 'read -P 0x5a 0 4k', 'write -P 0x11 1M 64k', 'write -P 0x22 1056768 512',
      'aio_write -P 7 2M 4k 4k', 'aio_flush', 'read -P 7 2M 8k', 'write 8M 512', 'write -q -P 0x33 5M 3k',
      'read -P 0x11 1M 4k', 'read -P 0x22 1056768 512', 'read -P 0 6M 4k',
    ];
    const args = session.flatMap((c) => ['-c', c]);
    const q = spawnSync('qemu-io', ['-f', 'qcow2', ...args, a], { encoding: 'utf8' });
    const z = qzs(['io', '--legacy-errors', ...args, b]);
    expect(lines(z.stdout)).toEqual(lines(q.stdout));
    expect(lines(z.stderr)).toEqual(lines(q.stderr));
    expect(z.status).toBe(q.status);
    expect(lines(z.stdout)).toContain('wrote 65536/65536 bytes at offset 1048576');
    expect(qemuImgStatus(['compare', '-f', 'qcow2', '-F', 'qcow2', a, b]).status).toBe(0);
    const check = JSON.parse(qemuImgStatus(['check', '--output=json', b]).stdout) as { 'check-errors': number; corruptions?: number; leaks?: number };
    expect(check['check-errors']).toBe(0);
    expect(check.corruptions ?? 0).toBe(0);
    expect(check.leaks ?? 0).toBe(0);
  });

  it('-r: a write is refused as qemu-io refuses it on a read-only image', () => {
    const a = tmp.file('plain-ro.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', a, '1M']);
    const q = spawnSync('qemu-io', ['-r', '-f', 'qcow2', '-c', 'write 0 512', a], { encoding: 'utf8' });
    const z = qzs(['io', '--legacy-errors', '-r', '-c', 'write 0 512', a]);
    expect(lines(z.stdout)).toEqual(lines(q.stdout));
    expect(lines(z.stderr)).toEqual(lines(q.stderr));
  });
});
