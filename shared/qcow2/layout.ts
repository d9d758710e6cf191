// The file layout map: every host cluster of the file classified by what owns it, as runs of clusters that
// share kind and owner. Built from the check's own reference walk (check.ts, through a WalkVisitor) and its
// computed reference counts, so the map and the check never disagree about what references what: a
// conflict here is a finding there, at the same bytes.
//
// Memory beyond the check's own per-cluster counts is proportional to the runs: the visitor coalesces
// data references into host-and-guest-contiguous extents as the walk reports them, and metadata is one
// interval per table. The final sweep over the clusters emits a run only where kind or owner changes, so a
// 1 TiB preallocated image (16 M clusters) comes out as a few thousand runs.
import { hex } from '../bytes';
import { readBitmapDirectory } from './bitmaps';
import { analyzeImage, CheckCancelledError, type CheckOptions, type CheckPhase, type CheckReport, type ImageCheck } from './check';
import { REF_KIND_NAMES, RefKind, type RefCounts } from './check-refs';
import type { ByteSource } from './byte-source';
import { Qcow2Error, type Finding } from './findings';
import { openImage } from './image';
import { readSnapshotTable } from './snapshots';
import type { WalkVisitor } from './walk-visitor';
import { LAYOUT_KINDS, type LayoutKind, type LayoutRun } from './layout-runs';

export { findingCluster, findingsOfRun, LAYOUT_KINDS, LAYOUT_KIND_NAMES, runAt, type LayoutKind, type LayoutRun } from './layout-runs';
import { zoneGeometry } from './zonedmeta';

export interface LayoutKindTotal {
  clusters: number;
  runs: number;
}

/** A reference to bytes beyond the end of the file: shown as a conflict at the cluster of its pointer. */
export interface PastEofReference {
  what: string;
  offset: number;
  size: number;
  pointer: number;
}

export interface FileLayout {
  file: string;
  fileSize: number;
  clusterSize: number;
  /** Host clusters of the file (the last may be partial); the runs cover exactly these. */
  clusters: number;
  /** Entries per L2 table and refcount width (log2 bits): where a cluster's table entries are (0 when unknown). */
  l2Entries: number;
  refcountOrder: number;
  runs: LayoutRun[];
  /** Clusters and runs of each kind (every kind present, zero when absent). */
  totals: Record<LayoutKind, LayoutKindTotal>;
  pastEof: PastEofReference[];
  /** The check's verdict of the same walk: its counts, whether it walked everything, its findings. */
  check: ImageCheck & { openable: boolean; complete: boolean };
  findings: Finding[];
}

export type LayoutPhase = CheckPhase | 'layout';

export interface LayoutProgress {
  phase: LayoutPhase;
  done: number;
  total: number;
}

export interface LayoutOptions extends Omit<CheckOptions, 'visitor' | 'onProgress'> {
  onProgress?: (p: LayoutProgress) => void;
}

/** An interval of host clusters a structure or a data extent covers, as the walk reported it. */
interface Owned {
  start: number;
  /** Exclusive. */
  end: number;
  kind: LayoutKind;
  /** Order of report: where two overlap without conflict (shared data), the first reported owns. */
  seq: number;
  pointer: number;
  /** L2 tables: L1 index; refcount blocks: refcount table index; data: guest offset of `start`. */
  index: number;
  /** Pointer of the snapshot table entry whose tables reference it, -1 for the active ones. */
  snap: number;
  /** Compressed: byte range and stream count. */
  bytes?: [number, number];
  count?: number;
}

const STRUCTURE_KIND: Partial<Record<RefKind, LayoutKind>> = {
  [RefKind.Header]: 'header',
  [RefKind.ActiveL1]: 'l1',
  [RefKind.ActiveL2]: 'l2',
  [RefKind.RefcountTable]: 'refcount-table',
  [RefKind.RefcountBlock]: 'refcount-block',
  [RefKind.SnapshotTable]: 'snapshot-table',
  [RefKind.SnapshotL1]: 'snapshot-l1',
  [RefKind.SnapshotL2]: 'snapshot-l2',
  [RefKind.BitmapDirectory]: 'bitmap-directory',
  [RefKind.BitmapTable]: 'bitmap-table',
  [RefKind.BitmapData]: 'bitmap-data',
  [RefKind.CryptoHeader]: 'extension',
  [RefKind.Zonedmeta]: 'zonedmeta',
  [RefKind.Data]: 'data',
  [RefKind.Compressed]: 'compressed',
};

