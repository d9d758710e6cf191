// A columnar zone table: one typed-array slot per zone, so that a million zones are three typed arrays
// (10 bytes a zone) rather than a million objects. Start, length and capacity are derived from the
// geometry; only the write pointer, the condition and the type are stored. This is plain data: it
// survives structured clone (IPC, workers) as it is.
//
// Conditions at rest come from the write pointer alone (ZONED-FORMAT.md section 4, section 8 item 6):
// not-wp for conventional zones, empty at the zone start, full at or past start + capacity, closed in
// between. Open states exist only while an image is open in the engine: the zone-state layer (writer)
// sets them with setZoneCondition() and drops them with rederiveCondition().
import { modelZoneCapacity } from './zone-model';
import { ZONE_CONDITION_CODES, ZONE_CONDITIONS, type ZoneCondition, type ZoneInfo, type ZoneType } from './zoned-types';

export const ZONE_TYPE_CONVENTIONAL = 1;
export const ZONE_TYPE_SEQUENTIAL = 2;

/** Everything needed to place zone i: start = i * zoneSize, the last zone may be short. */
export interface ZoneGeometry {
  zoneSize: number;
  /** Zone capacity as stored (bytes); the effective capacity of zone i is min(this, its length). */
  zoneCapacity: number;
  /** Virtual disk size in bytes. */
  deviceSize: number;
  /** Number of zones in the table. */
  count: number;
  conventionalZones: number;
}

export interface ZoneTable extends ZoneGeometry {
  /** Write pointer of each zone: absolute guest byte offset (bits 59-63 masked, 32-bit wraps undone). */
  wp: Float64Array;
  /** Condition code of each zone (ZONE_CONDITION_CODES: 0 not-wp, 1 empty, 2 iopen, 3 eopen, 4 closed, 0xe full…). */
  condition: Uint8Array;
  /** 1 conventional, 2 sequential write required (BLK_ZT_* codes). */
  type: Uint8Array;
  /**
   * RFC-v3 images only: the condition nibble persisted in bits 60-63 of each entry (0 where none). Null for
   * revisions that do not store one.
   */
  persisted: Uint8Array | null;
}

const CONDITION_BY_CODE: ReadonlyMap<number, ZoneCondition> = new Map(ZONE_CONDITIONS.map((c) => [ZONE_CONDITION_CODES[c], c]));

/** The condition named by a BLK_ZS_* code, or null for codes no zone can have. */
export function conditionFromCode(code: number): ZoneCondition | null {
  return CONDITION_BY_CODE.get(code) ?? null;
}

export function zoneStart(g: ZoneGeometry, i: number): number {
  return i * g.zoneSize;
}

/** Length of zone i: zone_size, or what is left of the device for a short last zone. */
export function zoneLength(g: ZoneGeometry, i: number): number {
  const start = i * g.zoneSize;
  const left = g.deviceSize - start;
  return left > 0 && left < g.zoneSize ? left : g.zoneSize;
}

/**
 * Capacity of zone i: min(zone_capacity, zone length) for a sequential zone (section 7 item 10); the zone
 * length for a conventional one, as Linux reports it (zone-model.ts).
 */
export function zoneCapacity(g: ZoneGeometry, i: number): number {
  return modelZoneCapacity(g, i);
}

export function zoneTypeName(code: number): ZoneType {
  return code === ZONE_TYPE_CONVENTIONAL ? 'conventional' : 'sequential';
}

/**
 * Condition of a zone at rest, from its write pointer (section 4, with capacity honoured for any value,
 * section 9 item 8). A full zone's pointer may lie anywhere in [start + capacity, start + zone_size]
 * (written to capacity, or finished). A pointer below the start reads as not-wp, as QEMU derives it; the
 * decoder reports such pointers as findings.
 */
export function conditionAtRest(g: ZoneGeometry, i: number, type: number, wp: number): ZoneCondition {
  if (type === ZONE_TYPE_CONVENTIONAL) return 'not-wp';
  const start = i * g.zoneSize;
  if (wp === start) return 'empty';
  if (wp >= start + zoneCapacity(g, i)) return 'full';
  if (wp > start) return 'closed';
  return 'not-wp';
}

