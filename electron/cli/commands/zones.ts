// qzs zones [--format F] [--from N] [--count N] IMAGE: the zone report of a zoned image, read from its
// write-pointer array (no QEMU, no kernel device), in our formats or the zoned tools' (blkzone, nvme-cli,
// libzbd: shared/qcow2/zone-formats.ts). Output is streamed zone by zone, so a million zones never exist as
// a million objects or one giant string.
import { FileByteSource } from '../../engine/file-source';
import type { Finding } from '../../../shared/qcow2/findings';
import { openImage } from '../../../shared/qcow2/image';
import { loadZoneReport, ZoneJsonEncoder, type ZoneReport } from '../../../shared/qcow2/zone-report';
import {
  formatBytes, formatZoneFooter, formatZoneHeader, formatZoneRows, isZoneReportFormat, SIZE_UNITS, ZONE_REPORT_FORMATS,
  type FormattableZoneReport, type SizeUnit, type ZoneFormatOptions, type ZoneReportFormat,
} from '../../../shared/qcow2/zone-formats';
import { AsciiWriter } from '../../../shared/ascii-writer';
import { asciiStream } from '../byte-out';
import { EXIT_OK, parse, printError, stdoutClosed, stdoutDrained, UsageError, type CliIo } from '../io';

const USAGE = 'qzs zones [--format human|json|csv|blkzone|nvme-json|zbd] [--json] [--units U] [--lba-size N] [--from N] [--count N] IMAGE';
const HELP = `usage: ${USAGE}

Zone report of a zoned qcow2 image, from its write pointers (every revision of the zoned extension).
  --format F   human (default): a table with exact readable sizes; "—" for a zone without a write
                 pointer (conventional), and for a full zone the stored pointer with what Linux reports
                 beside it (start + length)
               json: {"zones": [{"index", "start", "length", "capacity", "wp", "wp-defined",
                 "wp-normalised", "type", "condition"}, ...], "findings": [...]}; bytes; "wp" is the stored
                 pointer (what QEMU's zone report gives), "wp-normalised" the kernel's (null if undefined)
               csv: the same columns, one zone a line
               blkzone: what util-linux \`blkzone report\` prints for this device (512-byte sectors, hex)
               nvme-json: the shape of \`nvme zns report-zones -o json\` (logical blocks; see --lba-size);
                 a conventional zone, which NVMe ZNS has not, prints as type "Unknown"
               zbd: what libzbd's \`zbd report\` prints (bytes)
  --json       the same as --format json
  --units U    human format: sizes as human (default), bytes, sectors (512 B) or hex (sectors, as blkzone)
  --lba-size N nvme-json: logical block size in bytes (default 512)
  --from N     first zone to report (default 0)
  --count N    number of zones to report (default: all from N on)
Capacity is min(zone capacity, zone length) for a sequential zone and the length for a conventional one,
as Linux reports it. Conditions at rest are not-wp (conventional), empty, closed and full: open states
exist only while an image is open in an engine. Findings are printed after the table (human) or in the
"findings" key (json); the tools' formats carry none. Exit codes: 0 ok, 1 image unreadable or not zoned,
2 usage error.
`;

/** Zones per write: large enough to be fast, small enough to keep memory flat. */
const CHUNK_ZONES = 2048;

function parseCount(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`--${name} wants a whole number of zones, got "${text}"\nusage: ${USAGE}`);
  return Number(text);
}

/** Re-exported: the human sizes live with the formats (shared/qcow2/zone-formats.ts). */
export { formatBytes };

function findingJson(f: Finding): string {
  return JSON.stringify({ id: f.id, severity: f.severity, structure: f.structure, field: f.field, offset: f.offset, length: f.length, found: f.found, expected: f.expected, message: f.message, fix: f.fix });
}

async function writeJson(io: CliIo, r: ZoneReport, from: number, end: number): Promise<void> {
  const encoder = new ZoneJsonEncoder(CHUNK_ZONES);
  // Bytes straight to stdout: decoding each run to a string first took half the command's time.
  const w = new AsciiWriter(CHUNK_ZONES * 256 + 2);
  const out = asciiStream(io);
  io.out('{"zones":[');
  for (let i = from; i < end && !stdoutClosed(); i += CHUNK_ZONES) {
    const stop = Math.min(end, i + CHUNK_ZONES);
    if (i !== from) w.byte(0x2c); // ",\n" between runs, "\n" before the first
    w.byte(0x0a);
    encoder.encodeTo(w, r.table, i, stop);
    out.write(w);
    await stdoutDrained(io);
    out.release(w);
  }
  io.out(`\n],"findings":[${r.findings.map(findingJson).join(',')}]}\n`);
}