/** LayoutKind by the RefKind code the check stores per cluster (its first reference). */
const KIND_BY_CODE: LayoutKind[] = Array.from({ length: 16 }, (_, c) => STRUCTURE_KIND[c as RefKind] ?? 'unknown');

/** Collects what the walk reports, coalescing as it goes. */
class LayoutCollector implements WalkVisitor {
  readonly owned: Owned[] = [];
  readonly pastEof: PastEofReference[] = [];
  readonly overlaps = new Map<number, { prev: RefKind; kind: RefKind; pointer: number }>();
  readonly mmCluster: number[] = [];
  readonly mmStored: number[] = [];
  readonly mmComputed: number[] = [];
  readonly mmEntry: number[] = [];
  private seq = 0;
  /** The L1 table being walked: its offset and its snapshot entry pointer (-1 active). */
  private l1Offset = -1;
  private snap = -1;
  /** The L2 table being walked: offset, first guest offset; `repeat` when another L1 already walked it. */
  private l2Offset = -1;
  private l2Guest = 0;
  private repeat = false;
  private readonly walkedL2 = new Set<number>();
  private lastData: Owned | null = null;
  /** Index of the L2 entry that would extend lastData. */
  private nextEntry = -1;
  private lastCompressed: Owned | null = null;
  private lastBitmap: Owned | null = null;
  private reftableOffset = 0;

  constructor(private readonly cs: number, private readonly fileSize: number, private readonly entrySize: number) {}

  reference(kind: RefKind, offset: number, size: number, pointer: number): void {
    const cs = this.cs;
    // The hot case (once per allocated L2 entry): the next entry of the table maps the next host cluster.
    if (kind === RefKind.Data) {
      if (this.repeat || this.l2Offset < 0) return;
      const d = this.lastData;
      if (d && (pointer - this.l2Offset) / this.entrySize === this.nextEntry && offset === d.end * cs && offset + size <= this.fileSize) {
        d.end++;
        this.nextEntry++;
        return;
      }
    }
    if (kind === RefKind.ActiveL1 || kind === RefKind.SnapshotL1) {
      this.l1Offset = offset;
      this.snap = kind === RefKind.ActiveL1 ? -1 : pointer;
    }
    if (!Number.isSafeInteger(offset) || offset + size - this.fileSize >= cs) {
      this.pastEof.push({ what: REF_KIND_NAMES[kind], offset, size, pointer });
      if (kind === RefKind.ActiveL2 || kind === RefKind.SnapshotL2) this.l2Offset = -1;
      return;
    }
    const start = Math.floor(offset / cs);
    const end = Math.floor((offset + size - 1) / cs) + 1;
    if (kind === RefKind.Data) {
      if (this.repeat || this.l2Offset < 0) return;
      const guest = this.l2Guest + Math.floor((pointer - this.l2Offset) / this.entrySize) * cs;
      // An extent never spans two L2 tables, so that its entries are at pointer + i * entry size.
      const o = this.add({ start, end, kind: 'data', seq: 0, pointer, index: guest, snap: this.snap });
      this.lastData = offset % cs === 0 ? o : null;
      this.nextEntry = (pointer - this.l2Offset) / this.entrySize + 1;
      return;
    }
    if (kind === RefKind.Compressed) {
      if (this.repeat || this.l2Offset < 0) return;
      const c = this.lastCompressed;
      if (c && c.bytes && c.snap === this.snap && start <= c.end && start >= c.end - 1) {
        c.end = Math.max(c.end, end);
        c.bytes[1] = Math.max(c.bytes[1], offset + size);
        c.count = (c.count ?? 1) + 1;
        return;
      }
      const guest = this.l2Guest + Math.floor((pointer - this.l2Offset) / this.entrySize) * cs;
      this.lastCompressed = this.add({ start, end, kind: 'compressed', seq: 0, pointer, index: guest, snap: this.snap, bytes: [offset, offset + size], count: 1 });
      return;
    }
    if (kind === RefKind.ActiveL2 || kind === RefKind.SnapshotL2) {
      const l1Index = Math.floor((pointer - this.l1Offset) / 8);
      this.l2Offset = offset;
      this.l2Guest = l1Index * (cs / this.entrySize) * cs;
      this.repeat = this.walkedL2.has(offset);
      this.walkedL2.add(offset);
      this.lastData = null;
      if (this.repeat) return;
      this.add({ start, end, kind: kind === RefKind.ActiveL2 ? 'l2' : 'snapshot-l2', seq: 0, pointer, index: l1Index, snap: this.snap });
      return;
    }
    if (kind === RefKind.BitmapData) {
      const b = this.lastBitmap;
      // The bitmap table being walked is the last bitmap-table interval; its data clusters coalesce.
      if (b && b.end === start && pointer - b.pointer === 8 * (b.end - b.start)) {
        b.end = end;
        return;
      }
      this.lastBitmap = this.add({ start, end, kind: 'bitmap-data', seq: 0, pointer, index: 0, snap: -1 });
      return;
    }
    // The refcount table is counted before its blocks: a block's index is its entry's.
    if (kind === RefKind.RefcountTable) this.reftableOffset = offset;
    const index = kind === RefKind.RefcountBlock ? Math.floor((pointer - this.reftableOffset) / 8) : 0;
    const lk = STRUCTURE_KIND[kind] ?? 'unknown';
    this.add({ start, end, kind: lk, seq: 0, pointer, index, snap: this.snap });
  }

