// Zone operation scripts (`qzs zone IMAGE --script FILE`), one operation per line:
//   open Z | close Z | finish Z | reset Z | reset-all | append Z LEN | write OFFSET LEN | report
// Z is a zone index; LEN and OFFSET are bytes with an optional k, M, G or T suffix (powers of 1024);
// `#` starts a comment; blank lines are ignored. Also the deterministic data pattern used when an append
// or write is given no data.
import type { ZoneOp } from './zone-state';

export type ScriptStep = { line: number; text: string } & ({ kind: 'op'; op: ZoneOp } | { kind: 'report' });

export class ScriptSyntaxError extends Error {
  constructor(readonly line: number, readonly text: string, why: string) {
    super(`line ${line}: "${text}": ${why}`);
    this.name = 'ScriptSyntaxError';
  }
}

const SUFFIX: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes with an optional k/M/G/T suffix; null when the text is not a whole number of bytes. */
export function parseByteCount(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([kKmMgGtT]?)$/.exec(text);
  if (!m) return null;
  const v = Number(m[1]) * SUFFIX[m[2].toLowerCase()];
  return Number.isSafeInteger(v) ? v : null;
}

function parseZone(text: string | undefined): number | null {
  return text !== undefined && /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : null;
}

/** Parse one line (already without its comment); null for a blank line. */
export function parseScriptLine(raw: string, line: number): ScriptStep | null {
  const text = raw.replace(/#.*/, '').trim();
  if (!text) return null;
  const [word, ...args] = text.split(/\s+/);
  const fail = (why: string): never => { throw new ScriptSyntaxError(line, text, why); };
  const argc = (n: number, usage: string): void => { if (args.length !== n) fail(`expected "${usage}"`); };
  const zone = (t: string | undefined): number => parseZone(t) ?? fail(`"${t}" is not a zone index`);
  const bytes = (t: string | undefined): number => (t !== undefined ? parseByteCount(t) : null) ?? fail(`"${t}" is not a byte count (digits with an optional k, M, G or T)`);
  switch (word) {
    case 'open': case 'close': case 'finish': case 'reset':
      argc(1, `${word} ZONE`);
      return { line, text, kind: 'op', op: { op: word, zone: zone(args[0]) } };
    case 'reset-all':
      argc(0, 'reset-all');
      return { line, text, kind: 'op', op: { op: 'reset-all' } };
    case 'append':
      argc(2, 'append ZONE LEN');
      return { line, text, kind: 'op', op: { op: 'append', zone: zone(args[0]), length: bytes(args[1]) } };
    case 'write':
      argc(2, 'write OFFSET LEN');
      return { line, text, kind: 'op', op: { op: 'write', offset: bytes(args[0]), length: bytes(args[1]) } };
    case 'report':
      argc(0, 'report');
      return { line, text, kind: 'report' };
    default:
      return fail(`unknown operation "${word}" (open, close, finish, reset, reset-all, append, write, report)`);
  }
}

/** Parse a whole script; the first syntax error throws before anything runs. */
export function parseScript(source: string): ScriptStep[] {
  const steps: ScriptStep[] = [];
  source.split(/\r?\n/).forEach((l, i) => {
    const s = parseScriptLine(l, i + 1);
    if (s) steps.push(s);
  });
  return steps;
}

/**
 * The default data of a write or append: the byte at guest offset o is (floor(o / 512) XOR o) mod 256.
 * It depends on where the data lands, so misplaced data shows; reproduce it with the same formula.
 */
export function patternBytes(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let k = 0; k < length; k++) {
    const o = offset + k;
    out[k] = (Math.floor(o / 512) ^ (o % 256)) & 0xff;
  }
  return out;
}
