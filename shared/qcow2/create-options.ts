// Validation of `qemu-img create -f qcow2 -o …` options, shared by `qzs create` and the create wizard.
// Non-zoned rules mirror qemu-img 7.2 (block/qcow2.c qcow2_co_create, bdrv_img_create) in its order and
// with the substance of its messages; zoned rules follow the targeted revision exactly as
// ZONED-FORMAT.md section 8 item 4 and section 5.1 say (v7 = the seed: order 1,2,3,5,7,6; v8: 1-7), and
// for the v11 family and the respin as ZONED-REVISIONS-2026.md sections 2b and 4b say. Each target is one
// entry of ZONE_REVISION_RULES (defaults, refusals and clamps in order, messages); the checker has no
// per-revision branches.
// Pure: the backing file's size, when the size is omitted, is looked up by the caller and passed in.
import { GIB, KIB, MIB } from '../bytes';
import { computeLayout, type CreateLayout } from './create-plan';
import type { ZonedExtension, ZonedWriteLayout } from './zoned-types';

/** Option names exactly as qemu-img spells them (underscores). */
export const CREATE_OPTION_NAMES = [
  'size', 'cluster_size', 'compat', 'lazy_refcounts', 'refcount_bits', 'extended_l2', 'compression_type',
  'preallocation', 'backing_file', 'backing_fmt', 'data_file', 'data_file_raw',
  'zone.mode', 'zone.size', 'zone.capacity', 'zone.conventional_zones', 'zone.max_open_zones',
  'zone.max_active_zones', 'zone.max_append_bytes',
] as const;

export type CreateOptionName = (typeof CREATE_OPTION_NAMES)[number];

/** Raw `-o` values as typed (later duplicates win, as in qemu-img). */
export type CreateOptionMap = Partial<Record<string, string>>;

export interface CreateInput {
  options: CreateOptionMap;
  /** The positional SIZE argument, if any (qemu-img refuses it together with -o size). */
  size?: string;
  /** Zoned layout to write; default 'v7' (the seed, ZONED-FORMAT.md section 8 item 2). */
  zonedLayout?: ZonedWriteLayout;
  /** Virtual size of the backing file, looked up by the caller when the size is omitted. */
  backingSize?: number | null;
}

export type CreateMessageCode =
  | 'unknown-option' | 'invalid-value' | 'size-missing' | 'size-twice' | 'size-range' | 'size-rounded'
  | 'backing' | 'cluster-size' | 'extended-l2' | 'preallocation' | 'lazy-refcounts' | 'refcount-bits'
  | 'data-file' | 'compression-type' | 'header-space'
  | 'zone-option-without-mode' | 'zone-size-missing' | 'zone-size' | 'zone-capacity' | 'zone-append'
  | 'zone-conventional' | 'zone-32bit' | 'zone-clamp' | 'zone-ignored' | 'zone-advice' | 'zone-overflow' | 'plan-too-large'
  /** v11/respin: the create fails after refusal warnings ("Invalid zoned device options"). */
  | 'zone-invalid'
  /** v8: a clamp that the revision reports through errp, so its qemu-img exits 1 although it leaves the image. */
  | 'zone-qemu-fails';

export interface CreateMessage {
  code: CreateMessageCode;
  /** The option concerned, in qemu-img spelling. */
  option: string;
  /** The value given (or the value in effect), as text; null when the option is missing. */
  value: string | null;
  /** The limit or requirement broken, as text; null when none applies. */
  limit: string | null;
  message: string;
  /** For zone rules: the text the targeted revision prints, with "warning: " where it uses warn_report. */
  qemu?: string;
  /**
   * The qemu text goes through errp, so qemu-img prints it as `qemu-img: FILE: <qemu>` (else as
   * `qemu-img: <qemu>`, error_report and warn_report having no file name).
   */
  qemuErrp?: boolean;
}

/** The zone fields a create writes: the decoder's own field set, plus the layout chosen. */
export type ZonedSettings = { layout: ZonedWriteLayout } & Pick<
  ZonedExtension,
  'zoneSize' | 'zoneCapacity' | 'conventionalZones' | 'nrZones' | 'maxActiveZones' | 'maxOpenZones' | 'maxAppendBytes'
>;

/** Options after defaults, parsing and clamps: exactly what gets written. */
export interface NormalizedCreateOptions {
  size: number;
  clusterSize: number;
  clusterBits: number;
  compat: '0.10' | '1.1';
  version: 2 | 3;
  lazyRefcounts: boolean;
  refcountBits: number;
  refcountOrder: number;
  extendedL2: boolean;
  compressionType: 'zlib' | 'zstd';
  preallocation: 'off' | 'metadata';
  backingFile: string | null;
  backingFmt: string | null;
  dataFile: string | null;
  dataFileRaw: boolean;
  zoned: ZonedSettings | null;
  /** Which options the user gave explicitly (for the qemu-img command line). */
  given: CreateOptionName[];
}

export interface DerivedValues {
  l2Entries: number;
  l1Entries: number;
  l1Bytes: number;
  l1Offset: number;
  refcountBlockEntries: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  refcountBlocks: number;
  fileSize: number;
  /** Bytes of every cluster that is not guest data (header, refcount structures, L1/L2, zonedmeta). */
  metadataBytes: number;
  nrZones: number | null;
  sequentialZones: number | null;
  zonedmetaSize: number | null;
  zonedmetaClusters: number | null;
  zonedmetaOffset: number | null;
  /** Zoned image written with the v7 layout that a v7 QEMU reads wrongly (zone starts past 4 GiB). */
  v7WrapsPast4GiB: boolean;
}

export interface CreateValidation {
  ok: boolean;
  errors: CreateMessage[];
  warnings: CreateMessage[];
  normalized: NormalizedCreateOptions | null;
  derived: DerivedValues | null;
  /** The size must come from the backing file, which the caller has not looked up yet. */
  needsBackingSize: boolean;
  /**
   * The targeted revision's qemu-img writes this very image yet exits 1 (v8: a clamp reported through
   * errp after the header is written); `qzs create --strict` exits 1 too.
   */
  qemuExitsNonZero?: boolean;
}

// Defined with the byte accessors, so that a reader needing only the units (emulators.ts, for `qzs info`)
// does not load the create options with them.
export { KIB, MIB, GIB };
const U32_MAX = 0xffff_ffff;
/** qemu-img refuses sizes above INT64_MAX; we also need them exact in a JS number. */
const MAX_IMAGE_SIZE = Number.MAX_SAFE_INTEGER - 511;
export const V8_DEFAULT_ZONE_SIZE = 256 * MIB;
export const V8_DEFAULT_MAX_APPEND = 64 * KIB;
const SECTOR = 512;