  dataCluster(cluster: number, entry: number): void {
    if (this.repeat || this.l2Offset < 0) return;
    const d = this.lastData;
    if (d && d.end === cluster && entry === this.nextEntry) {
      d.end++;
      this.nextEntry++;
      return;
    }
    this.reference(RefKind.Data, cluster * this.cs, this.cs, this.l2Offset + entry * this.entrySize);
  }

  overlap(cluster: number, prev: RefKind, kind: RefKind, pointer: number): void {
    if (!this.overlaps.has(cluster)) this.overlaps.set(cluster, { prev, kind, pointer });
  }

  mismatch(cluster: number, stored: number, computed: number, entry: number): void {
    this.mmCluster.push(cluster);
    this.mmStored.push(stored);
    this.mmComputed.push(computed);
    this.mmEntry.push(entry);
  }

  private add(o: Owned): Owned {
    o.seq = this.seq++;
    this.owned.push(o);
    return o;
  }
}

/** Names for owners: snapshots and bitmaps by the offset of their table entry. */
interface Names {
  snapshots: Map<number, string>;
  bitmaps: Map<number, string>;
  extensions: string[];
  headerLength: number;
  l2Entries: number;
  zoneSize: number;
  zones: number;
}

function snapName(n: Names, pointer: number): string {
  return n.snapshots.get(pointer) ?? `at ${hex(pointer)}`;
}

function ownerText(o: Owned, n: Names, cs: number, k: number): string {
  switch (o.kind) {
    case 'header': return `header (${n.headerLength} bytes)${n.extensions.length ? `, extensions: ${n.extensions.join(', ')}` : ''}`;
    case 'l1': return 'active L1 table';
    case 'snapshot-l1': return `L1 table of snapshot ${snapName(n, o.pointer)}`;
    case 'l2':
    case 'snapshot-l2': {
      const span = n.l2Entries * cs;
      return `L2 table #${o.index}${o.snap >= 0 ? ` of snapshot ${snapName(n, o.snap)}` : ''} (guest ${hex(o.index * span)}-${hex((o.index + 1) * span)})`;
    }
    case 'refcount-table': return 'refcount table';
    case 'refcount-block': return `refcount block #${o.index}`;
    case 'snapshot-table': return `snapshot table (${n.snapshots.size} snapshot(s))`;
    case 'bitmap-directory': return `bitmap directory (${n.bitmaps.size} bitmap(s))`;
    case 'bitmap-table': return `bitmap table of ${n.bitmaps.get(o.pointer) ?? `the entry at ${hex(o.pointer)}`}`;
    case 'bitmap-data': return 'bitmap data';
    case 'extension': return 'LUKS encryption header';
    case 'zonedmeta': return `zonedmeta (write pointers of ${n.zones} zones)`;
    case 'data': {
      const g = o.index + (k - o.start) * cs;
      return `guest ${hex(g)}${n.zoneSize > 0 ? ` (zone ${Math.floor(g / n.zoneSize)})` : ''}${o.snap >= 0 ? `, snapshot ${snapName(n, o.snap)} only` : ''}`;
    }
    case 'compressed': return `${o.count ?? 1} compressed cluster(s) in bytes ${hex(o.bytes?.[0] ?? 0)}-${hex(o.bytes?.[1] ?? 0)}, from guest ${hex(o.index)}`;
    default: return o.kind;
  }
}

