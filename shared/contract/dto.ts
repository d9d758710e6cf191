// Plain-data shapes that cross the boundary. No bigint, no class instances, no file handles: 64-bit masks
// travel as hex strings, offsets and sizes as numbers (files stay below 2^53), zone reports as typed arrays.
import type { Field } from '../qcow2/field';
import type { FeatureBit } from '../qcow2/features';
import type { AppError, Finding } from '../qcow2/findings';
import type { HeaderExtension } from '../qcow2/extensions';
import type { ZonedExtension, ZonedWriteLayout } from '../qcow2/zoned-types';
import type { ImageCheck } from '../qcow2/check';
import type { FileLayout } from '../qcow2/layout';

/** An image the main process holds open; the renderer only ever sees its id and display name. */
export interface SessionInfo {
  id: string;
  /** File name without directories (the full path stays in main, shown only as `location`). */
  name: string;
  /** The directory, for display only (never sent back). */
  location: string;
  size: number;
  writable: boolean;
  editing: boolean;
  /** Why the image cannot be decoded: it opens anyway, for its bytes and findings; null when it decodes. */
  degraded: AppError | null;
  /** Another process holds the image for writing (a VM): shown as a banner, reading goes on. */
  inUse: string | null;
  /** Set when this session writes without QEMU's locks (none on this platform). */
  lockWarning: string | null;
  /** Bumped by every change of the image (ours or another program's): views re-read when it moves. */
  generation: number;
}

/** What the engine behind this transport can do; panels show or hide their actions from it. */
export interface Capabilities {
  transport: 'electron' | 'http';
  zoneReport: boolean;
  zoneOps: boolean;
  /** Append and write at the write pointer. */
  zoneWrite: boolean;
  create: boolean;
  check: boolean;
  repair: boolean;
  edit: boolean;
  openDialog: boolean;
  /** `qzs serve --open-dir`: the browser may list and open images under one folder of the host. */
  openDir?: boolean;
}

export interface AppInfo {
  version: string;
  capabilities: Capabilities;
  /** Sessions already open (command line, demo, serve arguments), in that order. */
  sessions: SessionInfo[];
  recent: RecentFile[];
}

export interface RecentFile {
  /** Index into main's recent list: the renderer re-opens by index, never by path. */
  index: number;
  name: string;
  location: string;
}

export interface FeatureMasks {
  incompatible: string;
  compatible: string;
  autoclear: string;
}

export interface ImageSummary {
  session: SessionInfo;
  /**
   * A degraded session (the image cannot be decoded): what could be read. The header fields are those the
   * decoder got to (none when the magic or version is wrong), findings say why; every other view is off.
   */
  degraded: AppError | null;
  fileSize: number;
  version: number;
  virtualSize: number;
  clusterSize: number;
  clusterBits: number;
  refcountBits: number;
  compressionType: string;
  backingFile: string | null;
  backingFormat: string | null;
  dataFile: string | null;
  masks: FeatureMasks;
  headerFields: Field[];
  extensions: HeaderExtension[];
  features: { incompatible: FeatureBit[]; compatible: FeatureBit[]; autoclear: FeatureBit[] };
  zoned: ZonedExtension | null;
  findings: Finding[];
}

/**
 * A zone report for any number of zones: geometry as scalars, per-zone state as two typed arrays.
 * start(i) = i * zoneSize; length and capacity follow from the geometry (see zone-geometry.ts).
 */
export interface ZoneReport {
  nrZones: number;
  zoneSize: number;
  zoneCapacity: number;
  conventionalZones: number;
  /** Virtual disk size: the last zone may be shorter. */
  deviceSize: number;
  maxOpenZones: number;
  maxActiveZones: number;
  maxAppendBytes: number;
  wpByteOrder: string;
  /** Write pointer per zone, absolute guest byte offset. */
  wp: Float64Array;
  /** Condition per zone as ZONE_CONDITION_CODES. */
  cond: Uint8Array;
}

