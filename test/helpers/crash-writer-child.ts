// Child process for test/engine/crash.test.ts: runs a seeded sequence of writer operations and kills
// itself with SIGKILL just before file write number QZS_DIE_AFTER_WRITES (unset: runs to the end and
// prints how many file writes it made). Bundled by the test with vite; never part of the product.
import type { WritableByteSource } from '../../shared/qcow2/byte-source';
import { FileByteSource } from '../../electron/engine/file-source';
import { ImageWriter } from '../../electron/engine/image-writer';
import { ZonedDevice } from '../../electron/engine/zoned-device';
import { prng } from './prng';

class DyingSource implements WritableByteSource {
  writes = 0;
  constructor(private readonly inner: FileByteSource, private readonly limit: number) {}
  get name(): string { return this.inner.name; }
  size(): Promise<number> { return this.inner.size(); }
  read(o: number, l: number): Promise<Uint8Array> { return this.inner.read(o, l); }
  async write(o: number, b: Uint8Array): Promise<void> {
    if (this.writes >= this.limit) process.kill(process.pid, 'SIGKILL');
    this.writes++;
    await this.inner.write(o, b);
  }
  truncate(n: number): Promise<void> { return this.inner.truncate(n); }
  flush(): Promise<void> { return this.inner.flush(); }
}


async function main(): Promise<void> {
  const [path, mode, seedText] = process.argv.slice(2);
  const limit = process.env.QZS_DIE_AFTER_WRITES ? Number(process.env.QZS_DIE_AFTER_WRITES) : Infinity;
  const r = prng(Number(seedText));
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const file = await FileByteSource.open(path, 'r+');
  const src = new DyingSource(file, limit);
  const w = await ImageWriter.fromSource(src, { durable: false });
  const size = w.virtualSize;
  if (mode === 'plain') {
    for (let k = 0; k < 80; k++) {
      const off = int(0, size - 1);
      const len = Math.min(size - off, int(1, 24 * 1024));
      if (r() < 0.25) await w.discard(off, len);
      else await w.write(off, new Uint8Array(len).fill(k + 1));
    }
  } else {
    const dev = await ZonedDevice.attach(w);
    const g = dev.geometry;
    for (let k = 0; k < 120; k++) {
      const zone = int(g.conventionalZones, g.nrZones - 1);
      const x = r();
      try {
        if (x < 0.4) await dev.write(dev.report()[zone].wp, new Uint8Array(int(1, 64) * 512).fill(k + 1));
        else if (x < 0.6) await dev.append(zone, new Uint8Array(int(1, 32) * 512).fill(k + 1));
        else if (x < 0.75) await dev.resetZone(zone);
        else if (x < 0.85) await dev.finishZone(zone);
        else if (x < 0.95) await dev.write(int(0, g.conventionalZones * g.zoneSize - 65536), new Uint8Array(int(1, 65536)).fill(k + 1));
        else await dev.resetAll();
      } catch (e) {
        if ((e as { code?: string }).code !== 'zone-error') throw e;
      }
    }
  }
  await w.close();
  await file.close();
  process.stdout.write(`writes ${src.writes}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