function emptyTotals(): Record<LayoutKind, LayoutKindTotal> {
  const t = {} as Record<LayoutKind, LayoutKindTotal>;
  for (const k of LAYOUT_KINDS) t[k] = { clusters: 0, runs: 0 };
  return t;
}

function counts(r: CheckReport): FileLayout['check'] {
  const { findings: _f, incompleteWalks: _w, unverified: _u, ...rest } = r;
  return rest;
}

const SWEEP_STEP = 1 << 20;

/** The layout map of the image in `source`, from one check walk. */
export async function buildLayout(source: ByteSource, options: LayoutOptions = {}): Promise<FileLayout> {
  const fileSize = await source.size();
  // The geometry the collector needs (the walk opens the image again; what it cannot open it reports).
  const opened = await openImage(source).catch((e: unknown) => {
    if (e instanceof Qcow2Error) return null;
    throw e;
  });
  const cs = opened?.header.clusterSize ?? 0;
  const entrySize = opened && ((opened.header.incompatibleFeatures >> 4n) & 1n) === 1n ? 16 : 8;
  const collector = opened ? new LayoutCollector(cs, fileSize, entrySize) : null;
  const { report, model } = await analyzeImage(source, { ...options, visitor: collector ?? undefined, onProgress: options.onProgress });
  const layout: FileLayout = {
    file: source.name, fileSize, clusterSize: cs, clusters: cs ? Math.ceil(fileSize / cs) : 0, runs: [], totals: emptyTotals(),
    l2Entries: cs ? cs / entrySize : 0, refcountOrder: opened?.header.refcountOrder ?? 0,
    pastEof: collector?.pastEof ?? [], check: counts(report), findings: report.findings,
  };
  if (!model || !collector || model.clusterSize !== cs) {
    // Nothing was walked: the whole file is of unknown use.
    if (layout.clusters > 0) pushRun(layout, { start: 0, clusters: layout.clusters, kind: 'unknown', owner: report.openable ? 'not walked (see the findings)' : 'the file cannot be read as qcow2' });
    return layout;
  }
  const img = model.image;
  const names: Names = {
    snapshots: new Map(), bitmaps: new Map(),
    extensions: img.extensions.extensions.filter((e) => e.content.kind !== 'end').map((e) => e.name),
    headerLength: img.header.headerLength, l2Entries: cs / entrySize,
    zoneSize: 0, zones: 0,
  };
  try {
    for (const s of (await readSnapshotTable(img)).snapshots) names.snapshots.set(s.offset, `${JSON.stringify(s.name)} (id ${s.id})`);
  } catch { /* names only: an unreadable table is the check's finding */ }
  try {
    for (const b of (await readBitmapDirectory(img))?.bitmaps ?? []) names.bitmaps.set(b.offset, `bitmap ${JSON.stringify(b.name)}`);
  } catch { /* as above */ }
  if (img.zoned) {
    const g = model.zones ?? zoneGeometry(img.zoned, img.header.size).geometry;
    if (g) { names.zoneSize = g.zoneSize; names.zones = g.count; }
  }
  sweep(layout, collector, model.refs, names, !report.complete, options);
  return layout;
}

function pushRun(layout: FileLayout, r: LayoutRun): void {
  layout.runs.push(r);
  layout.totals[r.kind].clusters += r.clusters;
  layout.totals[r.kind].runs++;
}

/** The classification of one cluster, compared with its neighbour's to decide where runs end. */
interface Cell {
  kind: LayoutKind;
  /** The owning interval (-1 none), the zone, the mismatch index (-1 none): a run shares all three. */
  owner: Owned | null;
  zone: number;
  mm: number;
  conflict: string;
}

