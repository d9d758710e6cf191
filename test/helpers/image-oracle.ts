// Shared by the writer's tests: qemu-img check verdicts, a seeded PRNG, and byte patterns.
import { readFileSync } from 'node:fs';
import { qemuImgStatus } from './qemu';
import { prng } from './prng';

export { prng };

export interface CheckVerdict {
  status: number;
  corruptions: number;
  leaks: number;
  checkErrors: number;
  raw: string;
}

/** `qemu-img check --output=json`, counts only (exit 2 = corruptions, 3 = leaks). */
export function qemuCheck(file: string): CheckVerdict {
  const r = qemuImgStatus(['check', '--output=json', file]);
  let j: Record<string, number> = {};
  try {
    j = JSON.parse(r.stdout) as Record<string, number>;
  } catch {
    /* keep the raw output for the assertion message */
  }
  return { status: r.status, corruptions: j['corruptions'] ?? 0, leaks: j['leaks'] ?? 0, checkErrors: j['check-errors'] ?? 0, raw: r.stdout + r.stderr };
}


export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export function fill(len: number, byte: number): Uint8Array {
  return new Uint8Array(len).fill(byte);
}

/** Bytes that differ by position, so misplaced data shows. */
export function noise(len: number, seed: number): Uint8Array {
  const r = prng(seed);
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(r() * 256);
  return b;
}

export function fileBytes(path: string): Buffer {
  return readFileSync(path);
}
