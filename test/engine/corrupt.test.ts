// Corrupt input: each damage gives its typed error or finding (structure, field, offset, found, expected);
// nothing crashes, hangs or allocates by an untrusted size; qzs info exits 1 on the unreadable ones.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileByteSource } from '../../electron/engine/file-source';
import { openChain } from '../../electron/engine/open-chain';
import { MemoryByteSource } from '../../shared/qcow2/byte-source';
import { readGuest } from '../../shared/qcow2/cluster-reader';
import { Qcow2Error, type Finding } from '../../shared/qcow2/findings';
import { openImage } from '../../shared/qcow2/image';
import { l1EntryFindings, l2EntryFindings, L2Loader, readL1Table, tableGeometry } from '../../shared/qcow2/l1l2';
import { mapImageAll } from '../../shared/qcow2/map';
import { RefcountReader } from '../../shared/qcow2/refcount';
import { readSnapshotTable } from '../../shared/qcow2/snapshots';
import { qzs } from '../helpers/cli';
import { qemuImg, qemuIo, tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-corrupt-');
afterAll(() => dir.cleanup());

let good: Buffer;
let l1Offset: number;
let l2Offset: number;
let reftableOffset: number;

beforeAll(() => {
  execFileSync('npm', ['run', '-s', 'build:cli'], { stdio: 'ignore' });
  const f = dir.file('good.qcow2');
  qemuImg(['create', '-q', '-f', 'qcow2', f, '4M']);
  qemuIo(f, ['write -P 0x41 0 128k']);
  qemuImg(['snapshot', '-c', 'snap', f]);
  good = readFileSync(f);
  l1Offset = Number(good.readBigUInt64BE(40));
  reftableOffset = Number(good.readBigUInt64BE(48));
  l2Offset = Number(good.readBigUInt64BE(l1Offset) & 0x00ff_ffff_ffff_fe00n);
});

/** A copy of the good image with `patch` applied, written to a file for the CLI. */
function damaged(name: string, patch: (b: Buffer) => Buffer | void): string {
  const b = Buffer.from(good);
  const out = patch(b) ?? b;
  const f = dir.file(name);
  writeFileSync(f, out);
  return f;
}

/** The file end rounded up to the cluster size, so that offsets past it stay aligned. */
function alignedEnd(b: Buffer): number {
  return Math.ceil(b.length / 65536) * 65536;
}

async function open(path: string) {
  return openImage(new MemoryByteSource(new Uint8Array(readFileSync(path)), path));
}

async function rejection(p: Promise<unknown>): Promise<Qcow2Error> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(Qcow2Error);
  return e as Qcow2Error;
}

function expectUnreadableCli(path: string, field: string): void {
  const r = qzs(['info', path]);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(`field: ${field}`);
  expect(r.stderr).toMatch(/found: .+\n\s+expected: .+/);
  const j = qzs(['info', '--json', path]);
  expect(j.status).toBe(1);
  const err = JSON.parse(j.stderr) as { error: { code: string; file: string; finding: Finding } };
  expect(err.error.file).toBe(path);
  expect(err.error.finding.field).toBe(field);
}

