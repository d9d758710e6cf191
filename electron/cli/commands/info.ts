// qzs info [--json] IMAGE: qemu-img info's keys (same names and values with --json) plus header fields,
// extensions, feature names, findings and the zoned extension.
import { statSync } from 'node:fs';
import { SyncReadFileSource } from '../../engine/sync-file-source';
import { emulatorEquivalents, emulatorGeometryFromExtension, emulatorText, type EmulatorTarget } from '../../../shared/qcow2/emulators';
import { Qcow2Error } from '../../../shared/qcow2/findings';
import { openImage } from '../../../shared/qcow2/image';
import { imageWpByteOrder } from '../../../shared/qcow2/zoned-info';
import { assertOpenable, buildInfoJson, collectInfoInputs, type InfoJson, type QzsFeatureJson } from '../../../shared/qcow2/info-json';
import { EXIT_OK, EXIT_UNREADABLE, parse, printError, UsageError, type CliIo } from '../io';

const USAGE = 'qzs info [--json] [--emulators] IMAGE';

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, emulators: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (values.help) {
    io.out(`usage: ${USAGE}\n\nPrints what qemu-img info prints (the same JSON keys with --json), plus every header field,\nheader extension, feature bit, finding and the zoned extension.\n` +
      '  --emulators  instead: how to get the same zoned device elsewhere: the QEMU NVMe ZNS namespace options,\n' +
      '               null_blk configfs attributes and the virtio-blk attachment of this image, each with what\n' +
      '               does not carry over (--json: {"emulators": [{"id", "title", "lines", "issues", "accepted"}]})\n');
    return EXIT_OK;
  }
  if (values.emulators) return runEmulators(positionals, values.json === true, io);
  if (positionals.length !== 1) throw new UsageError(`expected exactly one IMAGE\nusage: ${USAGE}`);
  const path = positionals[0];
  const json = values.json === true;
  let info: InfoJson;
  try {
    info = await readInfo(path);
  } catch (e) {
    printError(io, e, json, path);
    return EXIT_UNREADABLE;
  }
  io.out(json ? JSON.stringify(info, null, 4) + '\n' : humanInfo(info));
  return EXIT_OK;
}

