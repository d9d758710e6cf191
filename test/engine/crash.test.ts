// Crash consistency: a writer process is killed (SIGKILL) just before its Nth file write, for many seeded
// N; the image must always open and `qemu-img check` must find no corruption (leaks are allowed: that is
// the price of the write order). Plain images with a snapshot, 512-byte clusters and 64-bit refcounts
// (so the kill lands inside refcount block creation and refcount table moves too), and zoned images.
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryByteSource, type WritableByteSource } from '../../shared/qcow2/byte-source';
import { ImageWriter } from '../../electron/engine/image-writer';
import { openImage } from '../../shared/qcow2/image';
import { ZonedDevice } from '../../electron/engine/zoned-device';
import { buildZonedImage, withoutBit5 } from '../helpers/zoned-builder';
import { fileBytes, prng, qemuCheck, randInt } from '../helpers/image-oracle';
import { qemuImg, qemuIo, tmpDir } from '../helpers/qemu';

const tmp = tmpDir('qzs-crash-');
let child = '';

beforeAll(async () => {
  await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      ssr: resolve(__dirname, '../helpers/crash-writer-child.ts'),
      outDir: tmp.file('child'),
      emptyOutDir: true,
      target: 'node20',
      minify: false,
      rollupOptions: { output: { format: 'es', entryFileNames: 'child.mjs' } },
    },
    ssr: { noExternal: true, target: 'node' },
  });
  child = tmp.file('child/child.mjs');
});
afterAll(() => tmp.cleanup());

