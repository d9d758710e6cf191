// The layout map's vocabulary, shared by the engine that builds it and the views that draw it: the kinds
// of cluster, a run, and the lookups between runs and check findings. Pure and import-free (the renderer
// takes it without pulling in the walk).
import type { Finding } from './findings';

export const LAYOUT_KINDS = [
  'header', 'extension', 'l1', 'snapshot-l1', 'l2', 'snapshot-l2', 'refcount-table', 'refcount-block', 'snapshot-table',
  'bitmap-directory', 'bitmap-table', 'bitmap-data', 'zonedmeta', 'data', 'compressed', 'free', 'leaked', 'conflict', 'unknown',
] as const;

export type LayoutKind = (typeof LAYOUT_KINDS)[number];

/** What each kind means, for legends and the CLI's table. */
export const LAYOUT_KIND_NAMES: Record<LayoutKind, string> = {
  header: 'header and header extensions',
  extension: 'data of a header extension (LUKS header)',
  l1: 'active L1 table',
  'snapshot-l1': 'snapshot L1 table',
  l2: 'L2 table',
  'snapshot-l2': 'snapshot-only L2 table',
  'refcount-table': 'refcount table',
  'refcount-block': 'refcount block',
  'snapshot-table': 'snapshot table',
  'bitmap-directory': 'bitmap directory',
  'bitmap-table': 'bitmap table',
  'bitmap-data': 'bitmap data',
  zonedmeta: 'zonedmeta (write pointers)',
  data: 'guest data',
  compressed: 'compressed guest data',
  free: 'free (refcount 0, unreferenced)',
  leaked: 'leaked (refcount > 0, unreferenced)',
  conflict: 'conflict (overlap, refcount too low, reference past the end)',
  unknown: 'unknown (not walked, or a refcount the walk cannot prove)',
};

export interface LayoutRun {
  /** First host cluster of the run. */
  start: number;
  clusters: number;
  kind: LayoutKind;
  /** Who owns the run, in words: "L2 table #3 (guest 0x60000000-0x80000000)", "guest 0x10000 (zone 4)". */
  owner: string;
  /** Byte offset of the table entry (or header field) that references the run's first cluster. */
  pointer?: number;
  /** Data: guest offset of the first cluster (guest clusters follow the host ones within a run). */
  guest?: number;
  /** Data on a zoned image: the zone of the run (runs never cross a zone boundary). */
  zone?: number;
  /** Data referenced through a snapshot's tables only: that snapshot's id. */
  snapshot?: string;
  /** Compressed data: the byte range [start, end) the compressed streams of the run occupy. */
  bytes?: [number, number];
  /** Where the stored refcount disagrees with the references: stored and found (every cluster of the run). */
  refcount?: { stored: number; references: number };
  /** Conflicts and leaks: the byte offset the check's finding about this run points at. */
  findingAt?: number;
}

/** Just the fields of a map the lookups need. */
export interface RunMap {
  runs: readonly LayoutRun[];
  clusterSize: number;
  clusters: number;
}

/** The run holding host cluster `k` (binary search), or null past the end. */
export function runAt(runs: readonly LayoutRun[], k: number): LayoutRun | null {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid];
    if (k < r.start) hi = mid - 1;
    else if (k >= r.start + r.clusters) lo = mid + 1;
    else return r;
  }
  return null;
}

/**
 * The host cluster a check finding is about on the map: the conflict or leak run it was reported for (its
 * findingAt), else the cluster holding the bytes it points at.
 */
export function findingCluster(layout: RunMap, f: Pick<Finding, 'offset'>): number | null {
  for (const r of layout.runs) if (r.findingAt === f.offset) return r.start;
  if (!layout.clusterSize) return null;
  const k = Math.floor(f.offset / layout.clusterSize);
  return k < layout.clusters ? k : null;
}

/** The findings that mention the run: reported for it (findingAt) or pointing into its bytes. */
export function findingsOfRun(layout: Pick<RunMap, 'clusterSize'>, run: LayoutRun, findings: readonly Finding[]): Finding[] {
  const lo = run.start * layout.clusterSize;
  const hi = (run.start + run.clusters) * layout.clusterSize;
  return findings.filter((f) => f.offset === run.findingAt || (f.offset >= lo && f.offset < hi && f.offset > 0) || (run.start === 0 && f.offset < layout.clusterSize && f.structure === 'header'));
}
