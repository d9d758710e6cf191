// Search in the file for a byte string (typed as hex bytes or as text), through the contract's positional
// reads: one bounded chunk at a time, never the whole file, stoppable between chunks. Pure apart from
// the `read` callback it is given.

export type NeedleMode = 'hex' | 'text';

/** The bytes to look for, or why the text is not a search (odd hex digits, not hex, empty). */
export function parseNeedle(text: string, mode: NeedleMode): Uint8Array | string {
  if (mode === 'text') {
    if (text.length === 0) return 'type the text to find';
    return new TextEncoder().encode(text);
  }
  const digits = text.replace(/0x/gi, '').replace(/[\s,:]/g, '');
  if (digits.length === 0) return 'type the bytes to find, in hex (51 46 49 fb)';
  if (!/^[0-9a-f]+$/i.test(digits)) return `"${text}" is not hex bytes (0-9, a-f, spaces between bytes)`;
  if (digits.length % 2 !== 0) return `"${text}" has an odd number of hex digits: every byte needs two`;
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Index of the first (or, backwards, the last) occurrence of `needle` in `hay` at or after `from` (at or before). */
export function indexOf(hay: Uint8Array, needle: Uint8Array, from: number, backwards = false): number {
  const last = hay.length - needle.length;
  const step = backwards ? -1 : 1;
  for (let i = backwards ? Math.min(from, last) : Math.max(0, from); backwards ? i >= 0 : i <= last; i += step) {
    let k = 0;
    while (k < needle.length && hay[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

export interface SearchRequest {
  /** Positional read of the image; null when the read failed (the search stops with an error). */
  read(offset: number, length: number): Promise<Uint8Array | null>;
  size: number;
  needle: Uint8Array;
  /** First offset tried: forwards the match starts at or after it, backwards at or before it. */
  from: number;
  backwards: boolean;
  /** Bytes per read (the contract caps a read at MAX_READ_BYTES). */
  chunk: number;
  /** Asked between chunks: true stops the search. */
  cancelled(): boolean;
  /** Bytes looked at so far, of the file's size. */
  progress?(done: number, total: number): void;
}

export type SearchOutcome =
  | { kind: 'found'; offset: number; wrapped: boolean }
  | { kind: 'not-found' }
  | { kind: 'cancelled' }
  | { kind: 'read-failed'; offset: number };

/**
 * Find the next (or previous) match, wrapping once around the end (or start) of the file. Chunks overlap
 * by needle.length - 1 bytes, so a match across a chunk boundary is found.
 */
export async function searchImage(q: SearchRequest): Promise<SearchOutcome> {
  const n = q.needle.length;
  if (n === 0 || n > q.size) return { kind: 'not-found' };
  const lastStart = q.size - n;
  const from = Math.min(Math.max(0, q.from), lastStart);
  // The match start positions to try, as [lo, hi] ranges in search order: from → end, then start → from.
  const ranges: [number, number, boolean][] = q.backwards
    ? [[0, from, false], [from + 1, lastStart, true]]
    : [[from, lastStart, false], [0, from - 1, true]];
  let done = 0;
  for (const [lo, hi, wrapped] of ranges) {
    if (lo > hi) continue;
    if (q.backwards) {
      for (let end = hi; end >= lo;) {
        if (q.cancelled()) return { kind: 'cancelled' };
        const start = Math.max(lo, end - q.chunk + 1);
        const bytes = await q.read(start, end - start + n);
        if (!bytes) return { kind: 'read-failed', offset: start };
        const i = indexOf(bytes, q.needle, end - start, true);
        if (i >= 0) return { kind: 'found', offset: start + i, wrapped };
        done += end - start + 1;
        q.progress?.(done, q.size);
        end = start - 1;
      }
    } else {
      for (let start = lo; start <= hi;) {
        if (q.cancelled()) return { kind: 'cancelled' };
        const count = Math.min(q.chunk, hi - start + 1);
        const bytes = await q.read(start, count + n - 1);
        if (!bytes) return { kind: 'read-failed', offset: start };
        const i = indexOf(bytes, q.needle, 0);
        if (i >= 0 && i < count) return { kind: 'found', offset: start + i, wrapped };
        done += count;
        q.progress?.(done, q.size);
        start += count;
      }
    }
  }
  return { kind: 'not-found' };
}
