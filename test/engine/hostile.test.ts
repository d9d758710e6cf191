// Hostile input for the engine: files that are not regular files, sizes and offsets beyond what QEMU or
// JavaScript numbers allow, header extensions longer than the cluster, and create requests that try to
// leave --create-dir. Each case is a typed error or finding that QEMU's own limits and messages explain
// (block/qcow2.c qcow2_do_open, qcow2_read_extensions; include/block/qcow2.h), reached at once.
import { closeSync, constants, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confineCreateOptions } from '../../electron/app/create-ops';
import { FileByteSource } from '../../electron/engine/file-source';
import { SyncReadFileSource } from '../../electron/engine/sync-file-source';
import { MemoryByteSource } from '../../shared/qcow2/byte-source';
import { checkImage } from '../../shared/qcow2/check';
import { openQcow2Layer } from '../../shared/qcow2/cluster-reader';
import { decodeExtensions } from '../../shared/qcow2/extensions';
import { Qcow2Error, type Finding } from '../../shared/qcow2/findings';
import { decodeHeader } from '../../shared/qcow2/header';
import { openImage, type OpenedImage } from '../../shared/qcow2/image';
import { l2EntryFindings, readL1Table, tableGeometry } from '../../shared/qcow2/l1l2';
import { mapImageAll } from '../../shared/qcow2/map';
import { readRefcountTable, RefcountReader } from '../../shared/qcow2/refcount';
import { readSnapshotTable, snapshotsInfoJson } from '../../shared/qcow2/snapshots';
import { qemuImg, qemuIo, tmpDir, type TmpDir } from '../helpers/qemu';

let dir: TmpDir;
/** 2 MiB, 4 KiB clusters, 8 KiB written at 0. */
let base: Uint8Array;
/** The same with one internal snapshot. */
let snap: Uint8Array;
let fifo: string;

const P53 = 2n ** 53n;
const u64 = (b: Uint8Array, off: number): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(off);
const setU64 = (b: Uint8Array, off: number, v: bigint): void => new DataView(b.buffer, b.byteOffset).setBigUint64(off, v);
const setU32 = (b: Uint8Array, off: number, v: number): void => new DataView(b.buffer, b.byteOffset).setUint32(off, v);

function patched(from: Uint8Array, patch: (b: Uint8Array) => void): Uint8Array {
  const b = from.slice();
  patch(b);
  return b;
}

async function refusal(p: Promise<unknown>): Promise<Qcow2Error> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(Qcow2Error);
  return e as Qcow2Error;
}

const open = (b: Uint8Array): Promise<OpenedImage> => openImage(new MemoryByteSource(b, 'hostile.qcow2'));

/** No message or value anywhere in a finding is the clamped 2^53 - 1. */
function notClamped(f: Finding | undefined): void {
  expect(JSON.stringify(f)).not.toContain(String(Number.MAX_SAFE_INTEGER));
}

beforeAll(() => {
  dir = tmpDir('qzs-hostile-');
  const p = dir.file('base.qcow2');
  qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', p, '2M']);
  qemuIo(p, ['write -P 1 0 8k']);
  base = new Uint8Array(readFileSync(p));
  const s = dir.file('snap.qcow2');
  writeFileSync(s, base);
  qemuImg(['snapshot', '-c', 's1', s]);
  snap = new Uint8Array(readFileSync(s));
  fifo = dir.file('fifo');
  execFileSync('mkfifo', [fifo]);
});

afterAll(() => {
  // Without the fix a reader stays blocked in open(2) on the FIFO: a writer lets it go.
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: nobody is reading, as it should be
  }
  dir.cleanup();
});

