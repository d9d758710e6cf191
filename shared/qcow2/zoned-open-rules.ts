// The open-time rules of the 2026 revisions (ZONED-REVISIONS-2026.md sections 2b and 4b) as data: each rule
// names the revisions that apply it, the test, and the text that revision prints when it refuses the image.
// A broken rule becomes a finding that names the refusing revision and quotes its message, so `qzs info`
// and `qzs check` say exactly what a patched QEMU of that revision would say. Rules of RFC..v10 are
// reported by zoned-info.ts (zonedLimitFindings) and zonedmeta.ts, as before.
//
// Texts marked verbatim are quoted from floatious/qemu (State A for v11, State B for the respin); the
// others are ours, because the enforcing code of the respin is not stored (docs/DECISIONS.md 4).
import { isPowerOfTwo } from '../bytes';
import { finding, type Finding } from './findings';
import type { ZonedExtension, ZonedRevision } from './zoned-types';

/** At most this many zones (QCOW2_MAX_NR_ZONES, v11 family and respin). */
export const QCOW2_MAX_NR_ZONES = 1 << 20;

export interface OpenRuleContext {
  clusterSize: number;
  fileSize?: number;
  /** Virtual size, when known. */
  size?: number;
  /** qcow2 version, when known. */
  version?: number;
}

export interface ZonedOpenRule {
  /** Finding id suffix: the finding is `zoned.open-refused.<id>`. */
  id: string;
  /** Extension field the rule is about (for the finding's offset). */
  field: string;
  revisions: readonly ZonedRevision[];
  /** True when the image breaks the rule. */
  broken(z: ZonedExtension, c: OpenRuleContext): boolean;
  /** What the revision prints first (a qcow2_check_zone_options warning), if anything. */
  warning?(z: ZonedExtension, c: OpenRuleContext): string;
  /** The error that fails the open. */
  error: string | ((z: ZonedExtension, c: OpenRuleContext) => string);
  /** Whether both texts are quoted from the revision's code. */
  verbatim: boolean;
  expected(z: ZonedExtension, c: OpenRuleContext): string;
  found(z: ZonedExtension, c: OpenRuleContext): string;
}

const NEW: readonly ZonedRevision[] = ['v11', 'respin'];
const V11: readonly ZonedRevision[] = ['v11'];
const RESPIN: readonly ZonedRevision[] = ['respin'];
const INVALID_HEADER = 'Invalid zoned extension header';

