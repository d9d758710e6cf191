// Repair safety: a repair never lowers the refcount of a cluster that a table the check could not walk
// may reference. The check must say when its walk is incomplete, claim no leak then, and `-r leaks` /
// `-r all` must write no byte that lowers a refcount; exit codes are qemu-img's on the same image.
//
// The layout and the refcounts are read here by a small walker of its own (plain byte reads, no engine
// code), so that what counts as "referenced" and "lowered" does not come from the code under test.
import { chmodSync, copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkExitCode } from '../../electron/cli/commands/check';
import { analyzeFile } from '../../electron/engine/check';
import { MemoryByteSource } from '../../shared/qcow2/byte-source';
import { analyzeImage } from '../../shared/qcow2/check';
import { planRepair, type RepairPlan } from '../../shared/qcow2/repair';
import { qzs } from '../helpers/cli';
import { buildBases, CORPUS, makeCorrupt, stockCopy, ZONED_SAMPLE, type BaseName } from '../helpers/corrupt-corpus';
import { prng } from '../helpers/prng';
import { qemuImg, qemuImgStatus, qemuIo, tmpDir, type TmpDir } from '../helpers/qemu';
import { mutate } from '../helpers/mutations';
import { makeFuzzBases, type FuzzBase } from '../helpers/fuzz-bases';

// ---------------------------------------------------------------------------------------------------
// The independent reader