const SUFFIX: Record<string, number> = { b: 1, k: KIB, m: MIB, g: GIB, t: GIB * KIB, p: GIB * MIB, e: GIB * GIB };

export type SizeParse = { ok: true; value: number; deprecatedHex: boolean } | { ok: false; reason: string };

/**
 * qemu_strtosz as qemu-img 7.2 applies it: decimal with optional fraction, or 0x hex; suffixes b, k, M,
 * G, T, P, E (case-insensitive, powers of 1024); a non-zero fraction needs a suffix other than b; the
 * fraction part is rounded to the nearest byte; leading blanks and a '+' sign are accepted.
 */
export function parseQemuSize(text: string): SizeParse {
  const m = /^\s*\+?(?:(0[xX][0-9a-fA-F]+)|(\d+)(?:\.(\d*))?)([bBkKmMgGtTpPeE]?)$/.exec(text);
  if (!m) return { ok: false, reason: 'not a number with an optional b, k, M, G, T, P or E suffix' };
  const suffix = m[4].toLowerCase();
  const mul = suffix ? SUFFIX[suffix] : 1;
  let value: number;
  if (m[1]) {
    value = Number.parseInt(m[1].slice(2), 16) * mul;
  } else {
    const frac = m[3] ?? '';
    const fracNonZero = /[1-9]/.test(frac);
    if (fracNonZero && mul === 1) return { ok: false, reason: 'a fraction needs a k, M, G, T, P or E suffix' };
    const whole = BigInt(m[2]) * BigInt(mul);
    let fracBytes = 0n;
    if (fracNonZero) {
      const den = 10n ** BigInt(frac.length);
      const num = BigInt(frac) * BigInt(mul);
      fracBytes = (num * 2n + den) / (2n * den);
    }
    const total = whole + fracBytes;
    if (total > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'larger than 2^53 bytes' };
    value = Number(total);
  }
  if (!Number.isSafeInteger(value)) return { ok: false, reason: 'larger than 2^53 bytes' };
  return { ok: true, value, deprecatedHex: !!m[1] && !!suffix };
}

/** QEMU_OPT_NUMBER (qemu_strtou64 base 0: decimal, 0x hex, leading-0 octal). */
function parseQemuNumber(text: string): number | null {
  const t = text.trim();
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) v = Number.parseInt(t.slice(2), 16);
  else if (/^0[0-7]+$/.test(t)) v = Number.parseInt(t.slice(1), 8);
  else if (/^\d+$/.test(t)) v = Number(t);
  else return null;
  return Number.isSafeInteger(v) ? v : null;
}

/** QEMU_OPT_BOOL as qemu-img 7.2 parses it. */
function parseQemuBool(text: string): boolean | null {
  if (['on', 'yes', 'true', 'y'].includes(text)) return true;
  if (['off', 'no', 'false', 'n'].includes(text)) return false;
  return null;
}

export function isPowerOfTwoInt(v: number): boolean {
  return Number.isSafeInteger(v) && v > 0 && 2 ** Math.round(Math.log2(v)) === v;
}

function fmtBytes(v: number): string {
  const units: [number, string][] = [[GIB * GIB, 'EiB'], [GIB * MIB, 'PiB'], [GIB * KIB, 'TiB'], [GIB, 'GiB'], [MIB, 'MiB'], [KIB, 'KiB']];
  for (const [u, n] of units) if (v >= u && v % u === 0) return `${v} (${v / u} ${n})`;
  return String(v);
}

class Collector {
  errors: CreateMessage[] = [];
  warnings: CreateMessage[] = [];
  error(code: CreateMessageCode, option: string, value: string | null, limit: string | null, message: string, qemu?: string, qemuErrp = false): void {
    this.errors.push({ code, option, value, limit, message, ...(qemu !== undefined ? { qemu } : {}), ...(qemuErrp ? { qemuErrp } : {}) });
  }
  warn(code: CreateMessageCode, option: string, value: string | null, limit: string | null, message: string, qemu?: string, qemuErrp = false): void {
    this.warnings.push({ code, option, value, limit, message, ...(qemu !== undefined ? { qemu } : {}), ...(qemuErrp ? { qemuErrp } : {}) });
  }
}

const ZONE_OPTIONS = ['zone.size', 'zone.capacity', 'zone.conventional_zones', 'zone.max_open_zones', 'zone.max_active_zones', 'zone.max_append_bytes'] as const;

/**
 * The one validation function. Errors are listed in the order qemu-img (and, for zone options, the
 * targeted revision of the patch) checks them; qemu-img stops at the first, we report all of them.
 */
