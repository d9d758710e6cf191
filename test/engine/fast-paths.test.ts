// The performance paths must print what the plain ones print: the number writer against String(), the
// L2 window's batched reads against the tables as read one by one, the map's direct walk of L2 entries
// against qemu-img on images that mix every entry kind, and the one-pass zone report (byte order
// detected while decoding) on big-endian write pointers.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { AsciiWriter } from '../../shared/ascii-writer';
import { MemoryByteSource, type ByteSource } from '../../shared/qcow2/byte-source';
import { openImage } from '../../shared/qcow2/image';
import { L2Loader, readL1Table, tableGeometry } from '../../shared/qcow2/l1l2';
import { L2Window } from '../../shared/qcow2/l2-window';
import { loadZoneReport, ZoneJsonEncoder, zoneJsonText } from '../../shared/qcow2/zone-report';
import { qzs } from '../helpers/cli';
import { qemuImg, qemuIo, tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-fast-');
afterAll(() => dir.cleanup());

/** A source that counts its reads. */
class CountingSource implements ByteSource {
  reads: [number, number][] = [];
  constructor(private readonly inner: ByteSource) {}
  get name(): string {
    return this.inner.name;
  }
  size(): Promise<number> {
    return this.inner.size();
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    this.reads.push([offset, length]);
    return this.inner.read(offset, length);
  }
}

describe('AsciiWriter', () => {
  it('writes numbers of every width exactly as String() does', () => {
    const values = [0, 1, 9, 10, 99, 100, 12345, 99_999_999, 1e8, 1e8 + 1, 2 ** 30, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 4_294_967_296_123, 10 ** 15, 2 ** 53 - 1, -5, 0.5, 1e21];
    for (let k = 0; k < 53; k++) values.push(2 ** k + 7, 2 ** k * 3 - 1);
    const w = new AsciiWriter(16); // grows as needed
    for (const v of values) { w.num(v); w.byte(0x2c); }
    expect(new TextDecoder().decode(w.bytes())).toBe(values.map((v) => String(v) + ',').join(''));
  });

  it('keeps its bytes when detached, and continues in a new buffer', () => {
    const w = new AsciiWriter(8);
    w.put(new TextEncoder().encode('abc'));
    const held = w.bytes();
    w.detach();
    w.put(new TextEncoder().encode('xyz'));
    expect(new TextDecoder().decode(held)).toBe('abc');
    expect(new TextDecoder().decode(w.bytes())).toBe('xyz');
  });
});

describe('L2Window', () => {
  it('reads the tables of scattered L1 entries in few sorted runs, equal to the tables read one by one', async () => {
    // 4 KiB clusters: an L2 table covers 2 MiB. Zero writes allocate L2 tables and no data clusters, so
    // writes in descending guest order put 16 tables side by side on disk, in reverse L1 order.
    const f = dir.file('reverse.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4k', f, '64M']);
    qemuIo(f, Array.from({ length: 16 }, (_, k) => `write -z ${(31 - 2 * k) * 2}M 4k`));
    const src = new CountingSource(new MemoryByteSource(new Uint8Array(readFileSync(f)), f));
    const img = await openImage(src);
    const g = tableGeometry(img);
    const l1 = await readL1Table(img);
    const loader = new L2Loader(img.source, g, l1);
    const window = new L2Window(img.source, g, l1, loader);
    src.reads = [];
    await window.load(0);
    expect(src.reads).toHaveLength(1);
    expect(src.reads[0][1]).toBe(16 * 4096);
    for (let i = 0; i < l1.size; i++) {
      const t = window.get(i);
      const expected = await new L2Loader(img.source, g, l1).forL1Index(i);
      expect(t).not.toBeUndefined(); // every entry of this small L1 fits one window
      if (t === null || expected === null) expect(t).toBe(expected);
      else expect(Buffer.from(t!.bytes).equals(Buffer.from(expected.bytes))).toBe(true);
    }
  });

  it('stops before an unaligned L2 offset, and loading at it throws the located error', async () => {
    const f = dir.file('unaligned-l1.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4k', f, '16M']);
    qemuIo(f, ['write -P 1 0 4k', 'write -P 2 2M 4k', 'write -P 3 4M 4k']);
    const bytes = new Uint8Array(readFileSync(f));
    const img0 = await openImage(new MemoryByteSource(bytes));
    const at = img0.header.l1TableOffset + 8; // L1 entry 1
    const dv = new DataView(bytes.buffer);
    dv.setUint32(at + 4, dv.getUint32(at + 4) + 512);
    const img = await openImage(new MemoryByteSource(bytes, 'unaligned'));
    const g = tableGeometry(img);
    const l1 = await readL1Table(img);
    const window = new L2Window(img.source, g, l1, new L2Loader(img.source, g, l1));
    await window.load(0);
    expect(window.get(0)).not.toBeNull();
    expect(window.get(1)).toBeUndefined();
    await expect(window.load(1)).rejects.toMatchObject({ finding: { id: 'l1.l2-unaligned', offset: at } });
  });
});