interface Layout {
  cs: number;
  cb: number;
  version: number;
  extended: boolean;
  size: number;
  l1Offset: number;
  l1Size: number;
  rtOffset: number;
  rtClusters: number;
  order: number;
  nbSnapshots: number;
  snapshotsOffset: number;
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A big-endian u64 as a number, 0 past the end (bytes past EOF read as zeros, as QEMU reads them). */
function u64(b: Uint8Array, off: number): number {
  return off >= 0 && off + 8 <= b.length ? Number(dv(b).getBigUint64(off)) : 0;
}
function u64n(b: Uint8Array, off: number): bigint {
  return off >= 0 && off + 8 <= b.length ? dv(b).getBigUint64(off) : 0n;
}
function u32(b: Uint8Array, off: number): number {
  return off >= 0 && off + 4 <= b.length ? dv(b).getUint32(off) : 0;
}
function u16(b: Uint8Array, off: number): number {
  return off >= 0 && off + 2 <= b.length ? dv(b).getUint16(off) : 0;
}

const layouts = new WeakMap<Uint8Array, Layout | null>();

function layout(b: Uint8Array): Layout | null {
  if (!layouts.has(b)) layouts.set(b, readLayout(b));
  return layouts.get(b) ?? null;
}

function readLayout(b: Uint8Array): Layout | null {
  if (b.length < 72 || u32(b, 0) !== 0x514649fb) return null;
  const version = u32(b, 4);
  const cb = u32(b, 20);
  if ((version !== 2 && version !== 3) || cb < 9 || cb > 21) return null;
  const order = version === 3 ? u32(b, 96) : 4;
  if (order > 6) return null;
  return {
    cs: 2 ** cb, cb, version, extended: version === 3 && (u64n(b, 72) & 16n) !== 0n, size: u64(b, 24),
    l1Offset: u64(b, 40), l1Size: u32(b, 36), rtOffset: u64(b, 48), rtClusters: u32(b, 56), order,
    nbSnapshots: u32(b, 60), snapshotsOffset: u64(b, 64),
  };
}

const OFFSET_MASK = 0x00ff_ffff_ffff_fe00n;

interface References {
  /** References per cluster, counted as qemu-img check counts them (a lower bound: bitmaps, zonedmeta, LUKS not counted). */
  counts: Map<number, number>;
  /** Clusters referenced as the refcount table or a refcount block. */
  refcountStructures: Set<number>;
  /** False when the walk gave up (too much work): nothing is asserted then. */
  complete: boolean;
}

/**
 * Every cluster referenced by a table entry this reader can read, from the image's own tables. Unlike
 * the check it does not give up on tables QEMU would refuse (an L1 larger than QEMU's limit is read up to
 * the end of the file, snapshot entries are read whatever their extra data size, there is no work limit
 * short of a generous bound), so it sees references an incomplete walk misses.
 */
function referencedClusters(b: Uint8Array): References {
  const counts = new Map<number, number>();
  const refcountStructures = new Set<number>();
  const L = layout(b);
  if (!L) return { counts, refcountStructures, complete: true };
  const { cs } = L;
  const size = b.length;
  let budget = 200_000;
  const inc = (k: number) => counts.set(k, (counts.get(k) ?? 0) + 1);
  // qcow2_inc_refcounts_imrt: a region more than a cluster past EOF is counted nowhere.
  const region = (off: number, len: number): number[] => {
    if (len <= 0 || !Number.isSafeInteger(off) || off + len - size >= cs) return [];
    const ks: number[] = [];
    for (let k = Math.floor(off / cs); k <= Math.floor((off + len - 1) / cs); k++) { inc(k); ks.push(k); }
    return ks;
  };
  const entrySize = L.extended ? 16 : 8;
  const walkL2 = (l2: number) => {
    for (let i = 0; i < cs / entrySize; i++) {
      const e = u64n(b, l2 + i * entrySize);
      const bitmap = L.extended ? u64n(b, l2 + i * entrySize + 8) : 0n;
      if (e === 0n && bitmap === 0n) continue;
      if (e & (1n << 62n)) {
        if (bitmap !== 0n) continue;
        const offsetBits = 62 - (L.cb - 8);
        const raw = e & ~(1n << 63n);
        const host = Number(raw & ((1n << BigInt(offsetBits)) - 1n));
        const sectors = Number((raw >> BigInt(offsetBits)) & ((1n << BigInt(L.cb - 8)) - 1n)) + 1;
        region(host, sectors * 512 - (host & 511));
        continue;
      }
      const data = Number(e & OFFSET_MASK);
      if (data !== 0) region(data, cs);
    }
  };
  const walkL1 = (off: number, entries: number): boolean => {
    if (entries === 0) return true;
    region(off, entries * 8);
    const n = Math.min(entries, Math.max(0, Math.ceil((size - off) / 8)));
    for (let i = 0; i < n; i++) {
      const l2 = Number(u64n(b, off + 8 * i) & OFFSET_MASK);
      if (l2 === 0) continue;
      region(l2, cs);
      if (l2 >= size) continue;
      if (--budget < 0) return false;
      walkL2(l2);
    }
    return true;
  };
  region(0, cs);
  if (!walkL1(L.l1Offset, L.l1Size)) return { counts, refcountStructures, complete: false };
  // The snapshot table, read on while entries lie in the file.
  if (L.nbSnapshots > 0) {
    let off = L.snapshotsOffset;
    const table: { l1: number; n: number }[] = [];
    for (let i = 0; i < L.nbSnapshots && off + 40 <= size; i++) {
      off = Math.ceil(off / 8) * 8;
      table.push({ l1: u64(b, off), n: u32(b, off + 8) });
      off += 40 + u32(b, off + 36) + u16(b, off + 12) + u16(b, off + 14);
    }
    for (const sn of table) if (!walkL1(sn.l1, sn.n)) return { counts, refcountStructures, complete: false };
    region(L.snapshotsOffset, off - L.snapshotsOffset);
  }
  for (const k of region(L.rtOffset, L.rtClusters * cs)) refcountStructures.add(k);
  const rtEntries = Math.min(L.rtClusters * cs, 8 * 1024 * 1024) / 8;
  for (let r = 0; r < rtEntries; r++) {
    const e = u64n(b, L.rtOffset + 8 * r);
    const off = Number(e & ~0x1ffn);
    if (e === 0n || (e & 0x1ffn) !== 0n || off % cs !== 0 || off >= size) continue;
    for (const k of region(off, cs)) refcountStructures.add(k);
  }
  return { counts, refcountStructures, complete: true };
}

/** Cluster k's refcount as QEMU reads it through the header's refcount table; undefined when it cannot be located. */
function refcountOf(b: Uint8Array, k: number): number | undefined {
  const L = layout(b);
  if (!L || L.rtOffset % L.cs !== 0) return undefined;
  const bits = 2 ** L.order;
  const per = (L.cs * 8) / bits;
  const r = Math.floor(k / per);
  if (r * 8 >= L.rtClusters * L.cs) return 0;
  const e = u64n(b, L.rtOffset + 8 * r);
  if (e === 0n) return 0;
  const block = Number(e & ~0x1ffn);
  if ((e & 0x1ffn) !== 0n || block % L.cs !== 0 || block >= b.length) return undefined;
  const i = k % per;
  if (bits < 8) {
    const byte = b[block + Math.floor((i * bits) / 8)] ?? 0;
    return (byte >> ((i % (8 / bits)) * bits)) & (2 ** bits - 1);
  }
  const at = block + (i * bits) / 8;
  if (bits === 8) return b[at] ?? 0;
  if (bits === 16) return u16(b, at);
  if (bits === 32) return u32(b, at);
  return u64(b, at);
}

/** Every cluster of either file. */
function clusterCount(b: Uint8Array): number {
  const L = layout(b);
  return L ? Math.ceil(b.length / L.cs) + 1 : 0;
}

/** Clusters whose refcount went down from `before` to `after` (among those readable in `before`). */
function loweredRefcounts(before: Uint8Array, after: Uint8Array): number[] {
  const out: number[] = [];
  const n = Math.max(clusterCount(before), clusterCount(after));
  for (let k = 0; k < n; k++) {
    const was = refcountOf(before, k);
    if (was === undefined) continue;
    const now = refcountOf(after, k);
    if (now === undefined || now < was) out.push(k);
  }
  return out;
}

function setL1Offset(path: string, off: number): void {
  const b = new Uint8Array(readFileSync(path));
  dv(b).setBigUint64(40, BigInt(off));
  writeFileSync(path, b);
}

/** qemu-img check -f qcow2's exit code, or null when qemu-img cannot open the image. */
function qemuCheckExit(path: string, extra: string[] = []): number | null {
  const r = qemuImgStatus(['check', '-f', 'qcow2', ...extra, path]);
  return /Could not open/.test(r.stderr) ? null : r.status;
}

async function applied(bytes: Uint8Array, plan: RepairPlan): Promise<Uint8Array> {
  const m = new MemoryByteSource(bytes.slice(), 'patched');
  for (const p of plan.patches) await m.write(p.offset, p.bytes);
  return m.bytes();
}

// ---------------------------------------------------------------------------------------------------

let dir: TmpDir;
let bases: Record<BaseName, string>;

beforeAll(() => {
  dir = tmpDir('qzs-repair-safety-');
  bases = buildBases(dir.path);
});
afterAll(() => dir.cleanup());

describe('a misaligned l1_table_offset', () => {
  it('qemu-img image with qemu-io data: incomplete walk, no leak claimed, -r leaks / -r all write nothing, exit codes as qemu-img, and the restored image is clean', async () => {
    const good = dir.file('l1-good.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', good, '64M']);
    qemuIo(good, ['write -P 0x11 0 64k', 'write -P 0x22 1M 128k', 'write -P 0x33 9M 64k', 'write -P 0x44 40M 192k']);
    const goodBytes = new Uint8Array(readFileSync(good));
    const l1 = u64(goodBytes, 40);
    const refs = referencedClusters(goodBytes);
    const dataAndL2 = [...refs.counts.keys()].filter((k) => k * 65536 !== l1 && k !== 0 && !refs.refcountStructures.has(k));
    expect(dataAndL2.length).toBeGreaterThanOrEqual(8);

    const bad = dir.file('l1-bad.qcow2');
    copyFileSync(good, bad);
    setL1Offset(bad, l1 + 512);
    const badBytes = new Uint8Array(readFileSync(bad));

    const a = await analyzeFile(bad);
    expect(a.report.complete).toBe(false);
    expect(a.report.incompleteWalks[0]).toMatchObject({ structure: 'active L1 table', offset: l1 + 512, pointer: 40, kind: 'references' });
    expect(a.report.leaks).toBe(0);
    expect(a.report.unverified).toBeGreaterThanOrEqual(dataAndL2.length);
    expect(a.report.findings.some((f) => f.id === 'refcount.leak')).toBe(false);
    for (const mode of ['leaks', 'all'] as const) {
      const plan = await planRepair(a, mode);
      expect(plan.refused).toBe(`the active L1 table at 0x${(l1 + 512).toString(16)} is not cluster aligned: references cannot be walked, so no refcount is lowered`);
      expect(plan.patches).toEqual([]);
    }

    // qemu-img refuses to open the image: 1, for the check and for both repairs.
    const qRaw = qemuImgStatus(['check', '-f', 'qcow2', bad]).status;
    expect(qRaw).toBe(1);
    expect(qzs(['check', bad]).status).toBe(qRaw);
    expect(checkExitCode(a.report)).toBe(qRaw);
    for (const mode of ['leaks', 'all']) {
      expect(qemuImgStatus(['check', '-f', 'qcow2', '-r', mode, bad]).status).toBe(qRaw);
      const out = dir.file(`l1-bad.${mode}.qcow2`);
      const r = qzs(['check', '-r', mode, '--output', out, bad]);
      expect(r.status, r.stdout + r.stderr).toBe(qRaw);
      expect(r.stdout).toContain(`Repair refused: the active L1 table at 0x${(l1 + 512).toString(16)} is not cluster aligned`);
      const outBytes = new Uint8Array(readFileSync(out));
      expect(Buffer.from(outBytes).equals(Buffer.from(badBytes))).toBe(true);
      for (const k of refs.counts.keys()) expect([k, refcountOf(outBytes, k)]).toEqual([k, refcountOf(goodBytes, k)]);
      // Restoring the offset: qemu-img finds nothing wrong.
      setL1Offset(out, l1);
      const after = qemuImgStatus(['check', '--output=json', out]);
      expect(after.status, after.stdout + after.stderr).toBe(0);
      expect(JSON.parse(after.stdout)).toMatchObject({ 'check-errors': 0 });
      expect((JSON.parse(after.stdout) as { corruptions?: number }).corruptions ?? 0).toBe(0);
    }

    // In place: nothing to write, so no backup either, and the image is untouched.
    const inPlace = dir.file('l1-inplace.qcow2');
    copyFileSync(bad, inPlace);
    const r = qzs(['check', '-r', 'leaks', '--in-place', inPlace]);
    expect(r.status).toBe(qRaw);
    expect(readFileSync(inPlace).equals(Buffer.from(badBytes))).toBe(true);
    expect(readdirSync(dir.path).filter((n) => n.startsWith('l1-inplace.qcow2.backup-'))).toEqual([]);
  });

  it('the reported case: the mixed zoned sample', async () => {
    const bad = dir.file('mixed-bad.qcow2');
    copyFileSync(ZONED_SAMPLE, bad);
    chmodSync(bad, 0o644);
    const l1 = u64(new Uint8Array(readFileSync(bad)), 40);
    setL1Offset(bad, l1 + 512);
    const badBytes = readFileSync(bad);
    const a = await analyzeFile(bad);
    expect(a.report.complete).toBe(false);
    expect(a.report.leaks).toBe(0);
    expect(a.report.unverified).toBeGreaterThan(0);
    for (const mode of ['leaks', 'all']) {
      const out = dir.file(`mixed-bad.${mode}.qcow2`);
      const r = qzs(['check', '--json', '-r', mode, '--output', out, bad]);
      expect([1, 2]).toContain(r.status);
      expect((JSON.parse(r.stdout) as { repair: { refused: string | null } }).repair.refused).toContain('the active L1 table at');
      expect(r.stderr).toContain('repair refused');
      expect(readFileSync(out).equals(badBytes)).toBe(true);
      setL1Offset(out, l1);
      const ours = await analyzeFile(out);
      expect({ corruptions: ours.report.corruptions, leaks: ours.report.leaks, complete: ours.report.complete }).toEqual({ corruptions: 0, leaks: 0, complete: true });
      const stock = dir.file(`mixed-bad.${mode}.stock.qcow2`);
      stockCopy(out, stock);
      const q = JSON.parse(qemuImgStatus(['check', '--output=json', stock]).stdout) as { corruptions?: number; 'check-errors': number };
      expect({ corruptions: q.corruptions ?? 0, errors: q['check-errors'] }).toEqual({ corruptions: 0, errors: 0 });
    }
  });
});