function sweep(layout: FileLayout, col: LayoutCollector, refs: RefCounts, names: Names, incomplete: boolean, options: LayoutOptions): void {
  const cs = layout.clusterSize;
  const n = layout.clusters;
  const owned = col.owned.slice().sort((a, b) => a.start - b.start || a.seq - b.seq);
  // Past-EOF references: conflicts at the cluster holding their pointer.
  const eofAt = new Map<number, PastEofReference>();
  for (const p of col.pastEof) {
    const k = Math.floor(p.pointer / cs);
    if (k < n && !eofAt.has(k)) eofAt.set(k, p);
  }
  const open: Owned[] = [];
  let oi = 0;
  let mi = 0;
  let run: LayoutRun | null = null;
  let runCell: Cell | null = null;
  const special = [...col.overlaps.keys(), ...eofAt.keys()].sort((a, b) => a - b);
  let si = 0;
  // Below `horizon` nothing but the per-cluster counts can end the current run (no interval starts or
  // ends, no mismatch, overlap or past-end pointer): clusters that match `fastCode` (the check's kind
  // code, or -1 for unreferenced) extend it without the slow classification.
  let horizon = 0;
  let fastCode = -2;
  let report = 0;
  for (let k = 0; k < n; k++) {
    if (k >= report) {
      if (options.signal?.aborted) throw new CheckCancelledError();
      options.onProgress?.({ phase: 'layout', done: k, total: n });
      report = k + SWEEP_STEP;
    }
    if (k < horizon && run) {
      const lim = Math.min(horizon, n, report);
      const j = fastCode >= -1 ? refs.runEnd(k, lim, fastCode) : k;
      if (j > k) {
        run.clusters += j - k;
        k = j - 1;
        continue;
      }
    }
    // The intervals covering k: those started, not yet ended; the first reported owns.
    while (oi < owned.length && owned[oi].start <= k) open.push(owned[oi++]);
    let owner: Owned | null = null;
    if (open.length) {
      let w = 0;
      for (let r = 0; r < open.length; r++) {
        const o = open[r];
        if (o.end <= k) continue;
        open[w++] = o;
        if (!owner || o.seq < owner.seq) owner = o;
      }
      open.length = w;
    }
    const computed = refs.get(k);
    let mm = -1;
    while (mi < col.mmCluster.length && col.mmCluster[mi] < k) mi++;
    if (mi < col.mmCluster.length && col.mmCluster[mi] === k) mm = mi;
    const stored = mm >= 0 ? col.mmStored[mm] : computed;
    let kind: LayoutKind;
    let conflict = '';
    const ov = col.overlaps.get(k);
    const eof = eofAt.get(k);
    if (ov) {
      kind = 'conflict';
      conflict = `used as ${REF_KIND_NAMES[ov.prev]} and as ${REF_KIND_NAMES[ov.kind]}`;
    } else if (stored < computed) {
      kind = 'conflict';
      conflict = stored === 0 ? `referenced ${computed} time(s) with refcount 0` : `referenced ${computed} times, refcount ${stored}`;
    } else if (eof) {
      kind = 'conflict';
      conflict = `references the ${eof.what} at ${hex(eof.offset)} (${eof.size} bytes), past the end of the file`;
    } else if (computed === 0) {
      kind = stored === 0 ? 'free' : incomplete ? 'unknown' : 'leaked';
    } else {
      kind = KIND_BY_CODE[refs.kind(k) & 0x0f];
    }
    if (kind !== 'free' && kind !== 'leaked' && kind !== 'unknown' && kind !== 'conflict' && owner && owner.kind !== kind && !(kind === 'l2' && owner.kind === 'snapshot-l2')) {
      // The first reference decides the kind; an interval reported later for the same cluster (a
      // snapshot's copy of a shared table) does not own it.
      const match = open.find((o) => o.end > k && o.kind === kind);
      if (match) owner = match;
    }
    const zone = kind === 'data' && owner && names.zoneSize > 0 ? Math.floor((owner.index + (k - owner.start) * cs) / names.zoneSize) : -1;
    const sameRun = runCell !== null && run !== null && runCell.kind === kind && runCell.zone === zone && runCell.conflict === conflict &&
      (kind === 'free' || kind === 'leaked' || kind === 'unknown' || runCell.owner === owner) &&
      sameMismatch(col, runCell.mm, mm) && !(kind === 'conflict' && (ov || eof));
    horizon = nextEvent(k, owned, oi, open, col.mmCluster, mi, special, si = advance(special, si, k));
    if (zone >= 0 && owner) horizon = Math.min(horizon, owner.start + Math.ceil(((zone + 1) * names.zoneSize - owner.index) / cs));
    fastCode = kind === 'free' ? -1 : kind === 'conflict' || kind === 'leaked' || kind === 'unknown' ? -2 : refs.kind(k) & 0x0f;
    if (sameRun && run) {
      run.clusters++;
      continue;
    }
    if (run) layout.totals[run.kind].clusters += run.clusters - 1;
    runCell = { kind, owner: kind === 'free' || kind === 'leaked' || kind === 'unknown' ? null : owner, zone, mm, conflict };
    run = { start: k, clusters: 1, kind, owner: '' };
    const o = runCell.owner;
    if (kind === 'conflict') {
      run.owner = `${conflict}${o ? ` (${ownerText(o, names, cs, k)})` : ''}`;
      run.findingAt = ov ? ov.pointer : mm >= 0 ? col.mmEntry[mm] : eof ? eof.pointer : undefined;
      run.pointer = ov ? ov.pointer : eof ? eof.pointer : undefined;
      if (run.pointer === undefined) delete run.pointer;
    } else if (kind === 'free') {
      run.owner = 'refcount 0, no reference';
    } else if (kind === 'leaked') {
      run.owner = `refcount ${stored}, no reference`;
      if (mm >= 0) run.findingAt = col.mmEntry[mm];
    } else if (kind === 'unknown') {
      run.owner = `refcount ${stored}, no reference found (the walk is incomplete: not proven leaked)`;
    } else if (o) {
      run.owner = ownerText(o, names, cs, k);
    } else {
      run.owner = REF_KIND_NAMES[(refs.kind(k) & 0x0f) as RefKind];
    }
    if (o && kind !== 'free' && kind !== 'leaked' && kind !== 'unknown') {
      if (o.kind !== 'header') run.pointer ??= o.kind === 'data' ? o.pointer + (k - o.start) * (cs / names.l2Entries) : o.pointer;
      if (o.kind === 'data') run.guest = o.index + (k - o.start) * cs;
      if (o.kind === 'compressed') { run.guest = o.index; if (o.bytes) run.bytes = [o.bytes[0], o.bytes[1]]; }
      if ((o.kind === 'data' || o.kind === 'compressed') && o.snap >= 0) run.snapshot = names.snapshots.get(o.snap) ?? hex(o.snap);
    }
    if (zone >= 0) run.zone = zone;
    if (mm >= 0 && kind !== 'leaked') run.refcount = { stored: col.mmStored[mm], references: col.mmComputed[mm] };
    if (mm >= 0 && kind !== 'leaked' && kind !== 'conflict') run.findingAt = col.mmEntry[mm];
    pushRun(layout, run);
  }
  // pushRun counted each run's first cluster; the rest are counted here, once the run is complete.
  if (run) layout.totals[run.kind].clusters += run.clusters - 1;
  options.onProgress?.({ phase: 'layout', done: n, total: n });
}

/** First index of the sorted `a` holding a value above k. */
function advance(a: readonly number[], i: number, k: number): number {
  while (i < a.length && a[i] <= k) i++;
  return i;
}

/** The next cluster after k where something besides the counts changes (see the sweep's horizon). */
function nextEvent(k: number, owned: readonly Owned[], oi: number, open: readonly Owned[], mm: readonly number[], mi: number, special: readonly number[], si: number): number {
  let h = oi < owned.length ? owned[oi].start : Infinity;
  for (const o of open) if (o.end > k) h = Math.min(h, o.end);
  let m = mi;
  while (m < mm.length && mm[m] <= k) m++;
  if (m < mm.length) h = Math.min(h, mm[m]);
  if (si < special.length) h = Math.min(h, special[si]);
  return h;
}

/** Two clusters' mismatches allow one run: neither has one, or both are leaks of the same stored count. */
function sameMismatch(col: LayoutCollector, a: number, b: number): boolean {
  if (a < 0 || b < 0) return a === b;
  return col.mmStored[a] === col.mmStored[b] && col.mmComputed[a] === col.mmComputed[b] && col.mmComputed[a] === 0;
}
