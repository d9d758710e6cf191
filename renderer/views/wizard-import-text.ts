// The create wizard's "Import from a zone report": the saved report's text goes through the engine's own
// parser and shaper (shared/qcow2/zone-report-import.ts, the functions behind `qzs create --like`), and
// the result is worded for the dialog. Pure, so the dialog and its tests share it. The text never needs
// the engine process: the report is read in the page.
import { parseZoneReportText, shapeCreateOptions, shapeFromReport, type ZoneReportSource, type ZoneShape } from '../../shared/qcow2/zone-report-import';
import { human } from '../format';
import { forUi } from './wizard-text';

/** The tool that printed each report format, as the dialog names it. */
export const REPORT_SOURCE_NAMES: Readonly<Record<ZoneReportSource, string>> = {
  blkzone: 'util-linux blkzone report',
  'nvme-json': 'nvme-cli zns report-zones -o json',
  zbd: 'libzbd zbd report',
  'qemu-io': 'qemu-io zone_report',
};

export type ReportImport =
  | { ok: true; shape: ZoneShape; sourceName: string; options: Record<string, string>; facts: [string, string][] }
  | { ok: false; message: string };

const SUFFIXES: [string, number][] = [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]];

/** A byte count as the form's size fields take it: the largest suffix that divides it exactly, else bytes. */
export function sizeField(bytes: number): string {
  for (const [s, f] of SUFFIXES) if (bytes >= f && bytes % f === 0) return `${bytes / f}${s}`;
  return String(bytes);
}

const bytesAnd = (n: number): string => (n < 1024 ? `${n} bytes` : `${human(n)} (${n} bytes)`);

/** Parse and shape a report; the refusal is the engine's reason, without the CLI's "--like:" prefix. */
export function importZoneReport(text: string, lbaSize = 512): ReportImport {
  let shape: ZoneShape;
  try {
    shape = shapeFromReport(parseZoneReportText(text, { lbaSize }));
  } catch (e) {
    return { ok: false, message: (e instanceof Error ? e.message : String(e)).replace(/^--like:\s*/, '') };
  }
  const options: Record<string, string> = { size: sizeField(shape.size) };
  for (const [k, v] of Object.entries(shapeCreateOptions(shape))) options[k] = k === 'zone.size' || k === 'zone.capacity' ? sizeField(Number(v)) : v;
  const limit = (n: number | null): string => (n === null ? 'not in the report (left as typed)' : n === 0 ? 'no limit' : String(n));
  const facts: [string, string][] = [
    ['format', REPORT_SOURCE_NAMES[shape.source]],
    ['zones', `${shape.nrZones} (${shape.conventionalZones} conventional, ${shape.nrZones - shape.conventionalZones} sequential)`],
    ['virtual size', bytesAnd(shape.size)],
    ['zone size', bytesAnd(shape.zoneSize)],
    ['zone capacity', bytesAnd(shape.zoneCapacity)],
    ['max open zones', limit(shape.maxOpenZones)],
    ['max active zones', limit(shape.maxActiveZones)],
    ['zones written', `${shape.writePointers.length} (their write pointers are not restored by the wizard)`],
  ];
  return { ok: true, shape, sourceName: REPORT_SOURCE_NAMES[shape.source], options, facts };
}

/**
 * The wizard's options with an import applied: the report's size and zone geometry replace what was typed
 * (every other zone option too, so no value of a previous drive lingers); the qcow2 options stay.
 */
export function withImport(options: Record<string, string>, imported: Record<string, string>): Record<string, string> {
  const kept = Object.fromEntries(Object.entries(options).filter(([k]) => k !== 'size' && !k.startsWith('zone.')));
  return { ...kept, ...imported };
}

const shellWord = (s: string): string => (/^[A-Za-z0-9._+\/=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command line that also restores the report's write pointers (CLI only). */
export function likeCommand(report: string, fileName: string, shape: ZoneShape, lbaSize: number, layout: string): string {
  return ['qzs', 'create', ...(layout !== 'v7' ? ['--zoned-layout', layout] : []), '--like', shellWord(report), '--with-write-pointers',
    ...(shape.source === 'nvme-json' && lbaSize !== 512 ? ['--lba-size', String(lbaSize)] : []), shellWord(fileName)].join(' ');
}

/** A shaping note in the form's words: "-o zone.capacity=" names the control, --lba-size the dialog's field. */
export function noteForUi(note: string): string {
  return forUi(note.replace(/(?:-o )?(zone\.[a-z_]+)=(?=\s|$)/g, '$1').replace(/--lba-size/g, '"NVMe block size"'));
}
