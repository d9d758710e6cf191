// qzs diff [--json] [--data-only] A B: what differs between two images, or between an image and one of its
// internal snapshots (IMAGE@SNAPSHOT). Exit codes are qemu-img compare's: 0 identical, 1 different, 2 an
// error (qemu-img splits errors into 2 open, 3 block status, 4 read; one code here). --data-only prints
// exactly what qemu-img compare prints and decides on guest data alone, as it does.
import { hex } from '../../../shared/bytes';
import { compareVerdictLines, type FieldDifference, type GuestRange, type ImageDiff, type RangeMapping, type ZoneDifference, type ZoneSideState } from '../../../shared/qcow2/diff';
import { diffPaths } from '../../engine/diff';
import { parse, printError, UsageError, type CliIo } from '../io';

const USAGE = 'qzs diff [--json] [--data-only] [--max-ranges N] A B   (A and B: IMAGE or IMAGE@SNAPSHOT)';

export const EXIT_IDENTICAL = 0;
export const EXIT_DIFFERENT = 1;
export const EXIT_ERROR = 2;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean' }, 'data-only': { type: 'boolean' }, 'max-ranges': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (values.help) {
    io.out(`usage: ${USAGE}\n\nHeader fields, extensions, feature bits, zones and guest ranges that differ. Exit 0 when nothing differs,\n1 when something does, 2 on an error. --data-only: guest data only, with qemu-img compare's output and verdict.\n`);
    return EXIT_IDENTICAL;
  }
  if (positionals.length !== 2) throw new UsageError(`expected two images\nusage: ${USAGE}`);
  const maxRanges = values['max-ranges'] === undefined ? 10_000 : Number(values['max-ranges']);
  if (!Number.isSafeInteger(maxRanges) || maxRanges < 0) throw new UsageError(`--max-ranges: expected a whole number, got "${values['max-ranges']}"`);
  const json = values.json === true;
  const [a, b] = positionals;
  let d: ImageDiff;
  try {
    d = await diffPaths(a, b, { maxRanges });
  } catch (e) {
    printError(io, e, json);
    return EXIT_ERROR;
  }
  const dataOnly = values['data-only'] === true;
  const code = (dataOnly ? !d.guest.identical : d.different) ? EXIT_DIFFERENT : EXIT_IDENTICAL;
  if (json) {
    io.out(JSON.stringify(dataOnly ? { a: d.a, b: d.b, guest: d.guest } : d, null, 2) + '\n');
  } else if (dataOnly) {
    io.out(compareVerdictLines(d.guest).join('\n') + '\n');
  } else {
    io.out(humanText(d));
  }
  return code;
}

function mappingText(m: RangeMapping): string {
  const below = m.depth > 0 ? ` (backing file ${m.depth}${m.file ? `: ${m.file}` : ''})` : '';
  switch (m.kind) {
    case 'data': return `data at host ${hex(m.host ?? 0)}${below}`;
    case 'zero': return `zero cluster${m.host !== null ? ` (host ${hex(m.host)})` : ''}${below}`;
    default: return `${m.kind}${below}`;
  }
}

function rangeText(r: GuestRange): string {
  return `  ${hex(r.start)}..${hex(r.start + r.length)} (${r.start}, ${r.length} bytes): A ${mappingText(r.a)} | B ${mappingText(r.b)}\n`;
}

function fieldText(f: FieldDifference): string {
  const at = (o: number | null): string => (o === null ? '-' : `${o} (${hex(o)})`);
  const where = f.offsetA === f.offsetB ? `offset ${at(f.offsetA)}` : `offset A ${at(f.offsetA)}, B ${at(f.offsetB)}`;
  return `  ${f.area} ${f.field}, ${where}: ${f.a ?? '(absent)'} | ${f.b ?? '(absent)'}\n`;
}

function zoneState(s: ZoneSideState | null): string {
  return s ? `${s.type} ${s.condition}, wp ${hex(s.wp)}` : '(no such zone)';
}

function zoneText(z: ZoneDifference): string {
  return `  zone ${z.zone}${z.a ? ` at ${hex(z.a.start)}` : ''}: ${zoneState(z.a)} | ${zoneState(z.b)} [${z.changes.join(', ')}]\n`;
}

function humanText(d: ImageDiff): string {
  let t = `A: ${d.a}\nB: ${d.b}\n`;
  if (d.fields.length) t += `fields that differ (${d.fields.length}):\n` + d.fields.map(fieldText).join('');
  if (d.zones?.length) {
    t += `zones that differ (${d.zoneDifferenceCount}):\n` + d.zones.map(zoneText).join('');
    if (d.zones.length < d.zoneDifferenceCount) t += `  … and ${d.zoneDifferenceCount - d.zones.length} more (--max-ranges)\n`;
  }
  if (d.zonesNote) t += `${d.zonesNote}\n`;
  const g = d.guest;
  if (g.contentRangeCount) {
    t += `guest data that differs: ${g.contentRangeCount} range${g.contentRangeCount === 1 ? '' : 's'}, ${g.differingBytes} bytes:\n` + g.content.map(rangeText).join('');
    if (g.content.length < g.contentRangeCount) t += `  … and ${g.contentRangeCount - g.content.length} more (--max-ranges)\n`;
  }
  if (g.layoutRangeCount) {
    t += `metadata only (same guest data, other layout): ${g.layoutRangeCount} range${g.layoutRangeCount === 1 ? '' : 's'}, ${g.layoutBytes} bytes:\n` + g.layout.map(rangeText).join('');
    if (g.layout.length < g.layoutRangeCount) t += `  … and ${g.layoutRangeCount - g.layout.length} more (--max-ranges)\n`;
  }
  t += `guest bytes read: A ${g.readA}, B ${g.readB} (of ${Math.max(g.sizeA, g.sizeB)}; the rest decided from the mappings)\n`;
  t += compareVerdictLines(g).join('\n') + '\n';
  if (!d.different) t += 'No differences.\n';
  return t;
}
