import { afterAll, describe, expect, it } from 'vitest';
import { FileByteSource } from '../../electron/engine/file-source';
import { MemoryByteSource } from '../../shared/qcow2/byte-source';
import { decodeHeader } from '../../shared/qcow2/header';
import { openImage } from '../../shared/qcow2/image';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { qemuImg, tmpDir } from '../helpers/qemu';

const dir = tmpDir();
afterAll(() => dir.cleanup());

async function openFile(path: string) {
  const src = await FileByteSource.open(path);
  try {
    return await openImage(src);
  } finally {
    await src.close();
  }
}

describe('header of images made by qemu-img', () => {
  it('decodes a v3 image with every field at its offset', async () => {
    const f = dir.file('v3.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', f, '1G']);
    const img = await openFile(f);
    const h = img.header;
    expect(h.version).toBe(3);
    expect(h.clusterBits).toBe(16);
    expect(h.size).toBe(1 << 30);
    expect(h.headerLength).toBe(112);
    expect(h.refcountOrder).toBe(4);
    expect(h.compressionType).toBe(0);
    const byName = Object.fromEntries(h.fields.map((x) => [x.name, x]));
    expect(byName['size']).toMatchObject({ offset: 24, size: 8, value: 1073741824, raw: '0000000040000000', present: true });
    expect(byName['compression_type']).toMatchObject({ offset: 104, size: 1, value: 0, present: true });
    expect(byName['padding']).toMatchObject({ offset: 105, size: 7 });
    expect(img.extensions.featureTable.map((e) => e.name)).toContain('lazy refcounts');
    expect(img.findings.filter((x) => x.severity === 'error')).toEqual([]);
  });

  it('decodes a v2 (compat=0.10) image: v3 fields are absent and refcount_order is implied', async () => {
    const f = dir.file('v2.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', f, '64M']);
    const img = await openFile(f);
    expect(img.header.version).toBe(2);
    expect(img.header.refcountOrder).toBe(4);
    const incompat = img.header.fields.find((x) => x.name === 'incompatible_features');
    expect(incompat).toMatchObject({ present: false, value: null });
  });
});

describe('malformed headers are typed errors', () => {
  const valid = (): Uint8Array => {
    const b = new Uint8Array(512);
    b.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]);
    b[23] = 16; // cluster_bits
    b[103] = 112; // header_length
    return b;
  };

  it('bad magic names the field, offset, found and expected value', async () => {
    const b = valid();
    b[0] = 0x50;
    const err = await openImage(new MemoryByteSource(b, 'bad.qcow2')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Qcow2Error);
    const q = err as Qcow2Error;
    expect(q.code).toBe('not-qcow2');
    expect(q.file).toBe('bad.qcow2');
    expect(q.finding).toMatchObject({ field: 'magic', offset: 0, found: '0x504649fb', expected: expect.stringContaining('0x514649fb') });
  });

  it.each([1, 4])('version %i is refused', async (v) => {
    const b = valid();
    b[7] = v;
    const err = (await openImage(new MemoryByteSource(b)).catch((e: unknown) => e)) as Qcow2Error;
    expect(err.code).toBe('unsupported-version');
    expect(err.finding).toMatchObject({ field: 'version', offset: 4, found: String(v) });
  });

  it.each([8, 22, 0xffffffff])('cluster_bits %i is out of range', async (cb) => {
    const b = valid();
    new DataView(b.buffer).setUint32(20, cb);
    const r = decodeHeader(b, 512);
    expect(r.findings.find((x) => x.field === 'cluster_bits')).toMatchObject({ offset: 20, severity: 'error', found: String(cb) });
    await expect(openImage(new MemoryByteSource(b))).rejects.toBeInstanceOf(Qcow2Error);
  });

  it('a truncated file is a typed error, not a crash', async () => {
    const err = (await openImage(new MemoryByteSource(new Uint8Array([0x51, 0x46, 0x49]))).catch((e: unknown) => e)) as Qcow2Error;
    expect(err.code).toBe('truncated');
  });
});
