// Which condition a pixel shows when it stands for many zones: the rarest one among them. Averaging (or
// taking the first zone) lets seven closed zones vanish into a million empty ones; ranking by rarity keeps
// every rare zone on screen at any zoom, on the map and on the overview strip. Rarity is counted in the
// whole report (fewest zones first); ties go by how rare the condition usually is on a drive.
import type { ZoneReport } from '../../shared/contract/dto';
import { conditionCounts } from '../../shared/contract/zone-geometry';
import { ZONE_CONDITION_CODES, type ZoneCondition } from '../../shared/qcow2/zoned-types';
import type { Exceptions } from './exceptions';

/** Tie order, rarest first: faults, then open states, then the at-rest conditions. */
export const TIE_ORDER: readonly ZoneCondition[] = ['offline', 'read-only', 'explicit-open', 'implicit-open', 'closed', 'full', 'not-wp', 'empty'];

/** Rank of a zone that the filter hides: drawn, but below every shown condition. */
export const RANK_HIDDEN = 1;

export interface Precedence {
  /** Conditions present in the report and shown by the filter, rarest first (the legend prints this). */
  order: ZoneCondition[];
  /** Rank per condition code: 0 = none, RANK_HIDDEN = filtered out, higher = rarer (wins the pixel). */
  rank: Uint8Array;
  /** The condition of each rank (index = rank; ranks 0 and 1 have none). */
  byRank: (ZoneCondition | null)[];
}

/**
 * Ranks from the counts: conditions with fewer zones rank higher. `shown` is the set of condition codes
 * the filter lets through (null = all); hidden conditions all get RANK_HIDDEN.
 */
export function precedenceFor(counts: Record<ZoneCondition, number>, shown: ReadonlySet<number> | null): Precedence {
  const present = TIE_ORDER.filter((c) => counts[c] > 0 && (!shown || shown.has(ZONE_CONDITION_CODES[c])));
  // Stable sort: equal counts keep TIE_ORDER.
  const order = [...present].sort((a, b) => counts[a] - counts[b]);
  const rank = new Uint8Array(256).fill(RANK_HIDDEN);
  const byRank: (ZoneCondition | null)[] = [null, null];
  // Commonest gets 2, rarest gets 1 + order.length.
  for (let k = order.length - 1; k >= 0; k--) {
    rank[ZONE_CONDITION_CODES[order[k]]] = byRank.length;
    byRank.push(order[k]);
  }
  // Codes that no zone has still rank as their condition would if present and shown (unknown codes are
  // drawn as offline by conditionOf): give them the top rank so a surprise is never hidden.
  for (const c of TIE_ORDER) {
    const code = ZONE_CONDITION_CODES[c];
    if (counts[c] === 0 && (!shown || shown.has(code))) rank[code] = 255;
  }
  // Codes no condition has are drawn as offline (conditionOf): they rank as offline does.
  const known = new Set<number>(Object.values(ZONE_CONDITION_CODES));
  for (let code = 0; code < 256; code++) if (!known.has(code)) rank[code] = rank[ZONE_CONDITION_CODES.offline];
  return { order, rank, byRank };
}

export function precedenceOf(r: ZoneReport, shown: ReadonlySet<number> | null): Precedence {
  return precedenceFor(conditionCounts(r), shown);
}

/** The zone of highest rank in [from, to) (the first of them), or -1 when the range is empty. */
export function rarestIn(cond: Uint8Array, rank: Uint8Array, from: number, to: number): number {
  let best = -1;
  let bestRank = -1;
  for (let i = from; i < to; i++) {
    const k = rank[cond[i]];
    if (k > bestRank) { bestRank = k; best = i; }
  }
  return best;
}

/**
 * The overview strip: `buckets` equal runs of consecutive zones, each with the rank of its rarest zone.
 * Bucket b covers zones [floor(b·n/buckets), floor((b+1)·n/buckets)). Given the report's exceptions
 * (exceptions.ts), only the zones that differ from the commonest condition are visited: the same ranks at a
 * cost of the buckets plus those zones, not of a million zones read cold (issue 14).
 */
export function stripRanks(cond: Uint8Array, n: number, rank: Uint8Array, buckets: number, ex?: Exceptions | null): Uint8Array {
  const out = new Uint8Array(Math.max(0, buckets));
  if (n <= 0) return out;
  if (ex) return stripRanksOfExceptions(out, cond, n, rank, ex);
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.max(from + 1, Math.floor(((b + 1) * n) / buckets));
    let best = 0;
    for (let i = from; i < Math.min(n, to); i++) { const k = rank[cond[i]]; if (k > best) best = k; }
    out[b] = best;
  }
  return out;
}

function stripRanksOfExceptions(out: Uint8Array, cond: Uint8Array, n: number, rank: Uint8Array, ex: Exceptions): Uint8Array {
  const buckets = out.length;
  const zones = ex.zones;
  const common = rank[ex.common];
  let j = 0; // the first exception at or after the bucket's first zone (buckets only move forward)
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.min(n, Math.max(from + 1, Math.floor(((b + 1) * n) / buckets)));
    while (j < zones.length && zones[j] < from) j++;
    let best = 0;
    let k = j;
    for (; k < zones.length && zones[k] < to; k++) { const r = rank[cond[zones[k]]]; if (r > best) best = r; }
    // Zones of the bucket that are not exceptions have the commonest condition.
    if (k - j < to - from && common > best) best = common;
    out[b] = best;
  }
  return out;
}
/** The zones of bucket b of a strip of `buckets` over n zones. */
export function bucketRange(n: number, buckets: number, b: number): [number, number] {
  const from = Math.floor((b * n) / buckets);
  return [from, Math.min(n, Math.max(from + 1, Math.floor(((b + 1) * n) / buckets)))];
}

/**
 * Next (dir 1) or previous (dir -1) zone after `from` whose condition code is in `codes`, wrapping around
 * the device once; -1 when no zone matches.
 */
export function stepZone(cond: Uint8Array, n: number, codes: ReadonlySet<number>, from: number, dir: 1 | -1): number {
  if (n <= 0) return -1;
  const want = new Uint8Array(256);
  for (const c of codes) want[c & 255] = 1;
  const start = from < 0 || from >= n ? (dir === 1 ? -1 : n) : from;
  for (let k = 1; k <= n; k++) {
    const i = (((start + dir * k) % n) + n) % n;
    if (want[cond[i]]) return i;
  }
  return -1;
}