// The corpus cases whose walk cannot follow every table (or which cannot be read as qcow2 at all).
const INCOMPLETE = [
  'bad-magic', 'bad-version', 'cluster-bits', 'header-length-short', 'refcount-order', 'l1-offset-unaligned', 'reftable-offset-unaligned',
  'l1-size-too-small', 'l1-l2-unaligned', 'l2-table-past-eof', 'l2-over-refblock', 'snapshot-l1-unaligned', 'snapshot-extra-too-large',
  // QEMU refuses an extension that runs past cluster 0 ("Header extension too large"): the image does not open.
  'extension-overrun', 'header-length-108',
  // A file cut before its L1 table: what the table held is unknown.
  'truncated-before-l1',
];

describe('every corpus image whose walk fails: no leak claimed, no refcount lowered, exit codes as qemu-img', () => {
  for (const c of CORPUS) {
    it(c.name, async () => {
      const path = dir.file(`c-${c.name}.qcow2`);
      makeCorrupt(c, bases, path);
      const before = new Uint8Array(readFileSync(path));
      const a = await analyzeFile(path);
      expect(!a.report.complete, JSON.stringify(a.report.incompleteWalks)).toBe(INCOMPLETE.includes(c.name));
      if (a.report.complete) return;
      expect(a.report.incompleteWalks.length).toBeGreaterThan(0);
      expect(a.report.leaks).toBe(0);
      const q = qemuCheckExit(path);
      const ours = qzs(['check', path]).status;
      // Documented beyond-qemu cases (corrupt-corpus.ts BEYOND_QEMU) keep our own code.
      if (c.beyondQemu) expect(ours).toBe(c.exit);
      else if (q !== null) expect(ours).toBe(q);
      else expect([1, 2]).toContain(ours);
      for (const mode of ['leaks', 'all'] as const) {
        const plan = await planRepair(a, mode);
        const lowered = loweredRefcounts(before, await applied(before, plan));
        expect(lowered, `${mode}: ${JSON.stringify(plan.patches.map((p) => [p.offset, p.why]))}`).toEqual([]);
        const out = dir.file(`c-${c.name}.${mode}.qcow2`);
        const r = qzs(['check', '-r', mode, '--output', out, path]);
        const refsGap = a.report.incompleteWalks.some((w) => w.kind === 'references');
        // Nothing the repair may do changes what qemu-img says (-r all may rebuild an unlocatable refcount table);
        // -r leaks exits as qemu-img check -r leaks does (1 where it needs a rebuild), judged on a copy.
        let qr = q;
        if (c.beyondQemu) qr = null;
        else if (mode === 'leaks' && q !== null) {
          const qcopy = dir.file(`c-${c.name}.leaks.qemu.qcow2`);
          copyFileSync(path, qcopy);
          qr = qemuCheckExit(qcopy, ['-r', 'leaks']);
        }
        if (refsGap || mode === 'leaks') expect(r.status, r.stdout + r.stderr).toBe(qr ?? ours);
        const outBytes = new Uint8Array(readFileSync(out));
        expect(loweredRefcounts(before, outBytes)).toEqual([]);
        if (mode === 'leaks') expect(Buffer.from(outBytes).equals(Buffer.from(before))).toBe(true);
        if (refsGap || mode === 'leaks') expect(r.stdout).toContain('Repair refused: ');
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// The property over the seeded fuzz corpus, with the fuzz suite's own mutation generator
// (test/helpers/mutations.ts): same seed, same mutations.

const SEED = Number(process.env.QZS_FUZZ_SEED ?? 20240929);
const SECONDS = Number(process.env.QZS_REPAIR_FUZZ_SECONDS ?? 20);
const ITERATIONS = Number(process.env.QZS_REPAIR_FUZZ_ITERATIONS ?? 3000);


describe('property: over the seeded fuzz corpus, no repair lowers the refcount of a referenced cluster', () => {
  it(`seeded mutations (seed ${SEED}, about ${SECONDS} s)`, async () => {
    const fz = tmpDir('qzs-repair-fuzz-');
    let fuzzBases: FuzzBase[];
    try {
      // The fuzz test's bases, made by the same helper.
      fuzzBases = makeFuzzBases(fz);
    } finally {
      fz.cleanup();
    }

    const r = prng(SEED);
    const deadline = Date.now() + SECONDS * 1000;
    const stats = { images: 0, incomplete: 0, withPatches: 0, lowered: 0, checked: 0 };
    const failures: string[] = [];
    for (let it = 0; it < ITERATIONS && Date.now() < deadline && failures.length < 5; it++) {
      const base = fuzzBases[it % fuzzBases.length];
      const undo = mutate(base.bytes, r);
      const mutated = base.bytes.slice();
      for (let i = undo.length - 1; i >= 0; i--) base.bytes[undo[i][0]] = undo[i][1];
      stats.images++;
      const what = `iteration ${it} (${base.name}, seed ${SEED}), bytes changed: ${JSON.stringify(undo.map(([o]) => [o, mutated[o]]))}`;
      const a = await analyzeImage(new MemoryByteSource(mutated, `${base.name}#${it}`), { maxClusters: 1 << 20 });
      if (!a.report.complete) stats.incomplete++;
      // What the mutated image's own tables reference, read before any repair.
      let refs: References | null = null;
      for (const mode of ['leaks', 'all'] as const) {
        const plan = await planRepair(a, mode);
        if (!a.report.complete && a.report.incompleteWalks.some((w) => w.kind === 'references') && !plan.refused) failures.push(`${what}: ${mode}: an incomplete walk without a refusal`);
        if (plan.patches.length === 0) continue;
        stats.withPatches++;
        const after = await applied(mutated, plan);
        refs ??= referencedClusters(mutated);
        if (!refs.complete) continue;
        stats.checked++;
        // After a rebuild the old refcount structures are free: they are not references any more.
        const rebuilt = u64(after, 48) !== u64(mutated, 48);
        for (const [k, n] of refs.counts) {
          const was = refcountOf(mutated, k);
          if (was === undefined) continue;
          const now = refcountOf(after, k);
          const need = rebuilt && refs.refcountStructures.has(k) ? 0 : n;
          if (now === undefined || (now < was && now < need)) {
            failures.push(`${what}: ${mode}: cluster ${k} (${n} reference(s)) refcount ${was} -> ${now}; patches ${JSON.stringify(plan.patches.map((p) => [p.offset, p.bytes.length, p.why]))}`);
            break;
          }
          if (now < was) stats.lowered++;
        }
        // An incomplete walk lowers nothing, referenced or not.
        if (!a.report.complete && a.report.incompleteWalks.some((w) => w.kind === 'references')) {
          const lowered = loweredRefcounts(mutated, after);
          if (lowered.length) failures.push(`${what}: ${mode}: incomplete walk, yet refcounts lowered for clusters ${lowered.slice(0, 10).join(', ')}`);
        }
      }
    }
    console.log(`repair property: ${stats.images} images, ${stats.incomplete} incomplete walks, ${stats.withPatches} plans with patches, ${stats.checked} checked against the references, ${stats.lowered} legitimate lowerings`);
    expect(failures).toEqual([]);
    expect(stats.images).toBeGreaterThan(300);
    expect(stats.checked).toBeGreaterThan(50);
  }, (SECONDS + 60) * 1000);
});
