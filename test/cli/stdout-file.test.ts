// Output redirected to a file or to /dev/null is written to fd 1 directly, without building Node's
// process.stdout (issue 14: start-up is the whole job of `qzs info`). What lands in the file must be what a
// pipe receives, byte for byte and in order, also for commands that mix text lines with streamed bytes
// (map, zones) and for an error after output began.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { QZS_CMD, qzs } from '../helpers/cli';
import { tmpDir } from '../helpers/qemu';

const tmp = tmpDir('qzs-stdout-file-');
afterAll(() => tmp.cleanup());

/** Run qzs with stdout redirected to a new file; returns the file's bytes, stderr and the status. */
function toFile(args: string[], name: string): { bytes: Buffer; stderr: string; status: number } {
  const path = tmp.file(name);
  const fd = openSync(path, 'w');
  try {
    const r = spawnSync(process.execPath, [...QZS_CMD, ...args], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    return { bytes: readFileSync(path), stderr: r.stderr, status: r.status ?? -1 };
  } finally {
    closeSync(fd);
  }
}

describe('stdout to a file is the same bytes as stdout to a pipe', () => {
  const img = tmp.file('zoned.qcow2');
  const plain = tmp.file('plain.qcow2');
  expect(qzs(['create', '-q', '-o', 'zone.mode=host-managed,zone.size=1M', '--zoned-layout', 'v8', img, '64M']).status).toBe(0);
  expect(qzs(['io', '-c', 'write -P 0x5a 3M 64k', '-c', 'zone_finish 7M 1M', img]).status).toBe(0);
  expect(qzs(['create', '-q', '-o', 'preallocation=metadata', plain, '1G']).status).toBe(0);

  const cases: [string, string[]][] = [
    ['info --json', ['info', '--json', img]],
    ['info (text)', ['info', plain]],
    ['map --json', ['map', '--json', img]],
    ['zones --json', ['zones', '--json', img]],
    ['zones --format blkzone', ['zones', '--format', 'blkzone', img]],
  ];
  it.each(cases)('%s', (_name, args) => {
    const piped = spawnSync(process.execPath, [...QZS_CMD, ...args], { maxBuffer: 1 << 28 });
    expect(piped.status).toBe(0);
    expect(piped.stdout.length).toBeGreaterThan(0);
    const file = toFile(args, `${args.join('_').replace(/[^\w.-]/g, '_')}.out`);
    expect(file.status).toBe(0);
    expect(file.bytes.equals(piped.stdout)).toBe(true);
  });

  it('an error after output began: the same output, status and message as with a pipe', () => {
    const args = ['info', '--json', img, tmp.file('missing.qcow2')];
    const piped = qzs(args);
    const file = toFile(args, 'error.out');
    expect(file.status).toBe(piped.status);
    expect(file.bytes.toString('utf8')).toBe(piped.stdout);
    expect(file.stderr).toBe(piped.stderr);
  });

  it('/dev/null takes the output and the exit status is kept', () => {
    const r = spawnSync(process.execPath, [...QZS_CMD, 'info', '--json', tmp.file('missing.qcow2')], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('missing.qcow2');
  });
});
