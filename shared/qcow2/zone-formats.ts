// A zone report in the formats of the zoned-storage tools, as pure functions over the report's columns
// (the contract's ZoneReport, or the engine's table seen through the same fields). Each format is built
// row by row (formatZoneRows) so that the CLI can stream a million zones; formatZoneReport joins them for
// an export. Formats and their sources (read through the project's search tool):
//   human      our table: sizes readable and exact, "—" for an undefined write pointer, the kernel's value
//              beside the stored one for a full zone (zone-model.ts).
//   json       `qzs zones --json` without the findings (the CLI adds them): bytes, "wp" as stored (what
//              QEMU's zone report gives), "wp-defined"/"wp-normalised" the device model.
//   csv        one header line, then one zone a line, bytes.
//   blkzone    util-linux sys-utils/blkzone.c blkzone_report(): 512-byte sectors in hex, "wptr" relative
//              to the zone start (0 for a conventional zone), the kernel's write pointer, condition_str[]
//              and type_text[] names, reset/non-seq flags (0: a qcow2 zone has neither).
//   nvme-json  nvme-cli nvme-print-json.c json_nvme_zns_report_zones() and json_zns_finish_zone_list():
//              {"nr_zones", "zone_list": [{"slba", "wp", "cap", "state", "type", "attrs", "attrs_info"}]},
//              in logical blocks; nvme-print.c nvme_zone_state_to_string()/nvme_zone_type_to_string() names.
//   zbd        libzbd tools/cli/zbd.c zbd_print_zone() (default unit 1 byte) with lib/zbd.c's abbreviated
//              zbd_zone_type_str()/zbd_zone_cond_str() names; the pointer is the kernel's (libzbd reads
//              BLKREPORTZONE).
import { isConventionalZone, modelZoneCapacity, modelZoneLength, normalisedWp, wpDefined, zoneModelJsonKeys, type ZoneModelGeometry } from './zone-model';
import { ZONE_CONDITION_CODES, type ZoneCondition } from './zoned-types';

export const ZONE_REPORT_FORMATS = ['human', 'json', 'csv', 'blkzone', 'nvme-json', 'zbd'] as const;
export type ZoneReportFormat = (typeof ZONE_REPORT_FORMATS)[number];

export function isZoneReportFormat(s: string): s is ZoneReportFormat {
  return (ZONE_REPORT_FORMATS as readonly string[]).includes(s);
}

/** What a formatter reads: the contract's ZoneReport has exactly these fields. */
export interface FormattableZoneReport extends ZoneModelGeometry {
  nrZones: number;
  /** Stored write pointer of each zone, absolute bytes. */
  wp: ArrayLike<number>;
  /** BLK_ZS_* condition code of each zone. */
  cond: ArrayLike<number>;
}

export interface ZoneFormatOptions {
  /** nvme-json: logical block size in bytes (default 512, the qcow2 device's). */
  lbaSize?: number;
  /** human: the first header line names this (the image path), with these facts if given. */
  name?: string;
  revision?: string;
  byteOrder?: string;
  /** human: units of every size column (default 'human'). */
  units?: SizeUnit;
}

// ---- sizes ----

export const SIZE_UNITS = ['human', 'bytes', 'sectors', 'hex'] as const;
export type SizeUnit = (typeof SIZE_UNITS)[number];

const BIN_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** Exact and readable: "24 MiB", "12 MiB + 64 KiB", "63 TiB + 1023 GiB + 896 MiB", "512 B". */
export function formatBytes(n: number): string {
  if (n < 1024 || !Number.isSafeInteger(n)) return `${n} B`;
  const parts: string[] = [];
  let rest = n;
  for (let u = BIN_UNITS.length - 1; u >= 0; u--) {
    const size = 1024 ** (u + 1);
    if (rest >= size) {
      const q = Math.floor(rest / size);
      parts.push(`${q} ${BIN_UNITS[u]}`);
      rest -= q * size;
    }
  }
  if (rest > 0) parts.push(`${rest} B`);
  return parts.join(' + ');
}

/**
 * A byte count in one unit: human (formatBytes), bytes, 512-byte sectors (a fraction shows as "+N B"),
 * or sectors in hex as blkzone and qemu-io print them ("0x2000").
 */