export function validateCreateOptions(input: CreateInput): CreateValidation {
  const c = new Collector();
  const o = input.options;
  const layout: ZonedWriteLayout = input.zonedLayout ?? 'v7';
  const given: CreateOptionName[] = [];
  const noAppend = ZONE_REVISION_RULES[layout].defaultMaxAppend === null;
  for (const key of Object.keys(o)) {
    if (o[key] === undefined) continue;
    if (noAppend && key === 'zone.max_append_bytes') {
      // The respin dropped the option from QemuOpts, QAPI and the spec: its qemu-img refuses it as unknown.
      const names = CREATE_OPTION_NAMES.filter((n) => n !== key).join(', ');
      c.error('unknown-option', key, o[key] ?? null, names, `Invalid parameter '${key}': the respin has no zone append limit (it was dropped from the format), so its qemu-img refuses the option as unknown`, `Invalid parameter '${key}'`);
      continue;
    }
    if ((CREATE_OPTION_NAMES as readonly string[]).includes(key)) given.push(key as CreateOptionName);
    else {
      const dashed = key.replace(/-/g, '_');
      const hint = (CREATE_OPTION_NAMES as readonly string[]).includes(dashed) ? ` (qemu-img spells it "${dashed}")` : '';
      c.error('unknown-option', key, o[key] ?? null, CREATE_OPTION_NAMES.join(', '), `Invalid parameter '${key}'${hint}: qcow2 create options are ${CREATE_OPTION_NAMES.join(', ')}`);
    }
  }
  const has = (k: CreateOptionName): boolean => o[k] !== undefined;

  const sizeOpt = (k: CreateOptionName): number | undefined => {
    const raw = o[k];
    if (raw === undefined) return undefined;
    const p = parseQemuSize(raw);
    if (!p.ok) {
      c.error('invalid-value', k, raw, 'a non-negative number below 2^53 with an optional k, M, G, T, P or E suffix', `Parameter '${k}' expects a non-negative number with an optional suffix k, M, G, T, P or E (kilo-, mega-, giga-, tera-, peta- and exabytes): "${raw}" is ${p.reason}`);
      return undefined;
    }
    if (p.deprecatedHex) c.warn('invalid-value', k, raw, null, `'${k}': using a multiplier suffix on hex numbers is deprecated (${raw})`);
    return p.value;
  };
  const numberOpt = (k: CreateOptionName, max: number): number | undefined => {
    const raw = o[k];
    if (raw === undefined) return undefined;
    const v = parseQemuNumber(raw);
    if (v === null || v > max) {
      c.error('invalid-value', k, raw, `an integer from 0 to ${max}`, `Parameter '${k}' expects a number from 0 to ${max}, got "${raw}"`);
      return undefined;
    }
    return v;
  };
  const boolOpt = (k: CreateOptionName): boolean | undefined => {
    const raw = o[k];
    if (raw === undefined) return undefined;
    const v = parseQemuBool(raw);
    if (v === null) c.error('invalid-value', k, raw, "'on' or 'off'", `Parameter '${k}' expects 'on' or 'off', got "${raw}"`);
    return v ?? undefined;
  };
  const enumOpt = <T extends string>(k: CreateOptionName, values: readonly string[], aliases: Record<string, T>): T | undefined => {
    const raw = o[k];
    if (raw === undefined) return undefined;
    if (raw in aliases) return aliases[raw];
    c.error('invalid-value', k, raw, values.join(', '), `Parameter '${k}' does not accept value '${raw}' (accepted: ${values.join(', ')})`);
    return undefined;
  };

  // Option syntax, as qemu-img parses -o before anything else.
  const optSize = sizeOpt('size');
  const clusterSizeOpt = sizeOpt('cluster_size');
  const compat = enumOpt<'0.10' | '1.1'>('compat', ['0.10', '1.1', 'v2', 'v3'], { '0.10': '0.10', '1.1': '1.1', v2: '0.10', v3: '1.1' });
  const lazy = boolOpt('lazy_refcounts');
  const refcountBitsOpt = numberOpt('refcount_bits', Number.MAX_SAFE_INTEGER);
  const extendedL2 = boolOpt('extended_l2') ?? false;
  const compression = enumOpt<'zlib' | 'zstd'>('compression_type', ['zlib', 'zstd'], { zlib: 'zlib', zstd: 'zstd' });
  const preallocRaw = o['preallocation'];
  let preallocation: 'off' | 'metadata' = 'off';
  if (preallocRaw !== undefined) {
    if (preallocRaw === 'off' || preallocRaw === 'metadata') preallocation = preallocRaw;
    else if (preallocRaw === 'falloc' || preallocRaw === 'full') c.error('preallocation', 'preallocation', preallocRaw, 'off or metadata', `preallocation=${preallocRaw} is accepted by qemu-img but not supported by Qcow2 Zone Studio: use off or metadata`);
    else c.error('invalid-value', 'preallocation', preallocRaw, 'off, metadata, falloc, full', `Parameter 'preallocation' does not accept value '${preallocRaw}'`);
  }
  const dataFileRaw = boolOpt('data_file_raw') ?? false;
  const dataFile = o['data_file'] || null;
  const backingFile = o['backing_file'] || null;
  const backingFmt = o['backing_fmt'] || null;

  // Zone options' syntax.
  const zoneMode = o['zone.mode'];
  if (zoneMode !== undefined && zoneMode !== 'host-managed') c.error('invalid-value', 'zone.mode', zoneMode, 'host-managed', `Parameter 'zone.mode' does not accept value '${zoneMode}' (the only zone model is host-managed)`);
  const zoneSizeOpt = sizeOpt('zone.size');
  const zoneCapOpt = sizeOpt('zone.capacity');
  const convOpt = numberOpt('zone.conventional_zones', U32_MAX);
  const maxOpenOpt = numberOpt('zone.max_open_zones', U32_MAX);
  const maxActiveOpt = numberOpt('zone.max_active_zones', U32_MAX);
  const maxAppendOpt = noAppend ? undefined : sizeOpt('zone.max_append_bytes');
  const zoned = zoneMode === 'host-managed';
  if (zoneMode === undefined) {
    for (const k of ZONE_OPTIONS) if (has(k)) c.error('zone-option-without-mode', k, o[k] ?? null, 'zone.mode=host-managed', `'${k}' needs zone.mode=host-managed (the zone options are the members of the host-managed zone model)`);
  }

  // Image size: qemu-img create (positional or -o size), rounded up to 512 bytes.
  let needsBackingSize = false;
  let size: number | undefined;
  if (input.size !== undefined && has('size')) {
    c.error('size-twice', 'size', `${input.size} and size=${o['size']}`, 'once', 'The image size must be specified only once');
  } else if (input.size !== undefined) {
    const p = parseQemuSize(input.size);
    if (!p.ok) c.error('size-range', 'size', input.size, 'k, M, G, T, P or E suffixes', `Invalid image size specified ("${input.size}": ${p.reason}). You may use k, M, G, T, P or E suffixes for kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.`);
    else size = p.value;
  } else if (optSize !== undefined) {
    size = optSize;
  }
  if (size === undefined && input.size === undefined && !has('size')) {
    if (backingFile) {
      if (typeof input.backingSize === 'number') size = input.backingSize;
      else needsBackingSize = true;
    } else {
      c.error('size-missing', 'size', null, 'a size, or a backing file to take it from', 'Image creation needs a size parameter');
    }
  }
  if (size !== undefined) {
    if (size > MAX_IMAGE_SIZE) {
      c.error('size-range', 'size', String(size), `at most ${MAX_IMAGE_SIZE} bytes`, `Image size ${size} is beyond what Qcow2 Zone Studio handles exactly (2^53 bytes)`);
      size = undefined;
    } else if (size % SECTOR !== 0) {
      const rounded = Math.ceil(size / SECTOR) * SECTOR;
      c.warn('size-rounded', 'size', String(size), 'a multiple of 512', `size ${size} is not a multiple of 512 bytes: written as ${rounded}, as qemu-img rounds it up`);
      size = rounded;
    }
  }

  // bdrv_img_create: backing file checks.
  if (backingFile && !backingFmt) {
    c.error('backing', 'backing_file', backingFile, 'backing_fmt given', 'Backing file specified without backing format (qemu-img 7.2 requires backing_fmt, e.g. backing_fmt=qcow2)');
  }

  // qcow2_co_create, in its order.
  const version: 2 | 3 = compat === '0.10' ? 2 : 3;
  const clusterSize = clusterSizeOpt ?? 65536;
  if (extendedL2 && version < 3) {
    c.error('extended-l2', 'extended_l2', 'on', 'compat=1.1', 'Extended L2 entries are only supported with compatibility level 1.1 and above (use version=v3 or greater)');
  }
  let clusterBits = Math.log2(clusterSize);
  if (!Number.isInteger(clusterBits) || clusterBits < 9 || clusterBits > 21) {
    c.error('cluster-size', 'cluster_size', String(clusterSize), 'a power of two from 512 to 2097152 (2048k)', `Cluster size must be a power of two between 512 and 2048k (got ${clusterSize})`);
    clusterBits = 16;
  } else if (extendedL2 && clusterSize < 16384) {
    c.error('extended-l2', 'cluster_size', String(clusterSize), 'at least 16384 with extended_l2=on', `Extended L2 entries are only supported with cluster sizes of at least 16384 bytes (cluster_size=${clusterSize})`);
  }
  if (backingFile && preallocation !== 'off' && !extendedL2) {
    c.error('preallocation', 'preallocation', preallocation, 'off, or extended_l2=on', 'Backing file and preallocation can only be used at the same time if extended_l2 is on');
  }
  if (backingFmt && !backingFile) {
    c.error('backing', 'backing_fmt', backingFmt, 'backing_file given', 'Backing format cannot be used without backing file');
  }
  if (version < 3 && lazy) {
    c.error('lazy-refcounts', 'lazy_refcounts', 'on', 'compat=1.1', 'Lazy refcounts only supported with compatibility level 1.1 and above (use version=v3 or greater)');
  }
  const refcountBits = refcountBitsOpt ?? 16;
  let refcountOrder = Math.log2(refcountBits);
  if (refcountBitsOpt !== undefined && (refcountBits > 64 || !Number.isInteger(refcountOrder))) {
    c.error('refcount-bits', 'refcount_bits', String(refcountBits), 'a power of two, at most 64', `Refcount width must be a power of two and may not exceed 64 bits (refcount_bits=${refcountBits})`);
    refcountOrder = 4;
  } else if (version < 3 && refcountBits !== 16) {
    c.error('refcount-bits', 'refcount_bits', String(refcountBits), '16 with compat=0.10', 'Different refcount widths than 16 bits require compatibility level 1.1 or above (use version=v3 or greater)');
  }
  if (dataFileRaw && !dataFile) {
    c.error('data-file', 'data_file_raw', 'on', 'data_file given', 'data-file-raw requires data-file');
  }
  if (dataFileRaw && backingFile) {
    c.error('data-file', 'data_file_raw', 'on', 'no backing_file', 'Backing file and data-file-raw cannot be used at the same time');
  }
  if (dataFileRaw && preallocation === 'off') {
    // qemu-img: the L1/L2 tables must map 1:1 so that the data file reads as a raw image.
    preallocation = 'metadata';
  }
  if (dataFile && version < 3) {
    c.error('data-file', 'data_file', dataFile, 'compat=1.1', 'External data files are only supported with compatibility level 1.1 and above (use version=v3 or greater)');
  }
  if (compression === 'zstd' && version < 3) {
    c.error('compression-type', 'compression_type', 'zstd', 'compat=1.1', 'Non-zlib compression type is only supported with compatibility level 1.1 and above (use version=v3 or greater)');
  }
  if (zoned && version < 3) {
    // Beyond QEMU (which would write the extension into a v2 image, section 7 item 13): v2 has no feature bits.
    c.error('zone-option-without-mode', 'compat', '0.10', 'compat=1.1', 'A zoned image needs compat=1.1: version 2 images cannot carry incompatible bit 5 (zoned format)');
  }

  // Zone options: the targeted revision's rules and clamps.
  let zonedSettings: ZonedSettings | null = null;
  let zoneErrors = false;
  if (zoned) {
    const before = c.errors.length;
    zonedSettings = checkZoneOptions(c, layout, size, { zoneSizeOpt, zoneCapOpt, convOpt, maxOpenOpt, maxActiveOpt, maxAppendOpt }, clusterSize);
    zoneErrors = c.errors.length > before;
  }

  if (c.errors.length > 0 || size === undefined || (zoned && (!zonedSettings || zoneErrors))) {
    return { ok: false, errors: c.errors, warnings: c.warnings, normalized: null, derived: null, needsBackingSize: needsBackingSize && c.errors.length === 0 };
  }

  const normalized: NormalizedCreateOptions = {
    size, clusterSize, clusterBits, compat: version === 2 ? '0.10' : '1.1', version,
    lazyRefcounts: lazy ?? false, refcountBits, refcountOrder, extendedL2,
    compressionType: compression ?? 'zlib', preallocation, backingFile, backingFmt, dataFile, dataFileRaw,
    zoned: zonedSettings, given,
  };

  let layoutResult: CreateLayout;
  try {
    layoutResult = computeLayout(normalized);
  } catch (e) {
    c.error('plan-too-large', 'size', String(size), null, (e as Error).message);
    return { ok: false, errors: c.errors, warnings: c.warnings, normalized: null, derived: null, needsBackingSize: false };
  }
  if (layoutResult.headerBytes > clusterSize) {
    c.error('header-space', 'backing_file', backingFile, `${clusterSize} bytes (cluster 0)`, `The header, its extensions and the backing file name need ${layoutResult.headerBytes} bytes, more than cluster 0 holds (${clusterSize}): use a larger cluster_size or a shorter name`);
    return { ok: false, errors: c.errors, warnings: c.warnings, normalized: null, derived: null, needsBackingSize: false };
  }
  if (backingFile && new TextEncoder().encode(backingFile).length > 1023) {
    c.error('backing', 'backing_file', backingFile, 'at most 1023 bytes', 'The backing file name may not exceed 1023 bytes');
    return { ok: false, errors: c.errors, warnings: c.warnings, normalized: null, derived: null, needsBackingSize: false };
  }

  const z = zonedSettings;
  const derived: DerivedValues = {
    l2Entries: layoutResult.l2Entries,
    l1Entries: layoutResult.l1Entries,
    l1Bytes: layoutResult.l1Entries * 8,
    l1Offset: layoutResult.l1Offset,
    refcountBlockEntries: layoutResult.refcountBlockEntries,
    refcountTableOffset: layoutResult.refcountTableOffset,
    refcountTableClusters: layoutResult.refcountTableClusters,
    refcountBlocks: layoutResult.refcountBlockCount,
    fileSize: layoutResult.fileSize,
    metadataBytes: layoutResult.metadataClusters * clusterSize,
    nrZones: z ? z.nrZones : null,
    sequentialZones: z ? z.nrZones - z.conventionalZones : null,
    zonedmetaSize: z ? 8 * z.nrZones : null,
    zonedmetaClusters: z ? Math.ceil((8 * z.nrZones) / clusterSize) : null,
    zonedmetaOffset: layoutResult.zonedmetaOffset,
    v7WrapsPast4GiB: !!z && z.layout === 'v7' && size > 4 * GIB && z.nrZones > 1,
  };
  if (derived.v7WrapsPast4GiB) {
    c.warn('zone-overflow', 'size', String(size), '4 GiB with the v7 layout', `the image is larger than 4 GiB: we write correct 64-bit write pointers, but a v7 QEMU computes zone starts in 32 bits and misreads the zones that start at or beyond 4 GiB (use --zoned-layout v8 for a v8 QEMU)`);
  }
  const qemuExitsNonZero = c.warnings.some((w) => w.code === 'zone-qemu-fails');
  return { ok: true, errors: c.errors, warnings: c.warnings, normalized, derived, needsBackingSize: false, ...(qemuExitsNonZero ? { qemuExitsNonZero } : {}) };
}

