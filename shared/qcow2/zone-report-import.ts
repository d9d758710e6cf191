// Read a zone report saved from a real (or emulated) drive and derive the qcow2 zoned geometry that gives a
// guest the same device: `qzs create --like FILE` and the wizard's "Import from a zone report". Pure.
// Accepted (auto-detected), each parsed by the rules of the tool that printed it (zone-formats.ts prints
// the same texts):
//   blkzone    util-linux `blkzone report` (sys-utils/blkzone.c blkzone_report()): 512-byte sectors in hex,
//              wptr relative to the zone start; lines with or without the "cap" field (pre-5.9 kernels).
//   nvme-json  `nvme zns report-zones -o json` (nvme-cli json_nvme_zns_report_zones()): logical blocks
//              (the LBA size is not in the report: 512 unless told), no zone length (the distance between
//              zone starts; NVMe ZNS zones are all one size).
//   zbd        libzbd `zbd report` (tools/cli/zbd.c zbd_print_zone(), unit 1 byte), with the `-i` device
//              header if present (its open/active limits are taken).
//   qemu-io    QEMU's `qemu-io -c "zone_report …"` lines (absolute wptr, sectors), as in the reference samples.
// What qcow2 cannot represent is refused with the reason; what does not carry over is listed in `notes`.
import { Qcow2Error } from './findings';
import { ZONE_CONDITION_CODES } from './zoned-types';

export type ZoneReportSource = 'blkzone' | 'nvme-json' | 'zbd' | 'qemu-io';

export interface ImportedZone {
  start: number;
  length: number;
  /** As the report gives it (null where the report has none: old blkzone). */
  capacity: number | null;
  /** Absolute byte offset as the report gives it; null where it gives none (a conventional zone). */
  wp: number | null;
  kind: 'conventional' | 'sequential' | 'seq-preferred' | 'unknown';
  /** BLK_ZS_* code. */
  cond: number;
}

export interface ImportedZoneReport {
  source: ZoneReportSource;
  zones: ImportedZone[];
  maxOpenZones: number | null;
  maxActiveZones: number | null;
}

/** The qcow2 zoned image that presents the reported device. */
export interface ZoneShape {
  source: ZoneReportSource;
  size: number;
  zoneSize: number;
  zoneCapacity: number;
  nrZones: number;
  conventionalZones: number;
  maxOpenZones: number | null;
  maxActiveZones: number | null;
  /** Per sequential zone that is not empty: the absolute offset to write zeros up to (full zones: start + capacity). */
  writePointers: { zone: number; wp: number }[];
  /** What the image will not carry over from the report. */
  notes: string[];
}

const C = ZONE_CONDITION_CODES;

function refuse(message: string, details: Record<string, string | number> = {}): never {
  throw new Qcow2Error({ code: 'invalid-argument', message: `--like: ${message}`, details });
}

const BLKZONE_LINE = /^\s*start:\s*0x([0-9a-f]+),\s*len\s+0x([0-9a-f]+),(?:\s*cap\s+0x([0-9a-f]+),)?\s*wptr\s+0x([0-9a-f]+)\s+reset:\s*\d+\s+non-seq:\s*\d+,\s*zcond:\s*(\d+)\(\w+\)\s*\[type:\s*(\d+)\(\w+\)\]/i;
const QEMU_IO_LINE = /^\s*start:\s*0x([0-9a-f]+),\s*len\s+0x([0-9a-f]+),\s*cap\s+0x([0-9a-f]+),\s*wptr\s+0x([0-9a-f]+),\s*zcond:\s*(\d+),\s*\[type:\s*(\d+)\]/i;
const ZBD_LINE = /^Zone\s+(\d+):\s*(cnv|swr|swp|\?\?\?),\s*ofst\s+(\d+),\s*len\s+(\d+)(?:,\s*cap\s+(\d+))?(?:,\s*wp\s+(\d+),\s*([\w?]+),\s*non_seq\s+\d,\s*reset\s+\d)?/;
const ZBD_COND: Readonly<Record<string, number>> = { nw: 0, em: 1, oi: 2, oe: 3, cl: 4, ro: 0xd, fu: 0xe, ol: 0xf };
const NVME_STATE: Readonly<Record<string, number>> = { EMPTY: 1, IMP_OPENED: 2, EXP_OPENED: 3, CLOSED: 4, READONLY: 0xd, FULL: 0xe, OFFLINE: 0xf };

