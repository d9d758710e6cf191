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
import { REF_KIND_NAMES, REF_PAGE_BITS, RefCounts, RefKind, sharingIsNormal } from './check-refs';
import { PagedBits } from './paged-bits';
import {
  decodeL2Entry, getRefcount, L1E_OFFSET_MASK, L1E_RESERVED_MASK, L2E_OFFSET_MASK, L2E_STD_RESERVED_MASK, maxRefcount,
  OFLAG_COMPRESSED, OFLAG_COPIED, refcountsPerBlock, REFT_OFFSET_MASK,
} from './entries';
import { finding, Qcow2Error, type Finding, type FindingInput } from './findings';
import { decodeHeader, MAX_L1_BYTES } from './header';
import { openImage, type OpenedImage } from './image';
import type { ZoneTable } from './zone-table';
import { zonedLimitFindings } from './zoned-info';
import { readZonedmeta, zonedmetaPlacementFindings, zoneGeometry } from './zonedmeta';
import type { WalkVisitor } from './walk-visitor';

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

/**
 * A table the check could not walk: it could not be located (unaligned, past the end of the file, inside
 * another structure, a size QEMU refuses) or read, or the walk of it stopped (work limit, refused size).
 */
export interface IncompleteWalk {
  /** What could not be walked: 'active L1 table', 'L2 table', 'snapshot table', 'refcount table'… */
  structure: string;
  /** Byte offset of the table, as the pointer to it says. */
  offset: number;
  /** Byte offset of that pointer (a header field, a table entry). */
  pointer: number;
  /** Why, as the end of a sentence whose subject is the table: "is not cluster aligned". */
  why: string;
  /**
   * 'references': the clusters this table references are unknown, so no cluster can be proven
   * unreferenced (no leak is claimed, no refcount may be lowered). 'refcounts': the stored refcounts
   * cannot be located, so none can be written in place (the references themselves are complete).
   */
  kind: 'references' | 'refcounts';
}

export interface CheckReport extends ImageCheck {
  /** False when the bytes cannot be read as qcow2 at all (bad magic, version, cluster size…). */
  openable: boolean;
  /** False when the metadata walk is incomplete (see incompleteWalks); counts are partial then. */
  complete: boolean;
  /** Every table the walk could not follow (at most MAX_INCOMPLETE_WALKS listed); empty when complete. */
  incompleteWalks: IncompleteWalk[];
  /**
   * Clusters whose stored refcount is above the references found while the reference walk is incomplete:
   * not proven unreferenced, so not counted in `leaks` (and never freed by a repair).
   */
  unverified: number;
  findings: Finding[];
}

/** incompleteWalks lists at most this many tables. */
export const MAX_INCOMPLETE_WALKS = 50;

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
  /** Told every reference, overlap and refcount mismatch of the walk (the layout map builds on it). */
  visitor?: WalkVisitor;
  /**
   * Resolve and try to open the backing file or the external data file the image names, as QEMU does when
   * it opens the image (the caller does the I/O: shared/ stays pure). Null when the name is not a local
   * path (a protocol).
   */
  probeBacking?: (name: string, kind: 'backing' | 'data-file') => Promise<BackingProbe | null>;
}

/** What opening the backing (or data) file gave. */
export interface BackingProbe {
  /**
   * The path QEMU opens: the name itself when absolute; else, for a backing file, resolved against the
   * image's directory, and for a data file against the working directory (QEMU 7.2 opens it as given).
   */
  path: string;
  /** Null when it opens; else the reason, as strerror says it ("No such file or directory"). */
  error: string | null;
}

export const DEFAULT_MAX_CLUSTERS = 1 << 26;
const DEFAULT_MAX_FINDINGS_PER_ID = 50;
/** L1 entries per read (512 KiB). */
const L1_CHUNK = 65536;
/** Flag in RefCounts.kinds: the header anchors this structure here, not yet referenced. */
const CLAIMED = 0x80;
/**
 * Bytes of tables (L2 tables, refcount blocks) read ahead at once: tables that lie next to each other in
 * the file are fetched in one read, the rest concurrently, so the walk does not wait on one small read
 * per table; the bound keeps memory flat whatever the image.
 */
const TABLE_BATCH_BYTES = 1024 * 1024;
/** 2^32, to build 64-bit entries from two u32 halves as exact numbers (no BigInt in the walk). */
const HI = 0x1_0000_0000;

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

/**
 * A source that can also read into a caller's buffer: the check then reuses one buffer for every batch
 * of tables instead of allocating (and page-faulting in) fresh memory per table.
 */
export interface ReadIntoSource extends ByteSource {
  /** Read up to dest.length bytes at `offset` into dest; returns the count read (short only at EOF). */
  readInto(offset: number, dest: Uint8Array): Promise<number>;
}

function canReadInto(src: ByteSource): src is ReadIntoSource {
  return typeof (src as Partial<ReadIntoSource>).readInto === 'function';
}

/**
 * Read the `len`-byte tables at `offsets` (any order, duplicates allowed) in few reads: sorted, tables
 * that touch or overlap are read as one run of at most TABLE_BATCH_BYTES. Bytes past EOF read as zero,
 * exactly as readPadded of each table alone would return them. With a `slab` (of TABLE_BATCH_BYTES,
 * for at most TABLE_BATCH_BYTES / len tables) and a ReadIntoSource the tables are views into the slab,
 * valid until the next call with the same slab.
 */
async function readTables(src: ByteSource, offsets: number[], len: number, slab: Uint8Array | null): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  if (offsets.length === 0) return out;
  const sorted = Float64Array.from(offsets).sort();
  const runs: { start: number; end: number; members: number[] }[] = [];
  let run: { start: number; end: number; members: number[] } | null = null;
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    const off = sorted[i];
    if (run && run.members[run.members.length - 1] === off) continue;
    if (run && off <= run.end && off + len - run.start <= Math.max(TABLE_BATCH_BYTES, len)) {
      total += off + len - run.end;
      run.end = Math.max(run.end, off + len);
      run.members.push(off);
    } else {
      run = { start: off, end: off + len, members: [off] };
      runs.push(run);
      total += len;
    }
  }
  const into = slab && canReadInto(src) && total <= slab.length ? src : null;
  let at = 0;
  await Promise.all(runs.map(async (r) => {
    const size = r.end - r.start;
    let bytes: Uint8Array;
    if (into && slab) {
      bytes = slab.subarray(at, at + size);
      at += size;
      const n = await into.readInto(r.start, bytes);
      if (n < size) bytes.fill(0, Math.max(0, n));
    } else {
      bytes = await readPadded(src, r.start, size);
    }
    for (const m of r.members) out.set(m, bytes.subarray(m - r.start, m - r.start + len));
  }));
  return out;
}

/** Header decode alone, for images openImage refuses: which findings make the image unreadable. */
/**
 * The first entry from `i` on that does not continue a run of plain L2 entries whose entry before `i` is
 * hi:lo: each continuing entry has the same high word (flags included) and maps the next cluster. A run
 * ends where the low word would wrap past 4 GiB (the next entry starts a run of its own).
 */
function runEnd(dv: DataView, i: number, n: number, entrySize: number, hi: number, lo: number, cs: number): number {
  let want = lo;
  let j = i;
  for (; j < n; j++) {
    want = (want + cs) >>> 0;
    if (want === 0) break;
    const eo = j * entrySize;
    if (dv.getUint32(eo) !== hi || dv.getUint32(eo + 4) !== want) break;
  }
  return j;
}

function fatalHeaderFinding(fs: Finding[]): Finding | undefined {
  return fs.find((f) => f.severity === 'error' && (['header.magic', 'header.version', 'header.truncated', 'header.cluster_bits'].includes(f.id) ||
    (f.id === 'header.header_length' && f.expected.startsWith('>='))));
}

export async function checkImage(source: ByteSource, options: CheckOptions = {}): Promise<CheckReport> {
  return (await analyzeImage(source, options)).report;
}

