// A report that is nearly all one condition (the usual drive: empty zones, a few written): its commonest
// code and the zones that differ, so that the map's painter and the overview strip visit those only.
import type { ZoneReport } from '../../shared/contract/dto';
import { conditionTally } from '../../shared/contract/zone-geometry';

/** The commonest condition code of a report and the zones that have another one, in zone order. */
export interface Exceptions { common: number; zones: Uint32Array; codes: number[] }

const EXCEPTIONS = new WeakMap<ZoneReport, Exceptions | null>();

/** Null when more than an eighth of the zones differ from the commonest: then the full pass is as cheap. */
export function exceptionsOf(r: ZoneReport): Exceptions | null {
  if (EXCEPTIONS.has(r)) return EXCEPTIONS.get(r)!;
  const n = r.nrZones;
  const tally = conditionTally(r);
  let common = 0;
  for (let c = 1; c < 256; c++) if (tally[c] > tally[common]) common = c;
  let out: Exceptions | null = null;
  if (n - tally[common] <= n / 8) {
    const zones = new Uint32Array(n - tally[common]);
    for (let i = 0, k = 0; i < n; i++) if (r.cond[i] !== common) zones[k++] = i;
    const codes: number[] = [];
    for (let c = 0; c < 256; c++) if (c !== common && tally[c] > 0) codes.push(c);
    out = { common, zones, codes };
  }
  EXCEPTIONS.set(r, out);
  return out;
}
