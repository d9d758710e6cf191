// The check's per-cluster state is paged (shared/qcow2/check-refs.ts RefCounts, shared/qcow2/paged-bits.ts):
// uniform pages hold no arrays. These say that the paged structures answer exactly what flat arrays
// would under any sequence of operations, and that a check of a preallocated image keeps arrays only for
// the pages its tables sit in (memory proportional to structures, not to clusters).
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FileByteSource } from '../../electron/engine/file-source';
import { analyzeImage } from '../../shared/qcow2/check';
import { REF_PAGE_BITS, RefCounts } from '../../shared/qcow2/check-refs';
import { PagedBits } from '../../shared/qcow2/paged-bits';
import { qemuImg, tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-paged-');
afterAll(() => dir.cleanup());

const PAGE = 1 << REF_PAGE_BITS;
const N = 5 * PAGE + 37; // a partial last page

/** The flat model: what RefCounts was before it was paged. */
class FlatRefs {
  counts = new Float64Array(N);
  kinds = new Uint8Array(N);
  len: number;
  constructor(len: number) { this.len = len; }
  fillFirst(from: number, to: number, kind: number): number {
    let k = from;
    const end = Math.min(to, this.len);
    while (k < end && this.counts[k] === 0 && this.kinds[k] === 0) { this.counts[k] = 1; this.kinds[k] = kind; k++; }
    return Math.max(k, from);
  }
}

const cluster = fc.integer({ min: 0, max: N - 1 });
const op = fc.oneof(
  fc.record({ t: fc.constant('inc' as const), k: cluster }),
  fc.record({ t: fc.constant('dec' as const), k: cluster }),
  fc.record({ t: fc.constant('set' as const), k: cluster, v: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom(0xfffe, 0xffff, 70000)) }),
  fc.record({ t: fc.constant('tryInc' as const), k: cluster, max: fc.constantFrom(1, 2, 0xffff) }),
  fc.record({ t: fc.constant('kind' as const), k: cluster, v: fc.integer({ min: 0, max: 15 }) }),
  fc.record({ t: fc.constant('fill' as const), from: cluster, n: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: PAGE, max: 3 * PAGE })), v: fc.integer({ min: 1, max: 15 }) }),
  fc.record({ t: fc.constant('ensure' as const), k: fc.integer({ min: 0, max: N + 3 }) }),
);

describe('RefCounts (paged) against flat arrays', () => {
  it('every read agrees after any sequence of operations', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: N - 40, max: N }), (ops, len) => {
      const paged = new RefCounts(len, N);
      const flat = new FlatRefs(len);
      for (const o of ops) {
        if (o.t === 'inc') { paged.inc(o.k); flat.counts[o.k]++; }
        else if (o.t === 'dec') { paged.dec(o.k); if (flat.counts[o.k] > 0) flat.counts[o.k]--; }
        else if (o.t === 'set') { paged.set(o.k, o.v); flat.counts[o.k] = o.v; }
        else if (o.t === 'tryInc') {
          const c = flat.counts[o.k];
          const ok = !(c >= 0xfffe || c >= o.max);
          expect(paged.tryInc(o.k, o.max)).toBe(ok);
          if (ok) flat.counts[o.k]++;
        } else if (o.t === 'kind') { paged.setKind(o.k, o.v); flat.kinds[o.k] = o.v; }
        else if (o.t === 'fill') expect(paged.fillFirst(o.from, o.from + o.n, o.v)).toBe(flat.fillFirst(o.from, o.from + o.n, o.v));
        else { expect(paged.ensure(o.k)).toBe(o.k < flat.len || o.k < N); if (o.k >= flat.len && o.k < N) flat.len = o.k + 1; }
      }
      expect(paged.length).toBe(flat.len);
      expect(Array.from({ length: N }, (_, k) => paged.get(k))).toEqual(Array.from(flat.counts));
      expect(Array.from({ length: N }, (_, k) => paged.kind(k))).toEqual(Array.from(flat.kinds));
      for (let p = 0; p * PAGE < N; p++) {
        const u = paged.uniformCount(p);
        if (u < 0) continue;
        let same = true;
        for (let k = p * PAGE; k < Math.min(N, (p + 1) * PAGE); k++) same &&= paged.raw(k) === u;
        expect([p, same]).toEqual([p, true]);
      }
      for (const code of [-1, 0, 3, 14]) {
        for (const k of [0, 1, PAGE - 1, PAGE, 2 * PAGE + 5, N - 1]) {
          let j = k;
          const match = (i: number) => (code === -1 ? flat.counts[i] === 0 : flat.counts[i] !== 0 && (flat.kinds[i] & 0x0f) === code);
          while (j < N && match(j)) j++;
          expect(paged.runEnd(k, N, code)).toBe(j);
        }
      }
    }), { numRuns: 200, seed: 20261203 });
  });

  it('a run of first references over whole pages holds no arrays; a page filled around one table keeps only its kinds', () => {
    const refs = new RefCounts(8 * PAGE, 8 * PAGE);
    refs.set(3 * PAGE + 7, 1);
    refs.setKind(3 * PAGE + 7, 3); // an L2 table inside a page of data
    expect(refs.fillFirst(0, 8 * PAGE, 14)).toBe(3 * PAGE + 7);
    expect(refs.fillFirst(3 * PAGE + 8, 8 * PAGE, 14)).toBe(8 * PAGE);
    expect(refs.uniformCount(3)).toBe(1);
    expect(refs.uniformKind(3)).toBe(-1);
    expect(refs.mixedPages).toBe(0);
    for (let p = 0; p < 8; p++) if (p !== 3) expect([p, refs.uniformKind(p)]).toEqual([p, 14]);
  });
});

