// The "zoned" section of `qzs info --json` (dashed keys): raw values as stored plus the effective limits
// after the v8 rule order (ZONED-FORMAT.md section 5.1, section 7 item 7), and the findings for stored
// limits that break those rules (section 8 item 8).
import { isPowerOfTwo } from '../bytes';
import type { ByteSource } from './byte-source';
import { finding, type Finding } from './findings';
import { detectWpByteOrder, zoneGeometry } from './zonedmeta';
import { ruleVerdict, SEED_CLAMP, seedMessage, type ZonedLimitRule } from './zoned-rule-revisions';
import type { EffectiveZoneLimits, WpByteOrder, ZonedExtension, ZonedField } from './zoned-types';

export interface ZonedInfoJson {
  revision: string;
  'revision-reason': string;
  /** Postings this image could be, byte for byte (e.g. v8, v9, v10). */
  'revision-candidates': string[];
  /** The tests on the bytes that decided the revision. */
  'revision-discriminators': string[];
  /** What the bytes leave open. */
  'revision-ambiguity': string[];
  /** Bit of a write-pointer entry that flags a conventional zone (59 up to v10, 63 from v11 on). */
  'wp-flag-bit': number;
  /** Whether the revision stores an append limit (the respin does not). */
  'has-append-limit': boolean;
  /** Extension data length as stored. */
  length: number;
  mode: string;
  /** RFC/v2 profile ("zbc", "zns" or the number), null for later revisions. */
  profile: string | null;
  'zone-size': number;
  'zone-capacity': number;
  'conventional-zones': number;
  'nr-zones': number;
  'max-open-zones': number;
  'max-active-zones': number;
  'max-append-bytes': number;
  'zonedmeta-offset': number;
  'zonedmeta-size': number;
  /** "little-endian" | "big-endian" as detected from the array, or what the caller passes when unknown. */
  'wp-byte-order': string;
  /** Limits as a v8/v9 QEMU would use them after its checks; `clamps` and `violations` say why they differ. */
  effective: {
    'max-open-zones': number;
    'max-active-zones': number;
    'max-append-bytes': number;
    clamps: string[];
    violations: string[];
  };
}

export interface EffectiveLimits extends EffectiveZoneLimits {
  /** Rules 1-4 of section 5.1 that the stored values break (QEMU v8/v9 refuses to open such an image). */
  violations: string[];
}

/**
 * Apply qcow2_check_zone_options of the image's revision: v8 order for RFC..v10 (section 5.1: rules 1-4
 * reject, 5-7 clamp; with max_active 0 the last clamp forces max_open to 0); for the v11 family and the
 * respin (2026 notes sections 2b, 4b) the last clamp applies only when max_active is not 0, and the respin
 * has no append rule (its maxAppendBytes 0 means no limit).
 */
export function effectiveLimits(z: ZonedExtension): EffectiveLimits {
  const clamps: string[] = [];
  const violations: string[] = [];
  const modern = z.revision === 'v11' || z.revision === 'respin';
  if (z.zoneSize === 0) violations.push('zone-size is 0');
  if (z.zoneCapacity > z.zoneSize) violations.push(`zone-capacity ${z.zoneCapacity} > zone-size ${z.zoneSize}`);
  if (z.hasAppendLimit && z.maxAppendBytes + 512 >= z.zoneCapacity) violations.push(`max-append-bytes ${z.maxAppendBytes} + 512 >= zone-capacity ${z.zoneCapacity}`);
  if (z.conventionalZones >= z.nrZones) violations.push(`conventional-zones ${z.conventionalZones} >= nr-zones ${z.nrZones}`);
  let active = z.maxActiveZones;
  let open = z.maxOpenZones;
  const seq = Math.max(0, z.nrZones - z.conventionalZones);
  if (active > z.nrZones) { clamps.push(`max-active-zones ${active} > nr-zones ${z.nrZones}: set to ${z.nrZones}`); active = z.nrZones; }
  if (open > seq) { clamps.push(`max-open-zones ${open} > sequential zones ${seq}: set to ${seq}`); open = seq; }
  if (open > active && (!modern || active !== 0)) { clamps.push(`max-open-zones ${open} > max-active-zones ${active}: set to ${active}`); open = active; }
  return { maxOpenZones: open, maxActiveZones: active, maxAppendBytes: z.maxAppendBytes, clamps, violations };
}

function field(z: ZonedExtension, ...names: string[]): ZonedField {
  for (const n of names) {
    const f = z.fields.find((x) => x.name === n);
    if (f) return f;
  }
  return { name: names[0], offset: z.dataOffset, size: 0, raw: '', value: 0, description: '' };
}

