// Seeded mutation fuzzing of openImage + check + map (+ the zone report) over valid images (zoned and not): no exception
// other than Qcow2Error escapes, no image takes longer than a per-image bound, no read asks for more than a
// bounded number of bytes (reads are where untrusted sizes would turn into allocations) nor at a position
// at or beyond 2^53 (where Node's file reads throw an internal range error). Values at and around 2^53
// and extension lengths beyond the cluster are among the mutations.
// QZS_FUZZ_ITERATIONS / QZS_FUZZ_SEED / QZS_FUZZ_SECONDS raise the run (npm run fuzz).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryByteSource } from '../../shared/qcow2/byte-source';
import { checkImage } from '../../shared/qcow2/check';
import { openQcow2Layer } from '../../shared/qcow2/cluster-reader';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { openImage } from '../../shared/qcow2/image';
import { mapImage } from '../../shared/qcow2/map';
import { loadZoneReport } from '../../shared/qcow2/zone-report';
import { tmpDir, type TmpDir } from '../helpers/qemu';
import { prng as rng } from '../helpers/prng';
import { makeFuzzBases, type FuzzBase } from '../helpers/fuzz-bases';
import { mutate } from '../helpers/mutations';

const ITERATIONS = Number(process.env.QZS_FUZZ_ITERATIONS ?? 1500);
const SEED = Number(process.env.QZS_FUZZ_SEED ?? 20240929);
// Work per image is bounded by what it reads and walks, not by the clock, so that a loaded machine neither
// fails the test nor hides a runaway walk: a decoder that loops re-reads, and runs into these bounds.
/** Only the test's timeout (a hang guard for `npm run fuzz`'s long runs); never an assertion. */
const SECONDS = Number(process.env.QZS_FUZZ_SECONDS ?? 600);
const PER_IMAGE_READ_BYTES = 256 * 1024 * 1024;
const PER_IMAGE_EXTENTS = 1 << 20;
const MAX_READ = 64 * 1024 * 1024;


class BoundedSource extends MemoryByteSource {
  maxAsked = 0;
  /** Bytes asked for so far (all reads of this image). */
  asked = 0;
  get overBudget(): boolean { return this.asked > PER_IMAGE_READ_BYTES; }
  override async read(offset: number, length: number): Promise<Uint8Array> {
    if (length > this.maxAsked) this.maxAsked = length;
    this.asked += length;
    if (this.asked > 2 * PER_IMAGE_READ_BYTES) throw new Error(`${this.asked} bytes read from one ${this.bytes().length}-byte image: the walk does not terminate`);
    if (length > MAX_READ) throw new Error(`read of ${length} bytes at ${offset}: beyond the ${MAX_READ}-byte bound`);
    // What fs.read does with such a position (ERR_OUT_OF_RANGE): a decoder let an offset through unchecked.
    if (!Number.isSafeInteger(offset) || offset + length > 2 ** 53) throw new RangeError(`read of ${length} bytes at position ${offset}: beyond 2^53`);
    return super.read(offset, length);
  }
}


let dir: TmpDir;
const bases: FuzzBase[] = [];

beforeAll(() => {
  dir = tmpDir('qzs-fuzz-');
  bases.push(...makeFuzzBases(dir));
});
afterAll(() => dir.cleanup());

/** The zone report and the map of an image that opens, as qzs zones and map make them; bounded in time. */
async function walkMap(src: BoundedSource): Promise<void> {
  const img = await openImage(src);
  if (img.zoned) {
    // qzs zones: the zone report of the same image
    try {
      await loadZoneReport(img);
    } catch (e) {
      if (!(e instanceof Qcow2Error)) throw e;
    }
  }
  const layer = await openQcow2Layer(img, { allocatedBytes: src.bytes().length });
  let n = 0;
  for await (const e of mapImage(layer)) {
    if (e.start + e.length > 2 ** 53 || (e.offset !== undefined && e.offset + e.length > 2 ** 53)) throw new RangeError(`map extent beyond 2^53: ${JSON.stringify(e)}`);
    if (++n > PER_IMAGE_EXTENTS) throw new Error(`map still walking after ${n} extents`);
  }
}

describe('fuzz: openImage + check + map on mutated images', () => {
  it(`${ITERATIONS} seeded mutations (seed ${SEED}) neither throw nor hang`, async () => {
    const r = rng(SEED);
    let done = 0;
    let opened = 0;
    let mostRead = 0;
    for (let it = 0; it < ITERATIONS; it++) {
      const base = bases[it % bases.length];
      const undo = mutate(base.bytes, r);
      const src = new BoundedSource(base.bytes, `${base.name}#${it}`);
      // check stops (an incomplete walk) once the image has been read over its budget.
      const signal = { get aborted() { return src.overBudget; } };
      try {
        try {
          await openImage(src);
          opened++;
        } catch (e) {
          if (!(e instanceof Qcow2Error)) throw e;
        }
        const report = await checkImage(src, { signal, maxClusters: 1 << 20 });
        expect(report.findings.length).toBeLessThan(5000);
        try {
          await walkMap(src);
        } catch (e) {
          if (!(e instanceof Qcow2Error)) throw e;
        }
      } catch (e) {
        const detail = `iteration ${it} (${base.name}, seed ${SEED}), bytes changed: ${JSON.stringify(undo.map(([o]) => [o, base.bytes[o]]))}`;
        throw new Error(`${(e as Error).name}: ${(e as Error).message}\n${detail}\n${(e as Error).stack ?? ''}`);
      } finally {
        mostRead = Math.max(mostRead, src.asked);
        for (let i = undo.length - 1; i >= 0; i--) base.bytes[undo[i][0]] = undo[i][1];
      }
      done++;
    }
    expect(done).toBe(ITERATIONS);
    expect(opened).toBeGreaterThan(done / 10);
    expect(mostRead).toBeLessThanOrEqual(2 * PER_IMAGE_READ_BYTES);
    expect(process.memoryUsage().rss).toBeLessThan(2 * 1024 ** 3);
    console.log(`fuzz: ${done} images, ${opened} opened, at most ${mostRead} bytes read from one`);
  }, SECONDS * 1000);
});
