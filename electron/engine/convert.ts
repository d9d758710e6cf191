// Convert a zoned image into another revision's layout (shared/qcow2/convert-plan.ts decides what changes):
// IN is opened read-only and never written; OUT is created exclusively (it must not exist), filled with a
// sparse copy of IN (only the host extents holding data are copied), patched with the plan's writes, and
// read back: the revision we detect and every write pointer must be what the plan meant, or OUT is removed.
import { open, unlink } from 'node:fs/promises';
import { planConvert, TARGET_WP_ENCODING, type ConvertPlan } from '../../shared/qcow2/convert-plan';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { openImage, type OpenedImage } from '../../shared/qcow2/image';
import { ZONE_TYPE_CONVENTIONAL, type ZoneTable } from '../../shared/qcow2/zone-table';
import type { ZonedExtension, ZonedWriteLayout } from '../../shared/qcow2/zoned-types';
import { readZonedmeta } from '../../shared/qcow2/zonedmeta';
import { FileByteSource } from './file-source';
import { readExtents } from './host-extents';

export interface ConvertRequest {
  input: string;
  output: string;
  target: ZonedWriteLayout;
  /** Accept what the target drops (the append limit into the respin). */
  force?: boolean;
  maxAppendBytes?: number;
  /** Plan and report, write nothing. */
  dryRun?: boolean;
}

export interface ConvertResult {
  plan: ConvertPlan;
  written: boolean;
  /** The revision OUT decodes as (after writing). */
  outRevision: string | null;
  bytesCopied: number;
  nrZones: number;
}

const CHUNK = 1 << 20;
const REVISION_OF_LAYOUT: Record<ZonedWriteLayout, string> = { v7: 'v5-v7', v8: 'v8', v11: 'v11', respin: 'respin' };

async function readTable(src: FileByteSource): Promise<{ img: OpenedImage; zoned: ZonedExtension; table: ZoneTable }> {
  const img = await openImage(src);
  const zoned = img.zoned;
  if (!zoned) throw new Qcow2Error({ code: 'invalid-argument', message: 'the image is not zoned (no zoned extension with mode 1): there is no zoned layout to convert', file: src.name });
  const r = await readZonedmeta(src, zoned, img.header.size, img.header.clusterSize, img.fileSize);
  return { img, zoned, table: r.table };
}

type Handle = Awaited<ReturnType<typeof open>>;

async function writeAll(fh: Handle, bytes: Uint8Array, offset: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, offset + done);
    done += bytesWritten;
  }
}

/** Copy IN's data extents to OUT (holes stay holes); without an extent list, every non-zero chunk. */
async function sparseCopy(src: FileByteSource, out: Handle, size: number): Promise<number> {
  const ext = await readExtents(src.name);
  const known = !!ext && ext.size === size;
  const ranges: [number, number][] = known && ext ? ext.ranges : [[0, size]];
  const skipZeros = !known;
  let copied = 0;
  for (const [start, end] of ranges) {
    for (let off = start; off < end; off += CHUNK) {
      const len = Math.min(CHUNK, end - off);
      const bytes = await src.read(off, len);
      if (skipZeros && bytes.every((b) => b === 0)) continue;
      await writeAll(out, bytes, off);
      copied += bytes.length;
    }
  }
  await out.truncate(size);
  return copied;
}

export async function convertImage(req: ConvertRequest): Promise<ConvertResult> {
  const src = await FileByteSource.open(req.input, 'r');
  try {
    const { img, zoned, table } = await readTable(src);
    const cluster0 = await src.read(0, Math.min(img.header.clusterSize, img.fileSize));
    const dataFileBit = ((img.header.incompatibleFeatures >> 2n) & 1n) === 1n;
    const plan = planConvert({
      header: img.header, cluster0, extensions: img.extensions.extensions, zoned,
      table, externalDataFile: img.extensions.dataFile ?? (dataFileBit ? '(bit 2 set, no name)' : null),
      target: req.target, force: !!req.force, maxAppendBytes: req.maxAppendBytes,
    });
    const base: ConvertResult = { plan, written: false, outRevision: null, bytesCopied: 0, nrZones: table.count };
    if (!plan.ok || req.dryRun) return base;

    let out: Handle;
    try {
      out = await open(req.output, 'wx');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Qcow2Error({ code: code === 'EEXIST' ? 'exists' : 'io', message: code === 'EEXIST' ? 'the output file exists: convert never replaces a file (remove it or pick another name)' : `cannot create the output file: ${(e as Error).message}`, file: req.output });
    }
    let copied = 0;
    try {
      try {
        copied = await sparseCopy(src, out, img.fileSize);
        for (const p of plan.patches) await writeAll(out, p.bytes, p.offset);
        await out.sync();
      } finally {
        await out.close();
      }
      const outRevision = await verify(req, table);
      return { ...base, written: true, outRevision, bytesCopied: copied };
    } catch (e) {
      await unlink(req.output).catch(() => undefined);
      throw e;
    }
  } finally {
    await src.close();
  }
}

/** Read OUT back as any reader would: the target's revision, the same zones and write pointers. */
async function verify(req: ConvertRequest, before: ZoneTable): Promise<string> {
  const outSrc = await FileByteSource.open(req.output, 'r');
  try {
    const { zoned, table } = await readTable(outSrc);
    const rev = zoned.revision;
    const want = REVISION_OF_LAYOUT[req.target];
    const enc = TARGET_WP_ENCODING[req.target];
    const bad = (why: string): never => { throw new Qcow2Error({ code: 'internal', message: `the converted image does not read back as planned (${why}); it was removed`, file: req.output }); };
    if (rev !== want) bad(`detected as ${rev}, not ${want}`);
    if (zoned.wpFlagBit !== enc.flagBit) bad(`conventional flag in bit ${zoned.wpFlagBit}`);
    if (table.count !== before.count) bad(`${table.count} zones, not ${before.count}`);
    for (let i = 0; i < table.count; i++) {
      if (table.wp[i] !== before.wp[i] || (table.type[i] === ZONE_TYPE_CONVENTIONAL) !== (before.type[i] === ZONE_TYPE_CONVENTIONAL)) bad(`zone ${i}: write pointer ${table.wp[i]}, was ${before.wp[i]}`);
    }
    return rev;
  } finally {
    await outSrc.close();
  }
}
