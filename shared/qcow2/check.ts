// `check`: everything wrong with an image, each finding at its bytes, plus the counts qemu-img check
// reports (ImageCheck), computed the way QEMU 7.2 computes them (block/qcow2-refcount.c:
// qcow2_check_refcounts, check_refcounts_l1/l2, check_refblocks, compare_refcounts, check_oflag_copied;
// block/qcow2.c: qcow2_check_read_snapshot_table; block/qcow2-bitmap.c: qcow2_check_bitmaps_refcounts).
// One deliberate difference (ZONED-FORMAT.md section 8 item 8): zonedmeta clusters count as referenced.
//
// Pure over a ByteSource: tables are read one cluster (or one bounded chunk) at a time; the only arrays
// sized by the file are the reference counts (3 bytes per cluster, refused beyond maxClusters).
import { hex, u32be, u64be, u64beNum, u16be } from '../bytes';
import type { ByteSource } from './byte-source';
import { headerConsistencyFindings, MAX_SNAPSHOTS } from './check-header';
import { REF_KIND_NAMES, RefCounts, RefKind, sharingIsNormal } from './check-refs';
import {
  decodeL2Entry, getRefcount, L1E_OFFSET_MASK, L1E_RESERVED_MASK, L2E_OFFSET_MASK, L2E_STD_RESERVED_MASK, maxRefcount,
  OFLAG_COMPRESSED, OFLAG_COPIED, OFLAG_ZERO, refcountsPerBlock, REFT_OFFSET_MASK,
} from './entries';
import { finding, Qcow2Error, type Finding, type FindingInput } from './findings';
import { decodeHeader, MAX_L1_BYTES } from './header';
import { openImage, type OpenedImage } from './image';
import type { ZoneTable } from './zone-table';
import { zonedLimitFindings } from './zoned-info';
import { readZonedmeta, zonedmetaPlacementFindings, zoneGeometry } from './zonedmeta';

/** qemu-img check --output=json keys (qapi ImageCheck), always present here (QEMU omits zero counts). */
export interface ImageCheck {
  filename: string;
  format: 'qcow2';
  'check-errors': number;
  'image-end-offset': number;
  corruptions: number;
  leaks: number;
  'corruptions-fixed': number;
  'leaks-fixed': number;
  'total-clusters': number;
  'allocated-clusters': number;
  'fragmented-clusters': number;
  'compressed-clusters': number;
}

export interface CheckReport extends ImageCheck {
  /** False when the bytes cannot be read as qcow2 at all (bad magic, version, cluster size…). */
  openable: boolean;
  /** False when the metadata walk stopped early (refused size, unreadable tables); counts are partial. */
  complete: boolean;
  findings: Finding[];
}

export type CheckPhase = 'header' | 'zones' | 'active tables' | 'snapshots' | 'bitmaps' | 'refcounts' | 'copied flags';

export interface CheckProgress {
  phase: CheckPhase;
  done: number;
  total: number;
}

/** Structural AbortSignal (shared/ has no DOM types). */
export interface AbortSignalLike {
  readonly aborted: boolean;
}

export interface CheckOptions {
  onProgress?: (p: CheckProgress) => void;
  signal?: AbortSignalLike;
  /** Refuse (with a finding) files of more clusters than this: 3 bytes of memory per cluster. */
  maxClusters?: number;
  /** Findings of one id listed individually before a summary finding counts the rest. */
  maxFindingsPerId?: number;
}

export const DEFAULT_MAX_CLUSTERS = 1 << 26;
const DEFAULT_MAX_FINDINGS_PER_ID = 50;
/** L1 entries per read (512 KiB). */
const L1_CHUNK = 65536;
/** Flag in RefCounts.kinds: the header anchors this structure here, not yet referenced. */
const CLAIMED = 0x80;

export class CheckCancelledError extends Error {
  constructor() {
    super('check cancelled');
    this.name = 'AbortError';
  }
}

/** An 8-byte big-endian table entry to rewrite (repair input). */
export interface EntryFix {
  offset: number;
  old: bigint;
  value: bigint;
  why: string;
}

export interface RefcountMismatch {
  cluster: number;
  stored: number;
  computed: number;
}

/** What repair needs beyond the report. */
export interface CheckModel {
  image: OpenedImage;
  clusterSize: number;
  refcountOrder: number;
  /** Computed references per cluster (includes zonedmeta). */
  refs: RefCounts;
  /** Refcount block offset per refcount table index (0 = none, -1 = unusable entry). */
  reftable: Float64Array;
  mismatches: RefcountMismatch[];
  /** QEMU's "rebuild": refcount structures themselves are broken or a referenced cluster has no refcount. */
  rebuild: boolean;
  /** OFLAG_COPIED corrections, judged against the refcounts as they will be after refcount repair. */
  copiedFixes: EntryFix[];
  /** Entries whose reserved bits can be cleared without changing what they map. */
  reservedFixes: EntryFix[];
  zones: ZoneTable | null;
  /** Corruptions counted by the OFLAG_COPIED pass (QEMU decides on repairing them after the rest). */
  copiedCorruptions: number;
}

export interface CheckAnalysis {
  report: CheckReport;
  model: CheckModel | null;
}

function emptyCounts(filename: string): ImageCheck {
  return {
    filename, format: 'qcow2', 'check-errors': 0, 'image-end-offset': 0, corruptions: 0, leaks: 0, 'corruptions-fixed': 0,
    'leaks-fixed': 0, 'total-clusters': 0, 'allocated-clusters': 0, 'fragmented-clusters': 0, 'compressed-clusters': 0,
  };
}

/** Keeps findings bounded: the first N of an id are listed, then one summary says how many more. */
class FindingSink {
  private counts = new Map<string, number>();
  constructor(readonly list: Finding[], private readonly cap: number) {}

