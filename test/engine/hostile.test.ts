// Hostile input for the engine: files that are not regular files, sizes and offsets beyond what QEMU or
// JavaScript numbers allow, header extensions longer than the cluster, and create requests that try to
// leave --create-dir. Each case is a typed error or finding that QEMU's own limits and messages explain
// (block/qcow2.c qcow2_do_open, qcow2_read_extensions; include/block/qcow2.h), reached at once.
import { closeSync, constants, openSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileByteSource } from '../../electron/engine/file-source';
import { SyncReadFileSource } from '../../electron/engine/sync-file-source';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { qemuImg, qemuIo, tmpDir, type TmpDir } from '../helpers/qemu';

let dir: TmpDir;
/** 2 MiB, 4 KiB clusters, 8 KiB written at 0. */
let base: Uint8Array;
let fifo: string;

async function refusal(p: Promise<unknown>): Promise<Qcow2Error> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(Qcow2Error);
  return e as Qcow2Error;
}

beforeAll(() => {
  dir = tmpDir('qzs-hostile-');
  const p = dir.file('base.qcow2');
  qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', p, '2M']);
  qemuIo(p, ['write -P 1 0 8k']);
  base = new Uint8Array(readFileSync(p));
  fifo = dir.file('fifo');
  execFileSync('mkfifo', [fifo]);
});

afterAll(() => {
  // Without the fix a reader stays blocked in open(2) on the FIFO: a writer lets it go.
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: nobody is reading, as it should be
  }
  dir.cleanup();
});

describe('files that are not regular files', () => {
  it('a FIFO is refused at once, named for what it is, by both file sources', async () => {
    const t0 = Date.now();
    const e = await refusal(FileByteSource.open(fifo));
    expect(e).toMatchObject({ code: 'io', file: fifo });
    expect(e.message).toContain('a FIFO, not a regular file');
    expect((await refusal(FileByteSource.open(fifo, 'r+'))).message).toContain('a FIFO, not a regular file');
    expect(Date.now() - t0).toBeLessThan(2000);
    // (SyncReadFileSource blocks the thread if it hangs: the CLI suite runs it under a timeout.)
  }, 5000);

  it('a directory is refused by name', async () => {
    expect((await refusal(FileByteSource.open(dir.path))).message).toContain('a directory, not a regular file');
    expect(() => SyncReadFileSource.open(dir.path)).toThrow(/a directory, not a regular file/);
  });

  it('open errors say their code once: "cannot open: no such file or directory (ENOENT)"', async () => {
    const missing = dir.file('missing.qcow2');
    const e = await refusal(FileByteSource.open(missing));
    expect(e).toMatchObject({ code: 'io', file: missing });
    expect(e.toJSON().message).toBe(`${missing}: cannot open: no such file or directory (ENOENT)`);
    let sync: unknown = null;
    try {
      SyncReadFileSource.open(missing);
    } catch (x) {
      sync = x;
    }
    expect((sync as Qcow2Error).message).toBe(`${missing}: cannot open: no such file or directory (ENOENT)`);
  });

  it('a read at or beyond 2^53 is a typed error, never Node\'s internal range error', async () => {
    const p = dir.file('plain.qcow2');
    writeFileSync(p, base);
    const a = await FileByteSource.open(p);
    const s = SyncReadFileSource.open(p);
    try {
      expect((await refusal(a.read(2 ** 55, 4096))).code).toBe('invalid-table');
      expect((await refusal(s.read(2 ** 55, 4096))).code).toBe('invalid-table');
      expect((await refusal(s.read(2 ** 53 - 100, 4096))).message).toContain('beyond 2^53');
    } finally {
      await a.close();
      s.close();
    }
  });
});
