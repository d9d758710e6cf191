// QEMU-compatible image locks, judged by Debian's qemu-io and qemu-img: they refuse an image we hold for
// writing, and we refuse one that qemu-io holds, with qemu-img's own words.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { acquireWriteLock, lockSupport, releaseLocks, writerHolder } from '../../electron/engine/qemu-lock';
import { qemuImg, tmpDir } from '../helpers/qemu';

const tmp = tmpDir('qzs-lock-');
afterAll(() => tmp.cleanup());

let n = 0;
function create(): string {
  const f = tmp.file(`img${n++}.qcow2`);
  qemuImg(['create', '-f', 'qcow2', f, '1M']);
  return f;
}

function run(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** /proc/locks lines on the file's inode (OFD locks show pid -1 there). */
function procLocks(f: string): string[] {
  const ino = String(statSync(f).ino);
  return readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .filter((l) => l.split(/\s+/).some((w) => w.endsWith(`:${ino}`)));
}

/** The locked byte ranges on the file, sorted, as "start-end". */
function ranges(f: string): string[] {
  return procLocks(f).map((l) => l.trim().split(/\s+/).slice(-2).join('-')).sort();
}

/** Bytes 100 + CONSISTENT_READ, WRITE, RESIZE held and 200 + WRITE, RESIZE not shared; the kernel merges
 *  the adjacent ranges of one open file, so 100 and 101 show as one. */
const WRITER_RANGES = ['100-101', '103-103', '201-201', '203-203'];

/** Polls until cond() is true, up to 10 s; fails with what it was waiting for. */
async function until(what: string, cond: () => boolean, detail: () => string = () => ''): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after 10 s waiting for ${what}${detail() ? `: ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function lockedError(fn: () => unknown): Qcow2Error {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Qcow2Error);
    return e as Qcow2Error;
  }
  throw new Error('expected a Qcow2Error, nothing was thrown');
}

describe('QEMU-compatible image locks', () => {
  it('are available on this Linux machine', () => {
    expect(process.platform).toBe('linux');
    expect(lockSupport()).toEqual({ available: true });
  });

  it('refuse an image that qemu-io holds read-write, naming it, and still let us read', async () => {
    const f = create();
    let qemu: ChildProcess | undefined;
    const fd = openSync(f, 'r+');
    try {
      let stderr = '';
      qemu = spawn('qemu-io', ['-f', 'qcow2', '-c', 'sleep 30000', f], { stdio: ['ignore', 'ignore', 'pipe'] });
      qemu.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const pid = qemu.pid as number;
      // raw_apply_lock_bytes for a read-write qemu-io: perms 100, 101, 103; not shared 201, 203.
      await until('qemu-io to lock the image', () => writerHolder(fd, f) !== null && procLocks(f).length > 0, () => `/proc/locks: ${procLocks(f).join(' | ')}; qemu-io stderr: ${stderr}; exit ${String(qemu?.exitCode)}`);

      const locks = procLocks(f);
      expect(locks.every((l) => l.includes('OFDLCK') && l.includes(' READ ')), locks.join('\n')).toBe(true);
      // What a QEMU writer takes, and so what acquireWriteLock takes (next tests).
      expect(ranges(f)).toEqual(WRITER_RANGES);

      const e = lockedError(() => acquireWriteLock(fd, f));
      expect(e.code).toBe('locked');
      expect(e.file).toBe(f);
      // raw_check_lock_bytes tests 200 + WRITE first: qemu-io does not share "write".
      expect(e.message).toContain('Failed to get "write" lock');
      expect(e.message).toContain(`Is another process using the image [${f}]?`);
      expect(e.message).toContain(`held by qemu-io (pid ${pid})`);
      expect(e.details).toMatchObject({ byte: 201, holderPid: pid, holderCommand: 'qemu-io' });

      // writerHolder: byte 101 (holds WRITE) is the first it asks about.
      expect(writerHolder(fd, f)).toEqual({ byte: 101, holder: { pid, command: 'qemu-io' } });

      // The failed attempt took nothing (raw_handle_perm_lock reverts): only qemu-io's locks remain,
      // and qemu-io itself is undisturbed.
      expect(procLocks(f)).toEqual(locks);

      // Reading takes no lock and still works.
      const buf = Buffer.alloc(4);
      readSync(fd, buf, 0, 4, 0);
      expect(buf.toString('latin1')).toBe('QFI\xfb');
    } finally {
      closeSync(fd);
      if (qemu && qemu.exitCode === null) {
        const exited = new Promise((r) => qemu?.once('exit', r));
        qemu.kill('SIGKILL');
        await exited;
      }
    }
  });

  it('make qemu-io and qemu-img refuse an image we hold, until we release it', () => {
    const f = create();
    const fd = openSync(f, 'r+');
    try {
      expect(acquireWriteLock(fd, f)).toEqual({ locked: true });
      expect(procLocks(f).length).toBeGreaterThan(0);

      const w = run('qemu-io', ['-f', 'qcow2', '-c', 'write 0 512', f]);
      expect(w.status, w.stderr).not.toBe(0);
      expect(w.stderr).toContain('Failed to get "write" lock');
      expect(w.stderr).toContain(`Is another process using the image [${f}]?`);

      const c = run('qemu-img', ['check', '-r', 'all', f]);
      expect(c.status, c.stderr).not.toBe(0);
      expect(c.stderr).toContain('Failed to get "write" lock');

      // A plain reader does not share "write", which we hold.
      const i = run('qemu-img', ['info', f]);
      expect(i.status, i.stderr).not.toBe(0);
      expect(i.stderr).toContain('Failed to get shared "write" lock');

      // -U (force share) takes no lock.
      const u = run('qemu-img', ['info', '-U', f]);
      expect(u.status, u.stderr).toBe(0);
      expect(u.stdout).toContain('file format: qcow2');

      releaseLocks(fd);
      expect(procLocks(f)).toEqual([]);
      const w2 = run('qemu-io', ['-f', 'qcow2', '-c', 'write 0 512', f]);
      expect(w2.status, w2.stderr).toBe(0);
      expect(w2.stdout).toContain('wrote 512/512 bytes');
    } finally {
      closeSync(fd);
    }
  });

  it('take the bytes a QEMU writer takes', () => {
    const f = create();
    const fd = openSync(f, 'r+');
    try {
      acquireWriteLock(fd, f);
      expect(ranges(f)).toEqual(WRITER_RANGES);
    } finally {
      releaseLocks(fd);
      closeSync(fd);
    }
  });

  it('make two opens in one process conflict (OFD locks), and releasing one frees the other', () => {
    const f = create();
    const a = openSync(f, 'r+');
    const b = openSync(f, 'r+');
    try {
      expect(acquireWriteLock(a, f)).toEqual({ locked: true });
      const e = lockedError(() => acquireWriteLock(b, f));
      expect(e.code).toBe('locked');
      expect(e.message).toContain('Failed to get "write" lock');
      expect(e.details).toMatchObject({ byte: 201, holderPid: process.pid });
      expect(writerHolder(b, f)).toMatchObject({ byte: 101, holder: { pid: process.pid } });
      // Our own open does not count against itself.
      expect(writerHolder(a, f)).toBeNull();

      releaseLocks(a);
      expect(writerHolder(b, f)).toBeNull();
      expect(acquireWriteLock(b, f)).toEqual({ locked: true });
      expect(lockedError(() => acquireWriteLock(a, f)).code).toBe('locked');
    } finally {
      closeSync(a);
      closeSync(b);
    }
  });

  it('let a read-only fd ask without taking anything', () => {
    const f = create();
    const w = openSync(f, 'r+');
    const r = openSync(f, 'r');
    try {
      expect(writerHolder(r, f)).toBeNull();
      acquireWriteLock(w, f);
      const before = procLocks(f);
      expect(writerHolder(r, f)).toMatchObject({ byte: 101, holder: { pid: process.pid } });
      expect(procLocks(f)).toEqual(before);
    } finally {
      closeSync(w);
      closeSync(r);
    }
  });
});
