// The zone table's rows: which zones pass the filter, in which order. Pure and allocation-light so a
// million zones sort in a few native passes: counting sorts for condition and type, and for numeric keys
// one Float64Array sort of (key, zone) packed into one exact integer per row (no comparator calls).
import type { ZoneReport } from '../../shared/contract/dto';
import { zoneCapacity, zoneFill, zoneLength, zoneStart } from '../../shared/contract/zone-geometry';
import { ZONE_CONDITION_CODES } from '../../shared/qcow2/zoned-types';
import { LEGEND_ORDER } from './palette';

export type ZoneSortKey = 'index' | 'length' | 'capacity' | 'written' | 'fill' | 'type' | 'condition';
export type ZoneTypeFilter = 'all' | 'conventional' | 'sequential';

export interface ZoneOrderSpec {
  key: ZoneSortKey;
  desc: boolean;
  /** Condition codes shown (null = all): the legend's filter. */
  shown: ReadonlySet<number> | null;
  type: ZoneTypeFilter;
}

/** Zone indices passing the filter, in index order. */
export function filteredZones(r: ZoneReport, shown: ReadonlySet<number> | null, type: ZoneTypeFilter): Uint32Array {
  const n = r.nrZones;
  const want = new Uint8Array(256).fill(shown ? 0 : 1);
  if (shown) for (const c of shown) want[c & 255] = 1;
  const from = type === 'sequential' ? Math.min(n, r.conventionalZones) : 0;
  const to = type === 'conventional' ? Math.min(n, r.conventionalZones) : n;
  let count = 0;
  for (let i = from; i < to; i++) count += want[r.cond[i]];
  const out = new Uint32Array(count);
  let k = 0;
  for (let i = from; i < to; i++) if (want[r.cond[i]]) out[k++] = i;
  return out;
}

/** Position of each condition in the legend (the order the condition column sorts by). */
const CONDITION_POS = (() => {
  const pos = new Uint8Array(256).fill(LEGEND_ORDER.length);
  LEGEND_ORDER.forEach((c, k) => { pos[ZONE_CONDITION_CODES[c]] = k; });
  return pos;
})();

/** Integer sort key of zone i (ties keep zone order). */
function keyOf(r: ZoneReport, key: ZoneSortKey, i: number): number {
  switch (key) {
    case 'index': return i;
    case 'length': return zoneLength(r, i);
    case 'capacity': return zoneCapacity(r, i);
    // Conventional zones have no write pointer: they sort before every sequential zone.
    case 'written': return i < r.conventionalZones ? 0 : 1 + Math.max(0, r.wp[i] - zoneStart(r, i));
    case 'fill': return i < r.conventionalZones ? 0 : 1 + Math.round(zoneFill(r, i) * 1_000_000);
    case 'type': return i < r.conventionalZones ? 0 : 1;
    case 'condition': return CONDITION_POS[r.cond[i]];
  }
}

/** A stable sort of `zones` by key; descending keeps zone order within equal keys. */
export function zoneOrder(r: ZoneReport, spec: ZoneOrderSpec): Uint32Array {
  const zones = filteredZones(r, spec.shown, spec.type);
  const m = zones.length;
  if (spec.key === 'index') return spec.desc ? zones.reverse() : zones;
  if (spec.key === 'type' || spec.key === 'condition') return countingSort(r, zones, spec.key, spec.desc);
  const keys = new Float64Array(m);
  let max = 0;
  for (let k = 0; k < m; k++) { const v = keyOf(r, spec.key, zones[k]); keys[k] = v; if (v > max) max = v; }
  // Pack (key, position) into one integer below 2^53 when it fits: a native numeric sort then does it all.
  const bits = Math.max(1, Math.ceil(Math.log2(m + 1)));
  const scale = 2 ** bits;
  if (max * scale < 2 ** 53) {
    const packed = new Float64Array(m);
    for (let k = 0; k < m; k++) packed[k] = (spec.desc ? max - keys[k] : keys[k]) * scale + k;
    packed.sort();
    const out = new Uint32Array(m);
    for (let k = 0; k < m; k++) out[k] = zones[packed[k] % scale];
    return out;
  }
  const pos = Uint32Array.from({ length: m }, (_, k) => k);
  pos.sort((a, b) => (spec.desc ? keys[b] - keys[a] : keys[a] - keys[b]) || a - b);
  return pos.map((k) => zones[k]);
}

function countingSort(r: ZoneReport, zones: Uint32Array, key: 'type' | 'condition', desc: boolean): Uint32Array {
  const buckets = LEGEND_ORDER.length + 1;
  const count = new Uint32Array(buckets + 1);
  const b = (i: number): number => { const v = keyOf(r, key, i); return desc ? buckets - 1 - v : v; };
  for (let k = 0; k < zones.length; k++) count[b(zones[k]) + 1]++;
  for (let k = 1; k <= buckets; k++) count[k] += count[k - 1];
  const out = new Uint32Array(zones.length);
  for (let k = 0; k < zones.length; k++) out[count[b(zones[k])]++] = zones[k];
  return out;
}
