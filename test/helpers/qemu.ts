// The oracles: Debian's qemu-img and qemu-io, run for real. Tests build their images with them, in a
// temporary folder per test file.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function qemuImg(args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function qemuImgJson<T = unknown>(args: string[]): T {
  return JSON.parse(qemuImg(args)) as T;
}

/** Runs qemu-img and returns exit status and output without throwing (check exits 2/3 on findings). */
export function qemuImgStatus(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function qemuIo(file: string, commands: string[], fmt = 'qcow2'): string {
  const args = ['-f', fmt];
  for (const c of commands) args.push('-c', c);
  args.push(file);
  return execFileSync('qemu-io', args, { encoding: 'utf8' });
}

export interface TmpDir {
  path: string;
  file(name: string): string;
  cleanup(): void;
}

export function tmpDir(prefix = 'qzs-test-'): TmpDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, file: (n) => join(path, n), cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