  add(f: FindingInput): void {
    const n = (this.counts.get(f.id) ?? 0) + 1;
    this.counts.set(f.id, n);
    if (n <= this.cap) this.list.push(finding(f));
  }

  addAll(fs: Finding[]): void {
    for (const f of fs) this.add(f);
  }

  finish(): void {
    for (const [id, n] of this.counts) {
      if (n <= this.cap) continue;
      const first = this.list.find((f) => f.id === id);
      if (!first) continue;
      this.list.push(finding({ ...first, found: `${n} occurrences`, message: `${n - this.cap} more findings like "${first.message}" are not listed (${n} in all)` }));
    }
  }
}

/** Read exactly `len` bytes; bytes past EOF read as zero, as QEMU's block layer returns them. */
async function readPadded(src: ByteSource, off: number, len: number): Promise<Uint8Array> {
  const b = await src.read(off, len);
  if (b.length === len) return b;
  const out = new Uint8Array(len);
  out.set(b);
  return out;
}

/** Header decode alone, for images openImage refuses: which findings make the image unreadable. */
function fatalHeaderFinding(fs: Finding[]): Finding | undefined {
  return fs.find((f) => f.severity === 'error' && (['header.magic', 'header.version', 'header.truncated', 'header.cluster_bits'].includes(f.id) ||
    (f.id === 'header.header_length' && f.expected.startsWith('>='))));
}

export async function checkImage(source: ByteSource, options: CheckOptions = {}): Promise<CheckReport> {
  return (await analyzeImage(source, options)).report;
}

/** The check plus the model repair plans from. */
export async function analyzeImage(source: ByteSource, options: CheckOptions = {}): Promise<CheckAnalysis> {
  const report: CheckReport = { ...emptyCounts(source.name), openable: true, complete: true, findings: [] };
  const sink = new FindingSink(report.findings, options.maxFindingsPerId ?? DEFAULT_MAX_FINDINGS_PER_ID);
  const fileSize = await source.size();
  const head = await source.read(0, 4096);
  const decoded = decodeHeader(head, fileSize);
  if (!decoded.header || fatalHeaderFinding(decoded.findings)) {
    report.openable = false;
    report.complete = false;
    sink.addAll(decoded.findings);
    sink.finish();
    return { report, model: null };
  }
  let img: OpenedImage;
  try {
    img = await openImage(source);
  } catch (e) {
    if (!(e instanceof Qcow2Error)) throw e;
    report.openable = false;
    report.complete = false;
    sink.addAll(decoded.findings);
    if (e.finding && !decoded.findings.some((f) => f.id === e.finding?.id)) sink.add(e.finding);
    sink.finish();
    return { report, model: null };
  }
  const walker = new Walker(img, report, sink, options);
  const model = await walker.run();
  sink.finish();
  return { report, model };
}

interface Where {
  structure: string;
  field: string;
  offset: number;
  length: number;
}

class Walker {
  private readonly h;
  private readonly cs: number;
  private readonly cb: number;
  private readonly src: ByteSource;
  private readonly fileSize: number;
  private readonly extended: boolean;
  private readonly entrySize: number;
  private readonly l2Entries: number;
  private readonly refMax: number;
  private refs!: RefCounts;
  private reftable = new Float64Array(0);
  private rebuild = false;
  private readonly mismatches: RefcountMismatch[] = [];
  private readonly copiedFixes: EntryFix[] = [];
  private readonly reservedFixes: EntryFix[] = [];
  private zones: ZoneTable | null = null;
  private copiedCorruptions = 0;
  private l2Budget = -1;
  private budgetReported = false;
  private overlapsSeen = new Set<number>();
  /** Clusters whose stored refcount is exactly 1 (bitset), and refcount blocks that cannot be read. */
  private storedOne = new Uint8Array(0);
  private badBlock = new Uint8Array(0);

  constructor(
    private readonly img: OpenedImage,
    private readonly report: CheckReport,
    private readonly sink: FindingSink,
    private readonly opts: CheckOptions,
  ) {
    this.h = img.header;
    this.cs = img.header.clusterSize;
    this.cb = img.header.clusterBits;
    this.src = img.source;
    this.fileSize = img.fileSize;
    this.extended = ((img.header.incompatibleFeatures >> 4n) & 1n) === 1n;
    this.entrySize = this.extended ? 16 : 8;
    this.l2Entries = this.cs / this.entrySize;
    this.refMax = img.header.refcountOrder <= 6 ? maxRefcount(img.header.refcountOrder) : 0;
  }

  private progress(phase: CheckPhase, done: number, total: number): void {
    if (this.opts.signal?.aborted) throw new CheckCancelledError();
    this.opts.onProgress?.({ phase, done, total });
  }