function kindOfType(t: number): ImportedZone['kind'] {
  return t === 1 ? 'conventional' : t === 2 ? 'sequential' : t === 3 ? 'seq-preferred' : 'unknown';
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
}

function parseBlkzoneLike(text: string, qemuIo: boolean): ImportedZoneReport {
  const zones: ImportedZone[] = [];
  for (const [n, l] of lines(text).entries()) {
    const m = (qemuIo ? QEMU_IO_LINE : BLKZONE_LINE).exec(l);
    if (!m) {
      // blkzone -v prints "Found N zones from 0x…" between runs.
      if (!qemuIo && /^Found \d+ zones from/.test(l)) continue;
      refuse(`line ${n + 1} is not a ${qemuIo ? 'qemu-io zone_report' : 'blkzone report'} line: "${l.slice(0, 80)}"`, { line: n + 1 });
    }
    const start = parseInt(m[1], 16) * 512;
    const kind = kindOfType(Number(m[6]));
    const wptr = parseInt(m[4], 16) * 512;
    zones.push({
      start, length: parseInt(m[2], 16) * 512, capacity: m[3] === undefined ? null : parseInt(m[3], 16) * 512,
      wp: kind === 'conventional' ? null : qemuIo ? wptr : start + wptr, kind, cond: Number(m[5]),
    });
  }
  return { source: qemuIo ? 'qemu-io' : 'blkzone', zones, maxOpenZones: null, maxActiveZones: null };
}

function parseZbd(text: string): ImportedZoneReport {
  const zones: ImportedZone[] = [];
  let maxOpen: number | null = null;
  let maxActive: number | null = null;
  for (const [n, l] of lines(text).entries()) {
    const lim = /^\s*Maximum number of (open|active) zones:\s*(no limit|\d+)/.exec(l);
    if (lim) {
      const v = lim[2] === 'no limit' ? 0 : Number(lim[2]);
      if (lim[1] === 'open') maxOpen = v; else maxActive = v;
      continue;
    }
    // The -i header: "Device …:", "    Vendor ID: …", and the other indented facts.
    if (/^Device .*:$/.test(l) || /^\s+\S/.test(l)) continue;
    const m = ZBD_LINE.exec(l);
    if (!m) refuse(`line ${n + 1} is not a zbd report line: "${l.slice(0, 80)}"`, { line: n + 1 });
    const kind: ImportedZone['kind'] = m[2] === 'cnv' ? 'conventional' : m[2] === 'swr' ? 'sequential' : m[2] === 'swp' ? 'seq-preferred' : 'unknown';
    const cond = kind === 'conventional' ? C['not-wp'] : ZBD_COND[m[7] ?? ''];
    if (cond === undefined) refuse(`line ${n + 1}: zone condition "${m[7] ?? ''}" is not one zbd prints`, { line: n + 1 });
    zones.push({ start: Number(m[3]), length: Number(m[4]), capacity: m[5] === undefined ? null : Number(m[5]), wp: m[6] === undefined ? null : Number(m[6]), kind, cond });
  }
  return { source: 'zbd', zones, maxOpenZones: maxOpen, maxActiveZones: maxActive };
}

interface NvmeJsonZone { slba?: unknown; wp?: unknown; cap?: unknown; state?: unknown; type?: unknown }

function parseNvmeJson(text: string, lbaSize: number): ImportedZoneReport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    refuse(`not valid JSON (${e instanceof Error ? e.message : String(e)}): nvme zns report-zones -o json prints one object`);
  }
  const list = (doc as { zone_list?: unknown } | null)?.zone_list;
  if (!Array.isArray(list)) refuse('the JSON has no "zone_list" array: not the output of nvme zns report-zones -o json');
  const num = (v: unknown, what: string, i: number): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) refuse(`zone_list[${i}].${what} is ${JSON.stringify(v)}, not a block count`, { zone: i });
    return v * lbaSize;
  };
  const starts = (list as NvmeJsonZone[]).map((z, i) => num(z.slba, 'slba', i));
  // No zone length in a ZNS report: zones are one size, the distance between starts.
  const zoneSize = starts.length > 1 ? starts[1] - starts[0] : NaN;
  if (!(zoneSize > 0)) refuse(starts.length <= 1 ? 'a report of one zone does not give the zone size (nvme reports no zone length): save the report of at least two zones' : 'the first two zones start at the same block');
  const zones = (list as NvmeJsonZone[]).map((z, i): ImportedZone => {
    const type = z.type === 'SEQWRITE_REQ' ? 'sequential' : z.type === 'Unknown' ? 'conventional' : 'unknown';
    const state = typeof z.state === 'string' ? NVME_STATE[z.state] : undefined;
    return {
      start: starts[i], length: zoneSize, capacity: num(z.cap, 'cap', i), wp: type === 'conventional' ? null : num(z.wp, 'wp', i),
      kind: type, cond: type === 'conventional' ? C['not-wp'] : state ?? refuse(`zone_list[${i}].state is ${JSON.stringify(z.state)}, not a state nvme-cli prints`, { zone: i }),
    };
  });
  // NVMe ZNS zones are all one size (QEMU's nvme-ns drops a short tail), but a qcow2 device may end in a
  // short zone, which `qzs zones --format nvme-json` prints with its capacity cut to its length: a last
  // zone whose capacity is below the others' is read as that short zone.
  const n = zones.length;
  if (n >= 2 && zones[n - 1].kind === 'sequential' && zones[n - 2].kind === 'sequential') {
    const last = zones[n - 1];
    if (last.capacity !== null && zones[n - 2].capacity !== null && last.capacity < (zones[n - 2].capacity ?? 0)) last.length = last.capacity;
  }
  return { source: 'nvme-json', zones, maxOpenZones: null, maxActiveZones: null };
}