describe('qzs map --json walking L2 entries directly', () => {
  it('equals qemu-img on an image with data runs, zero clusters, discards, compressed clusters and holes', () => {
    const f = dir.file('mixed.qcow2');
    const raw = dir.file('mixed.raw');
    // Compressed clusters come from a compressed convert; qemu-io adds the rest on top.
    writeFileSync(raw, Buffer.alloc(4 << 20, 0x5a));
    qemuImg(['convert', '-q', '-c', '-f', 'raw', '-O', 'qcow2', '-o', 'cluster_size=4k', raw, f]);
    qemuImg(['resize', '-q', f, '96M']);
    qemuIo(f, [
      'write -P 1 8M 64k', 'write -P 2 8M 4k', 'write -z 8208k 8k', 'write -z 9M 16k', 'write -P 3 10M 12k', 'discard 10M 4k',
      'write -P 4 33M 4k', 'write -P 5 31M 4k', 'write -z -u 40M 8k', 'write -P 6 95M 4k', 'write -P 7 64M 2M',
    ]);
    const r = qzs(['map', '--json', f]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(qemuImg(['map', '--output=json', f]));
  });

  it('an unaligned L2 entry: the located error, and no partial JSON document', () => {
    const f = dir.file('unaligned-l2.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4k', f, '8M']);
    qemuIo(f, ['write -P 1 0 8k', 'write -P 2 1M 4k', 'write -P 3 3M 4k']);
    const bytes = readFileSync(f);
    const l1 = Number(bytes.readBigUInt64BE(40));
    const l2 = Number(bytes.readBigUInt64BE(l1) & 0x00ff_ffff_ffff_fe00n);
    const entry = l2 + 256 * 8; // guest 1 MiB
    bytes.writeBigUInt64BE(bytes.readBigUInt64BE(entry) + 512n, entry);
    writeFileSync(f, bytes);
    const r = qzs(['map', '--json', f]);
    expect(r.status).toBe(1);
    // --json prints one valid document or nothing: qemu-img's "[{…}" before the error is no JSON.
    expect(r.stdout).toBe('');
    expect((JSON.parse(r.stderr) as { error: { finding: { id: string; offset: number } } }).error.finding).toMatchObject({ id: 'l2.unaligned', offset: entry });
  });
});

describe('zone report in one pass', () => {
  it('decodes big-endian write pointers as a second pass would, and streams the same JSON', async () => {
    const f = dir.file('zoned.qcow2');
    const made = qzs(['create', '-o', 'zone.mode=host-managed,zone.size=1M,zone.max_active_zones=4,zone.max_open_zones=2', '--zoned-layout', 'v8', f, '64M']);
    expect(made.status).toBe(0);
    const bytes = new Uint8Array(readFileSync(f));
    const img = await openImage(new MemoryByteSource(bytes, 'le'));
    const meta = img.zoned!.zonedmetaOffset;
    const dv = new DataView(bytes.buffer);
    // Zone 3 half written, zone 5 full: then every pointer byte-swapped.
    dv.setBigUint64(meta + 8 * 3, BigInt(3 * 2 ** 20 + 512 * 1024), true);
    dv.setBigUint64(meta + 8 * 5, BigInt(6 * 2 ** 20), true);
    const le = await loadZoneReport(await openImage(new MemoryByteSource(bytes.slice(), 'le')));
    for (let i = 0; i < 64; i++) dv.setBigUint64(meta + 8 * i, dv.getBigUint64(meta + 8 * i, true), false);
    const be = await loadZoneReport(await openImage(new MemoryByteSource(bytes, 'be')));
    expect(le.byteOrder).toBe('little-endian');
    expect(be.byteOrder).toBe('big-endian');
    expect(Array.from(be.table.wp)).toEqual(Array.from(le.table.wp));
    expect(Array.from(be.table.condition)).toEqual(Array.from(le.table.condition));
    expect(be.findings.filter((x) => x.id !== 'zoned.wp-byte-order')).toEqual(le.findings);
    expect(be.findings.filter((x) => x.id === 'zoned.wp-byte-order')).toHaveLength(1);
    const enc = new ZoneJsonEncoder(64);
    expect(enc.encode(be.table, 0, 64)).toBe(Array.from({ length: 64 }, (_, i) => zoneJsonText(le.table, i)).join(',\n'));
  });
});