  async run(): Promise<CheckModel | null> {
    const { img, report, sink, h, cs } = this;
    sink.addAll(img.findings);
    sink.addAll(headerConsistencyFindings(img));
    this.progress('header', 1, 1);
    report['total-clusters'] = Math.ceil(h.size / cs);

    if (h.refcountOrder > 6) {
      report.complete = false;
      report['check-errors']++;
      return null;
    }
    const nbClusters = Math.ceil(this.fileSize / cs);
    const maxClusters = this.opts.maxClusters ?? DEFAULT_MAX_CLUSTERS;
    if (nbClusters > maxClusters) {
      sink.add({ id: 'check.too-large', severity: 'error', structure: 'file', field: 'size', offset: 0, length: 0, found: `${nbClusters} clusters (${this.fileSize} bytes)`, expected: `<= ${maxClusters} clusters`, message: `the file has ${nbClusters} clusters, more than this check keeps in memory (${maxClusters}); metadata was not checked`, fix: 'none: check with a larger cluster limit' });
      report['check-errors']++;
      report.complete = false;
      return null;
    }
    // A region may end less than a cluster past EOF (QEMU tolerates a half-written last cluster).
    this.refs = new RefCounts(nbClusters, nbClusters + 1);

    if (img.zoned) await this.readZones();
    await this.claimAnchored();

    // header
    this.ref(0, cs, RefKind.Header, { structure: 'header', field: 'cluster 0', offset: 0, length: cs });
    // active L1 and everything below it
    await this.walkL1(h.l1TableOffset, h.l1Size, true, { structure: 'header', field: 'l1_table_offset', offset: 40, length: 8 });
    await this.walkSnapshots();
    // refcount table
    this.ref(h.refcountTableOffset, h.refcountTableClusters * cs, RefKind.RefcountTable, { structure: 'header', field: 'refcount_table_offset', offset: 48, length: 8 });
    const crypto = img.extensions.crypto;
    if (crypto && crypto.length > 0) {
      const e = img.extensions.extensions.find((x) => x.content.kind === 'crypto');
      this.ref(crypto.offset, crypto.length, RefKind.CryptoHeader, { structure: 'encryption header pointer', field: 'offset', offset: e?.dataOffset ?? 0, length: 16 });
    }
    await this.walkBitmaps();
    if (img.zoned && img.zoned.zonedmetaSize > 0) {
      const f = img.zoned.fields.find((x) => x.name === 'zonedmeta_offset');
      this.ref(img.zoned.zonedmetaOffset, img.zoned.zonedmetaSize, RefKind.Zonedmeta, { structure: 'zoned extension', field: 'zonedmeta_offset', offset: f?.offset ?? img.zoned.dataOffset, length: 8 });
    }
    await this.checkRefblocks();
    const highest = await this.compareRefcounts();
    await this.checkCopied();
    report['image-end-offset'] = (highest + 1) * cs;
    return {
      image: img, clusterSize: cs, refcountOrder: h.refcountOrder, refs: this.refs, reftable: this.reftable,
      mismatches: this.mismatches, rebuild: this.rebuild, copiedFixes: this.copiedFixes, reservedFixes: this.reservedFixes, zones: this.zones,
      copiedCorruptions: this.copiedCorruptions,
    };
  }

  // -------------------------------------------------------------------------------------------------
  // qcow2_inc_refcounts_imrt, plus overlap naming