/** Which tool printed `text` (null: none we read): JSON is nvme-cli's, else the first zone line decides. */
export function detectZoneReportSource(text: string): ZoneReportSource | null {
  if (text.trimStart().startsWith('{')) return 'nvme-json';
  for (const l of lines(text)) {
    if (BLKZONE_LINE.test(l)) return 'blkzone';
    if (QEMU_IO_LINE.test(l)) return 'qemu-io';
    if (ZBD_LINE.test(l)) return 'zbd';
  }
  return null;
}

/** Parse a saved report (the source is detected). */
export function parseZoneReportText(text: string, opts: { lbaSize?: number } = {}): ImportedZoneReport {
  const source = detectZoneReportSource(text);
  switch (source) {
    case 'nvme-json': return parseNvmeJson(text, opts.lbaSize ?? 512);
    case 'blkzone': return parseBlkzoneLike(text, false);
    case 'qemu-io': return parseBlkzoneLike(text, true);
    case 'zbd': return parseZbd(text);
    default: return refuse('the file is not a zone report we read: a saved `blkzone report`, `nvme zns report-zones -o json`, `zbd report` or qemu-io zone_report');
  }
}

/** The qcow2 geometry and write pointers of a parsed report, or a refusal naming what qcow2 cannot represent. */
export function shapeFromReport(rep: ImportedZoneReport): ZoneShape {
  const zs = rep.zones;
  if (zs.length === 0) refuse('the report lists no zones');
  const zoneSize = zs[0].length;
  const notes: string[] = [];
  if (zs[0].start !== 0) refuse(`the first zone starts at byte ${zs[0].start}, not 0: save the report of the whole device`, { start: zs[0].start });
  let firstSeq = -1;
  for (const [i, z] of zs.entries()) {
    if (z.kind === 'seq-preferred') refuse(`zone ${i} is sequential-write-preferred (host-aware): qcow2's zoned extension is host-managed only`, { zone: i });
    if (z.kind === 'unknown') refuse(`zone ${i} has a zone type qcow2 does not have`, { zone: i });
    const expectStart = i * zoneSize;
    if (z.start !== expectStart) {
      refuse(i > 0 && zs[i - 1].length !== zoneSize
        ? `non-uniform zone sizes: zone ${i - 1} is ${zs[i - 1].length} bytes, zone 0 is ${zoneSize}: a qcow2 zoned image has one zone size (only the last zone may be shorter)`
        : `zone ${i} starts at byte ${z.start}, expected ${expectStart}: the zones are not contiguous`, { zone: i, start: z.start, expected: expectStart });
    }
    if (z.length !== zoneSize && i !== zs.length - 1) {
      refuse(`non-uniform zone sizes: zone ${i} is ${z.length} bytes, zone 0 is ${zoneSize}: a qcow2 zoned image has one zone size (only the last zone may be shorter)`, { zone: i, length: z.length, zoneSize });
    }
    if (z.length > zoneSize) refuse(`non-uniform zone sizes: the last zone (${i}) is ${z.length} bytes, longer than zone 0 (${zoneSize})`, { zone: i, length: z.length });
    if (z.kind === 'conventional' && firstSeq >= 0) {
      refuse(`zone ${i} is conventional after sequential zone ${firstSeq}: qcow2 keeps conventional zones first (conventional_zones counts them from the device start)`, { zone: i, firstSequential: firstSeq });
    }
    if (z.kind === 'sequential' && firstSeq < 0) firstSeq = i;
  }
  const conv = firstSeq < 0 ? zs.length : firstSeq;
  const size = zs[zs.length - 1].start + zs[zs.length - 1].length;
  // One capacity for all sequential zones of full length; a short last zone's is that, cut to its length.
  let capacity: number | null = null;
  let capZone = -1;
  for (let i = conv; i < zs.length; i++) {
    const c = zs[i].capacity;
    if (c === null || zs[i].length < zoneSize) continue;
    if (capacity === null) { capacity = c; capZone = i; continue; }
    if (c !== capacity) {
      refuse(`non-uniform zone capacities: zone ${i} has ${c} bytes, zone ${capZone} has ${capacity}: a qcow2 zoned image has one zone capacity`, { zone: i, capacity: c, expected: capacity });
    }
  }
  const last = zs[zs.length - 1];
  if (last.length < zoneSize && last.kind === 'sequential' && last.capacity !== null) {
    if (capacity === null) capacity = last.capacity;
    else if (last.capacity !== Math.min(capacity, last.length)) {
      refuse(`non-uniform zone capacities: the short last zone (${zs.length - 1}) has ${last.capacity} bytes, expected min(${capacity}, its length ${last.length})`, { zone: zs.length - 1, capacity: last.capacity });
    }
  }
  const zoneCapacity = capacity ?? zoneSize;
  if (rep.source === 'qemu-io') notes.push("qemu-io's cap column is the zone length (QEMU v3..v10 report it so): the zone capacity is taken as that; give -o zone.capacity= to set the drive's real one");
  if (zs.some((z) => z.capacity === null)) notes.push('the report has no capacity column (blkzone before Linux 5.9): zone capacity = zone size');
  if (rep.source === 'nvme-json') notes.push('an NVMe zone report does not say the logical block size: blocks were read as --lba-size bytes (default 512)');

  const writePointers: { zone: number; wp: number }[] = [];
  let opened = 0;
  let lost = 0;
  for (let i = conv; i < zs.length; i++) {
    const z = zs[i];
    const cap = Math.min(zoneCapacity, z.length);
    if (z.cond === C['read-only'] || z.cond === C.offline) { lost++; continue; }
    if (z.cond === C['implicit-open'] || z.cond === C['explicit-open']) opened++;
    if (z.cond === C.empty) continue;
    if (z.cond === C.full) { writePointers.push({ zone: i, wp: z.start + cap }); continue; }
    if (z.wp === null) continue;
    if (z.wp < z.start || z.wp > z.start + cap) {
      refuse(`zone ${i}'s write pointer ${z.wp} is outside its writable range [${z.start}, ${z.start + cap}] and the zone is not full`, { zone: i, wp: z.wp });
    }
    if (z.wp % 512 !== 0) refuse(`zone ${i}'s write pointer ${z.wp} is not a multiple of 512 bytes`, { zone: i, wp: z.wp });
    if (z.wp > z.start) writePointers.push({ zone: i, wp: z.wp });
  }
  if (opened > 0) notes.push(`${opened} open zone(s) will read as closed: qcow2 stores write pointers only, not open states`);
  if (lost > 0) notes.push(`${lost} read-only or offline zone(s) will be empty sequential zones: qcow2 cannot store those conditions`);
  if (rep.maxOpenZones === null && rep.maxActiveZones === null) notes.push('the report does not give the open/active zone limits: give -o zone.max_open_zones= and zone.max_active_zones= if the drive has them');
  return { source: rep.source, size, zoneSize, zoneCapacity, nrZones: zs.length, conventionalZones: conv, maxOpenZones: rep.maxOpenZones, maxActiveZones: rep.maxActiveZones, writePointers, notes };
}

/** The create options (-o keys) a shape sets; the caller lets the user's own -o values win. */
export function shapeCreateOptions(s: ZoneShape): Record<string, string> {
  const o: Record<string, string> = {
    'zone.mode': 'host-managed', 'zone.size': String(s.zoneSize), 'zone.capacity': String(s.zoneCapacity),
    'zone.conventional_zones': String(s.conventionalZones),
  };
  if (s.maxOpenZones !== null) o['zone.max_open_zones'] = String(s.maxOpenZones);
  if (s.maxActiveZones !== null) o['zone.max_active_zones'] = String(s.maxActiveZones);
  return o;
}