interface ZoneOptionValues {
  zoneSizeOpt: number | undefined;
  zoneCapOpt: number | undefined;
  convOpt: number | undefined;
  maxOpenOpt: number | undefined;
  maxActiveOpt: number | undefined;
  maxAppendOpt: number | undefined;
}

/** The values a zone rule sees: defaults applied, nr_zones computed. */
export interface ZoneRuleValues {
  size: number;
  clusterSize: number;
  zoneSize: number;
  zoneCapacity: number;
  conventionalZones: number;
  nrZones: number;
  maxActiveZones: number;
  maxOpenZones: number;
  maxAppendBytes: number;
}

/** A create-time refusal of one revision: test, and the message that revision prints. */
export interface ZoneRefusalRule {
  code: CreateMessageCode;
  option: string;
  broken(v: ZoneRuleValues): boolean;
  value(v: ZoneRuleValues): string;
  limit(v: ZoneRuleValues): string;
  message(v: ZoneRuleValues): string;
  /** What the revision prints, where it differs from `message` (the seed's own wording); null: it prints nothing. */
  qemu?: ((v: ZoneRuleValues) => string) | null;
}

/**
 * A create-time clamp: when it applies, the field is written as `to`. `message` is the revision's own line,
 * in QEMU's spelling (qcow2_check_zone_options: "Max_open_zones … Set it to max_active_zones."), kept as the
 * warning's `qemu` text; the warning's message is ours, in the option names used everywhere else.
 */