/** qzs info --emulators IMAGE (shared/qcow2/emulators.ts). */
async function runEmulators(positionals: string[], json: boolean, io: CliIo): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one IMAGE\nusage: ${USAGE}`);
  const path = positionals[0];
  let targets: EmulatorTarget[];
  try {
    const src = SyncReadFileSource.open(path);
    try {
      const img = await openImage(src);
      if (!img.zoned) throw new Qcow2Error({ code: 'invalid-argument', file: path, message: 'not a zoned image: it has no zoned extension, so there is no zoned device to reproduce' });
      targets = emulatorEquivalents(emulatorGeometryFromExtension(img.zoned, img.header.size), path);
    } finally {
      src.close();
    }
  } catch (e) {
    printError(io, e, json, path);
    return EXIT_UNREADABLE;
  }
  io.out(json ? JSON.stringify({ emulators: targets }, null, 2) + '\n' : emulatorText(targets));
  return EXIT_OK;
}

/**
 * Synchronous reads (and stat): info reads a few small tables, and a one-shot command gains nothing from
 * fs.promises but its start-up cost (it loads Node's stream and readline modules).
 */
export async function readInfo(path: string): Promise<InfoJson> {
  const src = SyncReadFileSource.open(path);
  try {
    const img = await openImage(src);
    assertOpenable(img);
    // st_blocks * 512: what qemu-img reports as actual-size / disk size.
    const inputs = await collectInfoInputs(img, path, statSync(path).blocks * 512, (await imageWpByteOrder(img)) ?? undefined);
    return buildInfoJson(img, inputs);
  } finally {
    src.close();
  }
}

/** qemu's size_to_str: three significant digits and a binary prefix. */
export function sizeToStr(v: number): string {
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  let i = 0;
  while (i < suffixes.length - 1 && v / 2 ** (10 * (i + 1)) >= 1000 / 1024) i++;
  const x = v / 2 ** (10 * i);
  return `${String(Number(x.toPrecision(3)))} ${suffixes[i]}B`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function clock(nsec: number): string {
  const secs = Math.floor(nsec / 1e9);
  return `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}.${String(Math.floor((nsec % 1e9) / 1e6)).padStart(3, '0')}`;
}

function date(sec: number): string {
  const d = new Date(sec * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function featureLine(kind: string, list: QzsFeatureJson[]): string {
  const set = list.filter((b) => b.set);
  if (set.length === 0) return `    ${kind}: none\n`;
  return `    ${kind}: ${set.map((b) => `${b.name} (bit ${b.bit})${b.disagreement ? ` [image calls it "${b['image-name']}"]` : ''}`).join(', ')}\n`;
}

export function humanInfo(info: InfoJson): string {
  let s = `image: ${info.filename}\nfile format: ${info.format}\n`;
  s += `virtual size: ${sizeToStr(info['virtual-size'])} (${info['virtual-size']} bytes)\n`;
  if (info['actual-size'] !== undefined) s += `disk size: ${sizeToStr(info['actual-size'])}\n`;
  s += `cluster_size: ${info['cluster-size']}\n`;
  if (info.encrypted) s += 'encrypted: yes\n';
  if (info['backing-filename']) {
    s += `backing file: ${info['backing-filename']}`;
    if (info['full-backing-filename'] && info['full-backing-filename'] !== info['backing-filename']) s += ` (actual path: ${info['full-backing-filename']})`;
    s += '\n';
    if (info['backing-filename-format']) s += `backing file format: ${info['backing-filename-format']}\n`;
  }
  if (info.snapshots) {
    s += 'Snapshot list:\n';
    s += `${'ID'.padEnd(10)}${'TAG'.padEnd(18)}${'VM SIZE'.padStart(7)}${'DATE'.padStart(20)}${'VM CLOCK'.padStart(13)}${'ICOUNT'.padStart(11)}\n`;
    for (const sn of info.snapshots) {
      s += `${sn.id.padEnd(9)} ${sn.name.padEnd(17)} ${sizeToStr(sn['vm-state-size']).padStart(7)} ${date(sn['date-sec'])} ${clock(sn['vm-clock-sec'] * 1e9 + sn['vm-clock-nsec'])}`;
      s += sn.icount !== undefined ? ` ${String(sn.icount).padStart(10)}\n` : '\n';
    }
  }
  const d = info['format-specific'].data;
  s += 'Format specific information:\n';
  s += `    compat: ${d.compat}\n    compression type: ${d['compression-type']}\n`;
  if (d['lazy-refcounts'] !== undefined) s += `    lazy refcounts: ${d['lazy-refcounts']}\n`;
  if (d.bitmaps) {
    s += '    bitmaps:\n';
    d.bitmaps.forEach((b, i) => {
      s += `        [${i}]:\n            flags:\n${b.flags.map((f, k) => `                [${k}]: ${f}\n`).join('')}            name: ${b.name}\n            granularity: ${b.granularity}\n`;
    });
  }
  s += `    refcount bits: ${d['refcount-bits']}\n`;
  if (d.corrupt !== undefined) s += `    corrupt: ${d.corrupt}\n`;
  if (d['data-file'] !== undefined) s += `    data file: ${d['data-file']}\n`;
  if (d['data-file-raw'] !== undefined) s += `    data file raw: ${d['data-file-raw']}\n`;
  if (d['extended-l2'] !== undefined) s += `    extended l2: ${d['extended-l2']}\n`;

  s += 'Feature bits:\n';
  s += featureLine('incompatible', info['qzs-features'].incompatible);
  s += featureLine('compatible', info['qzs-features'].compatible);
  s += featureLine('autoclear', info['qzs-features'].autoclear);
  s += 'Header extensions:\n';
  for (const e of info['qzs-extensions']) {
    if (e.magic === '0x00000000') continue;
    s += `    ${e.magic} ${e.name}: ${e.length} bytes at offset ${e.offset}${typeof e.value === 'string' ? ` ("${e.value}")` : ''}\n`;
  }
  if (info.zoned) {
    const z = info.zoned;
    s += 'Zoned:\n';
    s += `    revision: ${z.revision} (${z['revision-reason']})\n    mode: ${z.mode}\n`;
    s += `    zones: ${z['nr-zones']} of ${z['zone-size']} bytes (capacity ${z['zone-capacity']}), ${z['conventional-zones']} conventional\n`;
    // The respin stores no append limit: its 0 is "none", not a limit of 0 bytes (which would refuse every append).
    const append = z['has-append-limit'] ? `max append ${z['max-append-bytes']} bytes` : 'no append limit (this revision stores none: an append may fill a zone up to its capacity)';
    s += `    limits: max open ${z['max-open-zones']}, max active ${z['max-active-zones']}, ${append}\n`;
    if (z.effective.clamps.length > 0) s += `    effective: ${z.effective.clamps.join('; ')}\n`;
    s += `    zonedmeta: ${z['zonedmeta-size']} bytes at offset ${z['zonedmeta-offset']}, write pointers ${z['wp-byte-order']}\n`;
  }
  const findings = info['qzs-findings'];
  if (findings.length > 0) {
    s += 'Findings:\n';
    for (const f of findings) s += `    [${f.severity}] ${f.message} (${f.structure}, ${f.field}, offset ${f.offset})\n`;
  }
  return s;
}
