// qzs create: qemu-img's qcow2 create options plus the zone.* options of the zoned series. Validation is
// the shared validateCreateOptions (the wizard calls the same function); writing is engine/create.ts.
import { ZONED_LAYOUT_ALIASES, type CreateMessage, type CreateValidation, type DerivedValues, type NormalizedCreateOptions } from '../../../shared/qcow2/create-options';
import { createImage, type CreateResult } from '../../engine/create';
import { planLike, restoreWritePointers, type LikePlan } from './create-like';
import { EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE, parse, printError, UsageError, type CliIo } from '../io';

const USAGE = 'qzs create [-o key=value[,key=value…]]… [--zoned-layout v7|v8|v11|respin] [--print-qemu-img] [--dry-run] [--json] [--force] [--like REPORT [--with-write-pointers] [--lba-size N]] FILE [SIZE]';

const HELP = `usage: ${USAGE}

Create a qcow2 image exactly as qemu-img create -f qcow2 does, or a zoned image.

  -o key=value,…     qemu-img qcow2 options: size, cluster_size, compat (0.10, 1.1, v2, v3), lazy_refcounts,
                     refcount_bits, extended_l2, compression_type (zlib, zstd), preallocation (off, metadata),
                     backing_file, backing_fmt, data_file, data_file_raw; zone options: zone.mode=host-managed,
                     zone.size, zone.capacity, zone.conventional_zones, zone.max_open_zones,
                     zone.max_active_zones, zone.max_append_bytes. Repeatable; a later value wins; ",," is a
                     literal comma.
  --zoned-layout L   which revision of the zoned format to write:
                       v7      (default) the seed revision: 48-byte extension, 32-bit zone size, no defaults
                       v8      the v8/v9/v10 family (aliases v9, v10): 56 bytes, 64-bit zone size and capacity
                       v11     the v11 family (State A): 48 bytes in a new order, big-endian write pointers with
                               bit 63 for conventional zones, power-of-two zone size, at most 2^20 zones
                       respin  the Cassel respin (State B): 44 bytes, no zone.max_append_bytes, zone size a
                               multiple of the cluster size
  --print-qemu-img   print the equivalent qemu-img create command line and write nothing.
  --dry-run          validate and report the derived values, write nothing.
  --json             machine-readable report on stdout.
  --force            replace an existing file.
  --like REPORT      shape the image like a real drive: size, zone size, capacity, zone count and
                     conventional zones from a saved \`blkzone report\`, \`nvme zns report-zones -o json\`,
                     \`zbd report\` (with or without -i: its open/active limits are taken) or qemu-io
                     zone_report (detected); -o values override it. Refused, with the reason, where qcow2
                     cannot represent the drive: non-uniform zone sizes or capacities, a conventional zone
                     after a sequential one, host-aware zones.
  --with-write-pointers  with --like: write zeros up to each zone's write pointer (full zones up to their
                     capacity) through the zone write path, so a guest sees the drive's state.
  --lba-size N       with --like of an nvme report: its logical block size (default 512).

SIZE takes qemu-img's suffixes (k, M, G, T, P, E); without SIZE the size comes from -o size or the backing
file. Exit status: 0 ok, 1 failure (e.g. the file exists), 2 usage or validation errors.
`;

/** Split one -o argument the way qemu's option parser does: "," separates, ",," is a literal comma. */
export function parseOptionList(text: string, into: Record<string, string>): void {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ',') {
      if (text[i + 1] === ',') { cur += ','; i++; continue; }
      parts.push(cur);
      cur = '';
    } else cur += text[i];
  }
  parts.push(cur);
  for (const p of parts) {
    if (p === '') continue;
    const eq = p.indexOf('=');
    // A bare name means "on", as in qemu's option syntax.
    if (eq < 0) into[p] = 'on';
    else into[p.slice(0, eq)] = p.slice(eq + 1);
  }
}

function messageJson(m: CreateMessage): CreateMessage {
  return { code: m.code, option: m.option, value: m.value, limit: m.limit, message: m.message, ...(m.qemu !== undefined ? { qemu: m.qemu } : {}) };
}

function reportJson(r: CreateResult, dryRun: boolean): string {
  const v = r.validation;
  return JSON.stringify({
    ok: r.ok, written: r.written, dryRun, file: r.file,
    errors: v.errors.map(messageJson), warnings: v.warnings.map(messageJson),
    options: v.normalized, derived: v.derived,
    fileSize: r.fileSize, dataFile: r.dataFile, dataFileSize: r.dataFileSize,
    qemuImg: r.qemuImgCommand,
  }, null, 2) + '\n';
}

function describeOptions(o: NormalizedCreateOptions): string {
  const parts = [`compat=${o.compat}`, `size=${o.size}`, `cluster_size=${o.clusterSize}`, `refcount_bits=${o.refcountBits}`,
    `lazy_refcounts=${o.lazyRefcounts ? 'on' : 'off'}`, `extended_l2=${o.extendedL2 ? 'on' : 'off'}`,
    `compression_type=${o.compressionType}`, `preallocation=${o.preallocation}`];
  if (o.backingFile) parts.push(`backing_file=${o.backingFile}`, `backing_fmt=${o.backingFmt ?? ''}`);
  if (o.dataFile) parts.push(`data_file=${o.dataFile}`, `data_file_raw=${o.dataFileRaw ? 'on' : 'off'}`);
  if (o.zoned) {
    const z = o.zoned;
    parts.push(`zone.mode=host-managed`, `zone.size=${z.zoneSize}`, `zone.capacity=${z.zoneCapacity}`,
      `zone.conventional_zones=${z.conventionalZones}`, `zone.max_open_zones=${z.maxOpenZones}`,
      `zone.max_active_zones=${z.maxActiveZones}`, ...(z.layout === 'respin' ? [] : [`zone.max_append_bytes=${z.maxAppendBytes}`]), `layout=${z.layout}`);
  }
  return parts.join(' ');
}