function runChild(path: string, mode: string, seed: number, dieAfter?: number): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  if (dieAfter !== undefined) env.QZS_DIE_AFTER_WRITES = String(dieAfter);
  else delete env.QZS_DIE_AFTER_WRITES;
  const r = spawnSync(process.execPath, [child, path, mode, String(seed)], { env, encoding: 'utf8' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const totals = new Map<string, number>();
function totalWrites(base: string, mode: string, seed: number): number {
  const key = `${mode}:${seed}`;
  const known = totals.get(key);
  if (known !== undefined) return known;
  const probe = tmp.file(`probe-${mode}-${seed}.qcow2`);
  copyFileSync(base, probe);
  const r = runChild(probe, mode, seed);
  expect(r.status, r.stderr).toBe(0);
  const m = /writes (\d+)/.exec(r.stdout);
  expect(m).not.toBeNull();
  totals.set(key, Number(m?.[1]));
  return Number(m?.[1]);
}

describe('killed writers leave consistent images', () => {
  it('plain image with a snapshot, 512-byte clusters, 64-bit refcounts', async () => {
    const base = tmp.file('plain-base.qcow2');
    qemuImg(['create', '-f', 'qcow2', '-o', 'cluster_size=512,refcount_bits=64', base, '2M']);
    qemuIo(base, ['write -P 0x11 0 256k']);
    qemuImg(['snapshot', '-c', 's1', base]);
    const r = prng(99);
    let killed = 0;
    for (let run = 0; run < 8; run++) {
      const seed = run % 2;
      const total = totalWrites(base, 'plain', seed);
      const n = randInt(r, 0, total);
      const img = tmp.file(`plain-${run}.qcow2`);
      copyFileSync(base, img);
      const res = runChild(img, 'plain', seed, n);
      if (res.signal === 'SIGKILL') killed++;
      else expect(res.status, res.stderr).toBe(0);
      await openImage(new MemoryByteSource(fileBytes(img), img));
      const v = qemuCheck(img);
      expect(v.corruptions, `run ${run} seed ${seed} killed before write ${n}/${total}: ${v.raw}`).toBe(0);
      expect(v.checkErrors, v.raw).toBe(0);
    }
    expect(killed).toBeGreaterThan(5);
  });

  it('zoned image: write pointers, data and resets', async () => {
    const built = buildZonedImage({ layout: 'v8', virtualSize: 8 * 1024 * 1024, zoneSize: 1024 * 1024, zoneCapacity: 1024 * 1024, conventionalZones: 1, maxOpenZones: 2, maxActiveZones: 3, maxAppendBytes: 65536, clusterBits: 12 });
    const base = tmp.file('zoned-base.qcow2');
    writeFileSync(base, built.bytes);
    const r = prng(7);
    let killed = 0;
    for (let run = 0; run < 8; run++) {
      const seed = 10 + (run % 2);
      const total = totalWrites(base, 'zoned', seed);
      const n = randInt(r, 0, total);
      const img = tmp.file(`zoned-${run}.qcow2`);
      copyFileSync(base, img);
      const res = runChild(img, 'zoned', seed, n);
      if (res.signal === 'SIGKILL') killed++;
      else expect(res.status, res.stderr).toBe(0);
      const dev = await ZonedDevice.open(img, { readOnly: true });
      await dev.close();
      const copy = tmp.file(`zoned-${run}.nobit5.qcow2`);
      writeFileSync(copy, withoutBit5(fileBytes(img)));
      const v = qemuCheck(copy);
      expect(v.corruptions, `run ${run} seed ${seed} killed before write ${n}/${total}: ${v.raw}`).toBe(0);
      expect(v.leaks).toBeGreaterThanOrEqual(built.zonedmetaClusters);
    }
    expect(killed).toBeGreaterThan(5);
  });
});

/** In memory: the file as it is after exactly `limit` writes (later writes never happen). */
class StopAfter implements WritableByteSource {
  writes = 0;
  constructor(readonly mem: MemoryByteSource, private readonly limit: number) {}
  get name(): string { return this.mem.name; }
  size(): Promise<number> { return this.mem.size(); }
  read(o: number, l: number): Promise<Uint8Array> { return this.mem.read(o, l); }
  async write(o: number, b: Uint8Array): Promise<void> {
    if (this.writes >= this.limit) throw new Error('simulated crash');
    this.writes++;
    await this.mem.write(o, b);
  }
  truncate(n: number): Promise<void> { return this.mem.truncate(n); }
  flush(): Promise<void> { return Promise.resolve(); }
}

async function stopAt(base: Uint8Array, limit: number, ops: (w: ImageWriter) => Promise<void>): Promise<{ bytes: Uint8Array; writes: number; finished: boolean }> {
  const src = new StopAfter(new MemoryByteSource(base.slice(), 'mem'), limit);
  let finished = true;
  try {
    const w = await ImageWriter.fromSource(src, { durable: false });
    await ops(w);
    await w.close();
  } catch (e) {
    if ((e as Error).message !== 'simulated crash') throw e;
    finished = false;
  }
  return { bytes: src.mem.bytes(), writes: src.writes, finished };
}

describe('crash points across a short sequence (in process: the first 20 writes, then sampled)', () => {
  it('allocation, COW, discard, refcount block creation and a refcount table move: no corruption at any sampled crash point', async () => {
    const basePath = tmp.file('every-base.qcow2');
    qemuImg(['create', '-f', 'qcow2', '-o', 'cluster_size=512,refcount_bits=64', basePath, '4M']);
    // Fill the file close to the 2 MiB one refcount table cluster covers, then share it with a snapshot.
    qemuIo(basePath, ['write -P 0x11 0 1800k']);
    qemuImg(['snapshot', '-c', 's1', basePath]);
    const base = new Uint8Array(fileBytes(basePath));
    const ops = async (w: ImageWriter): Promise<void> => {
      await w.write(1000, new Uint8Array(3000).fill(0x22)); // COW of L2 and data
      await w.discard(4096, 2048); // shared clusters
      await w.write(1900 * 1024, new Uint8Array(300 * 1024).fill(0x33)); // new L2s, refcount blocks, table move
      await w.discard(1900 * 1024, 8192); // our own clusters freed
      await w.write(3 * 1024 * 1024, new Uint8Array(4096).fill(0x44)); // reuse of freed clusters
    };
    const full = await stopAt(base, Infinity, ops);
    expect(full.finished).toBe(true);
    const rtBefore = Number(Buffer.from(base).readBigUInt64BE(48));
    expect(Number(Buffer.from(full.bytes).readBigUInt64BE(48))).not.toBe(rtBefore);
    const stride = Math.max(1, Math.ceil(full.writes / 60));
    const file = tmp.file('every.qcow2');
    for (let n = 0; n <= full.writes; n += n < 20 ? 1 : stride) {
      const r = await stopAt(base, n, ops);
      writeFileSync(file, r.bytes);
      const v = qemuCheck(file);
      expect(v.corruptions, `crash before write ${n} of ${full.writes}: ${v.raw}`).toBe(0);
      expect(v.checkErrors, v.raw).toBe(0);
    }
  });
});