export interface ZoneClampRule {
  option: 'zone.max_active_zones' | 'zone.max_open_zones';
  field: 'maxActiveZones' | 'maxOpenZones';
  applies(v: ZoneRuleValues): boolean;
  to(v: ZoneRuleValues): number;
  limit(v: ZoneRuleValues): string;
  message(v: ZoneRuleValues, to: number): string;
  /** What the revision prints, where it differs from `message` (the seed's own wording). */
  qemu?: (v: ZoneRuleValues, to: number) => string;
}

/** Our own advice beyond QEMU (never a refusal), skipped where the revision itself refuses. */
type Advice = 'power-of-two' | 'cluster-multiple' | 'append-aligned' | 'append-zero';

/**
 * Everything a create target does with the zone options (ZONED-FORMAT.md 5.1, 5.3, 8 item 4, 10;
 * ZONED-REVISIONS-2026.md 2b, 4b): defaults, which fields it stores, its refusals and clamps in its order,
 * and how it reports a refusal.
 */
export interface ZoneRevisionRules {
  layout: ZonedWriteLayout;
  /** How messages name the revision. */
  label: string;
  /** null: zone.size is mandatory (v7: "Missing zone_size parameter"). */
  defaultZoneSize: number | null;
  /** null: the layout stores no append limit (the respin), so zone.max_append_bytes is an unknown option. */
  defaultMaxAppend: number | null;
  /** v7/v8 take max_open only together with max_active; v11 and the respin default it to max_active or 0. */
  maxOpenNeedsActive: boolean;
  /** Zone size and capacity are 32-bit fields (v7). */
  fields32: boolean;
  /** Checked in this order; we report every broken one (qemu-img stops at the first). */
  refusals: readonly ZoneRefusalRule[];
  clamps: readonly ZoneClampRule[];
  /** v11/respin: refusals are warn_report lines, then create fails with this error (through errp). */
  refusalError: string | null;
  /**
   * The seed: refusals are error_report lines and qcow2_co_create returns -EINVAL without setting errp, so
   * bdrv_co_create adds "Could not create image: Invalid argument" (qemu-img: FILE: …).
   */
  refusalQemuLine: string | null;
  /** v8/v9: each clamp is error_setg on errp, so qemu-img exits 1 after writing the clamped image. */
  clampsFail: boolean;
  /** Refusal messages are printed as warnings by the revision (qemu-img: warning: …). */
  refusalsAreWarnings: boolean;
  advice: readonly Advice[];
}

export const MAX_NR_ZONES_2026 = 1 << 20;

