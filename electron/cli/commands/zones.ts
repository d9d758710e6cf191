// qzs zones [--json] [--from N] [--count N] IMAGE: the zone report of a zoned image, read from its
// write-pointer array (no QEMU, no kernel device). JSON is streamed zone by zone, so a million zones never
// exist as a million objects or one giant string.
import { FileByteSource } from '../../engine/file-source';
import type { Finding } from '../../../shared/qcow2/findings';
import { openImage } from '../../../shared/qcow2/image';
import { loadZoneReport, ZoneJsonEncoder, type ZoneReport } from '../../../shared/qcow2/zone-report';
import { getZoneCondition, zoneCapacity, zoneLength, zoneTypeName } from '../../../shared/qcow2/zone-table';
import { AsciiWriter } from '../../../shared/ascii-writer';
import { asciiStream } from '../byte-out';
import { EXIT_OK, nodeIo, parse, printError, UsageError, type CliIo } from '../io';

const USAGE = 'qzs zones [--json] [--from N] [--count N] IMAGE';
const HELP = `usage: ${USAGE}

Zone report of a zoned qcow2 image, from its write pointers (every revision of the zoned extension).
  --json       {"zones": [{"index", "start", "length", "capacity", "wp", "type", "condition"}, ...],
               "findings": [...]}; sizes in bytes
  --from N     first zone to report (default 0)
  --count N    number of zones to report (default: all from N on)
Conditions at rest are not-wp (conventional), empty, closed and full: open states exist only while an
image is open in an engine. Exit codes: 0 ok, 1 image unreadable or not zoned, 2 usage error.
`;

/** Zones per write: large enough to be fast, small enough to keep memory flat. */
const CHUNK_ZONES = 2048;

function parseCount(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`--${name} wants a whole number of zones, got "${text}"\nusage: ${USAGE}`);
  return Number(text);
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** Exact and readable: "24 MiB", "12 MiB + 64 KiB", "63 TiB + 1023 GiB + 896 MiB", "512 B". */
export function formatBytes(n: number): string {
  if (n < 1024 || !Number.isSafeInteger(n)) return `${n} B`;
  const parts: string[] = [];
  let rest = n;
  for (let u = UNITS.length - 1; u >= 0; u--) {
    const size = 1024 ** (u + 1);
    if (rest >= size) {
      const q = Math.floor(rest / size);
      parts.push(`${q} ${UNITS[u]}`);
      rest -= q * size;
    }
  }
  if (rest > 0) parts.push(`${rest} B`);
  return parts.join(' + ');
}

function findingJson(f: Finding): string {
  return JSON.stringify({ id: f.id, severity: f.severity, structure: f.structure, field: f.field, offset: f.offset, length: f.length, found: f.found, expected: f.expected, message: f.message, fix: f.fix });
}

/**
 * Backpressure: stdout to a pipe is asynchronous in Node, so without waiting for 'drain' a fast producer
 * would queue the whole report in memory (hundreds of MiB for a million zones).
 */
async function drained(io: CliIo): Promise<void> {
  if (io === nodeIo && process.stdout.writableNeedDrain && !stdoutClosed) {
    const out = process.stdout;
    await new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done).off('close', done).off('error', done);
        resolve();
      };
      out.on('drain', done).on('close', done).on('error', done);
    });
  } else {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Set when the reader of stdout went away (`qzs zones --json big.qcow2 | head`): stop quietly. */
let stdoutClosed = false;
function watchStdout(io: CliIo): void {
  if (io !== nodeIo) return;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stdoutClosed = true;
  });
}

async function writeJson(io: CliIo, r: ZoneReport, from: number, end: number): Promise<void> {
  const encoder = new ZoneJsonEncoder(CHUNK_ZONES);
  // Bytes straight to stdout: decoding each run to a string first took half the command's time.
  const w = new AsciiWriter(CHUNK_ZONES * 256 + 2);
  const out = asciiStream(io);
  io.out('{"zones":[');
  for (let i = from; i < end && !stdoutClosed; i += CHUNK_ZONES) {
    const stop = Math.min(end, i + CHUNK_ZONES);
    if (i !== from) w.byte(0x2c); // ",\n" between runs, "\n" before the first
    w.byte(0x0a);
    encoder.encodeTo(w, r.table, i, stop);
    out.write(w);
    await drained(io);
    out.release(w);
  }
  io.out(`\n],"findings":[${r.findings.map(findingJson).join(',')}]}\n`);
}

async function writeHuman(io: CliIo, name: string, r: ZoneReport, from: number, end: number): Promise<void> {
  const z = r.extension;
  const t = r.table;
  io.out(`${name}: ${t.count} zones of ${formatBytes(z.zoneSize)} (capacity ${formatBytes(z.zoneCapacity)}), ${t.conventionalZones} conventional; ` +
    `zoned extension ${z.revision}; write pointers ${r.byteOrder}\n`);
  io.out('(open states are not stored: at rest a written zone reads as closed or full)\n');
  const w = { zone: Math.max(4, String(end).length), start: 16, len: 10, cap: 10, wptr: 20, cond: 13 };
  const row = (cells: string[]) => `${cells[0].padStart(w.zone)}  ${cells[1].padStart(w.start)}  ${cells[2].padStart(w.len)}  ${cells[3].padStart(w.cap)}  ${cells[4].padStart(w.wptr)}  ${cells[5].padEnd(w.cond)}  ${cells[6]}`.trimEnd() + '\n';
  io.out(row(['zone', 'start', 'len', 'cap', 'wptr', 'cond', 'type']));
  for (let i = from; i < end && !stdoutClosed; i += CHUNK_ZONES) {
    const stop = Math.min(end, i + CHUNK_ZONES);
    let text = '';
    for (let k = i; k < stop; k++) {
      text += row([String(k), formatBytes(k * t.zoneSize), formatBytes(zoneLength(t, k)), formatBytes(zoneCapacity(t, k)), formatBytes(t.wp[k]), getZoneCondition(t, k), zoneTypeName(t.type[k])]);
    }
    io.out(text);
    await drained(io);
  }
  if (r.findings.length > 0) {
    io.out(`\nfindings (${r.findings.length}):\n`);
    for (const f of r.findings) io.out(`  ${f.severity} ${f.id}: ${f.message}\n`);
  }
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean', default: false },
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
  const json = values.json === true;

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
    watchStdout(io);
    if (json) await writeJson(io, report, from, end);
    else await writeHuman(io, path, report, from, end);
    return EXIT_OK;
  } finally {
    await src.close();
  }
}