describe('unreadable images: typed errors, qzs info exits 1', () => {
  const cases: { name: string; code: string; field: string; patch: (b: Buffer) => Buffer | void }[] = [
    { name: 'truncated inside the header', code: 'truncated', field: 'magic', patch: (b) => b.subarray(0, 50) },
    { name: 'truncated inside the v3 header', code: 'truncated', field: 'header_length', patch: (b) => b.subarray(0, 90) },
    { name: 'bad magic', code: 'not-qcow2', field: 'magic', patch: (b) => { b.write('QEMU', 0); } },
    { name: 'version 1', code: 'unsupported-version', field: 'version', patch: (b) => { b.writeUInt32BE(1, 4); } },
    { name: 'version 4', code: 'unsupported-version', field: 'version', patch: (b) => { b.writeUInt32BE(4, 4); } },
    { name: 'cluster_bits 8', code: 'invalid-header', field: 'cluster_bits', patch: (b) => { b.writeUInt32BE(8, 20); } },
    { name: 'cluster_bits 22', code: 'invalid-header', field: 'cluster_bits', patch: (b) => { b.writeUInt32BE(22, 20); } },
    { name: 'header_length too small', code: 'invalid-header', field: 'header_length', patch: (b) => { b.writeUInt32BE(96, 100); } },
  ];
  it.each(cases)('$name', async (c) => {
    const f = damaged(c.name.replace(/\W+/g, '-') + '.qcow2', c.patch);
    const e = await rejection(open(f));
    expect(e.code).toBe(c.code);
    expect(e.file).toBe(f);
    expect(e.finding).toMatchObject({ field: c.field });
    expectUnreadableCli(f, c.field);
  });

  it('an extension overrunning the cluster', async () => {
    // The first extension (the feature name table) at 112 claims 1 MiB: QEMU refuses to open the image
    // ("Header extension too large"), so openImage does too (it used to be a finding on an open image).
    const f = damaged('ext-overrun.qcow2', (b) => { b.writeUInt32BE(1 << 20, 116); });
    const e = await rejection(open(f));
    expect(e.code).toBe('invalid-extension');
    expect(e.finding).toMatchObject({ id: 'extension.overrun', offset: 116, found: String(1 << 20) });
    expectUnreadableCli(f, 'length');
  });

  it('l1_size of 2^31 entries: no 16 GiB allocation, a typed error at once', async () => {
    const f = damaged('l1-huge.qcow2', (b) => { b.writeUInt32BE(0x8000_0000, 36); });
    // QEMU refuses to open it ("Active L1 table too large"): so does openImage, before any table is read.
    const e = await rejection(open(f));
    expect(e.finding).toMatchObject({ id: 'header.l1_size', field: 'l1_size', found: String(2 ** 31) });
    expectUnreadableCli(f, 'l1_size');
    expect(qzs(['map', f]).status).toBe(1);
  });

  it('an unaligned L1 table offset', async () => {
    const f = damaged('l1-unaligned.qcow2', (b) => { b.writeBigUInt64BE(BigInt(l1Offset + 8), 40); });
    const e = await rejection(readL1Table(await open(f)));
    expect(e.finding).toMatchObject({ id: 'l1.unaligned', found: '0x' + (l1Offset + 8).toString(16) });
    expectUnreadableCli(f, 'l1_table_offset');
  });

  it('an unaligned refcount table offset', async () => {
    const f = damaged('rt-unaligned.qcow2', (b) => { b.writeBigUInt64BE(BigInt(reftableOffset + 512), 48); });
    await rejection(RefcountReader.open(await open(f)));
    expectUnreadableCli(f, 'refcount_table_offset');
  });

  it('an unaligned snapshot table offset', async () => {
    const snapOff = Number(good.readBigUInt64BE(64));
    const f = damaged('snap-unaligned.qcow2', (b) => { b.writeBigUInt64BE(BigInt(snapOff + 4), 64); });
    await rejection(readSnapshotTable(await open(f)));
    expect(qzs(['info', f]).status).toBe(1);
  });

  it('an unknown incompatible feature bit', async () => {
    const f = damaged('incompat.qcow2', (b) => { b.writeBigUInt64BE(1n << 40n, 72); });
    expectUnreadableCli(f, 'incompatible_features');
  });
});