const CAPACITY: ZoneRefusalRule = {
  code: 'zone-capacity', option: 'zone.capacity', broken: (v) => v.zoneCapacity > v.zoneSize,
  value: (v) => String(v.zoneCapacity), limit: (v) => `at most zone.size (${v.zoneSize})`,
  message: (v) => `zone capacity ${v.zoneCapacity}B exceeds zone size ${v.zoneSize}B`,
};
const APPEND_CAPACITY_V8: ZoneRefusalRule = {
  code: 'zone-append', option: 'zone.max_append_bytes', broken: (v) => v.maxAppendBytes + SECTOR >= v.zoneCapacity,
  value: (v) => String(v.maxAppendBytes), limit: (v) => `below zone capacity - 512 (${v.zoneCapacity - SECTOR})`,
  message: (v) => `max append bytes ${v.maxAppendBytes}B exceeds zone capacity ${v.zoneCapacity}B by more than block size (max_append_bytes + 512 must be below the capacity)`,
  qemu: (v) => `max append bytes ${v.maxAppendBytes}B exceeds zone capacity ${v.zoneCapacity}B by more than block size`,
};
const APPEND_CAPACITY_V11: ZoneRefusalRule = { ...APPEND_CAPACITY_V8, message: (v) => `max append bytes ${v.maxAppendBytes}B exceeds zone capacity ${v.zoneCapacity}B by more than block size` };
const APPEND_ALIGNED_V11: ZoneRefusalRule = {
  code: 'zone-append', option: 'zone.max_append_bytes', broken: (v) => v.maxAppendBytes % SECTOR !== 0,
  value: (v) => String(v.maxAppendBytes), limit: () => 'a multiple of 512',
  message: (v) => `max append bytes ${v.maxAppendBytes}B is not aligned to 512`,
};
// The seed (zoned-format-patch.txt, qcow2_check_zone_options) prints its own wording through error_report.
const CAPACITY_SEED: ZoneRefusalRule = { ...CAPACITY, qemu: (v) => `zone capacity ${v.zoneCapacity}B exceeds zone size ${v.zoneSize}B` };
const APPEND_CAPACITY_SEED: ZoneRefusalRule = {
  ...APPEND_CAPACITY_V8,
  message: (v) => `${APPEND_CAPACITY_V8.message(v)}; the seed's own message prints the two numbers swapped (the capacity as "max append bytes", the limit as "zone capacity")`,
  qemu: (v) => `max append bytes ${v.zoneCapacity}B exceeds zone capacity ${v.maxAppendBytes}B by more than block size`,
};
const CONVENTIONAL_V7: ZoneRefusalRule = {
  // v7 QEMU has no check and corrupts memory here; we cannot write more write pointers than zones.
  code: 'zone-conventional', option: 'zone.conventional_zones', broken: (v) => v.conventionalZones > v.nrZones,
  value: (v) => String(v.conventionalZones), limit: (v) => `at most nr_zones (${v.nrZones})`,
  message: (v) => `conventional_zones ${v.conventionalZones} exceeds nr_zones ${v.nrZones} (a v7 QEMU does not check this and corrupts memory)`,
  qemu: null,
};
const CONVENTIONAL_V8: ZoneRefusalRule = {
  code: 'zone-conventional', option: 'zone.conventional_zones', broken: (v) => v.conventionalZones >= v.nrZones,
  value: (v) => String(v.conventionalZones), limit: (v) => `below nr_zones (${v.nrZones})`,
  message: (v) => `conventional_zones ${v.conventionalZones} must be smaller than nr_zones ${v.nrZones}`,
};
const CONVENTIONAL_V11: ZoneRefusalRule = { ...CONVENTIONAL_V8, message: (v) => `Conventional_zones ${v.conventionalZones} exceeds nr_zones ${v.nrZones}.` };
const POWER_OF_TWO_V11: ZoneRefusalRule = {
  code: 'zone-size', option: 'zone.size', broken: (v) => !isPowerOfTwoInt(v.zoneSize),
  value: (v) => String(v.zoneSize), limit: () => 'a power of two',
  message: (v) => `Zoned extension header zone_size ${v.zoneSize}B is not a power of 2`,
};
const NR_ZONES_MAX_V11: ZoneRefusalRule = {
  code: 'zone-size', option: 'zone.size', broken: (v) => v.nrZones > MAX_NR_ZONES_2026,
  value: (v) => String(v.zoneSize), limit: (v) => `at least ${Math.ceil(v.size / MAX_NR_ZONES_2026)} for this size (at most ${MAX_NR_ZONES_2026} zones)`,
  message: (v) => `Zoned extension header nr_zones ${v.nrZones} exceeds maximum ${MAX_NR_ZONES_2026}`,
};
const CLUSTER_MULTIPLE_RESPIN: ZoneRefusalRule = {
  // The respin's changelog requires it; its exact text is not stored (docs/DECISIONS.md 4): our wording.
  code: 'zone-size', option: 'zone.size', broken: (v) => v.zoneSize % v.clusterSize !== 0,
  value: (v) => String(v.zoneSize), limit: (v) => `a multiple of cluster_size (${v.clusterSize})`,
  message: (v) => `zone size ${v.zoneSize}B is not a multiple of the cluster size ${v.clusterSize}B`,
};

const seqZones = (v: ZoneRuleValues): number => v.nrZones - v.conventionalZones;
const ACTIVE_TO_NR_V7: ZoneClampRule = {
  option: 'zone.max_active_zones', field: 'maxActiveZones', applies: (v) => v.maxActiveZones > v.nrZones, to: (v) => v.nrZones,
  limit: (v) => `nr_zones (${v.nrZones})`, message: (v) => `Max_active_zones ${v.maxActiveZones} exceeds nr_zones ${v.nrZones}. Set it to nr_zones.`,
};
const OPEN_TO_ACTIVE_V7: ZoneClampRule = {
  option: 'zone.max_open_zones', field: 'maxOpenZones', applies: (v) => v.maxOpenZones > v.maxActiveZones, to: (v) => v.maxActiveZones,
  limit: (v) => `max_active_zones (${v.maxActiveZones})`, message: (v) => `Max_open_zones ${v.maxOpenZones} exceeds max_active_zones ${v.maxActiveZones}. Set it to max_active_zones.`,
};
const OPEN_TO_SEQ_V7: ZoneClampRule = {
  option: 'zone.max_open_zones', field: 'maxOpenZones', applies: (v) => v.maxOpenZones > seqZones(v), to: seqZones,
  limit: (v) => `sequential zones (${seqZones(v)})`, message: (_v, to) => `Max_open_zones field can not be larger than the number of SWR zones. Set it to number of SWR zones ${to}.`,
};
// The seed's clamp lines, verbatim (error_report; create still succeeds). v8/v9 keep the wording [I].
const ACTIVE_TO_NR_SEED: ZoneClampRule = { ...ACTIVE_TO_NR_V7, qemu: (v) => `Max_active_zones ${v.maxActiveZones} exceeds nr_zones ${v.nrZones}. Set it to nr_zones.` };
const OPEN_TO_ACTIVE_SEED: ZoneClampRule = { ...OPEN_TO_ACTIVE_V7, qemu: (v) => `Max_open_zones ${v.maxOpenZones} exceeds max_active_zones ${v.maxActiveZones}. Set it to max_active_zones.` };
const OPEN_TO_SEQ_SEED: ZoneClampRule = { ...OPEN_TO_SEQ_V7, qemu: (v) => `Max_open_zones field can not be larger than the number of SWR zones. Set it to number of SWR zones ${seqZones(v)}.` };
const ACTIVE_TO_NR_V11: ZoneClampRule = { ...ACTIVE_TO_NR_V7, message: (v) => `max_active_zones ${v.maxActiveZones} exceeds nr_zones ${v.nrZones}, clamping to nr_zones` };
const OPEN_TO_SEQ_V11: ZoneClampRule = { ...OPEN_TO_SEQ_V7, message: (v, to) => `max_open_zones ${v.maxOpenZones} exceeds the number of SWR zones, clamping to ${to}` };
const OPEN_TO_ACTIVE_V11: ZoneClampRule = {
  ...OPEN_TO_ACTIVE_V7,
  // Only when max_active is set: v8's forcing of max_open to 0 is gone.
  applies: (v) => v.maxActiveZones !== 0 && v.maxOpenZones > v.maxActiveZones,
  message: (v) => `max_open_zones ${v.maxOpenZones} exceeds max_active_zones ${v.maxActiveZones}, clamping to max_active_zones`,
};

