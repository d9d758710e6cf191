// Repair planning: from a check analysis to a list of byte patches, with qemu-img check -r's meaning.
//   leaks: lower refcounts that are too high (never raises one); OFLAG_COPIED only when nothing else is
//          wrong; clear the dirty/corrupt bits when the result is clean.
//   all:   also raise refcounts that are too low, rebuild the refcount structures when they are broken
//          (new table and blocks appended at the end of the file, the old ones simply become free),
//          fix every OFLAG_COPIED flag, and apply header fix-its that have one safe answer.
// Pure: it reads through the image's ByteSource and returns patches; the engine writes them.
import { hex, putU32be, putU64be } from '../bytes';
import type { CheckAnalysis, EntryFix } from './check';
import { REF_KIND_NAMES } from './check-refs';
import { maxRefcount, refcountsPerBlock, setRefcount } from './entries';
import { knownFeature } from './features';

export type RepairMode = 'leaks' | 'all';

export interface WritePatch {
  offset: number;
  bytes: Uint8Array;
  /** What the bytes are and why they change, in words. */
  why: string;
}

export interface RepairPlan {
  mode: RepairMode;
  patches: WritePatch[];
  /** Things a repair in this mode leaves alone, and why. */
  notes: string[];
  /** Why nothing is offered (the analysis is incomplete), or null. */
  refused: string | null;
}

function entryPatch(offset: number, value: bigint, why: string): WritePatch {
  const b = new Uint8Array(8);
  putU64be(b, 0, value);
  return { offset, bytes: b, why };
}

/** Emit the changed byte ranges between two copies of a block. */
function diffPatches(base: number, before: Uint8Array, after: Uint8Array, why: string): WritePatch[] {
  const out: WritePatch[] = [];
  let i = 0;
  while (i < after.length) {
    if (before[i] === after[i]) { i++; continue; }
    let j = i;
    while (j < after.length && (before[j] !== after[j] || (j + 1 < after.length && before[j + 1] !== after[j + 1]))) j++;
    out.push({ offset: base + i, bytes: after.slice(i, j), why });
    i = j;
  }
  return out;
}

