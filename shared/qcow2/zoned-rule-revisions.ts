// Which revisions refuse to open an image that breaks each zoned rule of RFC..v10 (ZONED-FORMAT.md 5.1,
// 5.2 and 10; the seed's code in reference/zoned-format-patch.txt), and so how severe a broken rule is on
// an image of a given layout family: an error when a revision of that family (for v5-v7: the seed, v7)
// refuses it, a compatibility warning naming the later revisions when only they do (docs/DECISIONS.md,
// issue 11, which extends ZONED-FORMAT.md section 8 item 8). The v11 family and the respin have their own table
// (zoned-open-rules.ts).
import type { Severity } from './findings';
import type { ZonedRevision } from './zoned-types';

export type ZonedLimitRule = 'zone-size-zero' | 'capacity' | 'max-append' | 'conventional-zones' | 'nr-zones';

/** The postings whose bytes each layout family has, oldest first (ZONED-FORMAT.md section 2). */
export const FAMILY_POSTINGS: Record<ZonedRevision, readonly string[]> = {
  rfc: ['RFC'], v2: ['v2'], 'v3-v4': ['v3', 'v4'], 'v5-v7': ['v5', 'v6', 'v7'], v8: ['v8', 'v9', 'v10'],
  v11: ['v11'], respin: ['respin'], unknown: [],
};

const ORDER = ['RFC', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10', 'v11', 'respin'];

/**
 * The postings whose open refuses an image breaking the rule. RFC and v2 check nothing; v3-v5 check zone
 * size 0, capacity and nr_zones inline; v6 adds qcow2_check_zone_options (size 0, capacity, clamps); v7
 * (the seed) adds the max-append rule; v8 adds conventional_zones >= nr_zones (5.1). The nr_zones test of
 * v6 is inferred from v5 and v7, which both have it.
 */
const REFUSED_BY: Record<ZonedLimitRule, readonly string[]> = {
  'zone-size-zero': ['v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10', 'v11', 'respin'],
  capacity: ['v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10', 'v11', 'respin'],
  'max-append': ['v7', 'v8', 'v9', 'v10', 'v11'],
  'conventional-zones': ['v8', 'v9', 'v10', 'v11', 'respin'],
  'nr-zones': ['v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10', 'v11', 'respin'],
};

function postingName(p: string): string {
  return p === 'v7' ? 'v7 (the seed)' : p === 'respin' ? 'the Cassel respin' : p;
}

function list(ps: readonly string[]): string {
  const names = ps.map(postingName);
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

export interface RuleVerdict {
  severity: Severity;
  /** The postings of the image's own family that refuse it. */
  refusing: string[];
  /** Later postings (other layouts) that refuse it. */
  later: string[];
  /** "v7 (the seed) refuses the image" or "v5, v6 and v7 (the seed) open it; v8, v9 and v10 refuse it". */
  text: string;
}

/** How severe a broken rule is on an image of revision family `r`, and which postings refuse it. */
export function ruleVerdict(rule: ZonedLimitRule, r: ZonedRevision): RuleVerdict {
  const family = FAMILY_POSTINGS[r];
  const refusedBy = REFUSED_BY[rule];
  const refusing = family.filter((p) => refusedBy.includes(p));
  const last = family.length ? ORDER.indexOf(family[family.length - 1]) : -1;
  const later = refusedBy.filter((p) => ORDER.indexOf(p) > last);
  // An image whose family cannot be told is judged strictly, as before.
  if (family.length === 0) return { severity: 'error', refusing: [], later: [...refusedBy], text: 'QEMU refuses the image' };
  if (refusing.length) {
    const opening = family.filter((p) => !refusedBy.includes(p));
    const text = `${list(refusing)} refuse${refusing.length === 1 ? 's' : ''} the image${opening.length ? ` (${list(opening)} did not check it)` : ''}`;
    return { severity: 'error', refusing, later, text };
  }
  const text = `compatibility only: ${list(family)} open${family.length === 1 ? 's' : ''} the image; ${later.length ? `${list(later)} refuse such values` : 'no revision of this layout checks it'}`;
  return { severity: 'warning', refusing, later, text };
}

/**
 * The seed's own message when its rule fires (verbatim from reference/zoned-format-patch.txt,
 * qcow2_check_zone_options and qcow2_read_extensions), with a note where the text itself is wrong.
 */
export function seedMessage(rule: ZonedLimitRule, v: { zoneSize: number; zoneCapacity: number; maxAppendBytes: number }): string {
  switch (rule) {
    case 'zone-size-zero':
      // The nr_zones test before it divides by zone_size: the seed may fault before printing this.
      return 'the seed prints "Zoned extension header zone_size field can not be 0" (its nr_zones test divides by zone_size first, so the open may end in a division by zero instead)';
    case 'capacity':
      return `the seed prints "zone capacity ${v.zoneCapacity}B exceeds zone size ${v.zoneSize}B"`;
    case 'max-append':
      // error_report(..., zone_opt->zone_capacity, zone_opt->max_append_bytes): the arguments are swapped.
      return `the seed prints "max append bytes ${v.zoneCapacity}B exceeds zone capacity ${v.maxAppendBytes}B by more than block size" (sic: it passes the capacity and the append limit in swapped order, so the two numbers print the wrong way round; the append limit is ${v.maxAppendBytes}, the capacity ${v.zoneCapacity})`;
    case 'nr-zones':
      return 'the seed prints "Zoned extension header nr_zones field is wrong"';
    case 'conventional-zones':
      return 'the seed has no such rule';
  }
}

/** The seed's clamp messages (error_report, the open goes on), verbatim. */
export const SEED_CLAMP = {
  active: (active: number, nr: number) => `Max_active_zones ${active} exceeds nr_zones ${nr}. Set it to nr_zones.`,
  openActive: (open: number, active: number) => `Max_open_zones ${open} exceeds max_active_zones ${active}. Set it to max_active_zones.`,
  openSequential: (seq: number) => `Max_open_zones field can not be larger than the number of SWR zones. Set it to number of SWR zones ${seq}.`,
};