/** The create targets, as data: one entry per revision, no per-revision branches in the checker. */
export const ZONE_REVISION_RULES: Readonly<Record<ZonedWriteLayout, ZoneRevisionRules>> = {
  v7: {
    layout: 'v7', label: 'the v7 (seed) revision', defaultZoneSize: null, defaultMaxAppend: 0, maxOpenNeedsActive: true, fields32: true,
    refusals: [CAPACITY_SEED, APPEND_CAPACITY_SEED, CONVENTIONAL_V7], clamps: [ACTIVE_TO_NR_SEED, OPEN_TO_ACTIVE_SEED, OPEN_TO_SEQ_SEED],
    refusalError: null, refusalQemuLine: 'Could not create image: Invalid argument', clampsFail: false, refusalsAreWarnings: false, advice: ['power-of-two', 'cluster-multiple', 'append-aligned', 'append-zero'],
  },
  v8: {
    layout: 'v8', label: 'the v8/v9/v10 family', defaultZoneSize: V8_DEFAULT_ZONE_SIZE, defaultMaxAppend: V8_DEFAULT_MAX_APPEND, maxOpenNeedsActive: true, fields32: false,
    refusals: [CAPACITY, APPEND_CAPACITY_V8, CONVENTIONAL_V8], clamps: [ACTIVE_TO_NR_SEED, OPEN_TO_SEQ_SEED, OPEN_TO_ACTIVE_SEED],
    refusalError: null, refusalQemuLine: null, clampsFail: true, refusalsAreWarnings: false, advice: ['power-of-two', 'cluster-multiple', 'append-aligned', 'append-zero'],
  },
  v11: {
    layout: 'v11', label: 'the v11 family', defaultZoneSize: V8_DEFAULT_ZONE_SIZE, defaultMaxAppend: V8_DEFAULT_MAX_APPEND, maxOpenNeedsActive: false, fields32: false,
    refusals: [POWER_OF_TWO_V11, NR_ZONES_MAX_V11, CAPACITY, APPEND_ALIGNED_V11, APPEND_CAPACITY_V11, CONVENTIONAL_V11],
    clamps: [ACTIVE_TO_NR_V11, OPEN_TO_SEQ_V11, OPEN_TO_ACTIVE_V11],
    refusalError: 'Invalid zoned device options', refusalQemuLine: null, clampsFail: false, refusalsAreWarnings: true, advice: ['cluster-multiple', 'append-zero'],
  },
  respin: {
    layout: 'respin', label: 'the Cassel respin', defaultZoneSize: V8_DEFAULT_ZONE_SIZE, defaultMaxAppend: null, maxOpenNeedsActive: false, fields32: false,
    refusals: [POWER_OF_TWO_V11, NR_ZONES_MAX_V11, CLUSTER_MULTIPLE_RESPIN, CAPACITY, CONVENTIONAL_V11],
    clamps: [ACTIVE_TO_NR_V11, OPEN_TO_SEQ_V11, OPEN_TO_ACTIVE_V11],
    refusalError: 'Invalid zoned device options', refusalQemuLine: null, clampsFail: false, refusalsAreWarnings: true, advice: [],
  },
};

/** `--zoned-layout` names and aliases (v9 and v10 write v8's bytes). */
export const ZONED_LAYOUT_ALIASES: Readonly<Record<string, ZonedWriteLayout>> = {
  v7: 'v7', v8: 'v8', v9: 'v8', v10: 'v8', v11: 'v11', respin: 'respin',
};

/**
 * qcow2_co_create's zone branch and qcow2_check_zone_options for the targeted revision, driven by its
 * entry in ZONE_REVISION_RULES. Returns the settings to write, or null.
 */