export async function planRepair(analysis: CheckAnalysis, mode: RepairMode): Promise<RepairPlan> {
  const plan: RepairPlan = { mode, patches: [], notes: [], refused: null };
  const model = analysis.model;
  const report = analysis.report;
  if (!model) {
    plan.notes.push('the image cannot be read as qcow2: nothing can be repaired safely');
    return plan;
  }
  const img = model.image;
  const src = img.source;
  const h = img.header;
  const cs = model.clusterSize;
  const order = model.refcountOrder;
  const per = refcountsPerBlock(cs, order);
  const max = maxRefcount(order);
  let corruptionsLeft = report.corruptions - model.copiedCorruptions;
  let leaksLeft = report.leaks;
  let errorsLeft = report['check-errors'];

  // ---- refcounts
  if (model.rebuild && mode === 'leaks') {
    plan.notes.push('the refcount structures need a rebuild, which only -r all does; leaks were not touched');
    errorsLeft++;
  } else if (model.rebuild) {
    plan.patches.push(...rebuildRefcounts(analysis, per, max, plan.notes));
    corruptionsLeft = countNonRefcountCorruptions(analysis);
    leaksLeft = 0;
    errorsLeft = 0;
  } else {
    const byBlock = new Map<number, { cluster: number; computed: number }[]>();
    for (const m of model.mismatches) {
      const raise = m.computed > m.stored;
      if (mode === 'leaks' && raise) continue;
      const r = Math.floor(m.cluster / per);
      const list = byBlock.get(r) ?? [];
      list.push({ cluster: m.cluster, computed: m.computed });
      byBlock.set(r, list);
      if (raise) corruptionsLeft--;
      else leaksLeft--;
    }
    for (const [r, list] of byBlock) {
      const blockOff = model.reftable[r];
      const before = await src.read(blockOff, cs);
      const after = new Uint8Array(cs);
      after.set(before);
      for (const { cluster, computed } of list) setRefcount(after, cluster - r * per, order, Math.min(computed, max));
      const first = list[0].cluster;
      plan.patches.push(...diffPatches(blockOff, before, after, `refcount block ${r}: set ${list.length} refcount(s) to the references found (first: cluster ${first}, ${REF_KIND_NAMES[(model.refs.kinds[first] & 0x7f) as keyof typeof REF_KIND_NAMES] ?? 'unreferenced'})`));
    }
    if (mode === 'leaks' && corruptionsLeft > 0) plan.notes.push(`${corruptionsLeft} refcount(s) too low or other corruptions are left: they need -r all`);
  }

  // ---- table entries: reserved bits (ours, -r all) and OFLAG_COPIED
  const entries = new Map<number, { old: bigint; value: bigint; why: string[] }>();
  const apply = (f: EntryFix, transform: (v: bigint) => bigint): void => {
    const e = entries.get(f.offset) ?? { old: f.old, value: f.old, why: [] };
    e.value = transform(e.value);
    e.why.push(f.why);
    entries.set(f.offset, e);
  };
  if (mode === 'all') {
    for (const f of model.reservedFixes) apply(f, (v) => v & f.value);
    corruptionsLeft -= model.reservedFixes.length;
  } else if (model.reservedFixes.length) {
    plan.notes.push(`${model.reservedFixes.length} table entries with reserved bits set are left: -r all clears them`);
  }
  const copiedOk = mode === 'all' || (errorsLeft === 0 && corruptionsLeft <= 0 && leaksLeft <= 0);
  if (copiedOk) {
    for (const f of model.copiedFixes) {
      const bit = f.value ^ f.old;
      const set = (f.value & bit) !== 0n;
      apply(f, (v) => (set ? v | bit : v & ~bit));
    }
  } else if (model.copiedFixes.length) {
    plan.notes.push(`${model.copiedFixes.length} OFLAG_COPIED flag(s) left: -r leaks fixes them only when nothing else is wrong`);
  }
  for (const [offset, e] of [...entries].sort((a, b) => a[0] - b[0])) {
    if (e.value !== e.old) plan.patches.push(entryPatch(offset, e.value, e.why.join('; ')));
  }
  if (!copiedOk) corruptionsLeft += model.copiedCorruptions;
  const clean = errorsLeft === 0 && corruptionsLeft <= 0 && leaksLeft <= 0;

  // ---- header fix-its
  if (h.version === 3) {
    let incompat = h.incompatibleFeatures;
    let autoclear = h.autoclearFeatures;
    const why: string[] = [];
    if (clean && (incompat & 1n)) { incompat &= ~1n; why.push('clear the dirty bit (refcounts are consistent now)'); }
    if (clean && (incompat & 2n) && hasOnlyRepairableErrors(analysis)) { incompat &= ~2n; why.push('clear the corrupt bit (the check found nothing left)'); }
    if (mode === 'all') {
      for (let b = 0; b < 64; b++) {
        if (((autoclear >> BigInt(b)) & 1n) && !knownFeature('autoclear', b)) { autoclear &= ~(1n << BigInt(b)); why.push(`clear unknown autoclear bit ${b} (what a writer that does not know it must do)`); }
      }
    }
    if (incompat !== h.incompatibleFeatures) plan.patches.push(entryPatch(72, incompat, why.filter((w) => !w.includes('autoclear')).join('; ')));
    if (autoclear !== h.autoclearFeatures) plan.patches.push(entryPatch(88, autoclear, why.filter((w) => w.includes('autoclear')).join('; ')));
  }
  if (mode === 'all') plan.patches.push(...zonedFixits(analysis, plan.notes));
  return plan;
}

/** The corrupt bit is cleared only when no error finding other than refcount/copied ones remains. */
function hasOnlyRepairableErrors(a: CheckAnalysis): boolean {
  const fixable = /^(refcount\.|l1\.copied|l2\.copied|l1\.reserved|l2\.reserved|l2\.compressed-copied|reftable\.|features\.corrupt)/;
  return a.report.findings.every((f) => f.severity !== 'error' || fixable.test(f.id));
}

/** Corruptions a refcount rebuild does not touch (table entry problems counted in the walk). */
function countNonRefcountCorruptions(a: CheckAnalysis): number {
  return a.report.findings.filter((f) => f.severity === 'error' && /^(l1\.|l2\.|snapshot\.|bitmaps\.)/.test(f.id) && !/copied$/.test(f.id)).length;
}

/**
 * New refcount table and blocks at the end of the file, from the computed references minus the old
 * refcount structures (which thereby become free clusters rather than leaks).
 */
