// Run the built CLI (dist/cli/qzs.cjs through bin/qzs.js) as users do, capturing output and exit code.
import { spawnSync } from 'node:child_process';
import { NODE_FLAGS, QZS, QZS_CMD } from '../../bin/qzs-command.cjs';

/**
 * The launcher, and the arguments of process.execPath that run it as its #! line does (node's flags, then
 * the launcher): spawn `process.execPath, [...QZS_CMD, ...args]`.
 */
export { NODE_FLAGS, QZS, QZS_CMD };

export function qzs(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...QZS_CMD, ...args], { encoding: 'utf8', input, maxBuffer: 1 << 30 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function qzsJson<T = unknown>(args: string[]): T {
  const r = qzs(args);
  if (r.status !== 0) throw new Error(`qzs ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