describe('files that are not regular files', () => {
  it('a FIFO is refused at once, named for what it is, by both file sources', async () => {
    // A FIFO that were opened would block here: the test's own time limit (5 s) is what catches that.
    const e = await refusal(FileByteSource.open(fifo));
    expect(e).toMatchObject({ code: 'io', file: fifo });
    expect(e.message).toContain('a FIFO, not a regular file');
    expect((await refusal(FileByteSource.open(fifo, 'r+'))).message).toContain('a FIFO, not a regular file');
    // (SyncReadFileSource blocks the thread if it hangs: the CLI suite runs it under a timeout.)
  }, 5000);

  it('a directory is refused by name', async () => {
    expect((await refusal(FileByteSource.open(dir.path))).message).toContain('a directory, not a regular file');
    expect(() => SyncReadFileSource.open(dir.path)).toThrow(/a directory, not a regular file/);
  });

  it('open errors say their code once: "cannot open: no such file or directory (ENOENT)"', async () => {
    const missing = dir.file('missing.qcow2');
    const e = await refusal(FileByteSource.open(missing));
    expect(e).toMatchObject({ code: 'io', file: missing });
    expect(e.toJSON().message).toBe(`${missing}: cannot open: no such file or directory (ENOENT)`);
    let sync: unknown = null;
    try {
      SyncReadFileSource.open(missing);
    } catch (x) {
      sync = x;
    }
    expect((sync as Qcow2Error).message).toBe(`${missing}: cannot open: no such file or directory (ENOENT)`);
  });

  it('a read at or beyond 2^53 is a typed error, never Node\'s internal range error', async () => {
    const p = dir.file('plain.qcow2');
    writeFileSync(p, base);
    const a = await FileByteSource.open(p);
    const s = SyncReadFileSource.open(p);
    try {
      expect((await refusal(a.read(2 ** 55, 4096))).code).toBe('invalid-table');
      expect((await refusal(s.read(2 ** 55, 4096))).code).toBe('invalid-table');
      expect((await refusal(s.read(2 ** 53 - 100, 4096))).message).toContain('beyond 2^53');
    } finally {
      await a.close();
      s.close();
    }
  });
});

describe('virtual sizes qemu-img refuses: "Image is too big", "L1 table is too small"', () => {
  it('a size whose L1 index passes INT_MAX is "Image is too big", with the exact size', async () => {
    const size = P53 + 4096n; // 4 KiB clusters: 2^21 bytes per L1 entry, so 2^32 + 1 entries
    const e = await refusal(open(patched(base, (b) => setU64(b, 24, size))));
    expect(e.code).toBe('invalid-header');
    expect(e.finding).toMatchObject({ id: 'header.size', field: 'size', offset: 24, length: 8, found: String(size) });
    expect(e.message).toContain('Image is too big');
    notClamped(e.finding);
  });

  it('a huge size with a one-entry L1 table is "L1 table is too small", before any walk', async () => {
    const e = await refusal(open(patched(base, (b) => setU64(b, 24, 2n ** 50n))));
    expect(e.finding).toMatchObject({ id: 'header.l1_size', field: 'l1_size', offset: 36, found: '1', expected: expect.stringContaining(String(2 ** 29)) });
    expect(e.message).toContain('L1 table is too small');
  });

  it('a size QEMU accepts but beyond 2^53 (2 MiB clusters) is refused, not clamped', async () => {
    // Only the header is read: cluster_bits 21 keeps the L1 index of 2^60 bytes below INT_MAX.
    const b = patched(base, (x) => { setU32(x, 20, 21); setU64(x, 24, 2n ** 60n); setU32(x, 36, 2 ** 21); });
    const r = decodeHeader(b, b.length);
    const f = r.findings.find((x) => x.id === 'header.size');
    expect(f).toMatchObject({ severity: 'error', found: String(2n ** 60n) });
    notClamped(f);
    expect((await refusal(open(b))).finding?.id).toBe('header.size');
  });
});