function describeDerived(d: DerivedValues): string {
  const lines = [
    `  L1 table: ${d.l1Entries} entries (${d.l1Bytes} bytes) at ${d.l1Offset}; ${d.l2Entries} entries per L2 table`,
    `  refcount table: ${d.refcountTableClusters} cluster(s) at ${d.refcountTableOffset}; ${d.refcountBlocks} refcount block(s) of ${d.refcountBlockEntries} entries`,
    `  metadata: ${d.metadataBytes} bytes; image file: ${d.fileSize} bytes`,
  ];
  if (d.nrZones !== null) {
    lines.push(`  zones: ${d.nrZones} (${d.sequentialZones} sequential); zonedmeta: ${d.zonedmetaSize} bytes in ${d.zonedmetaClusters} cluster(s) at ${d.zonedmetaOffset}`);
  }
  return lines.join('\n') + '\n';
}

function printMessages(io: CliIo, v: CreateValidation): void {
  for (const w of v.warnings) io.err(`qzs create: warning: ${w.message}\n`);
  for (const e of v.errors) io.err(`qzs create: error: ${e.message}\n  option: ${e.option}, value: ${e.value ?? '(none)'}${e.limit ? `, limit: ${e.limit}` : ''}\n`);
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(HELP);
    return EXIT_OK;
  }
  const { values, positionals } = parse(argv, {
    o: { type: 'string', short: 'o', multiple: true },
    'zoned-layout': { type: 'string' },
    'print-qemu-img': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    force: { type: 'boolean' },
    like: { type: 'string' },
    'with-write-pointers': { type: 'boolean' },
    'lba-size': { type: 'string' },
  }, USAGE);
  const json = !!values.json;
  if (positionals.length < 1 || positionals.length > 2) throw new UsageError(`expected FILE [SIZE]\nusage: ${USAGE}`);
  const layoutName = values['zoned-layout'] ?? 'v7';
  const layout = Object.prototype.hasOwnProperty.call(ZONED_LAYOUT_ALIASES, layoutName) ? ZONED_LAYOUT_ALIASES[layoutName] : undefined;
  if (!layout) throw new UsageError(`--zoned-layout must be v7, v8 (or its aliases v9, v10), v11 or respin, not "${layoutName}"\nusage: ${USAGE}`);
  const options: Record<string, string> = {};
  for (const o of values.o ?? []) parseOptionList(o, options);
  const [file, size] = positionals;
  const printOnly = !!values['print-qemu-img'];
  const dryRun = !!values['dry-run'] || printOnly;
  // --like REPORT: the geometry of a saved zone report (create-like.ts).
  if (values.like === undefined && (values['with-write-pointers'] || values['lba-size'] !== undefined)) {
    throw new UsageError(`--with-write-pointers and --lba-size go with --like REPORT\nusage: ${USAGE}`);
  }
  let like: LikePlan | null = null;
  if (values.like !== undefined) {
    try {
      like = await planLike(values.like, options, size, values['lba-size'], !!values['with-write-pointers']);
    } catch (e) {
      printError(io, e, json, values.like);
      return EXIT_USAGE;
    }
    for (const n of like.notes) io.err(`qzs create: note: ${n}\n`);
  }

  let result: CreateResult;
  try {
    result = await createImage({ file, size: like?.size ?? size, options, zonedLayout: layout, force: !!values.force, dryRun });
  } catch (e) {
    // A backing file that cannot be opened is a bad option (2); anything else is a failure (1).
    const err = printError(io, e, json, file);
    return err.code === 'invalid-argument' ? EXIT_USAGE : EXIT_UNREADABLE;
  }
  let restored: string | null = null;
  if (like && values['with-write-pointers'] && result.ok && result.written) {
    try {
      const bytes = await restoreWritePointers(file, like.shape);
      restored = `  write pointers: ${like.shape.writePointers.length} zone(s) restored from ${like.shape.source} (${bytes} bytes of zeros written)\n`;
    } catch (e) {
      printError(io, e, json, file);
      return EXIT_UNREADABLE;
    }
  }
  const v = result.validation;
  if (printOnly && !json) {
    printMessages(io, v);
    io.out(result.qemuImgCommand + '\n');
    return result.ok ? EXIT_OK : EXIT_USAGE;
  }
  if (json) {
    io.out(reportJson(result, dryRun));
  } else {
    printMessages(io, v);
    if (result.ok && v.normalized && v.derived) {
      io.out(`${result.written ? 'Created' : 'Would create (dry run)'} '${file}': ${describeOptions(v.normalized)}\n`);
      io.out(describeDerived(v.derived));
      if (result.dataFile) io.out(`  data file: ${result.dataFile} (${result.dataFileSize} bytes)\n`);
      if (restored) io.out(restored);
    }
  }
  return result.ok ? EXIT_OK : EXIT_USAGE;
}
