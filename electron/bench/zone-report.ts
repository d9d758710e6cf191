// In-process zone report bench (built to dist/cli/bench-zone-report.cjs; `npm run bench` runs it).
//   node dist/cli/bench-zone-report.cjs IMAGE [PAIRS]
// Times, alternately after one warm-up pair, (ours) opening the image and loading its full zone report
// (openImage + loadZoneReport: byte-order detection, decoding every write pointer into the ZoneTable,
// findings) against (reference) one plain positional read of the zonedmeta bytes through the same
// FileHandle API: the floor any report must pay. Prints one JSON object on stdout:
//   {"ours": [ms…], "reference": [ms…], "referenceLabel": "…", "rssMb": peak RSS, "zones": count}
import { open } from 'node:fs/promises';
import { openImage } from '../../shared/qcow2/image';
import { loadZoneReport } from '../../shared/qcow2/zone-report';
import { FileByteSource } from '../engine/file-source';

async function ours(path: string): Promise<number> {
  const src = await FileByteSource.open(path, 'r');
  try {
    const img = await openImage(src);
    const report = await loadZoneReport(img);
    return report.table.count;
  } finally {
    await src.close();
  }
}

/** One pread of the whole write-pointer array (8 bytes a zone), into a fresh buffer as ours allocates its own. */
async function reference(path: string, offset: number, length: number): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  } finally {
    await fh.close();
  }
}

async function main(): Promise<void> {
  const [path, pairsText] = process.argv.slice(2);
  if (!path) {
    process.stderr.write('usage: bench-zone-report IMAGE [PAIRS]\n');
    process.exit(2);
  }
  const pairs = Math.max(1, Number(pairsText ?? 5));
  const probe = await FileByteSource.open(path, 'r');
  const img = await openImage(probe);
  await probe.close();
  if (!img.zoned) throw new Error(`${path}: not a zoned image`);
  const zones = await ours(path);
  const metaOffset = img.zoned.zonedmetaOffset;
  const metaBytes = 8 * zones;

  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i <= pairs; i++) {
    let t = performance.now();
    const n = await ours(path);
    const x = performance.now() - t;
    t = performance.now();
    const got = await reference(path, metaOffset, metaBytes);
    const y = performance.now() - t;
    if (n !== zones || got !== metaBytes) throw new Error(`unexpected result: ${n} zones, ${got} bytes`);
    if (i > 0) { a.push(x); b.push(y); } // pair 0 warms up the JIT and the page cache for both sides
  }
  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ ours: a, reference: b, referenceLabel: `plain positional read of the zonedmeta bytes (${metaBytes} bytes, one read)`, rssMb, zones }) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-zone-report: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