/** The rules, in the order read_extensions and qcow2_check_zone_options apply them (section 2b). */
export const ZONED_OPEN_RULES: readonly ZonedOpenRule[] = [
  {
    id: 'zoned-value', field: 'zoned', revisions: NEW, verbatim: true,
    broken: (z) => z.mode !== 0 && z.mode !== 1,
    warning: (z) => `Zoned extension header zoned field has unknown value ${z.mode}`,
    error: INVALID_HEADER, expected: () => '0 or 1', found: (z) => String(z.mode),
  },
  {
    id: 'zone-size-zero', field: 'zone_size', revisions: NEW, verbatim: true,
    broken: (z) => z.mode === 1 && z.zoneSize === 0,
    warning: () => 'Zoned extension header zone_size field must not be 0',
    error: INVALID_HEADER, expected: () => '> 0', found: () => '0',
  },
  {
    id: 'zone-size-power-of-two', field: 'zone_size', revisions: NEW, verbatim: true,
    broken: (z) => z.mode === 1 && z.zoneSize > 0 && !isPowerOfTwo(z.zoneSize),
    warning: (z) => `Zoned extension header zone_size ${z.zoneSize}B is not a power of 2`,
    error: INVALID_HEADER, expected: () => 'a power of two', found: (z) => String(z.zoneSize),
  },
  {
    id: 'nr-zones-maximum', field: 'nr_zones', revisions: NEW, verbatim: true,
    broken: (z) => z.mode === 1 && z.nrZones > QCOW2_MAX_NR_ZONES,
    warning: (z) => `Zoned extension header nr_zones ${z.nrZones} exceeds maximum ${QCOW2_MAX_NR_ZONES}`,
    error: INVALID_HEADER, expected: () => `<= ${QCOW2_MAX_NR_ZONES}`, found: (z) => String(z.nrZones),
  },
  {
    id: 'capacity', field: 'zone_capacity', revisions: NEW, verbatim: true,
    broken: (z) => z.mode === 1 && z.zoneCapacity > z.zoneSize,
    warning: (z) => `zone capacity ${z.zoneCapacity}B exceeds zone size ${z.zoneSize}B`,
    error: INVALID_HEADER, expected: (z) => `<= zone_size ${z.zoneSize}`, found: (z) => String(z.zoneCapacity),
  },
  {
    id: 'max-append-aligned', field: 'max_append_bytes', revisions: V11, verbatim: true,
    broken: (z) => z.mode === 1 && z.maxAppendBytes % 512 !== 0,
    warning: (z) => `max append bytes ${z.maxAppendBytes}B is not aligned to 512`,
    error: INVALID_HEADER, expected: () => 'a multiple of 512', found: (z) => String(z.maxAppendBytes),
  },
  {
    id: 'max-append-capacity', field: 'max_append_bytes', revisions: V11, verbatim: true,
    broken: (z) => z.mode === 1 && z.maxAppendBytes + 512 >= z.zoneCapacity,
    warning: (z) => `max append bytes ${z.maxAppendBytes}B exceeds zone capacity ${z.zoneCapacity}B by more than block size`,
    error: INVALID_HEADER, expected: (z) => `max_append_bytes + 512 < capacity ${z.zoneCapacity}`, found: (z) => String(z.maxAppendBytes),
  },
  {
    id: 'conventional-zones', field: 'conventional_zones', revisions: NEW, verbatim: true,
    broken: (z) => z.mode === 1 && z.conventionalZones >= z.nrZones,
    warning: (z) => `Conventional_zones ${z.conventionalZones} exceeds nr_zones ${z.nrZones}.`,
    error: INVALID_HEADER, expected: (z) => `< nr_zones ${z.nrZones}`, found: (z) => String(z.conventionalZones),
  },
  {
    id: 'nr-zones', field: 'nr_zones', revisions: NEW, verbatim: true,
    broken: (z, c) => z.mode === 1 && c.size !== undefined && z.zoneSize > 0 && z.nrZones !== Math.ceil(c.size / z.zoneSize),
    error: 'Zoned extension header nr_zones field is wrong',
    expected: (z, c) => `ceil(size ${c.size ?? 0} / zone_size ${z.zoneSize}) = ${z.zoneSize > 0 ? Math.ceil((c.size ?? 0) / z.zoneSize) : 0}`, found: (z) => String(z.nrZones),
  },
  {
    id: 'zone-size-cluster-multiple', field: 'zone_size', revisions: RESPIN, verbatim: false,
    broken: (z, c) => z.mode === 1 && z.zoneSize > 0 && z.zoneSize % c.clusterSize !== 0,
    error: (z, c) => `Zone size ${z.zoneSize} is not a multiple of the cluster size ${c.clusterSize}`,
    expected: (_z, c) => `a multiple of the cluster size ${c.clusterSize}`, found: (z) => String(z.zoneSize),
  },
  {
    id: 'qcow2-version', field: 'zoned', revisions: RESPIN, verbatim: false,
    broken: (z, c) => z.mode === 1 && c.version !== undefined && c.version < 3,
    error: 'A zoned image requires qcow2 version 3',
    expected: () => 'qcow2 version 3', found: (_z, c) => `version ${c.version ?? 0}`,
  },
  {
    id: 'zonedmeta-offset', field: 'zonedmeta_offset', revisions: RESPIN, verbatim: false,
    broken: (z, c) => z.mode === 1 && (z.zonedmetaOffset === 0 || z.zonedmetaOffset % c.clusterSize !== 0),
    error: (z) => `Zoned metadata offset 0x${z.zonedmetaOffset.toString(16)} is invalid`,
    expected: (_z, c) => `non-zero and a multiple of the cluster size ${c.clusterSize}`, found: (z) => String(z.zonedmetaOffset),
  },
  {
    id: 'zonedmeta-inside-file', field: 'zonedmeta_offset', revisions: NEW, verbatim: true,
    broken: (z, c) => z.mode === 1 && c.fileSize !== undefined && z.zonedmetaOffset + 8 * z.nrZones > c.fileSize,
    error: 'Zoned metadata region exceeds the image file size',
    expected: (_z, c) => `within the file (${c.fileSize ?? 0} bytes)`, found: (z) => `${z.zonedmetaOffset} + ${8 * z.nrZones} bytes`,
  },
];

/** Human name of a revision, as findings name it. */
export function revisionLabel(r: ZonedRevision): string {
  switch (r) {
    case 'v8': return 'the v8/v9/v10 family';
    case 'v11': return 'the v11 family (State A)';
    case 'respin': return 'the Cassel respin (State B)';
    default: return r;
  }
}

/** The text the revision prints, as qemu-img/qemu-io would show it. */
export function refusalText(rule: ZonedOpenRule, z: ZonedExtension, c: OpenRuleContext): string {
  const err = typeof rule.error === 'string' ? rule.error : rule.error(z, c);
  return rule.warning ? `warning: ${rule.warning(z, c)}; then: ${err}` : err;
}

/** Findings for every open-time rule of the image's own revision that the image breaks. */
export function zonedOpenRuleFindings(z: ZonedExtension, c: OpenRuleContext): Finding[] {
  const out: Finding[] = [];
  for (const rule of ZONED_OPEN_RULES) {
    if (!rule.revisions.includes(z.revision) || !rule.broken(z, c)) continue;
    const f = z.fields.find((x) => x.name === rule.field);
    out.push(finding({
      id: `zoned.open-refused.${rule.id}`, severity: 'error', structure: 'zoned extension', field: rule.field,
      offset: f?.offset ?? z.dataOffset, length: f?.size ?? 0, found: rule.found(z, c), expected: rule.expected(z, c),
      message: `${revisionLabel(z.revision)} refuses to open this image: "${refusalText(rule, z, c)}"${rule.verbatim ? '' : ' (our wording: the revision\'s exact text is not known)'}`,
      fix: 'none: recreate the image with valid zone options (qzs create --zoned-layout ' + (z.revision === 'respin' ? 'respin' : 'v11') + ')',
    }));
  }
  return out;
}
