// Run the built CLI (dist/cli/qzs.cjs through bin/qzs.js) as users do, capturing output and exit code.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const QZS = resolve(__dirname, '../../bin/qzs.js');

export function qzs(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [QZS, ...args], { encoding: 'utf8', input, maxBuffer: 1 << 30 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function qzsJson<T = unknown>(args: string[]): T {
  const r = qzs(args);
  if (r.status !== 0) throw new Error(`qzs ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