/**
 * Findings for stored values that break the rules (section 5.1 and section 8 item 4): rejections as
 * errors, clamps as warnings with the raw and effective values, and our own warnings (power of two,
 * cluster multiple, 512-byte alignment).
 */
export function zonedLimitFindings(z: ZonedExtension, clusterSize: number): Finding[] {
  const out: Finding[] = [];
  const at = (f: ZonedField) => ({ structure: 'zoned extension', field: f.name, offset: f.offset, length: f.size });
  const size = field(z, 'zone_size');
  const cap = field(z, 'zone_capacity');
  const append = field(z, 'max_append_bytes', 'max_append_sectors');
  const conv = field(z, 'conventional_zones', 'nr_conv_zones', 'zone_nr_conv');
  const active = field(z, 'max_active_zones');
  const open = field(z, 'max_open_zones');
  // Severity and attribution per layout family (zoned-rule-revisions.ts); the seed's own text beside ours.
  const seed = z.revision === 'v5-v7';
  const verdict = (rule: ZonedLimitRule) => {
    const v = ruleVerdict(rule, z.revision);
    return { severity: v.severity, says: `${v.text}${seed && v.refusing.includes('v7') ? `; ${seedMessage(rule, z)}` : ''}` };
  };
  if (z.zoneSize === 0) {
    const v = verdict('zone-size-zero');
    out.push(finding({ id: 'zoned.zone-size-zero', severity: v.severity, ...at(size), found: '0', expected: '> 0', message: `zone size is 0: no zone can be placed; ${v.says}`, fix: 'none: the zone size cannot be guessed' }));
  } else {
    if (!isPowerOfTwo(z.zoneSize)) out.push(finding({ id: 'zoned.zone-size-not-power-of-two', severity: 'warning', ...at(size), found: String(z.zoneSize), expected: 'a power of two (documented; QEMU masks assume it)', message: `zone size ${z.zoneSize} is not a power of two: QEMU's full-zone test assumes one`, fix: 'none: recreate the image with a power-of-two zone size' }));
    if (z.zoneSize % clusterSize !== 0) out.push(finding({ id: 'zoned.zone-size-not-cluster-multiple', severity: 'warning', ...at(size), found: String(z.zoneSize), expected: `a multiple of the cluster size ${clusterSize}`, message: `zone size ${z.zoneSize} is not a multiple of the cluster size ${clusterSize} (later respins require it)`, fix: 'none: recreate the image with a larger zone size or smaller clusters' }));
  }
  if (z.zoneCapacity > z.zoneSize) {
    const v = verdict('capacity');
    out.push(finding({ id: 'zoned.capacity-exceeds-size', severity: v.severity, ...at(cap), found: String(z.zoneCapacity), expected: `<= zone size ${z.zoneSize}`, message: `zone capacity ${z.zoneCapacity} exceeds the zone size ${z.zoneSize}: ${v.says}`, fix: `set zone_capacity to at most ${z.zoneSize}` }));
  } else if (z.zoneCapacity === 0 && z.zoneSize !== 0) {
    out.push(finding({ id: 'zoned.capacity-zero', severity: 'warning', ...at(cap), found: '0', expected: '> 0', message: 'zone capacity is 0: no sequential zone can be written', fix: `set zone_capacity to the zone size ${z.zoneSize}` }));
  }
  if (z.hasAppendLimit && z.maxAppendBytes + 512 >= z.zoneCapacity) {
    const v = verdict('max-append');
    out.push(finding({ id: 'zoned.max-append-too-large', severity: v.severity, ...at(append), found: `${z.maxAppendBytes} bytes`, expected: `max_append_bytes + 512 < zone capacity ${z.zoneCapacity}`, message: `max append ${z.maxAppendBytes} bytes + 512 reaches the zone capacity ${z.zoneCapacity}: ${v.says}`, fix: `lower max_append_bytes below ${Math.max(0, z.zoneCapacity - 512)}` }));
  }
  if (z.hasAppendLimit && z.maxAppendBytes % 512 !== 0) {
    out.push(finding({ id: 'zoned.max-append-unaligned', severity: 'warning', ...at(append), found: String(z.maxAppendBytes), expected: 'a multiple of 512', message: `max append ${z.maxAppendBytes} bytes is not 512-byte aligned: QEMU rounds appends down to whole sectors`, fix: `set it to ${Math.floor(z.maxAppendBytes / 512) * 512}` }));
  }
  if (z.conventionalZones >= z.nrZones) {
    const v = verdict('conventional-zones');
    const what = z.nrZones === 0 ? 'an image of no zones (virtual size 0) has no sequential zone' : `${z.conventionalZones} conventional zones leave no sequential zone of ${z.nrZones}`;
    out.push(finding({ id: 'zoned.conventional-zones', severity: v.severity, ...at(conv), found: String(z.conventionalZones), expected: `< nr_zones ${z.nrZones}`, message: `${what}: ${v.says}`, fix: 'none: recreate the image with fewer conventional zones' }));
  }
  const eff = effectiveLimits(z);
  if (eff.maxActiveZones !== z.maxActiveZones) {
    const seedSays = seed ? `; the seed prints "${SEED_CLAMP.active(z.maxActiveZones, z.nrZones)}"` : '';
    out.push(finding({ id: 'zoned.max-active-clamped', severity: 'warning', ...at(active), found: String(z.maxActiveZones), expected: `<= nr_zones ${z.nrZones}`, message: `max active zones ${z.maxActiveZones} exceeds nr_zones ${z.nrZones}: effective value ${eff.maxActiveZones}${seedSays}`, fix: `set max_active_zones to ${eff.maxActiveZones}` }));
  }
  if (eff.maxOpenZones !== z.maxOpenZones) {
    out.push(finding({ id: 'zoned.max-open-clamped', severity: 'warning', ...at(open), found: String(z.maxOpenZones), expected: `<= ${eff.maxOpenZones} (${eff.clamps.filter((c) => c.startsWith('max-open')).join('; ')})`, message: `max open zones ${z.maxOpenZones} breaks the rules (${eff.clamps.filter((c) => c.startsWith('max-open')).join('; ')}): effective value ${eff.maxOpenZones}${seed ? seedOpenClamps(z) : ''}`, fix: `set max_open_zones to ${eff.maxOpenZones}` }));
  }
  return out;
}

