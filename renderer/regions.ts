// Named byte ranges of an image, so the hex view can say which field(s) a byte belongs to and highlight a
// field's bytes. Built from the decoded summary; pure.
import type { ImageSummary } from '../shared/contract/dto';
import type { LayoutKind, RunMap } from '../shared/qcow2/layout-runs';

/**
 * What structure a region belongs to: the hex view colours bytes by it. The first six the summary locates;
 * the rest (tables the summary does not size, guest data, conflicts) come from the layout map once built.
 */
export type RegionKind =
  | 'header' | 'extension' | 'backing' | 'l1' | 'refcount-table' | 'zonedmeta'
  | 'l2' | 'refcount-block' | 'snapshot-table' | 'bitmap' | 'data' | 'compressed' | 'leaked' | 'conflict';

export const REGION_KIND_LABEL: Record<RegionKind, string> = {
  header: 'header', extension: 'header extensions', backing: 'backing file name', l1: 'L1 table', 'refcount-table': 'refcount table', zonedmeta: 'zonedmeta',
  l2: 'L2 tables', 'refcount-block': 'refcount blocks', 'snapshot-table': 'snapshot table', bitmap: 'bitmaps', data: 'guest data',
  compressed: 'compressed data', leaked: 'leaked clusters', conflict: 'conflicts',
};

/** Layout kinds the hex view colours (free and unknown clusters stay plain; header, L1, refcount table and
 * zonedmeta come from the summary with field-level names). */
const FROM_LAYOUT: Partial<Record<LayoutKind, RegionKind>> = {
  'snapshot-l1': 'l1', l2: 'l2', 'snapshot-l2': 'l2', 'refcount-block': 'refcount-block', 'snapshot-table': 'snapshot-table',
  'bitmap-directory': 'bitmap', 'bitmap-table': 'bitmap', 'bitmap-data': 'bitmap', data: 'data', compressed: 'compressed',
  leaked: 'leaked', conflict: 'conflict',
};

/** Regions of the layout map's runs overlapping [start, start + length) of the file, named by their owner. */
export function layoutRegions(layout: RunMap, start: number, length: number): Region[] {
  const out: Region[] = [];
  const cs = layout.clusterSize;
  for (const run of layout.runs) {
    const kind = FROM_LAYOUT[run.kind];
    if (!kind) continue;
    const offset = run.start * cs;
    const len = run.clusters * cs;
    if (offset >= start + length || offset + len <= start) continue;
    out.push({ name: run.owner, offset, length: len, kind });
  }
  return out;
}

export interface Region {
  name: string;
  offset: number;
  length: number;
  kind: RegionKind;
  /** The header field it is, for header fields: selecting the region selects the field. */
  field?: string;
}

export function regionsOf(s: ImageSummary): Region[] {
  const out: Region[] = [];
  for (const f of s.headerFields) if (f.present) out.push({ name: `header ${f.name}`, offset: f.offset, length: f.size, kind: 'header', field: f.name });
  for (const e of s.extensions) {
    out.push({ name: `extension ${e.name} (magic, length)`, offset: e.offset, length: 8, kind: 'extension' });
    if (e.length > 0) out.push({ name: `extension ${e.name} data`, offset: e.dataOffset, length: e.length, kind: 'extension' });
    if (e.content.kind === 'feature-table') {
      for (const t of e.content.entries) out.push({ name: `feature name "${t.name}" (${t.kind} bit ${t.bit})`, offset: t.offset, length: 48, kind: 'extension' });
    }
    if (e.content.kind === 'zoned' && e.content.zoned) {
      for (const f of e.content.zoned.fields) out.push({ name: `zoned ${f.name}`, offset: f.offset, length: f.size, kind: 'extension' });
    }
  }
  const num = (name: string): number => {
    const v = s.headerFields.find((f) => f.name === name)?.value;
    return typeof v === 'number' ? v : 0;
  };
  if (s.backingFile !== null) out.push({ name: 'backing file name', offset: num('backing_file_offset'), length: num('backing_file_size'), kind: 'backing' });
  const l1 = num('l1_table_offset');
  if (l1 > 0) out.push({ name: 'L1 table', offset: l1, length: num('l1_size') * 8, kind: 'l1' });
  const rt = num('refcount_table_offset');
  if (rt > 0) out.push({ name: 'refcount table', offset: rt, length: num('refcount_table_clusters') * s.clusterSize, kind: 'refcount-table' });
  if (s.zoned && s.zoned.zonedmetaOffset > 0) out.push({ name: 'zonedmeta (write pointers)', offset: s.zoned.zonedmetaOffset, length: s.zoned.nrZones * 8, kind: 'zonedmeta' });
  return out.filter((r) => r.length > 0);
}

/** Regions containing `offset`, smallest first (the most specific name leads). */
export function regionsAt(regions: readonly Region[], offset: number): Region[] {
  return regions.filter((r) => offset >= r.offset && offset < r.offset + r.length).sort((a, b) => a.length - b.length);
}

/** For the zonedmeta region: which zone's write pointer a byte belongs to. */
export function zoneEntryAt(s: ImageSummary, offset: number): number {
  const z = s.zoned;
  if (!z || offset < z.zonedmetaOffset || offset >= z.zonedmetaOffset + z.nrZones * 8) return -1;
  return Math.floor((offset - z.zonedmetaOffset) / 8);
}

/**
 * The region of every byte of [start, start + length): the smallest region covering it wins (a header
 * field inside the header, a feature name inside its extension). Null where no region covers it.
 */
export function regionsIn(regions: readonly Region[], start: number, length: number): (Region | null)[] {
  const out = new Array<Region | null>(length).fill(null);
  for (const r of regions) {
    const lo = Math.max(start, r.offset);
    const hi = Math.min(start + length, r.offset + r.length);
    for (let o = lo; o < hi; o++) {
      const cur = out[o - start];
      if (!cur || r.length < cur.length) out[o - start] = r;
    }
  }
  return out;
}

/** The structure kind of every byte of [start, start + length) (see regionsIn). */
export function kindsIn(regions: readonly Region[], start: number, length: number): (RegionKind | null)[] {
  return regionsIn(regions, start, length).map((r) => r?.kind ?? null);
}
