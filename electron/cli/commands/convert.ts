// qzs convert --zoned-layout TARGET IN OUT: rewrite a zoned image into another revision of the zoned format
// (shared/qcow2/convert-plan.ts plans it, electron/engine/convert.ts writes OUT). IN is never written.
import { parseQemuSize, ZONED_LAYOUT_ALIASES } from '../../../shared/qcow2/create-options';
import type { ConvertMessage } from '../../../shared/qcow2/convert-plan';
import { convertImage, type ConvertResult } from '../../engine/convert';
import { EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE, parse, printError, UsageError, type CliIo } from '../io';

const USAGE = 'qzs convert --zoned-layout v7|v8|v11|respin [--force] [--max-append-bytes N] [--dry-run] [--json] IN OUT';

const HELP = `usage: ${USAGE}

Rewrite a zoned image into another revision of the zoned format, keeping every zone's write pointer, every
data cluster (byte for byte, at the same host offsets) and the zone fields the target has. Only the zoned
header extension and the encoding of the write-pointer array change. IN is never written; OUT must not
exist. Targets (aliases v9, v10 for v8):
  v7      the seed revision: 48 bytes, 32-bit zone size and capacity, little-endian write pointers (bit 59)
  v8      the v8/v9/v10 family: 56 bytes, 64-bit zone size and capacity, little-endian write pointers (bit 59)
  v11     the v11 family (State A): 48 bytes in a new order, big-endian write pointers (bit 63)
  respin  the Cassel respin (State B): 44 bytes, no append limit, big-endian write pointers (bit 63)

A target that cannot represent the source is refused with the reason (a zone size that is not a power of
two into v11 or the respin, a 64-bit zone size into v7, a write pointer the respin refuses at open...).

  --force               drop what the target cannot store (the append limit, converting into the respin).
  --max-append-bytes N  the append limit to write when the source (the respin) has none; default: the
                        target's create default (v7: 0, v8 and v11: 64 KiB).
  --dry-run             plan and report, write nothing.
  --json                machine-readable report on stdout.

Exit status: 0 converted, 1 IN unreadable or OUT cannot be written (e.g. it exists), 2 usage error or the
target cannot represent the source.
`;

function messageLine(kind: 'error' | 'warning', m: ConvertMessage): string {
  return `qzs convert: ${kind}: ${m.field}: ${m.message}\n`;
}

function report(r: ConvertResult, inFile: string, outFile: string, dryRun: boolean): string {
  const p = r.plan;
  return JSON.stringify({
    ok: p.ok, written: r.written, dryRun, input: inFile, output: outFile, source: p.source, target: p.target,
    outRevision: r.outRevision, nrZones: r.nrZones, bytesCopied: r.bytesCopied,
    refusals: p.refusals, warnings: p.warnings, zoned: p.values,
    patches: p.patches.map((x) => ({ offset: x.offset, length: x.bytes.length, what: x.what })),
  }, null, 2) + '\n';
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(HELP);
    return EXIT_OK;
  }
  const { values, positionals } = parse(argv, {
    'zoned-layout': { type: 'string' },
    force: { type: 'boolean' },
    'max-append-bytes': { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  }, USAGE);
  if (positionals.length !== 2) throw new UsageError(`expected IN OUT\nusage: ${USAGE}`);
  const name = values['zoned-layout'];
  if (name === undefined) throw new UsageError(`--zoned-layout is required (v7, v8, v11 or respin)\nusage: ${USAGE}`);
  const target = Object.prototype.hasOwnProperty.call(ZONED_LAYOUT_ALIASES, name) ? ZONED_LAYOUT_ALIASES[name] : undefined;
  if (!target) throw new UsageError(`--zoned-layout must be v7, v8 (or its aliases v9, v10), v11 or respin, not "${name}"\nusage: ${USAGE}`);
  let maxAppendBytes: number | undefined;
  const rawAppend = values['max-append-bytes'];
  if (rawAppend !== undefined) {
    const p = parseQemuSize(rawAppend);
    if (!p.ok) throw new UsageError(`--max-append-bytes: "${rawAppend}" is ${p.reason}`);
    maxAppendBytes = p.value;
  }
  const [inFile, outFile] = positionals;
  const json = !!values.json;
  const dryRun = !!values['dry-run'];
  let r: ConvertResult;
  try {
    r = await convertImage({ input: inFile, output: outFile, target, force: !!values.force, maxAppendBytes, dryRun });
  } catch (e) {
    const err = printError(io, e, json, inFile);
    return err.code === 'invalid-argument' ? EXIT_USAGE : EXIT_UNREADABLE;
  }
  const p = r.plan;
  if (json) io.out(report(r, inFile, outFile, dryRun));
  else {
    for (const w of p.warnings) io.err(messageLine('warning', w));
    for (const e of p.refusals) io.err(messageLine('error', e));
    if (p.ok) {
      io.out(`${r.written ? 'Converted' : 'Would convert (dry run)'} '${inFile}' (${p.source ?? '?'}) to '${outFile}' (${p.target}${r.outRevision ? `, reads as ${r.outRevision}` : ''}): ${r.nrZones} zones, write pointers and data kept\n`);
      for (const x of p.patches) io.out(`  at ${x.offset}: ${x.bytes.length} bytes, ${x.what}\n`);
      if (r.written) io.out(`  copied ${r.bytesCopied} bytes of data extents; '${inFile}' was not written\n`);
    } else {
      io.err(`qzs convert: nothing written: ${p.refusals.some((x) => x.forceable) && p.refusals.every((x) => x.forceable) ? 'pass --force to accept what is dropped' : `${p.target} cannot represent '${inFile}'`}\n`);
    }
  }
  return p.ok ? EXIT_OK : EXIT_USAGE;
}
