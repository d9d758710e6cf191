// The writer's data path, judged by Debian's qemu-img/qemu-io: what we write reads back through QEMU,
// and `qemu-img check` finds no corruption and no leak after every test.
import { copyFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { u64be } from '../../shared/bytes';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { ImageWriter } from '../../electron/engine/image-writer';
import { fileBytes, fill, noise, prng, qemuCheck, randInt } from '../helpers/image-oracle';
import { qemuImg, qemuImgStatus, qemuIo, tmpDir } from '../helpers/qemu';

const tmp = tmpDir('qzs-writer-');
afterAll(() => tmp.cleanup());

const checked: string[] = [];
afterEach(() => {
  for (const f of checked.splice(0)) {
    const v = qemuCheck(f);
    expect(v, `${f}: ${v.raw}`).toMatchObject({ corruptions: 0, leaks: 0, checkErrors: 0, status: 0 });
  }
});

let n = 0;
function create(size: string, opts = ''): string {
  const f = tmp.file(`img${n++}.qcow2`);
  qemuImg(['create', '-f', 'qcow2', ...(opts ? ['-o', opts] : []), f, size]);
  checked.push(f);
  return f;
}

async function withWriter<T>(f: string, fn: (w: ImageWriter) => Promise<T>): Promise<T> {
  const w = await ImageWriter.open(f, { durable: false });
  try {
    return await fn(w);
  } finally {
    await w.close();
  }
}

/** qemu-img compare against a raw file holding the expected bytes. */
function expectSameAsRaw(img: string, model: Uint8Array): void {
  const raw = tmp.file(`model${n++}.raw`);
  writeFileSync(raw, model);
  const r = qemuImgStatus(['compare', '-f', 'qcow2', '-F', 'raw', img, raw]);
  expect(r.stdout + r.stderr).toContain('Images are identical');
}

describe('guest writes and reads', () => {
  it('writes land where QEMU reads them, at any alignment', async () => {
    const f = create('8M');
    await withWriter(f, async (w) => {
      await w.write(0, fill(65536, 0x11));
      await w.write(70000, fill(1000, 0x22));
      await w.write(3 * 65536 - 100, fill(300, 0x33)); // crosses a cluster boundary
      await w.write(8 * 1024 * 1024 - 512, fill(512, 0x44)); // last sector
      expect(await w.read(70000, 1000)).toEqual(fill(1000, 0x22));
    });
    const out = qemuIo(f, ['read -P 0x11 0 65536', 'read -P 0x22 70000 1000', 'read -P 0 71000 1000', 'read -P 0x33 196508 300', 'read -P 0x44 8388096 512']);
    expect(out).not.toMatch(/Pattern verification failed/);
  });

  it('reads what QEMU wrote', async () => {
    const f = create('4M', 'cluster_size=4096');
    qemuIo(f, ['write -P 0x5a 12288 8192', 'write -P 0xa5 100000 3000', 'write -z 12288 4096']);
    await withWriter(f, async (w) => {
      expect(await w.read(12288, 4096)).toEqual(fill(4096, 0));
      expect(await w.read(16384, 4096)).toEqual(fill(4096, 0x5a));
      expect(await w.read(100000, 3000)).toEqual(fill(3000, 0xa5));
    });
  });

  it('refuses a range past the virtual size with a typed error', async () => {
    const f = create('1M');
    await withWriter(f, async (w) => {
      await expect(w.write(1024 * 1024 - 10, fill(20, 1))).rejects.toMatchObject({ code: 'invalid-argument' });
    });
  });

  it('random writes and discards match a byte model (compare + check)', async () => {
    const size = 4 * 1024 * 1024;
    const f = create('4M', 'cluster_size=4096');
    const model = new Uint8Array(size);
    const r = prng(7);
    await withWriter(f, async (w) => {
      for (let i = 0; i < 300; i++) {
        const off = randInt(r, 0, size - 1);
        const len = Math.min(size - off, randInt(r, 1, 20000));
        if (r() < 0.25) {
          await w.discard(off, len);
          model.fill(0, off, off + len);
        } else {
          const d = noise(len, i);
          await w.write(off, d);
          model.set(d, off);
        }
      }
      expect(Buffer.from(await w.read(0, size)).equals(Buffer.from(model))).toBe(true);
    });
    expectSameAsRaw(f, model);
  });
});

describe('discard', () => {
  it('frees whole clusters (reused by the next allocation), zeroes partial ones', async () => {
    const f = create('4M', 'cluster_size=65536');
    await withWriter(f, async (w) => {
      await w.write(0, fill(4 * 65536, 0x77));
    });
    const before = fileBytes(f).length;
    await withWriter(f, async (w) => {
      await w.discard(65536 - 512, 2 * 65536 + 1024); // partial, whole, partial
    });
    const out = qemuIo(f, ['read -P 0x77 0 65024', 'read -P 0 65024 132096', 'read -P 0x77 197120 65024']);
    expect(out).not.toMatch(/Pattern verification failed/);
    // Exactly one whole cluster was freed: the next new cluster reuses it and the file does not grow.
    await withWriter(f, async (w) => {
      await w.write(2 * 1024 * 1024, fill(65536, 0x99));
    });
    expect(fileBytes(f).length).toBe(before);
    expect(qemuIo(f, ['read -P 0x99 2097152 65536'])).not.toMatch(/Pattern verification failed/);
  });

  it('sets the zero flag in a v3 image as QEMU does, unallocated in v2', async () => {
    const f3 = create('1M', 'cluster_size=65536');
    const f2 = create('1M', 'cluster_size=65536,compat=0.10');
    for (const f of [f3, f2]) {
      await withWriter(f, async (w) => {
        await w.write(0, fill(65536, 1));
        await w.discard(0, 65536);
      });
    }
    const map3 = JSON.parse(qemuImg(['map', '--output=json', f3])) as { zero: boolean; data: boolean }[];
    expect(map3[0]).toMatchObject({ zero: true, data: false });
    expect(qemuIo(f2, ['read -P 0 0 65536'])).not.toMatch(/Pattern verification failed/);
  });
});

function refblockCount(file: Buffer): number {
  const off = Number(u64be(file, 48));
  const clusters = file.readUInt32BE(56);
  const cs = 2 ** file.readUInt32BE(20);
  let k = 0;
  for (let i = 0; i < (clusters * cs) / 8; i++) if (u64be(file, off + i * 8) !== 0n) k++;
  return k;
}

describe('refcount structures grow', () => {
  for (const bits of [1, 16, 64]) {
    it(`refcount_bits=${bits}, 512-byte clusters: new refcount blocks (and, for 64 bits, a relocated refcount table)`, async () => {
      const f = create('3M', `cluster_size=512,refcount_bits=${bits}`);
      const h0 = fileBytes(f);
      const rtBefore = Number(u64be(h0, 48));
      const size = 3 * 1024 * 1024;
      const model = new Uint8Array(size);
      await withWriter(f, async (w) => {
        // Every other cluster, then the gaps: thousands of allocations, many L2 tables.
        for (const phase of [0, 1]) {
          for (let c = phase; c < 6000; c += 2) {
            const d = fill(512, (c * 7 + phase) & 0xff || 1);
            await w.write(c * 512, d);
            model.set(d, c * 512);
          }
        }
      });
      const h1 = fileBytes(f);
      expect(refblockCount(h1)).toBeGreaterThan(refblockCount(h0));
      // 64-bit refcounts in 512-byte clusters: one table cluster covers 4096 clusters, so the table moved.
      if (bits === 64) expect(Number(u64be(h1, 48))).not.toBe(rtBefore);
      expectSameAsRaw(f, model);
    });
  }
});

describe('snapshots: copy-on-write', () => {
  it('our writes leave the snapshot intact and QEMU finds COPIED flags right', async () => {
    const f = create('2M', 'cluster_size=65536');
    qemuIo(f, ['write -P 0x11 0 1M']);
    qemuImg(['snapshot', '-c', 's1', f]);
    await withWriter(f, async (w) => {
      await w.write(1000, fill(2000, 0x22)); // partial cluster: L2 and data COW
      await w.write(65536 * 3, fill(65536, 0x33)); // whole cluster
      await w.discard(65536 * 5, 65536); // shared cluster discarded: refcount 2 -> 1
      await w.write(1536 * 1024, fill(4096, 0x44)); // unallocated cluster
    });
    const v = qemuCheck(f);
    expect(v.status, v.raw).toBe(0);
    expect(qemuIo(f, ['read -P 0x11 0 1000', 'read -P 0x22 1000 2000', 'read -P 0x11 3000 62536', 'read -P 0x33 196608 65536', 'read -P 0 327680 65536', 'read -P 0x44 1572864 4096']))
      .not.toMatch(/Pattern verification failed/);
    const copy = tmp.file(`snapcopy${n++}.qcow2`);
    copyFileSync(f, copy);
    qemuImg(['snapshot', '-a', 's1', copy]);
    expect(qemuIo(copy, ['read -P 0x11 0 1M', 'read -P 0 1M 1M'])).not.toMatch(/Pattern verification failed/);
    checked.push(copy);
  });

  it('deleting the snapshot afterwards leaves a clean image', async () => {
    const f = create('1M', 'cluster_size=4096');
    qemuIo(f, ['write -P 0x11 0 256k']);
    qemuImg(['snapshot', '-c', 's1', f]);
    await withWriter(f, async (w) => {
      await w.write(4096 * 10 + 7, fill(9000, 0x66));
    });
    qemuImg(['snapshot', '-d', 's1', f]);
    expect(qemuIo(f, ['read -P 0x66 40967 9000'])).not.toMatch(/Pattern verification failed/);
  });
});

describe('extended L2 entries', () => {
  it('subcluster writes next to QEMU subcluster writes read back right', async () => {
    const f = create('4M', 'cluster_size=65536,extended_l2=on');
    qemuIo(f, ['write -P 0x11 0 2048', 'write -P 0x22 8192 2048', 'write -z 65536 65536']);
    const model = new Uint8Array(4 * 1024 * 1024);
    model.fill(0x11, 0, 2048);
    model.fill(0x22, 8192, 10240);
    await withWriter(f, async (w) => {
      const writes: [number, number, number][] = [[1000, 3000, 0x33], [20000, 100, 0x44], [65536 + 100, 5000, 0x55], [200000, 70000, 0x66], [8192 + 2048, 10, 0x77]];
      for (const [off, len, b] of writes) {
        await w.write(off, fill(len, b));
        model.fill(b, off, off + len);
      }
      expect(Buffer.from(await w.read(0, 300000)).equals(Buffer.from(model.subarray(0, 300000)))).toBe(true);
    });
    expectSameAsRaw(f, model);
  });
});

describe('compressed clusters', () => {
  for (const type of ['zlib', 'zstd']) {
    it(`reads ${type} clusters and rewrites one (freed after COW)`, async () => {
      const raw = tmp.file(`c${n++}.raw`);
      const data = new Uint8Array(1024 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = (i >> 9) & 0xff ^ (i % 7);
      writeFileSync(raw, data);
      const f = tmp.file(`c${n++}.qcow2`);
      qemuImg(['convert', '-c', '-O', 'qcow2', '-o', `compression_type=${type},cluster_size=65536`, '-f', 'raw', raw, f]);
      checked.push(f);
      await withWriter(f, async (w) => {
        expect(Buffer.from(await w.read(0, data.length)).equals(Buffer.from(data))).toBe(true);
        await w.write(70000, fill(100, 0xee));
        await w.discard(65536 * 4, 65536);
      });
      data.fill(0xee, 70000, 70100);
      data.fill(0, 65536 * 4, 65536 * 5);
      expectSameAsRaw(f, data);
    });
  }
});

describe('what the writer refuses', () => {
  function setIncompat(f: string, bit: number): void {
    const b = fileBytes(f);
    b[79 - Math.floor(bit / 8)] |= 1 << (bit % 8);
    writeFileSync(f, b);
  }

  it('the corrupt bit: typed error, file unchanged', async () => {
    const f = tmp.file(`corrupt${n++}.qcow2`);
    qemuImg(['create', '-f', 'qcow2', f, '1M']);
    setIncompat(f, 1);
    const before = fileBytes(f);
    const err = await ImageWriter.open(f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Qcow2Error);
    expect(err).toMatchObject({ code: 'read-only', details: { bit: 1 } });
    expect(fileBytes(f).equals(before)).toBe(true);
  });

  it('an unknown incompatible bit and an external data file: typed error', async () => {
    const f = tmp.file(`unknown${n++}.qcow2`);
    qemuImg(['create', '-f', 'qcow2', f, '1M']);
    setIncompat(f, 9);
    await expect(ImageWriter.open(f)).rejects.toMatchObject({ code: 'unsupported-feature', details: { bits: '9' } });
    const g = tmp.file(`ext${n++}.qcow2`);
    qemuImg(['create', '-f', 'qcow2', '-o', `data_file=${tmp.file(`ext${n++}.raw`)}`, g, '1M']);
    await expect(ImageWriter.open(g)).rejects.toMatchObject({ code: 'unsupported-feature' });
  });

  it('read-only open: reads work, writes fail and change nothing', async () => {
    const f = create('1M');
    const before = fileBytes(f);
    const w = await ImageWriter.open(f, { readOnly: true });
    await expect(w.write(0, fill(512, 1))).rejects.toMatchObject({ code: 'read-only' });
    expect(await w.read(0, 512)).toEqual(fill(512, 0));
    await w.close();
    expect(fileBytes(f).equals(before)).toBe(true);
  });
});

describe('autoclear bits', () => {
  it('an unknown autoclear bit is cleared by the first write, as the spec asks of writers that do not know it', async () => {
    const f = create('1M');
    const b = fileBytes(f);
    b[95] |= 1 << 6;
    writeFileSync(f, b);
    const w = await ImageWriter.open(f, { durable: false });
    expect(fileBytes(f)[95]).toBe(1 << 6); // opening alone changes nothing
    await w.write(0, fill(512, 3));
    await w.close();
    expect(fileBytes(f)[95]).toBe(0);
  });
});

describe('lazy refcounts', () => {
  it('marks the image dirty while refcounts change and clean on close, as QEMU does', async () => {
    const f = create('1M', 'lazy_refcounts=on');
    const w = await ImageWriter.open(f, { durable: false });
    await w.write(0, fill(4096, 1));
    expect(fileBytes(f)[79] & 1).toBe(1);
    await w.close();
    expect(fileBytes(f)[79] & 1).toBe(0);
  });

  it('without lazy refcounts the dirty bit is never set', async () => {
    const f = create('1M');
    const w = await ImageWriter.open(f, { durable: false });
    await w.write(0, fill(4096, 1));
    expect(fileBytes(f)[79] & 1).toBe(0);
    await w.close();
  });
});