export function formatSize(n: number, unit: SizeUnit): string {
  switch (unit) {
    case 'bytes': return String(n);
    case 'sectors': return n % 512 === 0 ? String(n / 512) : `${Math.floor(n / 512)} +${n % 512} B`;
    case 'hex': return n % 512 === 0 ? `0x${(n / 512).toString(16)}` : `0x${Math.floor(n / 512).toString(16)} +${n % 512} B`;
    default: return formatBytes(n);
  }
}

// ---- names ----

const CONDITION_BY_CODE = new Map<number, ZoneCondition>((Object.entries(ZONE_CONDITION_CODES) as [ZoneCondition, number][]).map(([c, n]) => [n, c]));

function conditionName(code: number): ZoneCondition {
  return CONDITION_BY_CODE.get(code) ?? 'offline';
}

/** util-linux blkzone.c condition_str[], indexed by the BLK_ZONE_COND_* code. */
export const BLKZONE_CONDITION_STR: readonly string[] = ['nw', 'em', 'oi', 'oe', 'cl', 'x5', 'x6', 'x7', 'x8', 'x9', 'xA', 'xB', 'xC', 'ro', 'fu', 'of'];
/** util-linux blkzone.c type_text[], indexed by the BLK_ZONE_TYPE_* code. */
export const BLKZONE_TYPE_TEXT: readonly string[] = ['RESERVED', 'CONVENTIONAL', 'SEQ_WRITE_REQUIRED', 'SEQ_WRITE_PREFERRED'];
/** nvme-cli nvme_zone_state_to_string(), by the ZNS zone state (zs >> 4); anything else is "Unknown State". */
export const NVME_ZONE_STATE_STR: Readonly<Record<number, string>> = { 1: 'EMPTY', 2: 'IMP_OPENED', 3: 'EXP_OPENED', 4: 'CLOSED', 0xd: 'READONLY', 0xe: 'FULL', 0xf: 'OFFLINE' };
/** libzbd lib/zbd.c zbd_zcond_str[] abbreviations, by condition code. */
export const ZBD_CONDITION_STR: Readonly<Record<number, string>> = { 0: 'nw', 1: 'em', 0xe: 'fu', 2: 'oi', 3: 'oe', 4: 'cl', 0xd: 'ro', 0xf: 'ol' };

const hex = (n: number, width: number): string => Math.floor(n).toString(16).padStart(width, '0');
const dec = (n: number, width: number): string => String(Math.floor(n)).padStart(width, '0');

// ---- rows ----

/** The kernel's write pointer of zone i (stored value where the model has none to say). */
function kernelWp(r: FormattableZoneReport, i: number): number {
  return normalisedWp(r, i, r.wp[i], r.cond[i]) ?? r.wp[i];
}

function blkzoneLine(r: FormattableZoneReport, i: number): string {
  const start = i * r.zoneSize;
  const conv = isConventionalZone(r, i);
  const type = conv ? 1 : 2;
  const cond = r.cond[i] & 0xf;
  const wptr = conv || !wpDefined(r, i, cond) ? 0 : kernelWp(r, i) - start;
  return `  start: 0x${hex(start / 512, 9)}, len 0x${hex(modelZoneLength(r, i) / 512, 6)}, cap 0x${hex(modelZoneCapacity(r, i) / 512, 6)}, wptr 0x${hex(wptr / 512, 6)}` +
    ` reset:0 non-seq:0, zcond:${String(cond).padStart(2)}(${BLKZONE_CONDITION_STR[cond]}) [type: ${type}(${BLKZONE_TYPE_TEXT[type]})]\n`;
}

function zbdLine(r: FormattableZoneReport, i: number): string {
  const start = i * r.zoneSize;
  const head = `Zone ${dec(i, 5)}: ${isConventionalZone(r, i) ? 'cnv' : 'swr'}, ofst ${dec(start, 14)}, len ${dec(modelZoneLength(r, i), 14)}, cap ${dec(modelZoneCapacity(r, i), 14)}`;
  if (isConventionalZone(r, i)) return head + '\n';
  const cond = r.cond[i] & 0xf;
  return `${head}, wp ${dec(kernelWp(r, i), 14)}, ${ZBD_CONDITION_STR[cond] ?? '??'}, non_seq 0, reset 0\n`;
}

