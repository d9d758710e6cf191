// Repair planning: from a check analysis to a list of byte patches, with qemu-img check -r's meaning.
//   leaks: lower refcounts that are too high (never raises one); OFLAG_COPIED only when nothing else is
//          wrong; clear the dirty/corrupt bits when the result is clean.
//   all:   also raise refcounts that are too low, rebuild the refcount structures when they are broken
//          (new table and blocks appended at the end of the file, the old ones simply become free),
//          fix every OFLAG_COPIED flag, and apply header fix-its that have one safe answer.
//
// The rule when the check's walk is incomplete (report.incompleteWalks): a refcount above the references
// found is a leak only if every table that could reference the cluster was walked. When one could not be
// (kind 'references': an L1 or L2 table, snapshot table, snapshot L1 or bitmap table that could not be
// located or read), no cluster is proven unreferenced, so the plan lowers no refcount at all: no leak is
// freed, no refcount block is rebuilt (a rebuild sets every refcount from the references found), and no
// OFLAG_COPIED flag is set (a cluster seen once may be shared through a table not walked); `refused` says
// what could not be walked and where. What never loses data stays: with -r all, refcounts that are too
// low are raised in refcount blocks that are themselves sound; OFLAG_COPIED flags are cleared where the
// references found already exceed one; reserved bits are cleared (the offsets are kept); unknown
// autoclear bits are cleared and zoned header fields with one answer are rewritten. The dirty and corrupt
// bits stay set (the image is not known to be consistent). When the stored refcounts themselves cannot
// be located (kind 'refcounts': the refcount table is unaligned or unreadable) no refcount is written in
// place, since a block found through that table is not known to be one; -r all then rebuilds the
// refcount structures from the references, which is safe exactly when the reference walk is complete.
// Pure: it reads through the image's ByteSource and returns patches; the engine writes them.
import { hex, putU32be, putU64be } from '../bytes';
import type { CheckAnalysis, EntryFix, IncompleteWalk } from './check';
import { REF_KIND_NAMES, RefKind } from './check-refs';
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
  /**
   * Null when the plan does everything the mode means. Otherwise one sentence saying what could not be
   * walked (or read), at which offset, and what the repair therefore does not do, e.g. "the active L1
   * table at 0x30200 is not cluster aligned: references cannot be walked, so no refcount is lowered".
   * `patches` then holds only repairs that cannot lose data (see the rule above).
   */
  refused: string | null;
  /**
   * Why qemu-img's check would fail in this mode (null when it would not): `-r leaks` on refcount
   * structures that need a rebuild, where qemu-img prints "Check failed: Input/output error" and exits 1.
   */
  checkFailed: string | null;
}