export type ZoneOp = 'open' | 'close' | 'finish' | 'reset' | 'reset-all';

/** What zones:export wrote (Electron: to the file chosen in the save dialog). */
export interface ZoneExportResult {
  path: string;
  bytes: number;
  format: string;
}

export interface ZoneOpRequest {
  op: ZoneOp;
  /** Zone index (ignored by reset-all). */
  zone: number;
}

export interface CheckResult {
  findings: Finding[];
  /** True when the check ran to completion (false if it was cancelled). */
  complete: boolean;
  /** The counts qemu-img check prints (its ImageCheck keys); partial when the walk was incomplete. */
  counts: CheckCounts;
}

/** The engine's CheckReport counts as they cross the boundary (everything but the file name and format). */
export type CheckCounts = Omit<ImageCheck, 'filename' | 'format'>;

export interface RepairRequest {
  /** Which findings to repair: 'leaks' or 'all', as `qemu-img check -r`. */
  mode: 'leaks' | 'all';
}

export interface RepairPlan {
  /** Where the backup copy goes before anything is written. */
  backupPath: string;
  /** What will be written, in words. */
  actions: string[];
  /** Why no repair is offered (the analysis could not walk every table), or null. */
  refused: string | null;
}

export interface RepairResult {
  backupName: string;
  repaired: number;
  findings: Finding[];
}

/** A header edit: one field or one feature bit. */
export type HeaderEdit =
  | { kind: 'field'; name: string; value: string }
  | { kind: 'feature-bit'; mask: 'incompatible' | 'compatible' | 'autoclear'; bit: number; set: boolean };

export interface EditPreview {
  offset: number;
  before: string;
  after: string;
  field: string;
  beforeValue: string;
  afterValue: string;
  /** Problems the new value would cause (from the decoder), empty when it is clean. */
  warnings: string[];
}

export interface EditRecord {
  id: number;
  description: string;
  offset: number;
  before: string;
  after: string;
  backupName: string;
}

export interface CreateRequest {
  /** File name only: the directory comes from main (save dialog or serve's create directory). */
  fileName: string;
  /** Options as qemu-img spells them (size, cluster_size, compat, zone.mode, zone.size, ...). */
  options: Record<string, string>;
  /** Zoned layout to write (ZONED-FORMAT.md section 8 item 2; docs/DECISIONS.md 4); default the seed's v7. */
  zonedLayout?: ZonedWriteLayout;
}

/** One run of a zone's guest range with the same mapping: where its clusters are in the file. */
export interface ZoneExtent {
  /** Guest offset of the run. */
  start: number;
  length: number;
  /** normal, compressed, zero-plain, zero-alloc, unallocated-plain, unallocated-alloc, invalid. */
  type: string;
  /** Host file offset of the run's first byte (allocated types only), else null. */
  hostOffset: number | null;
}

export interface ZoneClusters {
  zone: number;
  /** Allocated bytes inside the zone (normal, compressed or zero-alloc). */
  allocatedBytes: number;
  extents: ZoneExtent[];
  /** True when the list was cut at its maximum length. */
  truncated: boolean;
}

// ---------------------------------------------------------------- long work

/** Progress of a job (a check, a create with preallocation): determinate, per phase. */
export interface JobProgress {
  job: string;
  phase: string;
  done: number;
  total: number;
}

// ---------------------------------------------------------------- zone data operations

/** Append to a zone, or write at its write pointer: `length` bytes of a recognisable pattern. */
export interface ZoneWriteRequest {
  op: 'append' | 'write';
  zone: number;
  length: number;
}

export interface ZoneWriteResult {
  op: 'append' | 'write';
  zone: number;
  /** Guest offset where the data landed (for append: the write pointer before it). */
  offset: number;
  length: number;
  /** The zone's write pointer afterwards. */
  wp: number;
  /** Zones closed implicitly to make room. */
  implicitlyClosed: number[];
}

