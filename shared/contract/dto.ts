// Plain-data shapes that cross the boundary. No bigint, no class instances, no file handles: 64-bit masks
// travel as hex strings, offsets and sizes as numbers (files stay below 2^53), zone reports as typed arrays.
import type { Field } from '../qcow2/field';
import type { FeatureBit } from '../qcow2/features';
import type { Finding } from '../qcow2/findings';
import type { HeaderExtension } from '../qcow2/extensions';
import type { ZonedExtension } from '../qcow2/zoned-types';

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
}

/** What the engine behind this transport can do; panels show or hide their actions from it. */
export interface Capabilities {
  transport: 'electron' | 'http';
  zoneReport: boolean;
  zoneOps: boolean;
  create: boolean;
  check: boolean;
  repair: boolean;
  edit: boolean;
  openDialog: boolean;
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

export interface ZoneOpRequest {
  op: ZoneOp;
  /** Zone index (ignored by reset-all). */
  zone: number;
}

export interface CheckResult {
  findings: Finding[];
  /** True when the check ran to completion (false if it was cancelled). */
  complete: boolean;
}

export interface RepairRequest {
  /** Which findings to repair: 'leaks' or 'all', as `qemu-img check -r`. */
  mode: 'leaks' | 'all';
}

export interface RepairPlan {
  /** Where the backup copy goes before anything is written. */
  backupPath: string;
  /** What will be written, in words. */
  actions: string[];
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
  /** Zoned layout to write (ZONED-FORMAT.md section 8 item 2); default the seed's v7. */
  zonedLayout?: 'v7' | 'v8';
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