/** "the active L1 table at 0x30200 is not cluster aligned", plus how many more tables failed. */
function describeWalks(ws: IncompleteWalk[], first: IncompleteWalk): string {
  const head = first.structure === 'file' ? `the file ${first.why}` : `the ${first.structure} at ${hex(first.offset)} ${first.why}`;
  return ws.length > 1 ? `${head} (and ${ws.length - 1} more table(s) could not be walked)` : head;
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
  const plan: RepairPlan = { mode, patches: [], notes: [], refused: null, checkFailed: null };
  const model = analysis.model;
  const report = analysis.report;
  const walks = report.incompleteWalks;
  if (!model) {
    plan.refused = walks.length ? `${describeWalks(walks, walks[0])}: nothing is repaired` : 'the image cannot be read as qcow2: nothing is repaired';
    plan.notes.push('the image cannot be read as qcow2: nothing can be repaired safely');
    return plan;
  }
  // See the rule at the top of this file.
  const refsGap = walks.find((w) => w.kind === 'references') ?? null;
  const rcGap = walks.find((w) => w.kind === 'refcounts') ?? null;
  if (refsGap) {
    plan.refused = `${describeWalks(walks, refsGap)}: references cannot be walked, so no refcount is lowered`;
  } else if (rcGap && mode === 'leaks') {
    plan.refused = `${describeWalks(walks, rcGap)}: stored refcounts cannot be located, so no refcount is written in place (-r all rebuilds them from the references)`;
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
  if (rcGap && (refsGap || mode === 'leaks')) {
    plan.notes.push(refsGap
      ? 'no refcount is written: the refcount table cannot be located and the references are incomplete'
      : 'the refcount table cannot be located: only -r all repairs it, by rebuilding the refcount structures; leaks were not touched');
    errorsLeft++;
  } else if (model.rebuild && mode === 'leaks') {
    plan.notes.push('the refcount structures need a rebuild, which only -r all does; leaks were not touched');
    plan.checkFailed = 'the refcount structures need a rebuild (qemu-img: "ERROR need to rebuild refcount structures"), which only -r all does';
    errorsLeft++;
  } else if ((model.rebuild || rcGap) && !refsGap) {
    if (rcGap && !model.rebuild) plan.notes.push('the refcount table cannot be located: the refcount structures are rebuilt from the references');
    plan.patches.push(...rebuildRefcounts(analysis, per, max, plan.notes));
    corruptionsLeft = countNonRefcountCorruptions(analysis);
    leaksLeft = 0;
    errorsLeft = 0;
  } else {
    if (model.rebuild) {
      // Only reached with refsGap in -r all.
      plan.notes.push('the refcount structures need a rebuild, which sets every refcount from the references found: not done while the walk is incomplete; refcounts that are too low are raised where their refcount block is sound');
      errorsLeft++;
    }
    const byBlock = new Map<number, { cluster: number; computed: number }[]>();
    let unsound = 0;
    for (const m of model.mismatches) {
      const raise = m.computed > m.stored;
      if (mode === 'leaks' && raise) continue;
      // Not a proven leak (the check counted it as unverified): never lowered.
      if (refsGap && !raise) continue;
      const r = Math.floor(m.cluster / per);
      if (!soundBlock(analysis, r)) { unsound++; continue; }
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
      plan.patches.push(...diffPatches(blockOff, before, after, `refcount block ${r}: set ${list.length} refcount(s) to the references found (first: cluster ${first}, ${REF_KIND_NAMES[(model.refs.kind(first) & 0x7f) as keyof typeof REF_KIND_NAMES] ?? 'unreferenced'})`));
    }
    if (unsound) plan.notes.push(`${unsound} refcount(s) lie in a missing or unsound refcount block: left for a rebuild`);
    if (refsGap && report.unverified) plan.notes.push(`${report.unverified} refcount(s) above the references found are left: the walk is incomplete, so they are not proven leaks`);
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
  const copiedOk = mode === 'all' || (errorsLeft === 0 && corruptionsLeft <= 0 && leaksLeft <= 0 && !refsGap);
  if (copiedOk) {
    let kept = 0;
    for (const f of model.copiedFixes) {
      const bit = f.value ^ f.old;
      const set = (f.value & bit) !== 0n;
      // Setting the flag lets a writer overwrite the cluster in place: only when it is known unshared.
      if (set && refsGap) { kept++; continue; }
      apply(f, (v) => (set ? v | bit : v & ~bit));
    }
    if (kept) plan.notes.push(`${kept} OFLAG_COPIED flag(s) are not set: the walk is incomplete, so the cluster may be shared through a table not walked`);
  } else if (model.copiedFixes.length) {
    plan.notes.push(`${model.copiedFixes.length} OFLAG_COPIED flag(s) left: -r leaks fixes them only when nothing else is wrong`);
  }
  for (const [offset, e] of [...entries].sort((a, b) => a[0] - b[0])) {
    if (e.value !== e.old) plan.patches.push(entryPatch(offset, e.value, e.why.join('; ')));
  }
  if (!copiedOk) corruptionsLeft += model.copiedCorruptions;
  const clean = errorsLeft === 0 && corruptionsLeft <= 0 && leaksLeft <= 0 && !refsGap && !(rcGap && mode === 'leaks');

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

/**
 * A refcount block that may be written in place: named by a usable refcount table entry, inside the
 * file, and referenced exactly once, as a refcount block (so no other structure shares its bytes).
 */
function soundBlock(a: CheckAnalysis, r: number): boolean {
  const model = a.model;
  if (!model || r >= model.reftable.length) return false;
  const off = model.reftable[r];
  if (!(off > 0)) return false;
  const k = off / model.clusterSize;
  return k < model.refs.length && model.refs.get(k) === 1 && (model.refs.kind(k) & 0x7f) === RefKind.RefcountBlock;
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
  // Take back exactly what the check counted for the old table: nothing when its region lies more than a
  // cluster past EOF (the check counts such a region nowhere), or the refcounts of live clusters drop.
  const rtBytes = h.refcountTableClusters * cs;
  if (h.refcountTableOffset % cs === 0 && rtBytes > 0 && h.refcountTableOffset + rtBytes - img.fileSize < cs) {
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
