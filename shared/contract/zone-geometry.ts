// Per-zone facts derived from a ZoneReport's scalars, so a million zones need no per-zone objects.
import { modelZoneCapacity } from '../qcow2/zone-model';
import { ZONE_CONDITION_CODES, type ZoneCondition } from '../qcow2/zoned-types';
import type { ZoneReport } from './dto';

type Geometry = Pick<ZoneReport, 'zoneSize' | 'zoneCapacity' | 'deviceSize' | 'conventionalZones'>;

const BY_CODE = new Map<number, ZoneCondition>(
  (Object.entries(ZONE_CONDITION_CODES) as [ZoneCondition, number][]).map(([c, n]) => [n, c]),
);

export function conditionOf(code: number): ZoneCondition {
  return BY_CODE.get(code) ?? 'offline';
}

export function zoneStart(r: Geometry, i: number): number {
  return i * r.zoneSize;
}

export function zoneLength(r: Geometry, i: number): number {
  return Math.max(0, Math.min(r.zoneSize, r.deviceSize - i * r.zoneSize));
}

/** Capacity as the engine's zone report gives it: min(zone_capacity, length); a conventional zone's length. */
export function zoneCapacity(r: Geometry, i: number): number {
  return modelZoneCapacity(r, i);
}

/** Fraction of the capacity written (0..1); conventional zones count as 0. */
export function zoneFill(r: ZoneReport, i: number): number {
  if (i < r.conventionalZones) return 0;
  const cap = zoneCapacity(r, i);
  if (cap <= 0) return 0;
  return Math.max(0, Math.min(1, (r.wp[i] - zoneStart(r, i)) / cap));
}

/** Zone that holds a guest byte offset, or -1 beyond the device. */
export function zoneAtOffset(r: Geometry & { nrZones: number }, offset: number): number {
  if (!(offset >= 0) || r.zoneSize <= 0) return -1;
  const i = Math.floor(offset / r.zoneSize);
  return i < r.nrZones ? i : -1;
}

/**
 * Counts per report object: the overview card, the status bar (on every status change), the map's
 * precedence, the legend and the charts all ask, and each asking was a pass over a million zones (issue 14).
 * A report is a value: the app replaces it, never changes its arrays in place once shown.
 */
const COUNTS = new WeakMap<ZoneReport, Readonly<Record<ZoneCondition, number>>>();

export function conditionCounts(r: ZoneReport): Readonly<Record<ZoneCondition, number>> {
  const known = COUNTS.get(r);
  if (known) return known;
  const out = countConditions(r);
  COUNTS.set(r, out);
  return out;
}

function countConditions(r: ZoneReport): Record<ZoneCondition, number> {
  const out = Object.fromEntries(Object.keys(ZONE_CONDITION_CODES).map((c) => [c, 0])) as Record<ZoneCondition, number>;
  const tally = conditionTally(r);
  for (const [c, code] of Object.entries(ZONE_CONDITION_CODES) as [ZoneCondition, number][]) out[c] = tally[code];
  return out;
}

const TALLIES = new WeakMap<ZoneReport, Uint32Array>();

/**
 * How many zones have each condition code (index: the code), counted once per report object: the counts,
 * the map's painter and the overview strip all start from it, and a first pass over a million zones runs
 * cold (issue 14). Relies, like conditionCounts, on a shown report's arrays never changing in place.
 */
export function conditionTally(r: ZoneReport): Uint32Array {
  const known = TALLIES.get(r);
  if (known) return known;
  const tally = new Uint32Array(256);
  const cond = r.cond;
  for (let i = 0; i < r.nrZones; i++) tally[cond[i]]++;
  TALLIES.set(r, tally);
  return tally;
}

/** Open = implicit + explicit open; active = open + closed (ZONED-FORMAT.md section 4). */
export function resourceUse(r: ZoneReport): { open: number; active: number } {
  const c = conditionCounts(r);
  const open = c['implicit-open'] + c['explicit-open'];
  return { open, active: open + c.closed };
}