describe('damage that stays readable: findings', () => {
  it('an odd header_length is a finding, not a failure', async () => {
    const f = damaged('hl-odd.qcow2', (b) => { b.writeUInt32BE(105, 100); });
    const img = await open(f);
    expect(img.findings.find((x) => x.field === 'header_length')).toMatchObject({ severity: 'warning', found: '105' });
    expect(qzs(['info', f]).status).toBe(0);
  });

  it('an L1 table past the end of the file reads as unallocated, with a finding', async () => {
    const f = damaged('l1-past-eof.qcow2', (b) => { b.writeBigUInt64BE(BigInt(alignedEnd(b) + 65536 * 4), 40); });
    const img = await open(f);
    const l1 = await readL1Table(img);
    expect(l1.findings[0]).toMatchObject({ id: 'l1.past-eof', structure: 'active L1 table' });
    const r = qzs(['info', '--json', f]);
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { 'qzs-findings': Finding[] })['qzs-findings'].map((x) => x.id)).toContain('header.l1_table_offset-past-eof');
  });

  it('L1 entries: reserved bits, unaligned and past-EOF L2 offsets', async () => {
    const f = damaged('l1-entries.qcow2', (b) => {
      b.writeBigUInt64BE(BigInt(l2Offset + 512), l1Offset);
      b.writeBigUInt64BE(BigInt(l2Offset) | (1n << 63n) | 0x0100_0000_0000_0000n, l1Offset + 8);
      b.writeBigUInt64BE(BigInt(alignedEnd(b) + 65536 * 8), l1Offset + 16);
    });
    const img = await open(f);
    const l1 = await readL1Table(img, img.header.l1TableOffset, 3);
    const ids = l1EntryFindings(l1, tableGeometry(img)).map((x) => [x.id, x.field, x.offset]);
    expect(ids).toEqual([['l1.l2-unaligned', 'entry 0', l1Offset], ['l1.reserved-bits', 'entry 1', l1Offset + 8], ['l1.l2-past-eof', 'entry 2', l1Offset + 16]]);
    // Mapping through the unaligned L2 offset is refused with the same typed error.
    const r = qzs(['map', '--json', f]);
    expect(r.status).toBe(1);
    expect((JSON.parse(r.stderr) as { error: { finding: Finding } }).error.finding).toMatchObject({ id: 'l1.l2-unaligned', offset: l1Offset });
  });

  it('L2 entries: unaligned and past-EOF data offsets, reserved bits', async () => {
    const f = damaged('l2-entries.qcow2', (b) => {
      const e0 = b.readBigUInt64BE(l2Offset);
      b.writeBigUInt64BE(e0 + 512n, l2Offset);
      b.writeBigUInt64BE((1n << 63n) | BigInt(alignedEnd(b) + 65536 * 8), l2Offset + 8);
      b.writeBigUInt64BE((1n << 63n) | 0x0200_0000_0000_0000n | BigInt(65536 * 3), l2Offset + 16);
    });
    const img = await open(f);
    const g = tableGeometry(img);
    const t = await new L2Loader(img.source, g, await readL1Table(img)).forL1Index(0);
    const ids = l2EntryFindings(t!, g).map((x) => [x.id, x.field]);
    expect(ids).toEqual([['l2.unaligned', 'entry 0'], ['l2.past-eof', 'entry 1'], ['l2.reserved-bits', 'entry 2']]);
    const chain = await openChain(f);
    try {
      const e = await rejection(readGuest(chain.top, 0, 4096));
      expect(e.finding).toMatchObject({ id: 'l2.unaligned', offset: l2Offset });
      await rejection(mapImageAll(chain.top));
    } finally {
      await chain.close();
    }
  });

  it('a refcount block past the end of the file is a finding; its clusters read refcount 0 beyond', async () => {
    const f = damaged('rb-past-eof.qcow2', (b) => { b.writeBigUInt64BE(BigInt(alignedEnd(b) + 65536 * 16), reftableOffset); });
    const refs = await RefcountReader.open(await open(f));
    expect(refs.table.findings[0]).toMatchObject({ id: 'refcount-table.past-eof', field: 'entry 0', offset: reftableOffset });
    expect(await refs.refcountOf(0)).toBe(0);
  });

  it('every damaged file above opens or fails in bounded time through the file source', async () => {
    for (const name of ['l1-huge.qcow2', 'ext-overrun.qcow2', 'l2-entries.qcow2']) {
      const src = await FileByteSource.open(dir.file(name));
      try {
        await openImage(src).catch((e: unknown) => expect(e).toBeInstanceOf(Qcow2Error));
      } finally {
        await src.close();
      }
    }
  });
});