  private ref(offset: number, size: number, kind: RefKind, where: Where): void {
    const { cs, report } = this;
    if (size <= 0) return;
    if (!Number.isSafeInteger(offset) || offset + size - this.fileSize >= cs) {
      report.corruptions++;
      this.sink.add({ ...where, id: 'refcount.past-eof', severity: 'error', found: `${hex(offset)} + ${size} bytes`, expected: `within the file (${this.fileSize} bytes)`, message: `${REF_KIND_NAMES[kind]} at ${hex(offset)} (${size} bytes) lies past the end of the file`, fix: 'none: the data is missing; a full repair cannot recreate it' });
      return;
    }
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + size - 1) / cs);
    for (let k = first; k <= last; k++) {
      if (!this.refs.ensure(k)) {
        report['check-errors']++;
        return;
      }
      const raw = this.refs.kinds[k];
      const claimed = (raw & CLAIMED) !== 0;
      const prevKind = (raw & ~CLAIMED) as RefKind;
      const cur = this.refs.get(k);
      if (claimed && prevKind === kind) {
        this.refs.kinds[k] = kind;
      } else if (prevKind !== RefKind.None && (claimed || cur > 0) && !sharingIsNormal(prevKind, kind) && !this.overlapsSeen.has(k)) {
        this.overlapsSeen.add(k);
        const meta = kind !== RefKind.Data && kind !== RefKind.Compressed;
        this.sink.add({ ...where, id: meta || (prevKind !== RefKind.Data && prevKind !== RefKind.Compressed) ? 'overlap.metadata' : 'overlap.data', severity: 'error', found: `cluster ${k} (${hex(k * cs)}) is already used as ${REF_KIND_NAMES[prevKind]}`, expected: `a cluster of its own for the ${REF_KIND_NAMES[kind]}`, message: `${REF_KIND_NAMES[kind]} at ${hex(offset)} overlaps the ${REF_KIND_NAMES[prevKind]} in cluster ${k}`, fix: 'none: two structures share the bytes; one of them is wrong and repair cannot tell which' });
      }
      if (prevKind === RefKind.None) this.refs.kinds[k] = kind;
      if (cur === this.refMax) {
        report.corruptions++;
        this.sink.add({ ...where, id: 'refcount.overflow', severity: 'error', found: `more than ${this.refMax} references to cluster ${k}`, expected: `at most ${this.refMax} (refcount width ${1 << this.h.refcountOrder} bits)`, message: `cluster ${k} is referenced more often than a ${1 << this.h.refcountOrder}-bit refcount can count`, fix: 'none in place: widen refcounts with qemu-img amend -o refcount_bits=16' });
        continue;
      }
      this.refs.inc(k);
    }
  }

  /**
   * A valid image reads each L2 table once per L1 table that holds it, so (snapshots + 2) reads per
   * cluster of the file suffice twice over; garbage L1 tables pointing at the same clusters again and
   * again would otherwise make the check quadratic.
   */
  private takeL2Budget(): boolean {
    if (this.l2Budget < 0) this.l2Budget = 2 * this.refs.capacity * (Math.min(this.h.nbSnapshots, MAX_SNAPSHOTS) + 2) + 64;
    if (this.l2Budget === 0) {
      if (!this.budgetReported) {
        this.budgetReported = true;
        this.report['check-errors']++;
        this.report.complete = false;
        this.sink.add({ id: 'check.work-limit', severity: 'error', structure: 'L1 tables', field: 'entries', offset: this.h.l1TableOffset, length: 8, found: 'more L2 table reads than the file has clusters for', expected: `at most ${2 * this.refs.capacity * (Math.min(this.h.nbSnapshots, MAX_SNAPSHOTS) + 2) + 64}`, message: 'the L1 tables point at the same clusters over and over: the walk stopped (the tables are garbage)', fix: 'none: the L1 tables are not usable' });
      }
      return false;
    }
    this.l2Budget--;
    return true;
  }

  /**
   * Mark the clusters of structures the header anchors before the walk, so that an L2 entry pointing
   * into them is named as the overlap (not the structure that is where the header says it is).
   */
  private claim(offset: number, size: number, kind: RefKind): void {
    if (size <= 0 || !Number.isSafeInteger(offset) || offset % this.cs !== 0) return;
    const first = offset / this.cs;
    const last = Math.min(Math.floor((offset + size - 1) / this.cs), this.refs.capacity - 1);
    for (let k = first; k <= last; k++) if (this.refs.kinds[k] === RefKind.None) this.refs.kinds[k] = kind | CLAIMED;
  }

  private async claimAnchored(): Promise<void> {
    const { h, cs, img } = this;
    this.claim(0, cs, RefKind.Header);
    if (h.l1Size * 8 <= MAX_L1_BYTES) this.claim(h.l1TableOffset, h.l1Size * 8, RefKind.ActiveL1);
    const rtBytes = Math.min(h.refcountTableClusters * cs, 8 * 1024 * 1024);
    this.claim(h.refcountTableOffset, rtBytes, RefKind.RefcountTable);
    const rt = await readPadded(this.src, h.refcountTableOffset, rtBytes);
    for (let i = 0; i < rtBytes / 8; i++) {
      const v = u64be(rt, i * 8);
      if (v !== 0n && (v & 0x1ffn) === 0n) this.claim(Number(v & REFT_OFFSET_MASK), cs, RefKind.RefcountBlock);
    }
    if (img.zoned && img.zoned.zonedmetaSize > 0 && img.zoned.zonedmetaSize < 2 ** 32) this.claim(img.zoned.zonedmetaOffset, img.zoned.zonedmetaSize, RefKind.Zonedmeta);
  }

  // -------------------------------------------------------------------------------------------------
  // L1 / L2 (check_refcounts_l1, check_refcounts_l2)

  private async walkL1(l1Offset: number, l1Size: number, active: boolean, where: Where): Promise<void> {
    if (!l1Size) return;
    const kindL1 = active ? RefKind.ActiveL1 : RefKind.SnapshotL1;
    this.ref(l1Offset, l1Size * 8, kindL1, where);
    if (l1Size * 8 > MAX_L1_BYTES) return;
    for (let base = 0; base < l1Size; base += L1_CHUNK) {
      if (l1Offset + base * 8 >= this.fileSize) break; // the rest reads as zeros: nothing allocated
      const n = Math.min(L1_CHUNK, l1Size - base);
      const bytes = await readPadded(this.src, l1Offset + base * 8, n * 8);
      for (let j = 0; j < n; j++) {
        const i = base + j;
        const raw = u64be(bytes, j * 8);
        if (raw === 0n) continue;
        const at: Where = { structure: active ? 'active L1 table' : 'snapshot L1 table', field: `entry ${i}`, offset: l1Offset + i * 8, length: 8 };
        if (raw & L1E_RESERVED_MASK) {
          this.report.corruptions++;
          this.sink.add({ ...at, id: 'l1.reserved-bits', severity: 'error', found: hex(raw, 16), expected: `reserved bits ${hex(L1E_RESERVED_MASK, 16)} clear`, message: `L1 entry ${i} has reserved bits set (${hex(raw & L1E_RESERVED_MASK)})`, fix: 'clear the reserved bits (the L2 offset is kept)' });
          if (active) this.reservedFixes.push({ offset: at.offset, old: raw, value: raw & ~L1E_RESERVED_MASK, why: `clear reserved bits of L1 entry ${i}` });
        }
        const l2Offset = Number(raw & L1E_OFFSET_MASK);
        this.ref(l2Offset, this.cs, active ? RefKind.ActiveL2 : RefKind.SnapshotL2, at);
        if (l2Offset % this.cs !== 0) {
          this.report.corruptions++;
          this.sink.add({ ...at, id: 'l1.unaligned', severity: 'error', found: hex(l2Offset), expected: `a multiple of the cluster size ${this.cs}`, message: `L1 entry ${i} points to an L2 table at ${hex(l2Offset)}, not cluster aligned`, fix: 'none: the L2 table cannot be located' });
        }
        if (l2Offset < this.fileSize && this.takeL2Budget()) await this.walkL2(l2Offset, active, i);
        this.progress(active ? 'active tables' : 'snapshots', i + 1, l1Size);
      }
    }
  }

  private async walkL2(l2Offset: number, active: boolean, l1Index: number): Promise<void> {
    const { cs, report } = this;
    const table = await readPadded(this.src, l2Offset, cs);
    let nextContiguous = 0;
    for (let i = 0; i < this.l2Entries; i++) {
      const eo = i * this.entrySize;
      if (table[eo] === 0 && u32be(table, eo) === 0 && u32be(table, eo + 4) === 0 && (!this.extended || (u32be(table, eo + 8) === 0 && u32be(table, eo + 12) === 0))) continue;
      const raw = u64be(table, eo);
      const bitmap = this.extended ? u64be(table, eo + 8) : 0n;
      const at: Where = { structure: active ? 'L2 table' : 'snapshot L2 table', field: `entry ${i} (L1 entry ${l1Index})`, offset: l2Offset + eo, length: this.entrySize };
      const compressed = (raw & OFLAG_COMPRESSED) !== 0n;
      if (!compressed && (raw & L2E_STD_RESERVED_MASK)) {
        report.corruptions++;
        this.sink.add({ ...at, length: 8, id: 'l2.reserved-bits', severity: 'error', found: hex(raw, 16), expected: `reserved bits ${hex(L2E_STD_RESERVED_MASK, 16)} clear`, message: `L2 entry ${i} has reserved bits set (${hex(raw & L2E_STD_RESERVED_MASK)})`, fix: 'clear the reserved bits (the mapping is kept)' });
        if (active) this.reservedFixes.push({ offset: at.offset, old: raw, value: raw & ~L2E_STD_RESERVED_MASK, why: `clear reserved bits of L2 entry ${i} in the table at ${hex(l2Offset)}` });
      }
      const guest = (l1Index * this.l2Entries + i) * cs;
      if (compressed) {
        if (raw & OFLAG_COPIED) {
          report.corruptions++;
          this.sink.add({ ...at, length: 8, id: 'l2.compressed-copied', severity: 'error', found: 'bit 63 (copied) set on a compressed cluster', expected: 'bit 63 clear', message: `compressed L2 entry ${i} has the copied flag set, which compressed clusters never have`, fix: 'clear bit 63' });
          if (active) this.copiedFixes.push({ offset: at.offset, old: raw, value: raw & ~OFLAG_COPIED, why: `clear the copied flag of compressed L2 entry ${i}` });
        }
        if (bitmap !== 0n) {
          report.corruptions++;
          this.sink.add({ ...at, id: 'l2.compressed-bitmap', severity: 'error', found: hex(bitmap, 16), expected: '0 for a compressed cluster', message: `compressed L2 entry ${i} has a non-zero subcluster bitmap`, fix: 'none: the entry is ambiguous' });
          continue;
        }
        const e = decodeL2Entry(raw & ~OFLAG_COPIED, this.cb, this.extended);
        if (e.hostOffset < cs && e.hostOffset + e.compressedSize > 0) {
          this.sink.add({ ...at, length: 8, id: 'l2.compressed-in-header', severity: 'error', found: `${hex(e.hostOffset)} + ${e.compressedSize} bytes`, expected: `compressed data past the header cluster (>= ${cs})`, message: `compressed L2 entry ${i} points into the header cluster`, fix: 'none: the compressed data is lost' });
        }
        this.ref(e.hostOffset, e.compressedSize, RefKind.Compressed, { ...at, length: 8 });
        if (active) {
          report['allocated-clusters']++;
          report['compressed-clusters']++;
          report['fragmented-clusters']++;
          this.zoneDataCheck(guest, at);
        }
        continue;
      }
      const zeroFlag = !this.extended && (raw & OFLAG_ZERO) !== 0n;
      const off = Number(raw & L2E_OFFSET_MASK);
      if (off === 0) {
        // unallocated or plain zero
        if (this.extended && (bitmap & 0xffff_ffffn) !== 0n) {
          report.corruptions++;
          this.sink.add({ ...at, id: 'l2.unallocated-bitmap', severity: 'error', found: hex(bitmap, 16), expected: 'no allocated subclusters in an unallocated cluster', message: `unallocated L2 entry ${i} marks subclusters allocated`, fix: 'none: the data location is unknown' });
        }
        continue;
      }
      // normal or zero-alloc
      if (this.extended && ((bitmap >> 32n) & bitmap) !== 0n) {
        report.corruptions++;
        this.sink.add({ ...at, id: 'l2.subcluster-bitmap', severity: 'error', found: hex(bitmap, 16), expected: 'no subcluster both allocated and zero', message: `L2 entry ${i} marks subclusters both allocated and reads-as-zero`, fix: 'none: which half is right cannot be told' });
      }
      if (off % cs !== 0) {
        report.corruptions++;
        this.sink.add({ ...at, length: 8, id: 'l2.unaligned', severity: 'error', found: hex(off), expected: `a multiple of the cluster size ${cs}`, message: `L2 entry ${i} points to a data cluster at ${hex(off)}, not cluster aligned`, fix: zeroFlag ? 'make the entry a plain zero cluster (it reads as zeros anyway)' : 'none: the data location is unknown' });
      }
      if (active) {
        report['allocated-clusters']++;
        if (nextContiguous && off !== nextContiguous) report['fragmented-clusters']++;
        nextContiguous = off + cs;
        if (!zeroFlag) this.zoneDataCheck(guest, at);
      }
      this.ref(off, cs, RefKind.Data, { ...at, length: 8 });
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Snapshots (qcow2_check_read_snapshot_table + the loop in calculate_refcounts)

  private async walkSnapshots(): Promise<void> {
    const { h, report, sink } = this;
    if (h.nbSnapshots === 0) {
      return;
    }
    if (h.nbSnapshots > MAX_SNAPSHOTS) {
      report.corruptions++;
      report['check-errors']++;
      report.complete = false;
      return;
    }
    if (h.snapshotsOffset % this.cs !== 0) {
      report['check-errors']++;
      report.complete = false;
      return;
    }
    let off = h.snapshotsOffset;
    const entries: { l1Offset: number; l1Size: number; id: string; at: number }[] = [];
    for (let i = 0; i < h.nbSnapshots; i++) {
      off = Math.ceil(off / 8) * 8;
      const hdr = await readPadded(this.src, off, 40);
      const l1Offset = u64beNum(hdr, 0);
      const l1Size = u32be(hdr, 8);
      const idLen = u16be(hdr, 12);
      const nameLen = u16be(hdr, 14);
      const extra = u32be(hdr, 36);
      const at = off;
      if (extra > 1024) {
        // QEMU (check without -r) cannot read such a table and abandons the check.
        report['check-errors']++;
        report.complete = false;
        sink.add({ id: 'snapshot.extra-data-size', severity: 'error', structure: 'snapshot table', field: `entry ${i} extra_data_size`, offset: at + 36, length: 4, found: String(extra), expected: '<= 1024', message: `snapshot table entry ${i} claims ${extra} bytes of extra data, more than QEMU accepts: the snapshot table cannot be read`, fix: 'none in place: the entry must be rewritten with the extra data cut to 1024 bytes (qemu-img check -r all does)' });
        return;
      }
      if (h.version >= 3 && extra < 16) {
        report.corruptions++;
        sink.add({ id: 'snapshot.incomplete', severity: 'error', structure: 'snapshot table', field: `entry ${i} extra_data_size`, offset: at + 36, length: 4, found: String(extra), expected: '>= 16 in a version 3 image', message: `snapshot table entry ${i} lacks the 16 bytes of extra data every version 3 entry has`, fix: 'none in place: the table must be rewritten with larger entries' });
      }
      const idBytes = await this.src.read(at + 40 + extra, Math.min(idLen, 64));
      const id = String.fromCharCode(...idBytes);
      off = at + 40 + u32be(hdr, 36) + idLen + nameLen;
      entries.push({ l1Offset, l1Size, id, at });
    }
    const size = off - h.snapshotsOffset;
    for (const [i, sn] of entries.entries()) {
      const at: Where = { structure: 'snapshot table', field: `entry ${i} (id ${sn.id}) l1_table_offset`, offset: sn.at, length: 8 };
      if (sn.l1Offset % this.cs !== 0) {
        report.corruptions++;
        sink.add({ ...at, id: 'snapshot.l1-unaligned', severity: 'error', found: hex(sn.l1Offset), expected: `a multiple of the cluster size ${this.cs}`, message: `snapshot ${sn.id}'s L1 table offset ${hex(sn.l1Offset)} is not cluster aligned`, fix: 'none: delete the snapshot' });
        continue;
      }
      if (sn.l1Size > MAX_L1_BYTES / 8) {
        report.corruptions++;
        sink.add({ ...at, field: `entry ${i} l1_size`, offset: sn.at + 8, length: 4, id: 'snapshot.l1-too-large', severity: 'error', found: String(sn.l1Size), expected: `<= ${MAX_L1_BYTES / 8}`, message: `snapshot ${sn.id}'s L1 table of ${sn.l1Size} entries is larger than QEMU allows`, fix: 'none: delete the snapshot' });
        continue;
      }
      await this.walkL1(sn.l1Offset, sn.l1Size, false, at);
      this.progress('snapshots', i + 1, entries.length);
    }
    this.ref(h.snapshotsOffset, size, RefKind.SnapshotTable, { structure: 'header', field: 'snapshots_offset', offset: 64, length: 8 });
  }

  // -------------------------------------------------------------------------------------------------
  // Bitmaps (qcow2_check_bitmaps_refcounts)

  private async walkBitmaps(): Promise<void> {
    const { img, report, sink, cs } = this;
    const b = img.extensions.bitmaps;
    if (!b || b.nbBitmaps === 0 || ((this.h.autoclearFeatures & 1n) === 0n)) return;
    const ext = img.extensions.extensions.find((x) => x.content.kind === 'bitmaps');
    const where: Where = { structure: 'bitmaps extension', field: 'bitmap_directory_offset', offset: (ext?.dataOffset ?? 0) + 16, length: 8 };
    this.ref(b.bitmapDirectoryOffset, b.bitmapDirectorySize, RefKind.BitmapDirectory, where);
    if (b.bitmapDirectorySize > 64 * 1024 * 1024 || b.bitmapDirectoryOffset + b.bitmapDirectorySize > this.fileSize + cs) return;
    const dir = await readPadded(this.src, b.bitmapDirectoryOffset, b.bitmapDirectorySize);
    let p = 0;
    for (let i = 0; i < b.nbBitmaps; i++) {
      if (p + 24 > dir.length) {
        report.corruptions++;
        report['check-errors']++;
        sink.add({ ...where, id: 'bitmaps.directory-short', severity: 'error', found: `${b.bitmapDirectorySize} bytes for ${b.nbBitmaps} bitmaps`, expected: 'a directory holding every entry', message: `the bitmap directory ends inside entry ${i}`, fix: 'none' });
        return;
      }
      const tableOffset = u64beNum(dir, p);
      const tableSize = u32be(dir, p + 8);
      const nameLen = u16be(dir, p + 18);
      const extra = u32be(dir, p + 20);
      const at: Where = { structure: 'bitmap directory', field: `entry ${i} bitmap_table_offset`, offset: b.bitmapDirectoryOffset + p, length: 8 };
      if (tableOffset % cs !== 0 || tableSize > 0x8000000 / 8) {
        report.corruptions++;
        report['check-errors']++;
        sink.add({ ...at, id: 'bitmaps.table-invalid', severity: 'error', found: `offset ${hex(tableOffset)}, ${tableSize} entries`, expected: 'a cluster-aligned table of at most 16 Mi entries', message: `bitmap ${i}'s table is not usable`, fix: 'none: remove the bitmap' });
        return;
      }
      this.ref(tableOffset, tableSize * 8, RefKind.BitmapTable, at);
      for (let base = 0; base < tableSize; base += L1_CHUNK) {
        if (tableOffset + base * 8 >= this.fileSize) break;
        const n = Math.min(L1_CHUNK, tableSize - base);
        const t = await readPadded(this.src, tableOffset + base * 8, n * 8);
        for (let j = 0; j < n; j++) {
          const e = u64be(t, j * 8);
          const off = Number(e & 0x00ff_ffff_ffff_fe00n);
          const bad = (e & 0xff00_0000_0000_01fen) !== 0n || (off !== 0 && ((e & 1n) !== 0n || off % cs !== 0));
          const eat: Where = { structure: 'bitmap table', field: `bitmap ${i} entry ${base + j}`, offset: tableOffset + (base + j) * 8, length: 8 };
          if (bad) {
            report.corruptions++;
            sink.add({ ...eat, id: 'bitmaps.entry-invalid', severity: 'error', found: hex(e, 16), expected: 'reserved bits clear and a cluster-aligned offset', message: `bitmap ${i} table entry ${base + j} is invalid`, fix: 'none: remove the bitmap' });
            continue;
          }
          if (off !== 0) this.ref(off, cs, RefKind.BitmapData, eat);
        }
      }
      p += 24 + extra + nameLen;
      p = Math.ceil(p / 8) * 8;
      this.progress('bitmaps', i + 1, b.nbBitmaps);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Refcount structures (check_refblocks, compare_refcounts)

  private async checkRefblocks(): Promise<void> {
    const { h, cs, report, sink } = this;
    const entries = Math.min(h.refcountTableClusters * cs, 8 * 1024 * 1024) / 8;
    this.reftable = new Float64Array(entries);
    this.badBlock = new Uint8Array(entries);
    const bytes = await readPadded(this.src, h.refcountTableOffset, entries * 8);
    for (let i = 0; i < entries; i++) {
      const raw = u64be(bytes, i * 8);
      const at: Where = { structure: 'refcount table', field: `entry ${i}`, offset: h.refcountTableOffset + i * 8, length: 8 };
      const off = Number(raw & REFT_OFFSET_MASK);
      if ((raw & 0x1ffn) !== 0n || off % cs !== 0) {
        report.corruptions++;
        this.rebuild = true;
        this.reftable[i] = -1;
        this.badBlock[i] = 1;
        sink.add({ ...at, id: 'reftable.unaligned', severity: 'error', found: hex(raw, 16), expected: 'a cluster-aligned refcount block offset, reserved bits clear', message: `refcount table entry ${i} does not point to a cluster-aligned refcount block`, fix: 'rebuild the refcount structures (check -r all)' });
        continue;
      }
      this.reftable[i] = off;
      if (off === 0) continue;
      const cluster = off / cs;
      if (cluster >= this.refs.length) {
        report.corruptions++;
        this.rebuild = true;
        this.reftable[i] = -1;
        sink.add({ ...at, id: 'reftable.past-eof', severity: 'error', found: hex(off), expected: `below the file size ${this.fileSize}`, message: `refcount block ${i} at ${hex(off)} lies outside the image`, fix: 'rebuild the refcount structures (check -r all)' });
        continue;
      }
      this.ref(off, cs, RefKind.RefcountBlock, at);
      const n = this.refs.get(cluster);
      if (n !== 1) {
        report.corruptions++;
        this.rebuild = true;
        sink.add({ ...at, id: 'reftable.block-shared', severity: 'error', found: `refcount block referenced ${n} times`, expected: 'exactly once', message: `refcount block ${i} at ${hex(off)} is also used by other structures (${n} references)`, fix: 'rebuild the refcount structures (check -r all)' });
      }
    }
  }

  /** Returns the highest cluster with a stored or computed reference. */
  private async compareRefcounts(): Promise<number> {
    const { h, cs, report, sink } = this;
    const order = h.refcountOrder;
    const per = refcountsPerBlock(cs, order);
    const len = this.refs.length;
    const widthBytes = Math.max(1, (1 << order) / 8);
    this.storedOne = new Uint8Array(Math.ceil(len / 8));
    let highest = 0;
    const blocks = Math.ceil(len / per);
    for (let r = 0; r < blocks; r++) {
      this.progress('refcounts', r, blocks);
      const first = r * per;
      const last = Math.min(len, first + per);
      const blockOff = r < this.reftable.length ? this.reftable[r] : 0;
      if (r < this.badBlock.length && this.badBlock[r]) {
        // qcow2_get_refcount fails for every cluster this block covers.
        report['check-errors'] += last - first;
        continue;
      }
      const block = blockOff > 0 ? await readPadded(this.src, blockOff, cs) : null;
      for (let k = first; k < last; k++) {
        const stored = block ? getRefcount(block, k - first, order) : 0;
        const computed = this.refs.get(k);
        if (stored > 0 || computed > 0) highest = k;
        if (stored === 1) this.storedOne[k >> 3] |= 1 << (k & 7);
        if (stored === computed) continue;
        this.mismatches.push({ cluster: k, stored, computed });
        const at: Where = block
          ? { structure: 'refcount block', field: `refcount of cluster ${k}`, offset: blockOff + Math.floor(((k - first) * (1 << order)) / 8), length: widthBytes }
          : { structure: 'refcount table', field: `entry ${r} (no refcount block)`, offset: h.refcountTableOffset + r * 8, length: 8 };
        if (stored === 0) this.rebuild = true;
        const what = REF_KIND_NAMES[(this.refs.kinds[k] & ~CLAIMED) as RefKind];
        if (stored < computed) {
          report.corruptions++;
          sink.add({ ...at, id: 'refcount.too-low', severity: 'error', found: `refcount ${stored}`, expected: `${computed} (references found)`, message: `cluster ${k} (${hex(k * cs)}, ${what}) has refcount ${stored} but ${computed} reference(s): writing to the image could overwrite live data`, fix: stored === 0 && !block ? 'rebuild the refcount structures (check -r all)' : `set the refcount to ${computed} (check -r all)` });
        } else {
          report.leaks++;
          sink.add({ ...at, id: 'refcount.leak', severity: 'warning', found: `refcount ${stored}`, expected: `${computed} (references found)`, message: `cluster ${k} (${hex(k * cs)}) has refcount ${stored} but ${computed} reference(s): ${computed === 0 ? 'leaked space' : 'a refcount too high'}`, fix: `set the refcount to ${computed} (check -r leaks)` });
        }
      }
    }
    this.progress('refcounts', blocks, blocks);
    return highest;
  }

  /** Stored refcount is 1 (true), something else (false), or unreadable (null). */
  private storedIsOne(k: number): boolean | null {
    const per = refcountsPerBlock(this.cs, this.h.refcountOrder);
    const r = Math.floor(k / per);
    if (r < this.badBlock.length && this.badBlock[r]) return null;
    if (k >= this.refs.length) return false;
    return (this.storedOne[k >> 3] & (1 << (k & 7))) !== 0;
  }

  // -------------------------------------------------------------------------------------------------
  // OFLAG_COPIED (check_oflag_copied): active tables only, against the stored refcounts

  private async checkCopied(): Promise<void> {
    const { h, cs, report, sink } = this;
    if (h.l1Size * 8 > MAX_L1_BYTES) return;
    for (let base = 0; base < h.l1Size; base += L1_CHUNK) {
      if (h.l1TableOffset + base * 8 >= this.fileSize) break;
      const n = Math.min(L1_CHUNK, h.l1Size - base);
      const l1 = await readPadded(this.src, h.l1TableOffset + base * 8, n * 8);
      for (let j = 0; j < n; j++) {
        const i = base + j;
        const raw = u64be(l1, j * 8);
        const l2Offset = Number(raw & L1E_OFFSET_MASK);
        if (!l2Offset) continue;
        this.progress('copied flags', i, h.l1Size);
        const k = Math.floor(l2Offset / cs);
        const copied = (raw & OFLAG_COPIED) !== 0n;
        const one = this.storedIsOne(k);
        const at: Where = { structure: 'active L1 table', field: `entry ${i}`, offset: h.l1TableOffset + i * 8, length: 8 };
        if (one !== null && one !== copied) {
          report.corruptions++;
          this.copiedCorruptions++;
          sink.add({ ...at, id: 'l1.copied', severity: 'error', found: `copied flag ${copied ? 'set' : 'clear'}, refcount ${one ? '1' : 'not 1'}`, expected: `copied flag ${one ? 'set' : 'clear'} (set exactly when the refcount is 1)`, message: `L1 entry ${i}: OFLAG_COPIED disagrees with the L2 table's refcount`, fix: 'set the flag from the refcount (check -r all)' });
        }
        const want = this.refs.get(k) === 1;
        if (want !== copied) this.copiedFixes.push({ offset: at.offset, old: raw, value: want ? raw | OFLAG_COPIED : raw & ~OFLAG_COPIED, why: `${want ? 'set' : 'clear'} OFLAG_COPIED of L1 entry ${i}` });
        if (l2Offset >= this.fileSize || !this.takeL2Budget()) continue;
        const table = await readPadded(this.src, l2Offset, cs);
        for (let e = 0; e < this.l2Entries; e++) {
          const eo = e * this.entrySize;
          if (u32be(table, eo) === 0 && u32be(table, eo + 4) === 0) continue;
          const l2 = u64be(table, eo);
          if ((l2 & OFLAG_COMPRESSED) !== 0n) continue;
          const zeroPlainOrUnalloc = (l2 & L2E_OFFSET_MASK) === 0n;
          if (zeroPlainOrUnalloc) continue;
          const dk = Math.floor(Number(l2 & L2E_OFFSET_MASK) / cs);
          const dCopied = (l2 & OFLAG_COPIED) !== 0n;
          const dOne = this.storedIsOne(dk);
          const eat: Where = { structure: 'L2 table', field: `entry ${e} (L1 entry ${i})`, offset: l2Offset + eo, length: 8 };
          if (dOne !== null && dOne !== dCopied) {
            report.corruptions++;
            this.copiedCorruptions++;
            sink.add({ ...eat, id: 'l2.copied', severity: 'error', found: `copied flag ${dCopied ? 'set' : 'clear'}, refcount ${dOne ? '1' : 'not 1'}`, expected: `copied flag ${dOne ? 'set' : 'clear'} (set exactly when the refcount is 1)`, message: `L2 entry ${e} of the table at ${hex(l2Offset)}: OFLAG_COPIED disagrees with the data cluster's refcount`, fix: 'set the flag from the refcount (check -r all)' });
          }
          const dWant = dk < this.refs.length && this.refs.get(dk) === 1;
          if (dWant !== dCopied) this.copiedFixes.push({ offset: eat.offset, old: l2, value: dWant ? l2 | OFLAG_COPIED : l2 & ~OFLAG_COPIED, why: `${dWant ? 'set' : 'clear'} OFLAG_COPIED of L2 entry ${e} in the table at ${hex(l2Offset)}` });
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Zones (ZONED-FORMAT.md section 8 item 8)

  private async readZones(): Promise<void> {
    const z = this.img.zoned;
    if (!z) return;
    this.sink.addAll(zonedLimitFindings(z, this.cs));
    const geo = zoneGeometry(z, this.h.size);
    if (!geo.geometry || 8 * geo.geometry.count > this.fileSize) {
      // The array cannot be in the file: report where it should be, never table more zones than bytes.
      this.sink.addAll(geo.findings);
      this.sink.addAll(zonedmetaPlacementFindings(z, this.cs, this.fileSize));
      return;
    }
    try {
      const res = await readZonedmeta(this.src, z, this.h.size, this.cs, this.fileSize);
      this.sink.addAll(res.findings);
      this.zones = res.table;
    } catch (e) {
      if (!(e instanceof Qcow2Error)) throw e;
      if (e.finding) this.sink.add(e.finding);
    }
    this.progress('zones', 1, 1);
  }

  private zoneDataCheck(guest: number, at: Where): void {
    const t = this.zones;
    if (!t || t.zoneSize <= 0) return;
    const i = Math.floor(guest / t.zoneSize);
    if (i >= t.count || i < t.conventionalZones) return;
    const wp = t.wp[i];
    if (guest >= wp && guest < (i + 1) * t.zoneSize) {
      this.sink.add({ ...at, length: 8, id: 'zoned.data-beyond-wp', severity: 'warning', found: `data cluster at guest offset ${hex(guest)}`, expected: `no data at or past zone ${i}'s write pointer ${hex(wp)}`, message: `zone ${i} has data allocated at guest ${hex(guest)}, at or beyond its write pointer ${hex(wp)}: a write pointer that lags the data (pre-v8 crash) or stale data`, fix: 'none: either the write pointer or the data is stale; reset the zone to discard the data' });
    }
  }
}