describe('64-bit offsets at or beyond 2^53 are refused with the exact value', () => {
  const fields: [string, number, string][] = [
    ['l1_table_offset', 40, 'header.l1_table_offset-too-large'],
    ['refcount_table_offset', 48, 'header.refcount_table_offset-too-large'],
    ['snapshots_offset', 64, 'header.snapshots_offset-too-large'],
    // qcow2_do_open: any backing_file_offset past the first cluster is "Invalid backing file offset"
    ['backing_file_offset', 8, 'header.backing-file-offset-invalid'],
  ];
  for (const v of [P53, 2n ** 55n, 2n ** 64n - 4096n]) {
    it.each(fields)(`%s = ${v}`, async (field, offset, id) => {
      const e = await refusal(open(patched(base, (b) => setU64(b, offset, v))));
      expect(e.code).toBe('invalid-header');
      expect(e.finding).toMatchObject({ id, field, offset, length: 8, found: expect.stringContaining(String(v)) });
      notClamped(e.finding);
    });
  }

  it('an L1 entry pointing beyond 2^53: refused when the table is read (map never reaches the file system)', async () => {
    const l1 = Number(u64(base, 40));
    const img = await open(patched(base, (b) => setU64(b, l1, (1n << 63n) | (1n << 55n))));
    const e = await refusal(readL1Table(img));
    expect(e).toMatchObject({ code: 'invalid-table' });
    expect(e.finding).toMatchObject({ id: 'l1.l2-offset-too-large', offset: l1, found: expect.stringContaining(String(2n ** 55n)) });
    await refusal(openQcow2Layer(img));
  });

  it('an L2 entry at 2^53 (and a run that crosses it): a finding, and map refuses it at the entry', async () => {
    const l1 = Number(u64(base, 40));
    const l2 = Number(u64(base, l1) & 0x00ff_ffff_ffff_fe00n);
    for (const [index, host] of [[1, 2n ** 55n], [101, P53]] as const) {
      const b = patched(base, (x) => {
        setU64(x, l2 + 8 * index, (1n << 63n) | host);
        if (index === 101) setU64(x, l2 + 8 * 100, (1n << 63n) | (P53 - 4096n)); // contiguous up to 2^53
      });
      const img = await open(b);
      const layer = await openQcow2Layer(img);
      const table = await layer.l2.forL1Index(0);
      expect(table).not.toBeNull();
      const f = l2EntryFindings(table!, tableGeometry(img)).find((x) => x.id === 'l2.offset-too-large');
      expect(f).toMatchObject({ offset: l2 + 8 * index, found: expect.stringContaining(String(host)) });
      const e = await refusal(mapImageAll(layer));
      expect(e.finding).toMatchObject({ id: 'l2.offset-too-large', offset: l2 + 8 * index, found: `host offset ${host}` });
    }
  });

  it('a refcount table entry beyond 2^53: a finding, and reading the block is a typed error', async () => {
    const rt = Number(u64(base, 48));
    const img = await open(patched(base, (b) => setU64(b, rt + 8, 2n ** 60n)));
    const t = await readRefcountTable(img);
    expect(t.findings.find((f) => f.id === 'refcount-table.offset-too-large')).toMatchObject({ offset: rt + 8, found: expect.stringContaining(String(2n ** 60n)) });
    const r = await RefcountReader.open(img);
    expect((await refusal(r.block(1))).finding?.id).toBe('refcount-table.offset-too-large');
  });

  it('a snapshot L1 offset beyond 2^53 is a finding (never the clamped number); the guest clock stays exact', async () => {
    const st = Number(u64(snap, 64));
    const clock = 2n ** 60n + 123_456_789n; // a guest that ran for 36 years: legitimate, and beyond 2^53 ns
    const img = await open(patched(snap, (b) => { setU64(b, st, 2n ** 56n); setU64(b, st + 24, clock); }));
    const t = await readSnapshotTable(img);
    const f = t.findings.find((x) => x.id === 'snapshots.l1-table-offset-too-large');
    expect(f).toMatchObject({ severity: 'error', offset: st, found: expect.stringContaining(String(2n ** 56n)) });
    notClamped(f);
    expect(t.findings.some((x) => x.id === 'snapshots.l1-unaligned')).toBe(false);
    const [j] = snapshotsInfoJson(t.snapshots);
    expect(BigInt(j['vm-clock-sec']) * 1_000_000_000n + BigInt(j['vm-clock-nsec'])).toBe(clock);
    await refusal(readL1Table(img, t.snapshots[0].l1TableOffset, t.snapshots[0].l1Size, 'L1 table of snapshot 1'));
  });

  it('a bitmaps extension whose directory offset is beyond 2^53 makes the image unopenable', async () => {
    // Built by hand after the feature table: the bitmaps extension is 24 bytes (nb, reserved, size, offset).
    const b = patched(base, (x) => {
      const at = new DataView(x.buffer).getUint32(100); // header_length
      let off = at;
      while (new DataView(x.buffer).getUint32(off) !== 0) off += 8 + Math.ceil(new DataView(x.buffer).getUint32(off + 4) / 8) * 8;
      setU32(x, off, 0x23852875);
      setU32(x, off + 4, 24);
      setU32(x, off + 8, 1);
      setU64(x, off + 16, 4096n);
      setU64(x, off + 24, 2n ** 54n);
      setU64(x, off + 32, 0n);
    });
    const e = await refusal(open(b));
    expect(e).toMatchObject({ code: 'invalid-extension' });
    expect(e.finding).toMatchObject({ id: 'extension.bitmaps-too-large', field: 'bitmap_directory_offset', found: expect.stringContaining(String(2n ** 54n)) });
  });
});