interface NvmeZone { slba: number; wp: number; cap: number; state: string; type: string; attrs: number; attrs_info: number }

/**
 * One zone as nvme-cli prints a ZNS zone descriptor: a conventional zone (which ZNS does not have) as
 * descriptor type 1 and state 0 print, "Unknown" and "Unknown State"; its wp is its start. A full zone's
 * wp is start + capacity, as QEMU's NVMe ZNS device keeps it (hw/nvme/ctrl.c nvme_zrm_finish():
 * w_ptr = nvme_zone_wr_boundary(zone) = zslba + zcap), however the qcow2 image stored it.
 */
function nvmeZone(r: FormattableZoneReport, i: number, lba: number): NvmeZone {
  const conv = isConventionalZone(r, i);
  const cond = r.cond[i] & 0xf;
  const wp = cond === ZONE_CONDITION_CODES.full && !conv ? i * r.zoneSize + modelZoneCapacity(r, i) : r.wp[i];
  return {
    slba: (i * r.zoneSize) / lba,
    wp: Math.floor(wp / lba),
    cap: Math.floor(modelZoneCapacity(r, i) / lba),
    state: conv ? 'Unknown State' : (NVME_ZONE_STATE_STR[cond] ?? 'Unknown State'),
    type: conv ? 'Unknown' : 'SEQWRITE_REQ',
    attrs: 0,
    attrs_info: 0,
  };
}

export const CSV_HEADER = 'index,start,length,capacity,wp,wp_defined,wp_normalised,type,condition\n';

function csvLine(r: FormattableZoneReport, i: number): string {
  const cond = r.cond[i] & 0xf;
  const norm = normalisedWp(r, i, r.wp[i], cond);
  return `${i},${i * r.zoneSize},${modelZoneLength(r, i)},${modelZoneCapacity(r, i)},${r.wp[i]},${norm !== null},${norm ?? ''},${isConventionalZone(r, i) ? 'conventional' : 'sequential'},${conditionName(cond)}\n`;
}

/**
 * The zone's JSON object, key for key what `qzs zones --json` streams (shared/qcow2/zone-report.ts); also
 * the zones of a `qzs zone … report --json` step.
 */
export function jsonZone(r: FormattableZoneReport, i: number): string {
  return `{"index":${i},"start":${i * r.zoneSize},"length":${modelZoneLength(r, i)},"capacity":${modelZoneCapacity(r, i)},"wp":${r.wp[i]}${zoneModelJsonKeys(r, i, r.wp[i], r.cond[i])},"type":"${isConventionalZone(r, i) ? 'conventional' : 'sequential'}","condition":"${conditionName(r.cond[i] & 0xf)}"}`;
}

// ---- human ----

const HUMAN_WIDTHS = { start: 16, len: 10, cap: 10, wptr: 34, cond: 13 };

/** The human write-pointer cell: "—" where none is defined, "stored (kernel: N)" where they differ. */
export function humanWp(r: FormattableZoneReport, i: number, unit: SizeUnit = 'human'): string {
  const cond = r.cond[i] & 0xf;
  const norm = normalisedWp(r, i, r.wp[i], cond);
  if (norm === null) return '—';
  const raw = formatSize(r.wp[i], unit);
  return norm === r.wp[i] ? raw : `${raw} (kernel: ${formatSize(norm, unit)})`;
}

function humanRow(cells: string[], zoneWidth: number): string {
  const w = HUMAN_WIDTHS;
  return `${cells[0].padStart(zoneWidth)}  ${cells[1].padStart(w.start)}  ${cells[2].padStart(w.len)}  ${cells[3].padStart(w.cap)}  ${cells[4].padStart(w.wptr)}  ${cells[5].padEnd(w.cond)}  ${cells[6]}`.trimEnd() + '\n';
}

function humanZoneWidth(r: FormattableZoneReport): number {
  return Math.max(4, String(r.nrZones).length);
}

