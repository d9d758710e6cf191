// The pure parts of the daily views: search through bounded positional reads (matches across chunk
// boundaries, wrapping, backwards, stopping), integers at the cursor in both byte orders, findings grouped
// by kind, the check verdict in qemu-img's order and words, the structure kind of each byte, the theme.
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../shared/qcow2/findings';
import { allocationLine, checkVerdict } from '../../shared/qcow2/check-summary';
import { countBySeverity, groupFindings } from '../../renderer/finding-groups';
import { decodeInts, intText } from '../../renderer/hex-decode';
import { indexOf, parseNeedle, searchImage, type SearchRequest } from '../../renderer/hex-search';
import { kindsIn, type Region } from '../../renderer/regions';
import { effectiveTheme } from '../../renderer/theme';

/** A file of `size` pseudo-random bytes (never 0xfe) with `needle` planted at each offset of `at`. */
function file(size: number, needle: Uint8Array, at: number[]): Uint8Array {
  const b = new Uint8Array(size);
  let x = 12345;
  for (let i = 0; i < size; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = (x >>> 16) % 0xfe; }
  for (const o of at) b.set(needle, o);
  return b;
}

function request(bytes: Uint8Array, needle: Uint8Array, over: Partial<SearchRequest> = {}): SearchRequest & { reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    reads, size: bytes.length, needle, from: 0, backwards: false, chunk: 1000, cancelled: () => false,
    read: async (o, n) => { reads.push([o, n]); return bytes.slice(o, o + n); },
    ...over,
  };
}

describe('search', () => {
  const needle = new Uint8Array([0xfe, 0xfe, 0xfe]);

  it('parses hex bytes (spaces, 0x, commas) and text; says what is wrong otherwise', () => {
    expect([...parseNeedle('51 46 49 fb', 'hex') as Uint8Array]).toEqual([0x51, 0x46, 0x49, 0xfb]);
    expect([...parseNeedle('0x51,0x46', 'hex') as Uint8Array]).toEqual([0x51, 0x46]);
    expect([...parseNeedle('QFI', 'text') as Uint8Array]).toEqual([0x51, 0x46, 0x49]);
    expect(parseNeedle('514', 'hex')).toMatch(/odd number/);
    expect(parseNeedle('zz', 'hex')).toMatch(/not hex/);
    expect(parseNeedle('', 'text')).toMatch(/type/);
  });

  it('finds a match that straddles two chunks, reading no chunk beyond its bound', async () => {
    const bytes = file(5000, needle, [999]);
    const q = request(bytes, needle);
    expect(await searchImage(q)).toEqual({ kind: 'found', offset: 999, wrapped: false });
    for (const [, n] of q.reads) expect(n).toBeLessThanOrEqual(q.chunk + needle.length - 1);
  });

  it('goes on from the cursor, wraps around the end once, and finds backwards', async () => {
    const bytes = file(5000, needle, [100, 3000]);
    expect(await searchImage(request(bytes, needle, { from: 101 }))).toEqual({ kind: 'found', offset: 3000, wrapped: false });
    expect(await searchImage(request(bytes, needle, { from: 3001 }))).toEqual({ kind: 'found', offset: 100, wrapped: true });
    expect(await searchImage(request(bytes, needle, { from: 2999, backwards: true }))).toEqual({ kind: 'found', offset: 100, wrapped: false });
    expect(await searchImage(request(bytes, needle, { from: 99, backwards: true }))).toEqual({ kind: 'found', offset: 3000, wrapped: true });
    // The last possible position, and a needle longer than the file.
    const tail = file(5000, needle, [4997]);
    expect(await searchImage(request(tail, needle, { from: 4000 }))).toEqual({ kind: 'found', offset: 4997, wrapped: false });
    expect(await searchImage(request(new Uint8Array(2), needle))).toEqual({ kind: 'not-found' });
  });

  it('reads every byte once when nothing matches, and stops between chunks when asked', async () => {
    const bytes = file(5000, needle, []);
    const q = request(bytes, needle, { from: 2500 });
    expect(await searchImage(q)).toEqual({ kind: 'not-found' });
    const covered = new Uint8Array(bytes.length);
    for (const [o, n] of q.reads) for (let i = o; i < o + n - (needle.length - 1); i++) covered[i]++;
    expect([...covered.slice(0, bytes.length - needle.length + 1)].every((c) => c === 1)).toBe(true);
    let asked = 0;
    const stopped = request(bytes, needle, { cancelled: () => ++asked > 2 });
    expect(await searchImage(stopped)).toEqual({ kind: 'cancelled' });
    expect(stopped.reads).toHaveLength(2);
  });

  it('reports a failed read with its offset', async () => {
    const bytes = file(5000, needle, []);
    expect(await searchImage(request(bytes, needle, { read: async (o) => (o >= 2000 ? null : bytes.slice(o, o + 1002)) }))).toEqual({ kind: 'read-failed', offset: 2000 });
  });

  it('indexOf looks forwards from and backwards from a position', () => {
    const hay = new Uint8Array([1, 2, 1, 2, 1]);
    expect(indexOf(hay, new Uint8Array([1, 2]), 1)).toBe(2);
    expect(indexOf(hay, new Uint8Array([1, 2]), 1, true)).toBe(0);
    expect(indexOf(hay, new Uint8Array([1, 2]), 3)).toBe(-1);
  });
});

