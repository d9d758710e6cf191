// Runtime argument guards: the main process (and the HTTP server) trust nothing the renderer sends.
// Each guard returns null when the arguments fit, or a readable reason when they do not.

export type Guard = (args: readonly unknown[]) => string | null;

type Check = (v: unknown) => string | null;

export const isSessionId: Check = (v) =>
  typeof v === 'string' && /^s[0-9a-z]{1,24}$/.test(v) ? null : 'expected a session id';

/** A job id the renderer picks for a long call (progress and cancel refer to it). */
export const isJobId: Check = (v) =>
  typeof v === 'string' && /^j[0-9a-z]{1,24}$/.test(v) ? null : 'expected a job id';

export const positiveInt = (max: number): Check => (v) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= max ? null : `expected an integer from 1 to ${max}`;

export const nonNegInt = (max: number): Check => (v) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max ? null : `expected an integer from 0 to ${max}`;

export const oneOf = <T extends string>(values: readonly T[]): Check => (v) =>
  typeof v === 'string' && (values as readonly string[]).includes(v) ? null : `expected one of ${values.join(', ')}`;

export const isBoolean: Check = (v) => (typeof v === 'boolean' ? null : 'expected true or false');

/**
 * A bare file name: no directory parts, no leading dot, nothing a shell or a file system treats
 * specially. Paths themselves never cross the boundary.
 */
export const isSafeFileName: Check = (v) =>
  typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/.test(v) && !v.includes('..')
    ? null
    : 'expected a plain file name (letters, digits, . _ + -; no directories)';

/** A plain object whose own keys pass `key` and values pass `value`. */
export const record = (key: RegExp, value: Check, maxKeys = 64): Check => (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected an object';
  const entries = Object.entries(v);
  if (entries.length > maxKeys) return `expected at most ${maxKeys} keys`;
  for (const [k, x] of entries) {
    if (!key.test(k)) return `unexpected key "${k.slice(0, 40)}"`;
    const e = value(x);
    if (e) return `${k}: ${e}`;
  }
  return null;
};

export const shortString = (max: number): Check => (v) =>
  typeof v === 'string' && v.length <= max ? null : `expected text of at most ${max} characters`;

/** An object with exactly these keys (optional ones may be missing). */
export const shape = (fields: Record<string, Check>, optional: readonly string[] = []): Check => (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected an object';
  for (const k of Object.keys(v)) if (!(k in fields)) return `unexpected key "${k.slice(0, 40)}"`;
  for (const [k, check] of Object.entries(fields)) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined && optional.includes(k)) continue;
    const e = check(x);
    if (e) return `${k}: ${e}`;
  }
  return null;
};

/** Tuple guard: exactly these arguments, each checked, extra ones rejected. */
export function args(...checks: Check[]): Guard {
  return (a) => {
    if (!Array.isArray(a)) return 'expected an argument list';
    if (a.length !== checks.length) return `expected ${checks.length} argument(s), got ${a.length}`;
    for (let i = 0; i < checks.length; i++) {
      const e = checks[i](a[i]);
      if (e) return `argument ${i + 1}: ${e}`;
    }
    return null;
  };
}

/** A guard for a discriminated union on `kind`. */
export const union = (byKind: Record<string, Check>): Check => (v) => {
  if (typeof v !== 'object' || v === null) return 'expected an object';
  const kind = (v as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !(kind in byKind)) return `expected kind ${Object.keys(byKind).join(' or ')}`;
  return byKind[kind](v);
};

export const literal = (value: string): Check => (v) => (v === value ? null : `expected "${value}"`);

/** null, or what `check` accepts. */
export const nullable = (check: Check): Check => (v) => (v === null ? null : check(v));