describe('header extensions longer than the cluster: "Header extension too large"', () => {
  const hl = (b: Uint8Array): number => new DataView(b.buffer).getUint32(100);

  it('an extension claiming more than the rest of cluster 0 makes the image unopenable', async () => {
    const e = await refusal(open(patched(base, (b) => { setU32(b, hl(b), 0x12345678); setU32(b, hl(b) + 4, 8192); })));
    expect(e.code).toBe('invalid-extension');
    expect(e.finding).toMatchObject({ id: 'extension.overrun', field: 'length', offset: hl(base) + 4, found: '8192', expected: `<= ${4096 - hl(base) - 8} (space left before the end of cluster 0)` });
    expect(e.message).toContain('Header extension too large');
  });

  it('an extension that fits exactly up to the end of the cluster is fine', async () => {
    const img = await open(patched(base, (b) => { b.fill(0, hl(b), 4096); setU32(b, hl(b), 0x12345678); setU32(b, hl(b) + 4, 4096 - hl(b) - 8); }));
    expect(img.extensions.extensions[0]).toMatchObject({ magic: 0x12345678, length: 4096 - hl(base) - 8 });
  });

  it('an extension header that does not fit before the end of the cluster (header_length 4092)', async () => {
    const e = await refusal(open(patched(base, (b) => { setU32(b, 100, 4092); b.fill(0xff, 4092, 4096); })));
    expect(e.finding).toMatchObject({ id: 'extension.overrun', offset: 4092 });
  });

  it('the area ends at the backing file name (ext_end = backing_file_offset)', () => {
    const b = patched(base, (x) => { setU64(x, 8, 1024n); setU32(x, 16, 4); x.set([0x61, 0x2e, 0x71, 0x32], 1024); setU32(x, hl(x), 0x12345678); setU32(x, hl(x) + 4, 1024 - hl(x)); });
    const h = decodeHeader(b, b.length).header!;
    const r = decodeExtensions(h, b, b.length);
    expect(r.findings.find((f) => f.id === 'extension.overrun')).toMatchObject({ expected: expect.stringContaining('before the backing file name') });
  });
});