describe('integers at the cursor', () => {
  it('decodes u8..u64 little- and big-endian, exact beyond 2^53, and stops where the file ends', () => {
    const d = decodeInts(new Uint8Array([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]));
    expect(d.map((x) => [x.type, x.le, x.be])).toEqual([
      ['u8', 0x51n, 0x51n], ['u16', 0x4651n, 0x5146n], ['u32', 0xfb494651n, 0x514649fbn], ['u64', 0x03000000fb494651n, 0x514649fb00000003n],
    ]);
    const short = decodeInts(new Uint8Array([0xff, 0xff, 0xff]));
    expect(short.map((x) => x.be)).toEqual([0xffn, 0xffffn, null, null]);
    expect(intText(0x1234n)).toBe('4660 (0x1234)');
    expect(intText(null)).toBe('—');
  });
});

const leak = (cluster: number): Finding => ({
  id: 'refcount.leak', severity: 'warning', structure: 'refcount block', field: `refcount of cluster ${cluster}`, offset: 0x20000 + 2 * cluster, length: 2,
  found: 'refcount 1', expected: '0', message: `cluster ${cluster} leaked`, fix: 'set the refcount to 0',
});
const bad: Finding = { ...leak(0), id: 'l2.unaligned', severity: 'error', structure: 'L2 table', field: 'entry 3' };

describe('findings by kind', () => {
  it('makes one group of 51 leaks, errors first, and names the field only when all members share it', () => {
    const findings = [...Array.from({ length: 51 }, (_, i) => leak(8 + i)), bad];
    const groups = groupFindings(findings);
    expect(groups.map((g) => [g.id, g.severity, g.findings.length])).toEqual([['l2.unaligned', 'error', 1], ['refcount.leak', 'warning', 51]]);
    expect(groups[1].field).toBeNull();
    expect(groups[1].structure).toBe('refcount block');
    expect(groups[0].field).toBe('entry 3');
    expect(countBySeverity(findings)).toEqual({ error: 1, warning: 51, info: 0 });
  });
});

describe('check verdict', () => {
  const clean = { corruptions: 0, leaks: 0, 'check-errors': 0 };
  it("says what qemu-img check says, corruptions before check errors before leaks; no claim from a partial walk", () => {
    expect(checkVerdict(clean, 0, true)).toEqual({ kind: 'clean', text: 'No errors were found on the image.' });
    expect(checkVerdict({ ...clean, leaks: 51 }, 0, true).text).toBe('51 leaked clusters were found on the image. This means waste of disk space, but no harm to data.');
    expect(checkVerdict({ ...clean, leaks: 51, corruptions: 2 }, 0, true).kind).toBe('corrupt');
    expect(checkVerdict({ ...clean, 'check-errors': 1, leaks: 3 }, 0, true).kind).toBe('check-errors');
    expect(checkVerdict({ ...clean, leaks: 3 }, 0, false).kind).toBe('partial');
    expect(checkVerdict(clean, 2, true)).toMatchObject({ kind: 'corrupt', text: expect.stringContaining('2 errors') });
  });
  it("prints the allocation line as qemu-img does, and none without clusters", () => {
    const c = { 'total-clusters': 1024, 'allocated-clusters': 3, 'fragmented-clusters': 1, 'compressed-clusters': 0, 'image-end-offset': 0 };
    expect(allocationLine(c)).toBe('3/1024 = 0.29% allocated, 33.33% fragmented, 0.00% compressed clusters');
    expect(allocationLine({ ...c, 'total-clusters': 0 })).toBeNull();
  });
});

describe('structure kind of each byte', () => {
  it('takes the smallest region covering a byte, and null where none does', () => {
    const regions: Region[] = [
      { name: 'extension x data', offset: 0, length: 64, kind: 'extension' },
      { name: 'header size', offset: 8, length: 8, kind: 'header', field: 'size' },
      { name: 'L1 table', offset: 100, length: 8, kind: 'l1' },
    ];
    const k = kindsIn(regions, 4, 104);
    expect(k[0]).toBe('extension');
    expect(k[4]).toBe('header');
    expect(k[11]).toBe('header');
    expect(k[12]).toBe('extension');
    expect(k[60]).toBeNull();
    expect(k[96]).toBe('l1');
    expect(k[103]).toBe('l1');
  });
});

describe('theme', () => {
  it('follows the OS under "system", else the choice', () => {
    expect(effectiveTheme('system', true)).toBe('dark');
    expect(effectiveTheme('system', false)).toBe('light');
    expect(effectiveTheme('dark', false)).toBe('dark');
    expect(effectiveTheme('light', true)).toBe('light');
  });
});