/** The check plus the model repair plans from. */
export async function analyzeImage(source: ByteSource, options: CheckOptions = {}): Promise<CheckAnalysis> {
  const report: CheckReport = { ...emptyCounts(source.name), openable: true, complete: true, incompleteWalks: [], unverified: 0, findings: [] };
  const sink = new FindingSink(report.findings, options.maxFindingsPerId ?? DEFAULT_MAX_FINDINGS_PER_ID);
  const fileSize = await source.size();
  const head = await source.read(0, 4096);
  const decoded = decodeHeader(head, fileSize);
  if (!decoded.header || fatalHeaderFinding(decoded.findings)) {
    report.openable = false;
    report.complete = false;
    const f = fatalHeaderFinding(decoded.findings) ?? decoded.findings.find((x) => x.severity === 'error');
    report.incompleteWalks.push({ structure: 'header', offset: 0, pointer: f?.offset ?? 0, why: `cannot be read as qcow2 (${f?.message ?? 'no header'})`, kind: 'references' });
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
    report.incompleteWalks.push({ structure: 'header', offset: 0, pointer: e.finding?.offset ?? 0, why: `cannot be read as qcow2 (${e.finding?.message ?? e.message})`, kind: 'references' });
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

/** Which finding l2Cold reports. */
const enum L2Cold {
  Reserved,
  UnallocatedBitmap,
  SubclusterBitmap,
  Unaligned,
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
  private readonly v2: boolean;
  private readonly entrySize: number;
  private readonly l2Entries: number;
  private readonly refMax: number;
  private refs!: RefCounts;
  private reftable = new Float64Array(0);
  /** Refcount table entries with reserved bits set: the block their masked offset names (read, never trusted). */
  private readonly maskedBlocks = new Map<number, number>();
  private rebuild = false;
  private readonly mismatches: RefcountMismatch[] = [];
  private readonly copiedFixes: EntryFix[] = [];
  private readonly reservedFixes: EntryFix[] = [];
  private zones: ZoneTable | null = null;
  private copiedCorruptions = 0;
  private l2Budget = -1;
  private budgetReported = false;
  /** The OFLAG_COPIED pass's own budget: it reads a subset of what the walk read. */
  private copiedBudget = -1;
  /** Set by compareRefcounts: the reference walk missed a table, so no mismatch is a proven leak. */
  private refsIncomplete = false;
  private overlapsSeen = new Set<number>();
  /** Clusters holding an L2 table that could not be located where its L1 entry says (see trustedFixes). */
  private untrustedTables = new Set<number>();
  /** Clusters whose stored refcount is exactly 1 (bitset), and refcount blocks that cannot be read. */
  private storedOne = new PagedBits(0);
  private badBlock = new Uint8Array(0);
  /**
   * Data clusters that active L2 entries reference with OFLAG_COPIED set / clear (bitsets over the
   * file's clusters), gathered during the walk: when every one agrees with the refcounts, the
   * OFLAG_COPIED pass need not read the active L2 tables a second time. `copiedOutOfRange` says an entry
   * pointed beyond the bitsets, and the second pass must then read the tables.
   */
  private copiedSet = new PagedBits(0);
  private copiedClear = new PagedBits(0);
  private copiedOutOfRange = false;
  /** The refcount table as read once for claimAnchored (checkRefblocks reuses it). */
  private reftableBytes: Uint8Array | null = null;
  /** Tables per read-ahead batch. */
  private readonly batchTables: number;
  /** Clusters that start inside the file: an aligned offset is below the file size iff its index is. */
  private readonly fileClusters: number;
  private slabBytes: Uint8Array | null = null;
  private readonly visitor: WalkVisitor | undefined;

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
    this.v2 = img.header.version < 3;
    this.entrySize = this.extended ? 16 : 8;
    this.l2Entries = this.cs / this.entrySize;
    this.refMax = img.header.refcountOrder <= 6 ? maxRefcount(img.header.refcountOrder) : 0;
    this.batchTables = Math.max(1, Math.floor(TABLE_BATCH_BYTES / this.cs));
    this.fileClusters = Math.ceil(img.fileSize / this.cs);
    this.visitor = opts.visitor;
  }

  /** The buffer batches of tables are read into (allocated once, on first use; only for a ReadIntoSource). */
  private get slab(): Uint8Array | null {
    if (!canReadInto(this.src)) return null;
    this.slabBytes ??= new Uint8Array(Math.max(TABLE_BATCH_BYTES, this.cs));
    return this.slabBytes;
  }

  private progress(phase: CheckPhase, done: number, total: number): void {
    if (this.opts.signal?.aborted) throw new CheckCancelledError();
    this.opts.onProgress?.({ phase, done, total });
  }

  async run(): Promise<CheckModel | null> {
    const { img, report, sink, h, cs } = this;
    sink.addAll(img.findings);
    sink.addAll(headerConsistencyFindings(img));
    await this.probeBacking();
    this.progress('header', 1, 1);
    report['total-clusters'] = Math.ceil(h.size / cs);

    if (h.refcountOrder > 6) {
      this.incomplete({ structure: 'refcount structures', offset: h.refcountTableOffset, pointer: 96, why: `cannot be read: refcount_order ${h.refcountOrder} is out of range`, kind: 'references' }, true);
      return null;
    }
    const nbClusters = Math.ceil(this.fileSize / cs);
    const maxClusters = this.opts.maxClusters ?? DEFAULT_MAX_CLUSTERS;
    if (nbClusters > maxClusters) {
      sink.add({ id: 'check.too-large', severity: 'error', structure: 'file', field: 'size', offset: 0, length: 0, found: `${nbClusters} clusters (${this.fileSize} bytes)`, expected: `<= ${maxClusters} clusters`, message: `the file has ${nbClusters} clusters, more than this check keeps in memory (${maxClusters}); metadata was not checked`, fix: 'none: check with a larger cluster limit' });
      this.incomplete({ structure: 'file', offset: 0, pointer: 0, why: `has ${nbClusters} clusters, more than this check keeps in memory (${maxClusters}): nothing was walked`, kind: 'references' }, true);
      return null;
    }
    // A region may end less than a cluster past EOF (QEMU tolerates a half-written last cluster).
    this.refs = new RefCounts(nbClusters, nbClusters + 1);
    this.copiedSet = new PagedBits(nbClusters + 1);
    this.copiedClear = new PagedBits(nbClusters + 1);

    if (img.zoned) await this.readZones();
    await this.claimAnchored();

    // header
    this.ref(0, cs, RefKind.Header, { structure: 'header', field: 'cluster 0', offset: 0, length: cs });
    // active L1 and everything below it (not at all when it cannot be located: QEMU refuses such an image)
    if (this.activeL1Locatable()) await this.walkL1(h.l1TableOffset, h.l1Size, true, { structure: 'header', field: 'l1_table_offset', offset: 40, length: 8 });
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
    this.incompleteFinding();
    report['image-end-offset'] = (highest + 1) * cs;
    return {
      image: img, clusterSize: cs, refcountOrder: h.refcountOrder, refs: this.refs, reftable: this.reftable,
      mismatches: this.mismatches, rebuild: this.rebuild, copiedFixes: this.trustedFixes(this.copiedFixes), reservedFixes: this.trustedFixes(this.reservedFixes), zones: this.zones,
      copiedCorruptions: this.copiedCorruptions,
    };
  }

  /** bdrv_open_backing_file: QEMU opens the backing file with the image, and refuses the image without it. */
  private async probeBacking(): Promise<void> {
    await this.probeDataFile();
    const name = this.img.extensions.backingFile;
    if (name === null || !this.opts.probeBacking) return;
    const probe = await this.opts.probeBacking(name, 'backing');
    if (!probe || probe.error === null) return;
    const h = this.h;
    const where = probe.path === name ? `"${name}"` : `"${name}" (${probe.path})`;
    this.sink.add({
      id: 'backing.missing', severity: 'error', structure: 'backing file name', field: 'name', offset: h.backingFileOffset, length: h.backingFileSize,
      found: `${where}: ${probe.error}`, expected: 'a backing file that opens (a relative name is resolved against the image\'s directory)',
      message: `the backing file ${where} cannot be opened (${probe.error}): QEMU refuses the image ("Could not open backing file: Could not open '${probe.path}': ${probe.error}")`,
      fix: `none in place: put the backing file at ${probe.path}, or name another one with qemu-img rebase -u -b FILE`,
    });
  }

  /** qcow2_do_open opens the external data file (incompatible bit 2) and refuses the image without it. */
  private async probeDataFile(): Promise<void> {
    const name = this.img.extensions.dataFile;
    if (name === null || ((this.h.incompatibleFeatures >> 2n) & 1n) !== 1n || !this.opts.probeBacking) return;
    const probe = await this.opts.probeBacking(name, 'data-file');
    if (!probe || probe.error === null) return;
    const e = this.img.extensions.extensions.find((x) => x.content.kind === 'data-file');
    this.sink.add({
      id: 'data-file.missing', severity: 'error', structure: 'external data file name extension', field: 'name', offset: e?.dataOffset ?? 72, length: e?.length ?? 8,
      found: `"${name}" (${probe.path}): ${probe.error}`, expected: 'an external data file that opens (QEMU 7.2 resolves a relative name against the working directory, not the image\'s)',
      message: `the external data file "${name}" (${probe.path}) cannot be opened (${probe.error}): QEMU refuses the image ("Could not open '${name}': ${probe.error}"); the guest data is in that file`,
      fix: `none in place: put the data file at ${probe.path}, run QEMU from the directory it is relative to, or name it again with qemu-img amend -o data-file=FILE`,
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Walk completeness

  /**
   * Record a table the walk could not follow. `checkError`: QEMU could not check the image at all here
   * (it refuses to open it, or its check fails), so this counts as a check error, as qemu-img's exit 1.
   */
  private incomplete(w: IncompleteWalk, checkError = false): void {
    this.report.complete = false;
    if (checkError) this.report['check-errors']++;
    if (this.report.incompleteWalks.length < MAX_INCOMPLETE_WALKS) this.report.incompleteWalks.push(w);
  }

  /**
   * The header's active L1 table as QEMU's qcow2_do_open judges it: unaligned, larger than QEMU
   * accepts, or too small for the virtual size, QEMU refuses the image; the walk is incomplete then
   * (the entries of an L1 that is too small cannot be known). False when it cannot be located at all.
   */
  private activeL1Locatable(): boolean {
    const { h, cs } = this;
    const at = { structure: 'active L1 table', offset: h.l1TableOffset, pointer: 40, kind: 'references' as const };
    if (h.l1TableOffset % cs !== 0) {
      this.incomplete({ ...at, why: 'is not cluster aligned' }, true);
      return false;
    }
    if (h.l1Size * 8 > MAX_L1_BYTES) {
      this.incomplete({ ...at, pointer: 36, why: `has ${h.l1Size} entries, more than QEMU accepts (${MAX_L1_BYTES / 8})` }, true);
    } else {
      const needL1 = Math.ceil(h.size / (cs * this.l2Entries));
      if (h.l1Size < needL1) this.incomplete({ ...at, pointer: 36, why: `has ${h.l1Size} entries, fewer than the virtual size needs (${needL1}): entries past ${h.l1Size} are unknown` }, true);
    }
    return true;
  }

  /** A read of table bytes that fails (an I/O error) makes the walk incomplete instead of ending the check. */
  private async tryRead<T>(what: () => Promise<T>, w: Omit<IncompleteWalk, 'why'>): Promise<T | null> {
    try {
      return await what();
    } catch (e) {
      if (e instanceof CheckCancelledError) throw e;
      this.incomplete({ ...w, why: `cannot be read (${(e as Error).message})` }, true);
      return null;
    }
  }

  /**
   * Entry fixes only where the table is known to be one: not in an L2 "table" whose L1 entry points into
   * another structure, off alignment or past the end (its entries may be header, refcount or guest
   * bytes), nor in a cluster two structures claim (which one is right cannot be told).
   */
  private trustedFixes(fixes: EntryFix[]): EntryFix[] {
    if (this.untrustedTables.size === 0 && this.overlapsSeen.size === 0) return fixes;
    return fixes.filter((f) => {
      const k = Math.floor(f.offset / this.cs);
      return !this.untrustedTables.has(k) && !this.overlapsSeen.has(k);
    });
  }

  /** One finding that says the walk is incomplete and what follows from it. */
  private incompleteFinding(): void {
    const ws = this.report.incompleteWalks;
    if (ws.length === 0) return;
    const first = ws[0];
    const more = ws.length > 1 ? ` (and ${ws.length - 1}${ws.length >= MAX_INCOMPLETE_WALKS ? ' or more' : ''} other table(s))` : '';
    const refs = ws.some((w) => w.kind === 'references');
    this.sink.add({
      id: 'check.walk-incomplete', severity: 'warning', structure: first.structure, field: 'offset', offset: first.pointer, length: 8,
      found: `the ${first.structure} at ${hex(first.offset)} ${first.why}${more}`, expected: 'every table located and read',
      message: refs
        ? `the reference walk is incomplete: the ${first.structure} at ${hex(first.offset)} ${first.why}${more}; ${this.report.unverified} cluster(s) with a refcount above the references found are unverified, not leaks`
        : `the stored refcounts cannot be located: the ${first.structure} at ${hex(first.offset)} ${first.why}${more}`,
      fix: refs ? 'none automatic: no repair lowers a refcount until every table can be walked; correct the pointer named here, then check again' : 'rebuild the refcount structures (check -r all)',
    });
  }

  // -------------------------------------------------------------------------------------------------
  // qcow2_inc_refcounts_imrt, plus overlap naming

  private ref(offset: number, size: number, kind: RefKind, where: Where): void {
    const { cs, report } = this;
    if (size <= 0) return;
    this.visitor?.reference(kind, offset, size, where.offset);
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
      const raw = this.refs.kind(k);
      const claimed = (raw & CLAIMED) !== 0;
      const prevKind = (raw & ~CLAIMED) as RefKind;
      const cur = this.refs.get(k);
      if (claimed && prevKind === kind) {
        this.refs.setKind(k, kind);
      } else if (prevKind !== RefKind.None && (claimed || cur > 0) && !sharingIsNormal(prevKind, kind) && !this.overlapsSeen.has(k)) {
        this.overlapsSeen.add(k);
        this.visitor?.overlap(k, prevKind, kind, where.offset);
        const meta = kind !== RefKind.Data && kind !== RefKind.Compressed;
        this.sink.add({ ...where, id: meta || (prevKind !== RefKind.Data && prevKind !== RefKind.Compressed) ? 'overlap.metadata' : 'overlap.data', severity: 'error', found: `cluster ${k} (${hex(k * cs)}) is already used as ${REF_KIND_NAMES[prevKind]}`, expected: `a cluster of its own for the ${REF_KIND_NAMES[kind]}`, message: `${REF_KIND_NAMES[kind]} at ${hex(offset)} overlaps the ${REF_KIND_NAMES[prevKind]} in cluster ${k}`, fix: 'none: two structures share the bytes; one of them is wrong and repair cannot tell which' });
      }
      if (prevKind === RefKind.None) this.refs.setKind(k, kind);
      if (cur === this.refMax) {
        report.corruptions++;
        this.sink.add({ ...where, id: 'refcount.overflow', severity: 'error', found: `more than ${this.refMax} references to cluster ${k}`, expected: `at most ${this.refMax} (refcount width ${1 << this.h.refcountOrder} bits)`, message: `cluster ${k} is referenced more often than a ${1 << this.h.refcountOrder}-bit refcount can count`, fix: 'none in place: widen refcounts with qemu-img amend -o refcount_bits=16' });
        continue;
      }
      this.refs.inc(k);
    }
  }

  /**
   * ref() of one whole aligned cluster in the common case (nothing to report): true when done; false,
   * with nothing changed, when ref() must handle it (overlap, overflow, past EOF, unaligned…).
   */
  private refCluster(offset: number, kind: RefKind): boolean {
    const cs = this.cs;
    if (offset % cs !== 0 || offset >= this.fileSize) return false;
    return this.refClusterAt(offset / cs, kind);
  }

  /** refCluster of the aligned cluster k (k * cs < file size, i.e. k < fileClusters, is checked here). */
  private refClusterAt(k: number, kind: RefKind): boolean {
    const refs = this.refs;
    if (k >= this.fileClusters || k >= refs.length) return false;
    const raw = refs.kind(k);
    const prev = raw & ~CLAIMED;
    if (raw !== prev) {
      if (prev !== kind) return false;
    } else if (prev !== RefKind.None && !sharingIsNormal(prev as RefKind, kind)) {
      return false;
    }
    if (!refs.tryInc(k, this.refMax)) return false;
    // A claim turns into the structure; an unclaimed cluster keeps the kind of its first reference.
    if (raw !== prev || prev === RefKind.None) refs.setKind(k, kind);
    return true;
  }

  /**
   * A valid image reads each L2 table once per L1 table that holds it, so (snapshots + 2) reads per
   * cluster of the file suffice twice over; garbage L1 tables pointing at the same clusters again and
   * again would otherwise make the check quadratic.
   */
  private takeL2Budget(pass: 'walk' | 'copied' = 'walk'): boolean {
    const initial = 2 * this.refs.capacity * (Math.min(this.h.nbSnapshots, MAX_SNAPSHOTS) + 2) + 64;
    if (pass === 'copied') {
      // Never runs out unless the walk's did (it reads the active L1's tables, a subset of the walk's);
      // after the walk stopped at its limit, the tables are garbage and are not read again.
      if (this.budgetReported) return false;
      if (this.copiedBudget < 0) this.copiedBudget = initial;
      if (this.copiedBudget === 0) return false;
      this.copiedBudget--;
      return true;
    }
    if (this.l2Budget < 0) this.l2Budget = initial;
    if (this.l2Budget === 0) {
      if (!this.budgetReported) {
        this.budgetReported = true;
        this.incomplete({ structure: 'L1 tables', offset: this.h.l1TableOffset, pointer: 40, why: 'point at the same clusters over and over: the walk stopped at its work limit', kind: 'references' }, true);
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
    for (let k = first; k <= last; k++) if (this.refs.kind(k) === RefKind.None) this.refs.setKind(k, kind | CLAIMED);
  }

  private async claimAnchored(): Promise<void> {
    const { h, cs, img } = this;
    this.claim(0, cs, RefKind.Header);
    if (h.l1Size * 8 <= MAX_L1_BYTES) this.claim(h.l1TableOffset, h.l1Size * 8, RefKind.ActiveL1);
    const rtBytes = Math.min(h.refcountTableClusters * cs, 8 * 1024 * 1024);
    this.claim(h.refcountTableOffset, rtBytes, RefKind.RefcountTable);
    const rtAt = { structure: 'refcount table', offset: h.refcountTableOffset, pointer: 48, kind: 'refcounts' as const };
    // QEMU refuses an image whose refcount table is not cluster aligned: its refcounts cannot be located.
    if (h.refcountTableOffset % cs !== 0) this.incomplete({ ...rtAt, why: 'is not cluster aligned' }, true);
    const rt = await this.tryRead(() => readPadded(this.src, h.refcountTableOffset, rtBytes), rtAt) ?? new Uint8Array(rtBytes);
    this.reftableBytes = rt;
    for (let i = 0; i < rtBytes / 8; i++) {
      const hi = u32be(rt, i * 8);
      const lo = u32be(rt, i * 8 + 4);
      if ((hi | lo) !== 0 && (lo & 0x1ff) === 0) this.claim(hi * HI + lo, cs, RefKind.RefcountBlock);
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
    const l1At = { structure: active ? 'active L1 table' : 'snapshot L1 table', offset: l1Offset, pointer: where.offset, kind: 'references' as const };
    // Entries past the end of the file read as zeros (as QEMU reads them), but what they held is unknown.
    if (l1Offset >= this.fileSize) this.incomplete({ ...l1At, why: 'lies past the end of the file' });
    else if (l1Offset + l1Size * 8 > this.fileSize) this.incomplete({ ...l1At, why: `runs past the end of the file (${this.fileSize} bytes)` });
    const l2Kind = active ? RefKind.ActiveL2 : RefKind.SnapshotL2;
    const l2Name = active ? 'L2 table' : 'snapshot L2 table';
    for (let base = 0; base < l1Size; base += L1_CHUNK) {
      if (l1Offset + base * 8 >= this.fileSize) break; // the rest reads as zeros: nothing allocated
      const n = Math.min(L1_CHUNK, l1Size - base);
      const bytes = await this.tryRead(() => readPadded(this.src, l1Offset + base * 8, n * 8), l1At);
      if (!bytes) continue;
      let j = 0;
      while (j < n) {
        // Read ahead the L2 tables of the next entries (reads have no side effects; the walk below
        // keeps QEMU's order and its budget, so a table read here may go unused).
        const wanted: number[] = [];
        let end = j;
        for (; end < n && wanted.length < this.batchTables; end++) {
          const l2Offset = (u32be(bytes, end * 8) & 0x00ff_ffff) * HI + ((u32be(bytes, end * 8 + 4) & 0xffff_fe00) >>> 0);
          if (l2Offset !== 0 && l2Offset < this.fileSize) wanted.push(l2Offset);
        }
        // A failed batch is read again table by table below, so that one unreadable table is named.
        const tables = await readTables(this.src, wanted, this.cs, this.slab).catch(() => new Map<number, Uint8Array>());
        for (; j < end; j++) {
          const i = base + j;
          const hi = u32be(bytes, j * 8);
          const lo = u32be(bytes, j * 8 + 4);
          if ((hi | lo) === 0) continue;
          const at: Where = { structure: active ? 'active L1 table' : 'snapshot L1 table', field: `entry ${i}`, offset: l1Offset + i * 8, length: 8 };
          if ((hi & 0x7f00_0000) !== 0 || (lo & 0x1ff) !== 0) {
            const raw = (BigInt(hi) << 32n) | BigInt(lo);
            this.report.corruptions++;
            this.sink.add({ ...at, id: 'l1.reserved-bits', severity: 'error', found: hex(raw, 16), expected: `reserved bits ${hex(L1E_RESERVED_MASK, 16)} clear`, message: `L1 entry ${i} has reserved bits set (${hex(raw & L1E_RESERVED_MASK)})`, fix: 'clear the reserved bits (the L2 offset is kept)' });
            if (active) this.reservedFixes.push({ offset: at.offset, old: raw, value: raw & ~L1E_RESERVED_MASK, why: `clear reserved bits of L1 entry ${i}` });
          }
          const l2Offset = (hi & 0x00ff_ffff) * HI + ((lo & 0xffff_fe00) >>> 0);
          const l2k = Math.floor(l2Offset / this.cs);
          const before = l2k < this.refs.capacity ? ((this.refs.kind(l2k) & ~CLAIMED) as RefKind) : RefKind.None;
          if (!this.refCluster(l2Offset, l2Kind)) this.ref(l2Offset, this.cs, l2Kind, at);
          else this.visitor?.reference(l2Kind, l2Offset, this.cs, at.offset);
          const l2At = { structure: l2Name, offset: l2Offset, pointer: at.offset, kind: 'references' as const };
          let located = false;
          if (l2Offset % this.cs !== 0) {
            this.report.corruptions++;
            this.sink.add({ ...at, id: 'l1.unaligned', severity: 'error', found: hex(l2Offset), expected: `a multiple of the cluster size ${this.cs}`, message: `L1 entry ${i} points to an L2 table at ${hex(l2Offset)}, not cluster aligned`, fix: 'none: the L2 table cannot be located' });
            this.incomplete({ ...l2At, why: `(L1 entry ${i}) is not cluster aligned` });
          } else if (l2Offset >= this.fileSize) {
            this.incomplete({ ...l2At, why: `(L1 entry ${i}) lies past the end of the file` });
          } else if (l2Offset + this.cs > this.fileSize) {
            this.incomplete({ ...l2At, why: `(L1 entry ${i}) runs past the end of the file (${this.fileSize} bytes)` });
          } else if (before !== RefKind.None && before !== RefKind.ActiveL2 && before !== RefKind.SnapshotL2) {
            // The entry points into another structure: where the L2 table really is, is unknown.
            this.incomplete({ ...l2At, why: `(L1 entry ${i}) lies inside the ${REF_KIND_NAMES[before]}` });
          } else {
            located = true;
          }
          if (!located) {
            this.untrustedTables.add(l2k);
            this.untrustedTables.add(Math.floor((l2Offset + this.cs - 1) / this.cs));
          }
          if (l2Offset < this.fileSize && this.takeL2Budget()) {
            const table = tables.get(l2Offset) ?? await this.tryRead(() => readPadded(this.src, l2Offset, this.cs), { ...l2At, structure: `${l2Name} (L1 entry ${i})` });
            if (table) this.walkL2(table, l2Offset, active, i);
          }
          this.progress(active ? 'active tables' : 'snapshots', i + 1, l1Size);
        }
      }
    }
  }

  private l2Where(active: boolean, i: number, l1Index: number, l2Offset: number): Where {
    return { structure: active ? 'L2 table' : 'snapshot L2 table', field: `entry ${i} (L1 entry ${l1Index})`, offset: l2Offset + i * this.entrySize, length: this.entrySize };
  }

  /**
   * One L2 table (check_refcounts_l2). The hot loop of a check: entries decode from two u32 halves as
   * numbers, nothing is allocated per entry, and everything that reports lives in l2Cold so that this
   * function stays small and V8 optimises it after a few tables.
   */
  private walkL2(table: Uint8Array, l2Offset: number, active: boolean, l1Index: number): void {
    const { cs, extended, entrySize } = this;
    const n = this.l2Entries;
    const zones = this.zones;
    const copiedSet = this.copiedSet;
    const copiedClear = this.copiedClear;
    const capacity = this.refs.capacity;
    // Offsets decode without division or modulo of doubles (slow past 2^31): clusters are powers of two
    // of at most 2 MiB, so the offset bits below the cluster size are in `lo`, and the cluster index is
    // hi * (2^32 / cs) + (lo >>> cluster_bits).
    const cb = this.cb;
    const clustersPerHi = HI / cs;
    const inCluster = (cs - 1) & 0xffff_fe00;
    let nextContiguous = 0;
    let allocated = 0;
    let fragmented = 0;
    // Plain entries (standard, allocated, aligned, no flag but OFLAG_COPIED, the whole cluster inside the
    // file) that map consecutive clusters with the same flags form one run, found by the small runEnd
    // loop and counted by countDataRun: a written or preallocated table is a few such runs, and per-entry
    // work dominated the check of large images. Entries are still counted in table order.
    const fast = !extended && zones === null;
    const lastWhole = Math.floor(this.fileSize / cs);
    const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
    for (let i = 0; i < n; i++) {
      const eo = i * entrySize;
      const hi = ((table[eo] << 24) | (table[eo + 1] << 16) | (table[eo + 2] << 8) | table[eo + 3]) >>> 0;
      const lo = ((table[eo + 4] << 24) | (table[eo + 5] << 16) | (table[eo + 6] << 8) | table[eo + 7]) >>> 0;
      if (fast && (hi & 0x7f00_0000) === 0 && (lo & 0x1ff) === 0 && (lo & inCluster) === 0 && (hi | lo) !== 0) {
        const dk = (hi & 0x00ff_ffff) * clustersPerHi + (lo >>> cb);
        if (dk < lastWhole) {
          const count = Math.min(runEnd(dv, i + 1, n, entrySize, hi, lo, cs) - i, lastWhole - dk);
          if (active) {
            if (nextContiguous && dk * cs !== nextContiguous) fragmented++;
            allocated += count;
            nextContiguous = (dk + count) * cs;
          }
          this.countDataRun(dk, count, i, hi >>> 31, active, l1Index, l2Offset);
          i += count - 1;
          continue;
        }
      }
      // Extended entries: the subcluster bitmap, "reads as zero" bits high, allocation bits low.
      const bZero = extended ? u32be(table, eo + 8) : 0;
      const bAlloc = extended ? u32be(table, eo + 12) : 0;
      if ((hi | lo | bZero | bAlloc) === 0) continue;
      if ((hi & 0x4000_0000) !== 0) {
        this.walkCompressed(hi, lo, bZero, bAlloc, l2Offset, active, i, l1Index);
        continue;
      }
      if ((hi & 0x3f00_0000) !== 0 || (lo & 0x1fe) !== 0) this.l2Cold(L2Cold.Reserved, hi, lo, bZero, bAlloc, l2Offset, active, i, l1Index);
      if ((lo & 1) !== 0 && this.v2) this.zeroFlagV2(hi, lo, l2Offset, active, i, l1Index);
      const off = (hi & 0x00ff_ffff) * HI + ((lo & 0xffff_fe00) >>> 0);
      if (off === 0) {
        // unallocated or plain zero
        if (extended && bAlloc !== 0) this.l2Cold(L2Cold.UnallocatedBitmap, hi, lo, bZero, bAlloc, l2Offset, active, i, l1Index);
        continue;
      }
      // normal or zero-alloc
      if (extended && (bZero & bAlloc) !== 0) this.l2Cold(L2Cold.SubclusterBitmap, hi, lo, bZero, bAlloc, l2Offset, active, i, l1Index);
      const aligned = (lo & inCluster) === 0;
      if (!aligned) this.l2Cold(L2Cold.Unaligned, hi, lo, bZero, bAlloc, l2Offset, active, i, l1Index);
      const dk = (hi & 0x00ff_ffff) * clustersPerHi + ((lo & 0xffff_fe00) >>> cb);
      if (active) {
        allocated++;
        if (nextContiguous && off !== nextContiguous) fragmented++;
        nextContiguous = off + cs;
        if (zones && (extended || (lo & 1) === 0)) this.zoneDataCheck((l1Index * n + i) * cs, this.l2Where(active, i, l1Index, l2Offset));
        // What the OFLAG_COPIED pass will compare against the stored refcounts.
        if (dk < capacity) {
          if ((hi & 0x8000_0000) !== 0) copiedSet.set(dk);
          else copiedClear.set(dk);
        } else {
          this.copiedOutOfRange = true;
        }
      }
      if (off + cs > this.fileSize && off < this.fileSize) this.truncatedData(off, bAlloc, l2Offset, active, i, l1Index);
      if (!aligned || !this.refClusterAt(dk, RefKind.Data)) this.ref(off, cs, RefKind.Data, { ...this.l2Where(active, i, l1Index, l2Offset), length: 8 });
      else if (this.visitor) this.visitor.dataCluster(dk, i);
    }
    this.report['allocated-clusters'] += allocated;
    this.report['fragmented-clusters'] += fragmented;
  }

  /**
   * The references of a run of plain L2 entries (see walkL2): `count` consecutive clusters from `first`,
   * named by entries `entry`… of the table; `copied` is their OFLAG_COPIED bit. The first reference of a
   * cluster is counted inline; every other case goes through refClusterAt / ref() as a single entry
   * would.
   */
  private countDataRun(first: number, count: number, entry: number, copied: number, active: boolean, l1Index: number, l2Offset: number): void {
    const end = first + count;
    if (count === 1) {
      // A lone entry (a scattered image is mostly these): the per-cluster path, no range bookkeeping.
      if (active) (copied ? this.copiedSet : this.copiedClear).set(first);
      this.countDataCluster(first, entry, active, l1Index, l2Offset);
      return;
    }
    if (active) (copied ? this.copiedSet : this.copiedClear).setRange(first, end);
    const refs = this.refs;
    const visitor = this.visitor;
    let k = first;
    while (k < end) {
      // Clusters nothing referenced yet (the common case) are taken in bulk.
      const j = refs.fillFirst(k, end, RefKind.Data);
      if (j > k) {
        if (visitor) for (let c = k; c < j; c++) visitor.dataCluster(c, entry + (c - first));
        k = j;
        continue;
      }
      this.countDataCluster(k, entry + (k - first), active, l1Index, l2Offset);
      k++;
    }
  }

  /** One data cluster k of a run, named by entry `entry` of its table, as a single plain entry counts it. */
  private countDataCluster(k: number, entry: number, active: boolean, l1Index: number, l2Offset: number): void {
    if (!this.refClusterAt(k, RefKind.Data)) this.ref(k * this.cs, this.cs, RefKind.Data, { ...this.l2Where(active, entry, l1Index, l2Offset), length: 8 });
    else if (this.visitor) this.visitor.dataCluster(k, entry);
  }

  /** The findings of a standard (not compressed) L2 entry. */
  private l2Cold(what: L2Cold, hi: number, lo: number, bZero: number, bAlloc: number, l2Offset: number, active: boolean, i: number, l1Index: number): void {
    const { cs, report } = this;
    const at = this.l2Where(active, i, l1Index, l2Offset);
    const raw = (BigInt(hi) << 32n) | BigInt(lo);
    const bitmap = (BigInt(bZero) << 32n) | BigInt(bAlloc);
    report.corruptions++;
    if (what === L2Cold.Reserved) {
      this.sink.add({ ...at, length: 8, id: 'l2.reserved-bits', severity: 'error', found: hex(raw, 16), expected: `reserved bits ${hex(L2E_STD_RESERVED_MASK, 16)} clear`, message: `L2 entry ${i} has reserved bits set (${hex(raw & L2E_STD_RESERVED_MASK)})`, fix: 'clear the reserved bits (the mapping is kept)' });
      if (active) this.reservedFixes.push({ offset: at.offset, old: raw, value: raw & ~L2E_STD_RESERVED_MASK, why: `clear reserved bits of L2 entry ${i} in the table at ${hex(l2Offset)}` });
    } else if (what === L2Cold.UnallocatedBitmap) {
      this.sink.add({ ...at, id: 'l2.unallocated-bitmap', severity: 'error', found: hex(bitmap, 16), expected: 'no allocated subclusters in an unallocated cluster', message: `unallocated L2 entry ${i} marks subclusters allocated`, fix: 'none: the data location is unknown' });
    } else if (what === L2Cold.SubclusterBitmap) {
      this.sink.add({ ...at, id: 'l2.subcluster-bitmap', severity: 'error', found: hex(bitmap, 16), expected: 'no subcluster both allocated and zero', message: `L2 entry ${i} marks subclusters both allocated and reads-as-zero`, fix: 'none: which half is right cannot be told' });
    } else {
      const off = Number(raw & L2E_OFFSET_MASK);
      const zeroFlag = !this.extended && (lo & 1) !== 0;
      this.sink.add({ ...at, length: 8, id: 'l2.unaligned', severity: 'error', found: hex(off), expected: `a multiple of the cluster size ${cs}`, message: `L2 entry ${i} points to a data cluster at ${hex(off)}, not cluster aligned`, fix: zeroFlag ? 'make the entry a plain zero cluster (it reads as zeros anyway)' : 'none: the data location is unknown' });
    }
  }

  /**
   * A data cluster that starts inside the file but ends past it: the file was cut in the middle of the
   * cluster. QEMU's check tolerates less than a cluster past the end (qcow2_inc_refcounts_imrt) and reads
   * the missing bytes as zeros, so the guest silently loses them. Not a qemu-img corruption (beyond qemu).
   */
  private truncatedData(off: number, bAlloc: number, l2Offset: number, active: boolean, i: number, l1Index: number): void {
    // With extended L2 entries QEMU writes only the allocated subclusters: the file may end after the last one.
    const end = this.extended ? off + ((32 - Math.clz32(bAlloc)) * this.cs) / 32 : off + this.cs;
    if (end <= this.fileSize) return;
    const missing = end - this.fileSize;
    this.sink.add({
      ...this.l2Where(active, i, l1Index, l2Offset), length: 8, id: 'data.truncated', severity: 'error',
      found: `data cluster ${hex(off)}..${hex(end)}${end < off + this.cs ? ' (its allocated subclusters)' : ''}, file ends at ${this.fileSize}: ${missing} bytes missing`,
      expected: `the ${this.extended ? 'allocated subclusters of the' : `whole ${this.cs}-byte`} cluster inside the file`,
      message: `the file ends inside the data cluster at ${hex(off)} (guest offset ${hex((l1Index * this.l2Entries + i) * this.cs)}): its last ${missing} bytes are missing and read as zeros (qemu-img check does not notice)`,
      fix: 'none: the data is lost; restore the file from a copy that is not truncated',
    });
  }

  /**
   * Bit 0 (reads as zeros) exists from version 3 on; in a version 2 image QEMU treats it as corruption
   * when the cluster is read (qcow2_get_host_offset: "Zero cluster entry found in pre-v3 image"), marks
   * the image corrupt and fails the read. qemu-img check does not look (beyond qemu).
   */
  private zeroFlagV2(hi: number, lo: number, l2Offset: number, active: boolean, i: number, l1Index: number): void {
    const raw = (BigInt(hi) << 32n) | BigInt(lo);
    this.sink.add({
      ...this.l2Where(active, i, l1Index, l2Offset), length: 8, id: 'l2.zero-flag-v2', severity: 'error',
      found: `${hex(raw, 16)}: bit 0 (reads as zeros) set in a version 2 image`, expected: 'bit 0 clear: version 2 has no zero clusters',
      message: `L2 entry ${i} of the table at ${hex(l2Offset)} uses the zero flag, which only version 3 images have: a read of guest offset ${hex((l1Index * this.l2Entries + i) * this.cs)} fails and QEMU marks the image corrupt ("Zero cluster entry found in pre-v3 image")`,
      fix: 'none automatic: clearing the flag changes what the guest reads; upgrade with qemu-img amend -o compat=1.1 first if zeros are meant',
    });
  }

  /** A compressed L2 entry (rare enough for BigInt and a location object each). */
  private walkCompressed(hi: number, lo: number, bZero: number, bAlloc: number, l2Offset: number, active: boolean, i: number, l1Index: number): void {
    const { cs, report } = this;
    const raw = (BigInt(hi) << 32n) | BigInt(lo);
    const bitmap = (BigInt(bZero) << 32n) | BigInt(bAlloc);
    const at = this.l2Where(active, i, l1Index, l2Offset);
    const guest = (l1Index * this.l2Entries + i) * cs;
    if (raw & OFLAG_COPIED) {
      report.corruptions++;
      this.sink.add({ ...at, length: 8, id: 'l2.compressed-copied', severity: 'error', found: 'bit 63 (copied) set on a compressed cluster', expected: 'bit 63 clear', message: `compressed L2 entry ${i} has the copied flag set, which compressed clusters never have`, fix: 'clear bit 63' });
      if (active) this.copiedFixes.push({ offset: at.offset, old: raw, value: raw & ~OFLAG_COPIED, why: `clear the copied flag of compressed L2 entry ${i}` });
    }
    if (bitmap !== 0n) {
      report.corruptions++;
      this.sink.add({ ...at, id: 'l2.compressed-bitmap', severity: 'error', found: hex(bitmap, 16), expected: '0 for a compressed cluster', message: `compressed L2 entry ${i} has a non-zero subcluster bitmap`, fix: 'none: the entry is ambiguous' });
      return;
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
  }

  // -------------------------------------------------------------------------------------------------
  // Snapshots (qcow2_check_read_snapshot_table + the loop in calculate_refcounts)

  private async walkSnapshots(): Promise<void> {
    const { h, report, sink } = this;
    if (h.nbSnapshots === 0) {
      return;
    }
    const tableAt = { structure: 'snapshot table', offset: h.snapshotsOffset, pointer: 64, kind: 'references' as const };
    if (h.nbSnapshots > MAX_SNAPSHOTS) {
      report.corruptions++;
      this.incomplete({ ...tableAt, pointer: 60, why: `has ${h.nbSnapshots} entries, more than QEMU accepts (${MAX_SNAPSHOTS})` }, true);
      return;
    }
    if (h.snapshotsOffset % this.cs !== 0) {
      this.incomplete({ ...tableAt, why: 'is not cluster aligned' }, true);
      return;
    }
    let off = h.snapshotsOffset;
    const entries: { l1Offset: number; l1Size: number; id: string; at: number }[] = [];
    const ids = new Map<string, number>();
    let truncated = false;
    for (let i = 0; i < h.nbSnapshots; i++) {
      off = Math.ceil(off / 8) * 8;
      if (!truncated && off + 40 > this.fileSize) {
        // Entries past the end of the file read as zeros: the snapshots they described are unknown.
        truncated = true;
        this.incomplete({ ...tableAt, why: `runs past the end of the file (${this.fileSize} bytes) at entry ${i}` });
      }
      const hdr = await this.tryRead(() => readPadded(this.src, off, 40), tableAt);
      if (!hdr) return;
      const l1Offset = u64beNum(hdr, 0);
      const l1Size = u32be(hdr, 8);
      const idLen = u16be(hdr, 12);
      const nameLen = u16be(hdr, 14);
      const extra = u32be(hdr, 36);
      const at = off;
      if (extra > 1024) {
        // QEMU (check without -r) cannot read such a table and abandons the check.
        this.incomplete({ ...tableAt, pointer: at + 36, why: `cannot be read: entry ${i} claims ${extra} bytes of extra data` }, true);
        sink.add({ id: 'snapshot.extra-data-size', severity: 'error', structure: 'snapshot table', field: `entry ${i} extra_data_size`, offset: at + 36, length: 4, found: String(extra), expected: '<= 1024', message: `snapshot table entry ${i} claims ${extra} bytes of extra data, more than QEMU accepts: the snapshot table cannot be read`, fix: 'none in place: the entry must be rewritten with the extra data cut to 1024 bytes (qemu-img check -r all does)' });
        return;
      }
      if (h.version >= 3 && extra < 16) {
        report.corruptions++;
        sink.add({ id: 'snapshot.incomplete', severity: 'error', structure: 'snapshot table', field: `entry ${i} extra_data_size`, offset: at + 36, length: 4, found: String(extra), expected: '>= 16 in a version 3 image', message: `snapshot table entry ${i} lacks the 16 bytes of extra data every version 3 entry has`, fix: 'none in place: the table must be rewritten with larger entries' });
      }
      const idBytes = await this.tryRead(() => this.src.read(at + 40 + extra, Math.min(idLen, 64)), tableAt);
      if (!idBytes) return;
      const id = String.fromCharCode(...idBytes);
      const first = idLen <= 64 ? ids.get(id) : undefined;
      if (first !== undefined) {
        // QEMU finds snapshots by id first (find_snapshot_by_id_and_name): the second is unreachable by id.
        sink.add({ id: 'snapshot.duplicate-id', severity: 'error', structure: 'snapshot table', field: `entry ${i} id_str`, offset: at + 40 + extra, length: idLen, found: `id "${id}", as entry ${first}`, expected: 'an id no other snapshot has', message: `snapshots ${first} and ${i} both have the id "${id}": qemu-img snapshot -a/-d by id reaches only the first (qemu-img check does not notice)`, fix: 'none automatic: delete the snapshot by its name, or rename it with a unique id' });
      } else if (idLen <= 64) {
        ids.set(id, i);
      }
      off = at + 40 + u32be(hdr, 36) + idLen + nameLen;
      entries.push({ l1Offset, l1Size, id, at });
    }
    const size = off - h.snapshotsOffset;
    for (const [i, sn] of entries.entries()) {
      const at: Where = { structure: 'snapshot table', field: `entry ${i} (id ${sn.id}) l1_table_offset`, offset: sn.at, length: 8 };
      const snAt = { structure: `snapshot L1 table (snapshot ${sn.id})`, offset: sn.l1Offset, pointer: sn.at, kind: 'references' as const };
      if (sn.l1Offset % this.cs !== 0) {
        this.incomplete({ ...snAt, why: 'is not cluster aligned' });
        report.corruptions++;
        sink.add({ ...at, id: 'snapshot.l1-unaligned', severity: 'error', found: hex(sn.l1Offset), expected: `a multiple of the cluster size ${this.cs}`, message: `snapshot ${sn.id}'s L1 table offset ${hex(sn.l1Offset)} is not cluster aligned`, fix: 'none: delete the snapshot' });
        continue;
      }
      if (sn.l1Size > MAX_L1_BYTES / 8) {
        this.incomplete({ ...snAt, pointer: sn.at + 8, why: `has ${sn.l1Size} entries, more than QEMU accepts (${MAX_L1_BYTES / 8})` });
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
    const dirAt = { structure: 'bitmap directory', offset: b.bitmapDirectoryOffset, pointer: where.offset, kind: 'references' as const };
    if (b.bitmapDirectorySize > 64 * 1024 * 1024 || b.bitmapDirectoryOffset + b.bitmapDirectorySize > this.fileSize + cs) {
      this.incomplete({ ...dirAt, why: b.bitmapDirectorySize > 64 * 1024 * 1024 ? `is ${b.bitmapDirectorySize} bytes, too large to read` : 'lies past the end of the file' });
      return;
    }
    const dir = await this.tryRead(() => readPadded(this.src, b.bitmapDirectoryOffset, b.bitmapDirectorySize), dirAt);
    if (!dir) return;
    let p = 0;
    for (let i = 0; i < b.nbBitmaps; i++) {
      if (p + 24 > dir.length) {
        this.incomplete({ ...dirAt, why: `ends inside entry ${i}` });
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
      const btAt = { structure: `bitmap table (bitmap ${i})`, offset: tableOffset, pointer: at.offset, kind: 'references' as const };
      if (tableOffset % cs !== 0 || tableSize > 0x8000000 / 8) {
        this.incomplete({ ...btAt, why: tableOffset % cs !== 0 ? 'is not cluster aligned' : `has ${tableSize} entries, more than QEMU accepts` });
        report.corruptions++;
        report['check-errors']++;
        sink.add({ ...at, id: 'bitmaps.table-invalid', severity: 'error', found: `offset ${hex(tableOffset)}, ${tableSize} entries`, expected: 'a cluster-aligned table of at most 16 Mi entries', message: `bitmap ${i}'s table is not usable`, fix: 'none: remove the bitmap' });
        return;
      }
      this.ref(tableOffset, tableSize * 8, RefKind.BitmapTable, at);
      if (tableOffset + tableSize * 8 > this.fileSize) this.incomplete({ ...btAt, why: tableOffset >= this.fileSize ? 'lies past the end of the file' : 'runs past the end of the file' });
      for (let base = 0; base < tableSize; base += L1_CHUNK) {
        if (tableOffset + base * 8 >= this.fileSize) break;
        const n = Math.min(L1_CHUNK, tableSize - base);
        const t = await this.tryRead(() => readPadded(this.src, tableOffset + base * 8, n * 8), btAt);
        if (!t) continue;
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
    const bytes = this.reftableBytes && this.reftableBytes.length === entries * 8 ? this.reftableBytes
      : await this.tryRead(() => readPadded(this.src, h.refcountTableOffset, entries * 8), { structure: 'refcount table', offset: h.refcountTableOffset, pointer: 48, kind: 'refcounts' }) ?? new Uint8Array(entries * 8);
    for (let i = 0; i < entries; i++) {
      const hi = u32be(bytes, i * 8);
      const lo = u32be(bytes, i * 8 + 4);
      if ((hi | lo) === 0) continue; // no refcount block: reftable[i] stays 0
      const raw = (BigInt(hi) << 32n) | BigInt(lo);
      const at: Where = { structure: 'refcount table', field: `entry ${i}`, offset: h.refcountTableOffset + i * 8, length: 8 };
      const off = Number(raw & REFT_OFFSET_MASK);
      if ((lo & 0x1ff) !== 0 && off % cs === 0) {
        // check_refblocks: reserved bits are a corruption of their own; qcow2_get_refcount masks them off
        // and reads the block where the offset points (zeros past the end of the file).
        report.corruptions++;
        this.rebuild = true;
        // Unusable for a repair (-1: never written in place, never taken back by a rebuild, since the
        // walk does not count it as a refcount block), but read for the comparison as QEMU reads it.
        this.reftable[i] = -1;
        if (off < this.fileSize) this.maskedBlocks.set(i, off);
        sink.add({ ...at, id: 'reftable.reserved-bits', severity: 'error', found: hex(raw, 16), expected: 'reserved bits 0x1ff clear', message: `refcount table entry ${i} has reserved bits set (${hex(raw & 0x1ffn)})`, fix: 'rebuild the refcount structures (check -r all)' });
        continue;
      }
      if (off % cs !== 0) {
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
        this.visitor?.reference(RefKind.RefcountBlock, off, cs, at.offset);
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

  /** Where the refcounts of block r are read: the table's entry, or the masked offset of one with reserved bits. */
  private blockAt(r: number): number {
    const o = r < this.reftable.length ? this.reftable[r] : 0;
    return o === -1 ? this.maskedBlocks.get(r) ?? -1 : o;
  }

  /** Returns the highest cluster with a stored or computed reference. */
  private async compareRefcounts(): Promise<number> {
    const { h, cs, report } = this;
    const order = h.refcountOrder;
    const per = refcountsPerBlock(cs, order);
    const len = this.refs.length;
    this.storedOne = new PagedBits(len);
    this.refsIncomplete = this.report.incompleteWalks.some((w) => w.kind === 'references') || this.budgetReported;
    let highest = 0;
    const blocks = Math.ceil(len / per);
    let batch = new Map<number, Uint8Array>();
    for (let r = 0; r < blocks; r++) {
      this.progress('refcounts', r, blocks);
      if (r % this.batchTables === 0) {
        const wanted: number[] = [];
        for (let q = r; q < Math.min(blocks, r + this.batchTables); q++) {
          const o = this.blockAt(q);
          if (o > 0 && !(q < this.badBlock.length && this.badBlock[q])) wanted.push(o);
        }
        batch = await readTables(this.src, wanted, cs, this.slab);
      }
      const first = r * per;
      const last = Math.min(len, first + per);
      const blockOff = this.blockAt(r);
      if (r < this.badBlock.length && this.badBlock[r]) {
        // qcow2_get_refcount fails for every cluster this block covers.
        report['check-errors'] += last - first;
        continue;
      }
      const block = blockOff > 0 ? batch.get(blockOff) ?? await readPadded(this.src, blockOff, cs) : null;
      highest = this.compareBlock(block, blockOff, r, first, last, highest);
    }
    this.progress('refcounts', blocks, blocks);
    return highest;
  }

  /**
   * The stored against the computed refcounts of the clusters one refcount block covers; returns the
   * highest cluster in use so far. Kept small (findings in refcountMismatch) so that V8 optimises it
   * early: it runs once per cluster of the file.
   */
  private compareBlock(block: Uint8Array | null, blockOff: number, r: number, first: number, last: number, highest: number): number {
    const order = this.h.refcountOrder;
    const refs = this.refs;
    const storedOne = this.storedOne;
    if (block !== null && order === 4) return this.compareBlock16(block, blockOff, r, first, last, highest);
    for (let k = first; k < last; k++) {
      const stored = block === null ? 0 : getRefcount(block, k - first, order);
      const c = refs.raw(k);
      const computed = c === 0xffff ? refs.get(k) : c;
      if (stored > 0 || computed > 0) highest = k;
      if (stored === 1) storedOne.set(k);
      if (stored !== computed) this.refcountMismatch(block, blockOff, r, first, k, stored, computed);
    }
    return highest;
  }

  /**
   * compareBlock of 16-bit refcounts (the default width, and what large images have). A uniform page of
   * computed counts is compared with the stored big-endian words two at a time and, when they all agree,
   * settled at once; other pages word by word, the stored-is-one bits gathered a byte at a time (a block
   * and a page start on a multiple of eight clusters).
   */
  private compareBlock16(block: Uint8Array, blockOff: number, r: number, first: number, last: number, highest: number): number {
    const refs = this.refs;
    const storedOne = this.storedOne;
    const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
    let k = first;
    while (k < last) {
      const p = k >>> REF_PAGE_BITS;
      const pageEnd = Math.min(last, (p + 1) << REF_PAGE_BITS);
      const u = refs.uniformCount(p);
      if (u >= 0 && (k & 7) === 0) {
        // Both 16-bit words of a u32 hold u exactly when the u32 is u * 0x10001 (read big-endian).
        const pair = (u * 0x10001) >>> 0;
        let j = k;
        for (; j + 1 < pageEnd; j += 2) if (dv.getUint32((j - first) * 2) !== pair) break;
        if (j + 1 === pageEnd && dv.getUint16((j - first) * 2) === u) j++;
        if (j === pageEnd) {
          if (u !== 0) highest = pageEnd - 1;
          if (u === 1) storedOne.setRange(k, pageEnd);
          k = pageEnd;
          continue;
        }
      }
      highest = this.compareWords16(dv, blockOff, r, first, k, pageEnd, highest, block);
      k = pageEnd;
    }
    return highest;
  }

  /** compareBlock16's word-by-word path over clusters [from, to) of block r. */
  private compareWords16(dv: DataView, blockOff: number, r: number, first: number, from: number, to: number, highest: number, block: Uint8Array): number {
    const refs = this.refs;
    const storedOne = this.storedOne;
    let ones = 0;
    for (let k = from; k < to; k++) {
      const stored = dv.getUint16((k - first) * 2);
      const c = refs.raw(k);
      if ((stored | c) !== 0) highest = k;
      if (stored === 1) ones |= 1 << (k & 7);
      if ((k & 7) === 7) {
        storedOne.orByte(k >> 3, ones);
        ones = 0;
      }
      if (stored !== c || c === 0xffff) {
        const computed = c === 0xffff ? refs.get(k) : c;
        if (stored !== computed) this.refcountMismatch(block, blockOff, r, first, k, stored, computed);
      }
    }
    storedOne.orByte((to - 1) >> 3, ones);
    return highest;
  }

  private refcountMismatch(block: Uint8Array | null, blockOff: number, r: number, first: number, k: number, stored: number, computed: number): void {
    const { h, cs, report, sink } = this;
    const order = h.refcountOrder;
    const widthBytes = Math.max(1, (1 << order) / 8);
    this.mismatches.push({ cluster: k, stored, computed });
    const at: Where = block
      ? { structure: 'refcount block', field: `refcount of cluster ${k}`, offset: blockOff + Math.floor(((k - first) * (1 << order)) / 8), length: widthBytes }
      : { structure: 'refcount table', field: `entry ${r} (no refcount block)`, offset: h.refcountTableOffset + r * 8, length: 8 };
    this.visitor?.mismatch(k, stored, computed, at.offset);
    if (stored === 0) this.rebuild = true;
    const what = REF_KIND_NAMES[(this.refs.kind(k) & ~CLAIMED) as RefKind];
    if (stored < computed) {
      report.corruptions++;
      sink.add({ ...at, id: 'refcount.too-low', severity: 'error', found: `refcount ${stored}`, expected: `${computed} (references found)`, message: `cluster ${k} (${hex(k * cs)}, ${what}) has refcount ${stored} but ${computed} reference(s): writing to the image could overwrite live data`, fix: stored === 0 && !block ? 'rebuild the refcount structures (check -r all)' : `set the refcount to ${computed} (check -r all)` });
    } else if (this.refsIncomplete) {
      // Not proven unreferenced: a table the walk could not follow may reference it.
      report.unverified++;
      sink.add({ ...at, id: 'refcount.unverified', severity: 'warning', found: `refcount ${stored}`, expected: `${computed} reference(s) found, but the reference walk is incomplete`, message: `cluster ${k} (${hex(k * cs)}) has refcount ${stored} but the walk found ${computed} reference(s); the walk missed tables, so this is not counted as a leak`, fix: 'none until every table can be walked: a repair leaves this refcount alone' });
    } else {
      report.leaks++;
      sink.add({ ...at, id: 'refcount.leak', severity: 'warning', found: `refcount ${stored}`, expected: `${computed} (references found)`, message: `cluster ${k} (${hex(k * cs)}) has refcount ${stored} but ${computed} reference(s): ${computed === 0 ? 'leaked space' : 'a refcount too high'}`, fix: `set the refcount to ${computed} (check -r leaks)` });
    }
  }

  /** Stored refcount is 1 (true), something else (false), or unreadable (null). */
  private storedIsOne(k: number): boolean | null {
    const per = refcountsPerBlock(this.cs, this.h.refcountOrder);
    const r = Math.floor(k / per);
    if (r < this.badBlock.length && this.badBlock[r]) return null;
    if (k >= this.refs.length) return false;
    return this.storedOne.get(k);
  }

  // -------------------------------------------------------------------------------------------------
  // OFLAG_COPIED (check_oflag_copied): active tables only, against the stored refcounts

  private async checkCopied(): Promise<void> {
    const { h, cs, report, sink } = this;
    if (h.l1Size * 8 > MAX_L1_BYTES) return;
    // When every active L2 entry the walk saw agrees with the refcounts, reading the L2 tables again
    // would find nothing (the walk read the same tables under the same budget), so only the L1 entries
    // and the budget are gone through. Otherwise (or when the walk could not see every table) read them.
    const l2Agree = !this.budgetReported && !this.copiedOutOfRange && this.copiedBitsAgree();
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
        if (l2Offset >= this.fileSize || !this.takeL2Budget('copied')) continue;
        if (l2Agree) continue;
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

  /**
   * True when no active L2 entry's OFLAG_COPIED disagrees with its data cluster's refcounts: the
   * stored one (storedIsOne; unreadable blocks never disagree) and the computed one (copiedFixes).
   * Eight clusters at a time; a byte of clusters never straddles two refcount blocks.
   */
  private copiedBitsAgree(): boolean {
    const set = this.copiedSet;
    const clear = this.copiedClear;
    const stored = this.storedOne;
    const refs = this.refs;
    const len = refs.length;
    const per = refcountsPerBlock(this.cs, this.h.refcountOrder);
    const pageClusters = 1 << REF_PAGE_BITS;
    for (let p = 0; p < set.pageCount; p++) {
      const su = set.uniform(p);
      const cu = clear.uniform(p);
      if (su === 0 && cu === 0) continue;
      const first = p * pageClusters;
      // A page of uniform bits over a uniform page of counts within one refcount block: one byte decides.
      const u = first + pageClusters <= len ? refs.uniformCount(p) : -1;
      const ou = stored.uniform(p);
      const oneBlock = Math.floor(first / per) === Math.floor((first + pageClusters - 1) / per);
      if (su >= 0 && cu >= 0 && u >= 0 && ou >= 0 && oneBlock) {
        if (!this.copiedByteAgrees(first >> 3, su, cu, u === 1 ? 0xff : 0, ou)) return false;
        continue;
      }
      const lastByte = Math.min(set.byteLength, (first + pageClusters) >> 3);
      for (let b = first >> 3; b < lastByte; b++) {
        const s = set.byte(b);
        const c = clear.byte(b);
        if ((s | c) === 0) continue;
        let want = 0;
        for (let bit = 0; bit < 8; bit++) {
          const k = b * 8 + bit;
          if (k < len && refs.get(k) === 1) want |= 1 << bit;
        }
        if (!this.copiedByteAgrees(b, s, c, want, stored.byte(b))) return false;
      }
    }
    return true;
  }

  /**
   * Byte b of copiedBitsAgree: `s` / `c` the clusters seen with OFLAG_COPIED set / clear, `want` those
   * whose computed refcount is 1, `storedOne` those whose stored one is (a byte never straddles blocks).
   */
  private copiedByteAgrees(b: number, s: number, c: number, want: number, storedOne: number): boolean {
    const r = Math.floor((b * 8) / refcountsPerBlock(this.cs, this.h.refcountOrder));
    const unreadable = r < this.badBlock.length && this.badBlock[r] !== 0;
    const one = unreadable ? 0 : storedOne;
    // set: stored must be 1 (or unreadable) and computed 1; clear: neither stored nor computed 1.
    const setOk = unreadable ? want : one & want;
    const clearBad = unreadable ? want : one | want;
    return (s & ~setOk & 0xff) === 0 && (c & clearBad) === 0;
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