describe('PagedBits against a flat bitset', () => {
  it('every byte agrees after any sequence of set, setRange and orByte', () => {
    const bitOp = fc.oneof(
      fc.record({ t: fc.constant('set' as const), k: cluster }),
      fc.record({ t: fc.constant('range' as const), from: cluster, n: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: PAGE - 3, max: 3 * PAGE })) }),
      fc.record({ t: fc.constant('or' as const), b: fc.integer({ min: 0, max: (N >> 3) - 1 }), v: fc.integer({ min: 0, max: 255 }) }),
    );
    fc.assert(fc.property(fc.array(bitOp, { maxLength: 40 }), (ops) => {
      const paged = new PagedBits(N);
      const flat = new Uint8Array(Math.ceil(N / 8));
      for (const o of ops) {
        if (o.t === 'set') { paged.set(o.k); flat[o.k >> 3] |= 1 << (o.k & 7); }
        else if (o.t === 'or') { paged.orByte(o.b, o.v); flat[o.b] |= o.v; }
        else {
          const to = Math.min(N, o.from + o.n);
          paged.setRange(o.from, to);
          for (let k = o.from; k < to; k++) flat[k >> 3] |= 1 << (k & 7);
        }
      }
      expect(paged.byteLength).toBe(flat.length);
      expect(Array.from({ length: flat.length }, (_, b) => paged.byte(b))).toEqual(Array.from(flat));
      expect(Array.from({ length: N }, (_, k) => paged.get(k))).toEqual(Array.from({ length: N }, (_, k) => (flat[k >> 3] & (1 << (k & 7))) !== 0));
      for (let p = 0; p < paged.pageCount; p++) {
        const u = paged.uniform(p);
        if (u < 0) continue;
        const bytes = Array.from(flat.subarray(p * (PAGE >> 3), (p + 1) * (PAGE >> 3)));
        expect([p, bytes.every((b) => b === u)]).toEqual([p, true]);
      }
    }), { numRuns: 200, seed: 20261203 });
  });
});

describe('the check of a preallocated image', () => {
  it('holds arrays only for the pages its L2 tables and refcount blocks sit in, and finds it clean', async () => {
    const file = dir.file('prealloc.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', file, '64G']);
    const src = await FileByteSource.open(file);
    try {
      const a = await analyzeImage(src);
      const model = a.model;
      expect(model).not.toBeNull();
      const refs = model!.refs;
      // 64 GiB / 64 KiB = 1 M data clusters in 2049 pages; 128 L2 tables and 9 refcount blocks between them.
      const l2Tables = 128;
      const blocks = Math.ceil(refs.length / 32768);
      expect(refs.length).toBeGreaterThan(1 << 20);
      expect(refs.mixedPages).toBeLessThanOrEqual(l2Tables + blocks + 2);
      expect(a.report.corruptions).toBe(0);
      expect(a.report.leaks).toBe(0);
      expect(a.report['allocated-clusters']).toBe(1 << 20);
    } finally {
      await src.close();
    }
  });
});