/**
 * An empty table for a geometry: every zone at its start, conventional zones first. With `atRest`
 * false only the zone types are set, for a caller that sets every write pointer and condition itself
 * (readZonedmeta: a million zones need not be written twice).
 */
export function createZoneTable(g: ZoneGeometry, withPersisted = false, atRest = true): ZoneTable {
  const t: ZoneTable = {
    zoneSize: g.zoneSize, zoneCapacity: g.zoneCapacity, deviceSize: g.deviceSize, count: g.count,
    conventionalZones: g.conventionalZones,
    wp: new Float64Array(g.count), condition: new Uint8Array(g.count), type: new Uint8Array(g.count),
    persisted: withPersisted ? new Uint8Array(g.count) : null,
  };
  const conv = Math.min(g.conventionalZones, g.count);
  t.type.fill(ZONE_TYPE_CONVENTIONAL, 0, conv);
  t.type.fill(ZONE_TYPE_SEQUENTIAL, conv);
  if (atRest) {
    for (let i = 0; i < g.count; i++) t.wp[i] = i * g.zoneSize;
    t.condition.fill(ZONE_CONDITION_CODES['not-wp'], 0, conv);
    t.condition.fill(ZONE_CONDITION_CODES.empty, conv);
  }
  return t;
}

export function getZoneCondition(t: ZoneTable, i: number): ZoneCondition {
  return conditionFromCode(t.condition[i]) ?? 'offline';
}

/** Override a zone's condition (in-memory states: implicit-open, explicit-open; or offline for unreadable entries). */
export function setZoneCondition(t: ZoneTable, i: number, c: ZoneCondition): void {
  t.condition[i] = ZONE_CONDITION_CODES[c];
}

/** Re-derive a zone's condition from its write pointer (drops in-memory open states). */
export function rederiveCondition(t: ZoneTable, i: number): ZoneCondition {
  const c = conditionAtRest(t, i, t.type[i], t.wp[i]);
  t.condition[i] = ZONE_CONDITION_CODES[c];
  return c;
}

/** Set a zone's write pointer and derive its condition at rest. */
export function setZoneWp(t: ZoneTable, i: number, wp: number): ZoneCondition {
  t.wp[i] = wp;
  return rederiveCondition(t, i);
}

/** One zone as a plain object (bytes throughout). */
export function zoneInfo(t: ZoneTable, i: number): ZoneInfo {
  return {
    index: i,
    start: i * t.zoneSize,
    length: zoneLength(t, i),
    capacity: zoneCapacity(t, i),
    wp: t.wp[i],
    type: zoneTypeName(t.type[i]),
    condition: getZoneCondition(t, i),
  };
}

/** Zones [from, from + count) as objects, clipped to the table; for pages of a report, never the whole of a huge table. */
export function zoneInfos(t: ZoneTable, from: number, count: number): ZoneInfo[] {
  const end = Math.min(t.count, from + Math.max(0, count));
  const out: ZoneInfo[] = [];
  for (let i = Math.max(0, from); i < end; i++) out.push(zoneInfo(t, i));
  return out;
}

/** How many zones are in each condition. */
export function conditionCounts(t: ZoneTable): Record<ZoneCondition, number> {
  const counts = Object.fromEntries(ZONE_CONDITIONS.map((c) => [c, 0])) as Record<ZoneCondition, number>;
  const byCode = new Float64Array(16);
  for (let i = 0; i < t.count; i++) byCode[t.condition[i] & 0xf]++;
  for (const c of ZONE_CONDITIONS) counts[c] = byCode[ZONE_CONDITION_CODES[c]];
  return counts;
}

/** Zones counted against max_active (open + closed) and max_open (open), as section 4 defines them. */
export function resourceUse(t: ZoneTable): { open: number; active: number } {
  let open = 0;
  let closed = 0;
  for (let i = 0; i < t.count; i++) {
    const c = t.condition[i];
    if (c === ZONE_CONDITION_CODES['implicit-open'] || c === ZONE_CONDITION_CODES['explicit-open']) open++;
    else if (c === ZONE_CONDITION_CODES.closed) closed++;
  }
  return { open, active: open + closed };
}