/** The engine's table seen through the formatters' fields (no copy: the same typed arrays). */
function formattable(r: ZoneReport): FormattableZoneReport {
  const t = r.table;
  return { nrZones: t.count, zoneSize: t.zoneSize, zoneCapacity: t.zoneCapacity, deviceSize: t.deviceSize, conventionalZones: t.conventionalZones, wp: t.wp, cond: t.condition };
}

async function writeFormat(io: CliIo, name: string, r: ZoneReport, format: ZoneReportFormat, from: number, end: number, opts: ZoneFormatOptions): Promise<void> {
  const f = formattable(r);
  io.out(formatZoneHeader(f, format, { ...opts, name, revision: r.extension.revision, byteOrder: r.byteOrder }));
  for (let i = from; i < end && !stdoutClosed(); i += CHUNK_ZONES) {
    io.out(formatZoneRows(f, format, i, Math.min(end, i + CHUNK_ZONES), from, opts));
    await stdoutDrained(io);
  }
  io.out(formatZoneFooter(f, format));
  if (format === 'human' && r.findings.length > 0) {
    io.out(`\nfindings (${r.findings.length}):\n`);
    for (const fi of r.findings) io.out(`  ${fi.severity} ${fi.id}: ${fi.message}\n`);
  }
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean', default: false },
    format: { type: 'string' },
    units: { type: 'string' },
    'lba-size': { type: 'string' },
    from: { type: 'string' },
    count: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  }, USAGE);
  if (values.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError(`expected exactly one IMAGE, got ${positionals.length}\nusage: ${USAGE}`);
  const from = parseCount('from', values.from) ?? 0;
  const count = parseCount('count', values.count);
  const path = positionals[0];
  const formatName = values.format ?? (values.json === true ? 'json' : 'human');
  if (!isZoneReportFormat(formatName)) throw new UsageError(`--format must be one of ${ZONE_REPORT_FORMATS.join(', ')}, not "${formatName}"\nusage: ${USAGE}`);
  if (values.json === true && formatName !== 'json') throw new UsageError(`--json and --format ${formatName} contradict each other\nusage: ${USAGE}`);
  const format: ZoneReportFormat = formatName;
  const json = format === 'json';
  const units = values.units ?? 'human';
  if (!(SIZE_UNITS as readonly string[]).includes(units)) throw new UsageError(`--units must be one of ${SIZE_UNITS.join(', ')}, not "${units}"\nusage: ${USAGE}`);
  const lbaSize = values['lba-size'] === undefined ? 512 : Number(values['lba-size']);
  if (!Number.isSafeInteger(lbaSize) || lbaSize < 512 || (lbaSize & (lbaSize - 1)) !== 0) throw new UsageError(`--lba-size wants a power of two of at least 512 bytes, got "${values['lba-size']}"\nusage: ${USAGE}`);

  let report: ZoneReport;
  let src: FileByteSource | undefined;
  try {
    src = await FileByteSource.open(path, 'r');
    const img = await openImage(src);
    report = await loadZoneReport(img);
  } catch (e) {
    await src?.close();
    printError(io, e, json, path);
    return 1;
  }
  try {
    const total = report.table.count;
    if (from > total || (from === total && total > 0)) {
      throw new UsageError(`--from ${from} is past the last zone (the image has ${total} zones, numbered from 0)\nusage: ${USAGE}`);
    }
    const end = count === undefined ? total : Math.min(total, from + count);
    if (format === 'nvme-json' && report.table.zoneSize % lbaSize !== 0) {
      throw new UsageError(`--lba-size ${lbaSize}: the zone size ${report.table.zoneSize} is not a whole number of ${lbaSize}-byte blocks\nusage: ${USAGE}`);
    }
    if (json) await writeJson(io, report, from, end);
    else await writeFormat(io, path, report, format, from, end, { units: units as SizeUnit, lbaSize });
    return EXIT_OK;
  } finally {
    await src.close();
  }
}