function rebuildRefcounts(a: CheckAnalysis, per: number, max: number, notes: string[]): WritePatch[] {
  const model = a.model;
  if (!model) return [];
  const img = model.image;
  const cs = model.clusterSize;
  const order = model.refcountOrder;
  const refs = model.refs;
  const h = img.header;
  const counts = new Float64Array(refs.length);
  for (let k = 0; k < refs.length; k++) counts[k] = refs.get(k);
  const dropOne = (k: number) => { if (k >= 0 && k < counts.length && counts[k] > 0) counts[k]--; };
  if (h.refcountTableOffset % cs === 0) {
    for (let c = 0; c < h.refcountTableClusters; c++) dropOne(h.refcountTableOffset / cs + c);
  }
  for (let r = 0; r < model.reftable.length; r++) if (model.reftable[r] > 0) dropOne(model.reftable[r] / cs);

  const start = Math.ceil(img.fileSize / cs);
  let total = Math.max(start, counts.length);
  let nBlocks = 0;
  let rtClusters = 0;
  for (let i = 0; i < 8; i++) {
    nBlocks = Math.ceil(total / per);
    rtClusters = Math.ceil((nBlocks * 8) / cs);
    const next = Math.max(start, counts.length) + nBlocks + rtClusters;
    if (next === total) break;
    total = next;
  }
  const base = Math.max(start, counts.length);
  const value = (k: number): number => {
    if (k >= base) return 1;
    return k < counts.length ? counts[k] : 0;
  };
  const patches: WritePatch[] = [];
  const reftable = new Uint8Array(rtClusters * cs);
  let clipped = 0;
  for (let r = 0; r < nBlocks; r++) {
    const block = new Uint8Array(cs);
    for (let i = 0; i < per; i++) {
      const k = r * per + i;
      if (k >= total) break;
      let v = value(k);
      if (v > max) { v = max; clipped++; }
      if (v) setRefcount(block, i, order, v);
    }
    const off = (base + r) * cs;
    putU64be(reftable, r * 8, off);
    patches.push({ offset: off, bytes: block, why: `new refcount block ${r} (clusters ${r * per}..${r * per + per - 1})` });
  }
  const rtOff = (base + nBlocks) * cs;
  patches.push({ offset: rtOff, bytes: reftable, why: `new refcount table (${nBlocks} block(s))` });
  const hdr = new Uint8Array(12);
  putU64be(hdr, 0, rtOff);
  putU32be(hdr, 8, rtClusters);
  patches.push({ offset: 48, bytes: hdr, why: `header: refcount_table_offset ${hex(rtOff)}, refcount_table_clusters ${rtClusters} (the old refcount structures at ${hex(h.refcountTableOffset)} become free)` });
  notes.push(`refcount structures rebuilt: ${nBlocks} block(s) and a ${rtClusters}-cluster table appended at ${hex(base * cs)}`);
  if (clipped) notes.push(`${clipped} cluster(s) have more references than ${1 << order}-bit refcounts hold: clipped to ${max}`);
  return patches;
}

/** Zoned header fix-its with one safe answer (ZONED-FORMAT.md section 8 item 8). */
function zonedFixits(a: CheckAnalysis, notes: string[]): WritePatch[] {
  const img = a.model?.image;
  const z = img?.zoned;
  if (!img || !z) return [];
  const out: WritePatch[] = [];
  const nrField = z.fields.find((f) => f.name === 'nr_zones');
  const sizeField = z.fields.find((f) => f.name === 'zonedmeta_size');
  if (z.zoneSize > 0 && nrField && sizeField) {
    const want = Math.ceil(img.header.size / z.zoneSize);
    const cs = img.header.clusterSize;
    const allocated = Math.ceil(z.zonedmetaSize / cs) * cs;
    if (want !== z.nrZones) {
      if (want <= z.nrZones || 8 * want <= allocated) {
        const b = new Uint8Array(4);
        putU32be(b, 0, want);
        out.push({ offset: nrField.offset, bytes: b, why: `zoned extension: nr_zones ${z.nrZones} -> ${want} (ceil(virtual size / zone size))` });
        if (want > z.nrZones) notes.push(`zones ${z.nrZones}..${want - 1} had no write pointer entry: their entries are left as stored`);
      } else {
        notes.push(`nr_zones ${z.nrZones} should be ${want}, but the write pointer array has no room: not changed`);
      }
    }
    const wantSize = 8 * (want !== z.nrZones && (want <= z.nrZones || 8 * want <= allocated) ? want : z.nrZones);
    if (wantSize !== z.zonedmetaSize && wantSize <= Math.max(allocated, z.zonedmetaSize)) {
      const b = new Uint8Array(8);
      putU64be(b, 0, wantSize);
      out.push({ offset: sizeField.offset, bytes: b, why: `zoned extension: zonedmeta_size ${z.zonedmetaSize} -> ${wantSize} (8 x nr_zones)` });
    }
  }
  return out;
}