/** The seed's open clamp messages in its own order (max_open > max_active, then > sequential zones). */
function seedOpenClamps(z: ZonedExtension): string {
  const active = Math.min(z.maxActiveZones, z.nrZones);
  let open = z.maxOpenZones;
  const says: string[] = [];
  if (open > active) { says.push(SEED_CLAMP.openActive(open, active)); open = active; }
  const seq = Math.max(0, z.nrZones - z.conventionalZones);
  if (open > seq) says.push(SEED_CLAMP.openSequential(seq));
  return says.length ? `; the seed prints ${says.map((t) => `"${t}"`).join(' then ')}` : '';
}

function modeName(mode: number): string {
  return mode === 1 ? 'host-managed' : mode === 0 ? 'none' : `unknown (${mode})`;
}

function profileName(p: number | null): string | null {
  if (p === null) return null;
  return p === 1 ? 'zbc' : p === 2 ? 'zns' : String(p);
}

export function zonedInfoJson(z: ZonedExtension, wpByteOrder: string): ZonedInfoJson {
  const eff = effectiveLimits(z);
  return {
    revision: z.revision,
    'revision-reason': z.revisionReason,
    'revision-candidates': z.revisionCandidates,
    'revision-discriminators': z.revisionDiscriminators,
    'revision-ambiguity': z.revisionAmbiguity,
    'wp-flag-bit': z.wpFlagBit,
    'has-append-limit': z.hasAppendLimit,
    length: z.length,
    mode: modeName(z.mode),
    profile: profileName(z.profile),
    'zone-size': z.zoneSize,
    'zone-capacity': z.zoneCapacity,
    'conventional-zones': z.conventionalZones,
    'nr-zones': z.nrZones,
    'max-open-zones': z.maxOpenZones,
    'max-active-zones': z.maxActiveZones,
    'max-append-bytes': z.maxAppendBytes,
    'zonedmeta-offset': z.zonedmetaOffset,
    'zonedmeta-size': z.zonedmetaSize,
    'wp-byte-order': wpByteOrder,
    effective: {
      'max-open-zones': eff.maxOpenZones,
      'max-active-zones': eff.maxActiveZones,
      'max-append-bytes': eff.maxAppendBytes,
      clamps: eff.clamps,
      violations: eff.violations,
    },
  };
}

/** The parts of an OpenedImage the byte-order probe needs (structural, so callers need not import image.ts). */
export interface ZonedImageLike {
  source: ByteSource;
  fileSize: number;
  header: { size: number };
  zoned: ZonedExtension | null;
}

/**
 * Byte order of the image's write pointers (section 7 item 3), or null when the image is not zoned or its
 * geometry is unusable (zone size 0). Reads the array once in bounded chunks: about 8 MiB for a million zones.
 */
export async function imageWpByteOrder(img: ZonedImageLike): Promise<WpByteOrder | null> {
  if (!img.zoned) return null;
  const geo = zoneGeometry(img.zoned, img.header.size);
  if (!geo.geometry) return null;
  return (await detectWpByteOrder(img.source, img.zoned, geo.geometry, img.fileSize)).order;
}