function humanLine(r: FormattableZoneReport, i: number, unit: SizeUnit): string {
  return humanRow([String(i), formatSize(i * r.zoneSize, unit), formatSize(modelZoneLength(r, i), unit), formatSize(modelZoneCapacity(r, i), unit),
    humanWp(r, i, unit), conditionName(r.cond[i] & 0xf), isConventionalZone(r, i) ? 'conventional' : 'sequential'], humanZoneWidth(r));
}

// ---- the three parts of a report ----

/** Text before the first zone. */
export function formatZoneHeader(r: FormattableZoneReport, format: ZoneReportFormat, opts: ZoneFormatOptions = {}): string {
  switch (format) {
    case 'human': {
      const facts = [opts.revision ? `zoned extension ${opts.revision}` : null, opts.byteOrder ? `write pointers ${opts.byteOrder}` : null].filter(Boolean).join('; ');
      return `${opts.name ? `${opts.name}: ` : ''}${r.nrZones} zones of ${formatBytes(r.zoneSize)} (capacity ${formatBytes(r.zoneCapacity)}), ${r.conventionalZones} conventional${facts ? `; ${facts}` : ''}\n` +
        '(open states are not stored: at rest a written zone reads as closed or full; wptr is the stored write pointer,\n' +
        ' "—" where a zone has none, and what Linux reports beside it where that differs)\n' +
        humanRow(['zone', 'start', 'len', 'cap', 'wptr', 'cond', 'type'], humanZoneWidth(r));
    }
    case 'json': return '{"zones":[';
    case 'csv': return CSV_HEADER;
    case 'nvme-json': return `{\n  "nr_zones":${r.nrZones},\n  "zone_list":[`;
    default: return '';
  }
}

/**
 * Zones [from, to) as text. `first` is the index of the first zone of the whole report (JSON separators:
 * every zone after it is preceded by ",").
 */
export function formatZoneRows(r: FormattableZoneReport, format: ZoneReportFormat, from: number, to: number, first = from, opts: ZoneFormatOptions = {}): string {
  let s = '';
  const lba = opts.lbaSize ?? 512;
  for (let i = from; i < to; i++) {
    switch (format) {
      case 'human': s += humanLine(r, i, opts.units ?? 'human'); break;
      case 'json': s += `${i > first ? ',' : ''}\n${jsonZone(r, i)}`; break;
      case 'csv': s += csvLine(r, i); break;
      case 'blkzone': s += blkzoneLine(r, i); break;
      case 'zbd': s += zbdLine(r, i); break;
      case 'nvme-json': {
        const z = nvmeZone(r, i, lba);
        s += `${i > first ? ',' : ''}\n    {\n${(Object.keys(z) as (keyof NvmeZone)[]).map((k) => `      "${k}":${JSON.stringify(z[k])}`).join(',\n')}\n    }`;
        break;
      }
    }
  }
  return s;
}

/** Text after the last zone. */
export function formatZoneFooter(_r: FormattableZoneReport, format: ZoneReportFormat): string {
  switch (format) {
    case 'json': return '\n]}\n';
    case 'nvme-json': return '\n  ]\n}\n';
    default: return '';
  }
}

/**
 * The whole report (zones [from, to), default all) in one format, for an export. nvme-json needs the zone
 * size to be a multiple of opts.lbaSize.
 */
export function formatZoneReport(r: FormattableZoneReport, format: ZoneReportFormat, opts: ZoneFormatOptions & { from?: number; to?: number } = {}): string {
  const from = opts.from ?? 0;
  const to = Math.min(r.nrZones, opts.to ?? r.nrZones);
  return formatZoneHeader(r, format, opts) + formatZoneRows(r, format, from, to, from, opts) + formatZoneFooter(r, format);
}

/** File name extension and MIME type of each format, for a save dialog or a download. */
export const ZONE_FORMAT_FILES: Readonly<Record<ZoneReportFormat, { extension: string; mime: string }>> = {
  human: { extension: 'txt', mime: 'text/plain' },
  json: { extension: 'json', mime: 'application/json' },
  csv: { extension: 'csv', mime: 'text/csv' },
  blkzone: { extension: 'blkzone.txt', mime: 'text/plain' },
  'nvme-json': { extension: 'nvme.json', mime: 'application/json' },
  zbd: { extension: 'zbd.txt', mime: 'text/plain' },
};