function checkZoneOptions(c: Collector, layout: ZonedWriteLayout, size: number | undefined, o: ZoneOptionValues, clusterSize: number): ZonedSettings | null {
  const rules = ZONE_REVISION_RULES[layout];
  let zoneSize: number;
  if (o.zoneSizeOpt === undefined) {
    if (rules.defaultZoneSize === null) {
      c.error('zone-size-missing', 'zone.size', null, `required with the ${layout} layout`, 'Missing zone_size parameter: the v7 (seed) revision has no default zone size (the v8 layout defaults to 256 MiB)');
      return null;
    }
    zoneSize = rules.defaultZoneSize;
  } else {
    zoneSize = o.zoneSizeOpt;
  }
  const zoneCapacity = o.zoneCapOpt ?? zoneSize;
  const conventionalZones = o.convOpt ?? 0;
  let maxActiveZones = o.maxActiveOpt ?? 0;
  let maxOpenZones = o.maxOpenOpt ?? o.maxActiveOpt ?? 0;
  if (rules.maxOpenNeedsActive && o.maxActiveOpt === undefined && o.maxOpenOpt !== undefined) {
    maxOpenZones = 0;
    c.warn('zone-ignored', 'zone.max_open_zones', String(o.maxOpenOpt), 'taken only together with zone.max_active_zones', `zone.max_open_zones=${o.maxOpenOpt} is ignored without zone.max_active_zones, as QEMU does: max_open_zones is written as 0 (no limit)`);
  }
  const hasAppend = rules.defaultMaxAppend !== null;
  const maxAppendBytes = hasAppend ? o.maxAppendOpt ?? rules.defaultMaxAppend ?? 0 : 0;

  // 32-bit fields: QEMU would silently truncate.
  let fatal32 = false;
  if (rules.fields32) {
    for (const [opt, val] of [['zone.size', zoneSize], ['zone.capacity', zoneCapacity]] as const) {
      if (val > U32_MAX) {
        c.error('zone-32bit', opt, fmtBytes(val), `below 4 GiB (${U32_MAX + 1}) with the v7 layout`, `${opt}=${val} does not fit the 32-bit field of the v7 (seed) layout, where QEMU would silently truncate it: use --zoned-layout v8 (64-bit zone size and capacity)`);
        fatal32 = true;
      }
    }
  }
  if (hasAppend && maxAppendBytes > U32_MAX) {
    c.error('zone-32bit', 'zone.max_append_bytes', String(maxAppendBytes), `below 4 GiB (${U32_MAX + 1})`, `zone.max_append_bytes=${maxAppendBytes} does not fit its 32-bit field (QEMU would silently truncate it)`);
    fatal32 = true;
  }
  if (size === undefined) return null;
  if (size === 0) {
    c.error('zone-size', 'size', '0', 'at least one zone', 'A zoned image needs a size above 0 (nr_zones would be 0)');
    return null;
  }
  // zone_size == 0 comes first in every revision, before nr_zones is computed (an error, not a warning).
  if (zoneSize === 0) {
    c.error('zone-size', 'zone.size', '0', 'greater than 0', 'Zoned extension header zone_size field can not be 0');
    return null;
  }
  const nrZones = Math.ceil(size / zoneSize);
  if (nrZones > U32_MAX) {
    c.error('zone-size', 'zone.size', String(zoneSize), `at least ${Math.ceil(size / U32_MAX)} for this size`, `nr_zones = ceil(${size} / ${zoneSize}) = ${nrZones} does not fit its 32-bit field`);
    return null;
  }
  const vals: ZoneRuleValues = { size, clusterSize, zoneSize, zoneCapacity, conventionalZones, nrZones, maxActiveZones, maxOpenZones, maxAppendBytes };

  let failed = fatal32;
  let qemuRefused = false;
  for (const r of rules.refusals) {
    if (!hasAppend && r.option === 'zone.max_append_bytes') continue;
    if (!r.broken(vals)) continue;
    const text = r.message(vals);
    const qemuText = r.qemu === null ? undefined : r.qemu ? r.qemu(vals) : text;
    if (qemuText !== undefined) qemuRefused = true;
    c.error(r.code, r.option, r.value(vals), r.limit(vals), rules.refusalsAreWarnings ? `${text} (${rules.label} warns this and refuses the options)` : text, qemuText !== undefined && rules.refusalsAreWarnings ? `warning: ${qemuText}` : qemuText);
    failed = true;
  }
  if (failed && rules.refusalError) c.error('zone-invalid', 'zone.mode', 'host-managed', null, rules.refusalError, rules.refusalError, true);
  if (qemuRefused && rules.refusalQemuLine) c.error('zone-invalid', 'zone.mode', 'host-managed', null, `${rules.label} then fails the create with "${rules.refusalQemuLine}"`, rules.refusalQemuLine, true);
  if (failed) return null;

  const clamped: string[] = [];
  for (const k of rules.clamps) {
    if (!k.applies(vals)) continue;
    const to = k.to(vals);
    const text = k.message(vals, to);
    const ours = `${k.option.slice('zone.'.length)} ${vals[k.field]} exceeds ${k.limit(vals)}: written as ${to}`;
    const qemuText = k.qemu ? k.qemu(vals, to) : text;
    c.warn('zone-clamp', k.option, String(vals[k.field]), k.limit(vals), ours, rules.refusalsAreWarnings ? `warning: ${qemuText}` : qemuText, rules.clampsFail);
    clamped.push(k.option);
    vals[k.field] = to;
  }
  if (rules.clampsFail && clamped.length > 0) {
    // The header is already written when the clamp sets errp: the image stays, the status says failure.
    c.warn('zone-qemu-fails', clamped[0], null, 'exit status 0', clamped.length > 1
      ? `QEMU v8 reports a clamp as an error through errp: with ${clamped.length} clamps its second error_setg trips QEMU's errp assertion (qemu-img aborts), so a script checking qemu-img's status sees a failure, and what that build leaves behind is not known; qzs writes the image the clamps describe (use --strict to exit 1, keeping it)`
      : `QEMU v8 prints this clamp as an error and exits 1, although it leaves this very image behind: a script that checks qemu-img's status sees a failure (use --strict to make qzs exit 1 too, keeping the image)`);
  }
  maxActiveZones = vals.maxActiveZones;
  maxOpenZones = vals.maxOpenZones;

  // Beyond QEMU: advice, never refusal (where the revision does not refuse it already).
  const advise = new Set(rules.advice);
  if (advise.has('power-of-two') && !isPowerOfTwoInt(zoneSize)) c.warn('zone-advice', 'zone.size', String(zoneSize), 'a power of two', `zone.size ${zoneSize} is not a power of two: documented as required by the zoned format, and QEMU's offset masks assume it`);
  if (advise.has('cluster-multiple') && zoneSize % clusterSize !== 0) c.warn('zone-advice', 'zone.size', String(zoneSize), `a multiple of cluster_size (${clusterSize})`, `zone.size ${zoneSize} is not a multiple of the cluster size ${clusterSize}: zones share clusters, and reset cannot free them cleanly (later respins require a multiple)`);
  if (advise.has('append-aligned') && maxAppendBytes % SECTOR !== 0) c.warn('zone-advice', 'zone.max_append_bytes', String(maxAppendBytes), 'a multiple of 512', `zone.max_append_bytes ${maxAppendBytes} is not 512-byte aligned: QEMU uses max_append_bytes / 512 sectors (${Math.floor(maxAppendBytes / SECTOR) * SECTOR} bytes usable)`);
  if (advise.has('append-zero') && maxAppendBytes === 0) c.warn('zone-advice', 'zone.max_append_bytes', '0', 'above 0 for zone append', 'zone.max_append_bytes is 0 (the v7 default): every zone append will fail');

  return { layout, zoneSize, zoneCapacity, conventionalZones, nrZones, maxActiveZones, maxOpenZones, maxAppendBytes };
}