describe('table sizes beyond QEMU\'s limits are refused from the header alone', () => {
  it('refcount_table_clusters 2^29 ("Reference count table too large"): open and check refuse at once', async () => {
    // The reported case: a 262 KB file made check take 9 s.
    const p = dir.file('rtc.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', p, '16M']);
    const b = patched(new Uint8Array(readFileSync(p)), (x) => setU32(x, 56, 2 ** 29));
    const e = await refusal(open(b));
    expect(e.finding).toMatchObject({ id: 'header.reftable-too-large', field: 'refcount_table_clusters', offset: 56, found: String(2 ** 29), expected: expect.stringContaining('<= 128') });
    expect(e.message).toContain('Reference count table too large');
    // "At once" in bytes, not milliseconds: the check reads the header and stops, it does not walk 2^29 clusters.
    const src = new MemoryByteSource(b, 'rtc.qcow2');
    let bytesRead = 0;
    const read = src.read.bind(src);
    src.read = async (offset: number, length: number) => { bytesRead += length; return read(offset, length); };
    const report = await checkImage(src);
    expect(bytesRead).toBeLessThanOrEqual(b.length);
    expect(report.openable).toBe(false);
    expect(report.findings.some((f) => f.id === 'header.reftable-too-large' && f.offset === 56)).toBe(true);
  });

  it('l1_size 2^32 - 1 ("Active L1 table too large")', async () => {
    const e = await refusal(open(patched(base, (b) => setU32(b, 36, 0xffffffff))));
    expect(e.finding).toMatchObject({ id: 'header.l1_size', found: String(0xffffffff), expected: '<= 4194304' });
    expect(e.message).toContain('Active L1 table too large');
  });

  it('nb_snapshots beyond QCOW_MAX_SNAPSHOTS: a header finding, and the snapshot table refuses before any read', async () => {
    const img = await open(patched(snap, (b) => setU32(b, 60, 0xffffffff)));
    expect(img.findings.find((f) => f.id === 'header.nb_snapshots')).toMatchObject({ severity: 'error', offset: 60, expected: '<= 65536' });
    expect((await refusal(readSnapshotTable(img))).finding?.field).toBe('nb_snapshots');
  });

  it('a header longer than the cluster ("qcow2 header exceeds cluster size")', async () => {
    const e = await refusal(open(patched(base, (b) => setU32(b, 100, 8192))));
    expect(e.finding).toMatchObject({ id: 'header.header_length', offset: 100, found: '8192' });
    expect(e.message).toContain('qcow2 header exceeds cluster size');
  });
});

describe('confineCreateOptions: create requests stay inside --create-dir', () => {
  let root: string;
  let outside: string;
  beforeAll(() => {
    root = dir.file('create');
    outside = dir.file('outside');
    mkdirSync(join(root, 'sub'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(root, 'base.qcow2'), base);
    writeFileSync(join(outside, 'secret'), 'x');
    symlinkSync(outside, join(root, 'out-link'));
    symlinkSync(join(outside, 'nothing-here'), join(root, 'dangling'));
    symlinkSync(join(root, 'sub'), join(root, 'in-link'));
  });

  function refusedMessage(options: Record<string, string>): string {
    let err: unknown = null;
    try {
      confineCreateOptions(root, options);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Qcow2Error);
    expect((err as Qcow2Error).code).toBe('invalid-argument');
    return (err as Qcow2Error).message;
  }

  it('names inside the folder pass; a relative data_file is created there, not in the working directory', () => {
    expect(confineCreateOptions(root, { size: '1M', backing_file: 'base.qcow2', backing_fmt: 'qcow2' })).toEqual({ size: '1M', backing_file: 'base.qcow2', backing_fmt: 'qcow2' });
    expect(confineCreateOptions(root, { backing_file: join(root, 'sub', '..', 'base.qcow2') }).backing_file).toBe(join(root, 'sub', '..', 'base.qcow2'));
    expect(confineCreateOptions(root, { data_file: 'new.raw' }).data_file).toBe(join(root, 'new.raw'));
    expect(confineCreateOptions(root, { data_file: 'in-link/new.raw' }).data_file).toBe(join(root, 'sub', 'new.raw'));
    expect(confineCreateOptions(root, { data_file: '' })).toEqual({ data_file: '' });
  });

  it('absolute, relative and symbolic-link escapes are refused', () => {
    for (const name of ['/etc/shadow', '../outside/secret', 'sub/../../outside/secret', 'out-link/secret', 'out-link/new.raw', 'dangling', 'file:/etc/shadow', 'json:{"file.filename":"/etc/shadow"}', '.', 'in-link/..']) {
      for (const key of ['backing_file', 'data_file']) expect(refusedMessage({ [key]: name })).toContain(key);
    }
  });

  it('one message whether the outside path exists or not', () => {
    const says = (name: string): string => refusedMessage({ backing_file: name }).replace(name, '<name>');
    expect(says(join(outside, 'secret'))).toBe(says(join(outside, 'missing')));
    expect(says('out-link/secret')).toBe(says('out-link/missing'));
    expect(says('/etc/shadow')).toBe(says('/etc/no-such-file'));
    expect(refusedMessage({ backing_file: '/etc/shadow' })).not.toMatch(/exist|ENOENT|EACCES|size/i);
  });
});
