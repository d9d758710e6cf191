// Table reading against images qemu-img/qemu-io made: refcounts of every width, L2 entries (standard,
// extended, compressed) and guest data read back through the chain, compared with qemu-img convert's
// raw output.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { FileByteSource } from '../../electron/engine/file-source';
import { openChain } from '../../electron/engine/open-chain';
import { readGuest } from '../../shared/qcow2/cluster-reader';
import { openImage } from '../../shared/qcow2/image';
import { l1Entry, l2Entry, L2Loader, readL1Table, tableGeometry } from '../../shared/qcow2/l1l2';
import { mapImageAll } from '../../shared/qcow2/map';
import { RefcountReader } from '../../shared/qcow2/refcount';
import { readSnapshotTable } from '../../shared/qcow2/snapshots';
import { readBitmapDirectory, readBitmapTable } from '../../shared/qcow2/bitmaps';
import { qemuImg, qemuImgJson, qemuIo, tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-tables-');
afterAll(() => dir.cleanup());

async function withImage<T>(path: string, fn: (img: Awaited<ReturnType<typeof openImage>>) => Promise<T>): Promise<T> {
  const src = await FileByteSource.open(path);
  try {
    return await fn(await openImage(src));
  } finally {
    await src.close();
  }
}

/** qemu-img convert to raw: the oracle for guest contents. */
function guestBytes(path: string): Uint8Array {
  const raw = path + '.raw';
  qemuImg(['convert', '-O', 'raw', path, raw]);
  return new Uint8Array(readFileSync(raw));
}

/** Index of the first differing byte, -1 when equal (toEqual on megabytes is far too slow). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))) return -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

async function readAll(path: string): Promise<Uint8Array> {
  const chain = await openChain(path);
  try {
    return await readGuest(chain.top, 0, chain.top.size);
  } finally {
    await chain.close();
  }
}

describe('refcounts of every refcount_order', () => {
  it.each([0, 1, 2, 3, 4, 5, 6])('order %i: header 1, shared data clusters 2 after a snapshot, nothing past EOF', async (order) => {
    const f = dir.file(`rc${order}.qcow2`);
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', `refcount_bits=${1 << order},cluster_size=4k`, f, '1M']);
    qemuIo(f, ['write -P 0x21 0 16k', 'write -P 0x22 256k 4k']);
    if (order > 0) qemuImg(['snapshot', '-c', 's', f]);
    const dataOffsets = qemuImgJson<{ offset?: number; length: number; data: boolean }[]>(['map', '--output=json', f])
      .filter((e) => e.data && e.offset !== undefined)
      .flatMap((e) => Array.from({ length: e.length / 4096 }, (_, k) => (e.offset as number) / 4096 + k));
    expect(dataOffsets).toHaveLength(5);
    await withImage(f, async (img) => {
      const refs = await RefcountReader.open(img);
      expect(refs.table.refcountBits).toBe(1 << order);
      expect(await refs.refcountOf(0)).toBe(1);
      for (const c of dataOffsets) expect(await refs.refcountOf(c)).toBe(order > 0 ? 2 : 1);
      expect(await refs.refcountOf(img.header.l1TableOffset / 4096)).toBe(1);
      expect(await refs.refcountOf(Math.ceil(img.fileSize / 4096) + 10)).toBe(0);
      // Every cluster of the file is in use (qemu-img check reports no leaks on these images).
      const check = qemuImgJson<{ leaks?: number; 'image-end-offset': number }>(['check', '--output=json', f]);
      expect(check.leaks ?? 0).toBe(0);
      let used = 0;
      for (let c = 0; c < check['image-end-offset'] / 4096; c++) if ((await refs.refcountOf(c)) > 0) used++;
      expect(used).toBe(check['image-end-offset'] / 4096);
    });
  });
});

describe('L1 and L2 entries', () => {
  it('standard L2: normal, zero and unallocated entries where qemu-io put them', async () => {
    const f = dir.file('std.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', f, '4M']);
    qemuIo(f, ['write -P 1 0 64k', 'write -z 128k 64k', 'write -P 2 192k 64k', 'write -z 192k 64k']);
    await withImage(f, async (img) => {
      const g = tableGeometry(img);
      const l1 = await readL1Table(img);
      expect(l1.findings).toEqual([]);
      expect(l1Entry(l1, 0).copied).toBe(true);
      const t = await new L2Loader(img.source, g, l1).forL1Index(0);
      expect(t).not.toBeNull();
      const kinds = [0, 1, 2, 3].map((i) => l2Entry(t!, i, g).kind);
      expect(kinds).toEqual(['normal', 'unallocated', 'zero-plain', 'zero-alloc']);
    });
  });

  it('extended L2: subcluster bitmaps of partial writes', async () => {
    const f = dir.file('ext.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on', f, '4M']);
    // 64 KiB clusters, 2 KiB subclusters: subclusters 2-4 allocated, 8 zero.
    qemuIo(f, ['write -P 7 4k 6k', 'write -z 16k 2k']);
    await withImage(f, async (img) => {
      const g = tableGeometry(img);
      expect(g).toMatchObject({ extended: true, l2EntrySize: 16, l2Entries: 4096, subclustersPerCluster: 32, subclusterBits: 11 });
      const t = await new L2Loader(img.source, g, await readL1Table(img)).forL1Index(0);
      const e = l2Entry(t!, 0, g);
      expect(e.kind).toBe('normal');
      expect(e.bitmap & 0xffff_ffffn).toBe(0b11100n);
      expect(e.bitmap >> 32n).toBe(0b1_0000_0000n);
    });
    expect(firstDifference(await readAll(f), guestBytes(f))).toBe(-1);
  });

  it.each(['zlib', 'zstd'])('compressed clusters (%s) decode and read back as qemu wrote them', async (type) => {
    const raw = dir.file(`src-${type}.raw`);
    qemuImg(['create', '-q', '-f', 'raw', raw, '2M']);
    qemuIo(raw, ['write -P 0x3c 0 300k', 'write -P 0x0f 1M 64k', 'write -P 0x99 1600k 7k'], 'raw');
    const f = dir.file(`comp-${type}.qcow2`);
    qemuImg(['convert', '-c', '-O', 'qcow2', '-o', `compression_type=${type}`, raw, f]);
    await withImage(f, async (img) => {
      const g = tableGeometry(img);
      const t = await new L2Loader(img.source, g, await readL1Table(img)).forL1Index(0);
      const e = l2Entry(t!, 0, g);
      expect(e.kind).toBe('compressed');
      expect(e.hostOffset).toBeGreaterThan(0);
      expect(e.compressedSize).toBeLessThan(g.clusterSize);
    });
    expect(firstDifference(await readAll(f), new Uint8Array(readFileSync(raw)))).toBe(-1);
  });

  it('compressed clusters in a 512-byte-cluster image read back', async () => {
    const raw = dir.file('small.raw');
    qemuImg(['create', '-q', '-f', 'raw', raw, '256k']);
    qemuIo(raw, ['write -P 0x55 0 10k', 'write -P 0x66 100k 1k'], 'raw');
    const f = dir.file('small-comp.qcow2');
    qemuImg(['convert', '-c', '-O', 'qcow2', '-o', 'cluster_size=512', raw, f]);
    expect(firstDifference(await readAll(f), new Uint8Array(readFileSync(raw)))).toBe(-1);
  });
});

describe('guest data through chains and data files', () => {
  it('a backing chain reads as qemu-img convert says', async () => {
    const base = dir.file('cbase.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', base, '4M']);
    qemuIo(base, ['write -P 0x10 0 1M', 'write -P 0x11 3M 100k']);
    const top = dir.file('ctop.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-b', 'cbase.qcow2', '-F', 'qcow2', top, '6M']);
    qemuIo(top, ['write -P 0x20 512k 64k', 'write -z 0 4k', 'discard 3M 64k', 'write -P 0x21 5M 3k']);
    expect(firstDifference(await readAll(top), guestBytes(top))).toBe(-1);
  });

  it('an external data file (raw and not) reads as qemu-img convert says', async () => {
    for (const raw of ['off', 'on']) {
      const f = dir.file(`edf-${raw}.qcow2`);
      qemuImg(['create', '-q', '-f', 'qcow2', '-o', `data_file=${dir.file(`edf-${raw}.data`)},data_file_raw=${raw}`, f, '2M']);
      qemuIo(f, ['write -P 0x61 64k 100k', 'write -z 1M 64k']);
      expect(firstDifference(await readAll(f), guestBytes(f))).toBe(-1);
    }
  });

  it('the map of a chain lists depth per layer', async () => {
    const chain = await openChain(dir.file('ctop.qcow2'));
    try {
      const m = await mapImageAll(chain.top);
      expect(m).toEqual(qemuImgJson(['map', '--output=json', dir.file('ctop.qcow2')]));
      expect(new Set(m.map((e) => e.depth))).toEqual(new Set([0, 1]));
    } finally {
      await chain.close();
    }
  });
});

describe('snapshot table and bitmaps', () => {
  it('snapshot entries: v3 extra data (VM state size, disk size, icount) and names', async () => {
    const f = dir.file('snaps.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', f, '3M']);
    qemuImg(['snapshot', '-c', 'alpha', f]);
    qemuImg(['snapshot', '-c', 'beta', f]);
    await withImage(f, async (img) => {
      const t = await readSnapshotTable(img);
      expect(t.findings).toEqual([]);
      expect(t.snapshots.map((s) => [s.id, s.name, s.diskSize, s.extraDataSize])).toEqual([['1', 'alpha', 3 << 20, 24], ['2', 'beta', 3 << 20, 24]]);
      expect(t.snapshots[0].fields.find((x) => x.name === 'disk_size')).toMatchObject({ offset: img.header.snapshotsOffset + 48, size: 8, value: 3 << 20 });
      expect(t.snapshots[1].offset).toBe(img.header.snapshotsOffset + t.snapshots[0].length);
    });
  });

  it('bitmap directory and tables', async () => {
    const f = dir.file('bm.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', f, '8M']);
    qemuImg(['bitmap', '--add', '-g', '128k', f, 'dirty']);
    qemuIo(f, ['write -P 1 0 64k']);
    await withImage(f, async (img) => {
      const d = await readBitmapDirectory(img);
      expect(d?.findings).toEqual([]);
      expect(d?.bitmaps.map((b) => [b.name, b.granularityBits, b.type, b.flags])).toEqual([['dirty', 17, 1, 2]]);
      const t = await readBitmapTable(img, d!.bitmaps[0]);
      expect(t.entries.length).toBe(d!.bitmaps[0].tableSize);
    });
  });
});