// ---------------------------------------------------------------- tables (pages, never whole tables)

/** Which L1 table: the active one, or the one of snapshot number `snapshot` (index in the snapshot table). */
export interface L1PageRequest {
  snapshot?: number;
  start: number;
  count: number;
}

export interface L1Row {
  index: number;
  /** The entry as 16 hex digits. */
  raw: string;
  l2Offset: number;
  copied: boolean;
  reservedBits: boolean;
  /** First guest byte the entry maps. */
  guestOffset: number;
}

export interface L1Page {
  label: string;
  offset: number;
  /** Entries in the whole table. */
  size: number;
  start: number;
  rows: L1Row[];
  clusterSize: number;
  /** Entries per L2 table and guest bytes one L1 entry covers. */
  l2Entries: number;
  guestPerL1: number;
  extended: boolean;
}

export interface L2PageRequest {
  snapshot?: number;
  l1Index: number;
  start: number;
  count: number;
}

/** normal, compressed, zero, unallocated (QEMU's subcluster types folded), invalid for impossible bitmaps. */
export type L2RowKind = 'normal' | 'compressed' | 'zero' | 'unallocated' | 'invalid';

export interface L2Row {
  index: number;
  guestOffset: number;
  raw: string;
  /** Extended L2: the bitmap word as 16 hex digits, and one character per subcluster (N data, Z zero, - unallocated, ! invalid). */
  bitmap: string | null;
  subclusters: string | null;
  kind: L2RowKind;
  hostOffset: number | null;
  /** Compressed: bytes the descriptor covers. */
  compressedSize: number | null;
  copied: boolean;
}

export interface L2Page {
  l1Index: number;
  /** Host offset of the L2 table, 0 when the L1 entry is unallocated (then rows is empty). */
  tableOffset: number;
  size: number;
  start: number;
  rows: L2Row[];
  extended: boolean;
  clusterSize: number;
}

export interface PageRequest {
  start: number;
  count: number;
}

export interface RefcountTableRow {
  index: number;
  raw: string;
  blockOffset: number;
  /** First host cluster the block counts. */
  firstCluster: number;
}

export interface RefcountTablePage {
  offset: number;
  size: number;
  start: number;
  rows: RefcountTableRow[];
  refcountBits: number;
  perBlock: number;
  clusterSize: number;
}

export interface RefblockPageRequest {
  tableIndex: number;
  start: number;
  count: number;
}

export interface RefblockRow {
  cluster: number;
  hostOffset: number;
  refcount: number;
}

export interface RefblockPage {
  tableIndex: number;
  /** 0 when the table entry is empty (rows then empty). */
  blockOffset: number;
  size: number;
  start: number;
  rows: RefblockRow[];
}

export interface SnapshotRow {
  index: number;
  id: string;
  name: string;
  offset: number;
  l1TableOffset: number;
  l1Size: number;
  dateSec: number;
  vmStateSize: number;
  diskSize: number;
}

export interface SnapshotPage {
  size: number;
  start: number;
  rows: SnapshotRow[];
  /** Problems met reading the table, as messages. */
  problems: string[];
}

/** Compare (issue 12): the other side of a diff, an open image or a snapshot of one (by id or name). */
export interface DiffRequest {
  /** The session B is read from (the same session as A for a snapshot of the current image). */
  other: string;
  /** Snapshot id or name of A / of B; absent (or null) for the active state. */
  snapshotA?: string | null;
  snapshotB?: string | null;
}

/** What differs between A and B: the engine's diff as it is (plain data; files named without directories). */
export type DiffResult = import('../qcow2/diff').ImageDiff;
/** The file layout map (layout:run): every host cluster by owner, as runs, with the check of the same walk. */
export type LayoutResult = FileLayout;
export type { LayoutKind, LayoutRun } from '../qcow2/layout-runs';
