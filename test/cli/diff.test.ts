// `qzs diff` as users run it (the built CLI). What it reports on pairs that differ by one known change (a
// qemu-io write, a zone operation, a header field), nothing on identical images, and, on pairs made by
// qemu-img/qemu-io, the same exit code and text as qemu-img compare (QEMU 7.2 qemu-img.c img_compare:
// "Content mismatch at offset N!", "Warning: Image size mismatch!", "Images are identical.").
import { copyFileSync, openSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDiff } from '../../shared/qcow2/diff';
import { qzs } from '../helpers/cli';
import { qemuImg, qemuImgStatus, qemuIo, tmpDir } from '../helpers/qemu';
import { buildZonedImage } from '../helpers/zoned-builder';
import { run as runDiff } from '../../electron/cli/commands/diff';
import type { CliIo } from '../../electron/cli/io';

const tmp = tmpDir('qzs-cli-diff-');
afterAll(() => tmp.cleanup());
beforeAll(() => {
  if (qzs(['--version']).status !== 0) throw new Error('build the CLI first: npm run build:cli');
});

const KiB = 1024;
const MiB = 1024 * KiB;
let n = 0;
const name = (ext = 'qcow2'): string => tmp.file(`i${n++}.${ext}`);

function create(size: string, opts: string[] = []): string {
  const p = name();
  qemuImg(['create', '-q', '-f', 'qcow2', ...opts, p, size]);
  return p;
}
function copy(p: string): string {
  const q = name();
  copyFileSync(p, q);
  return q;
}
function diffJson(a: string, b: string): { status: number; d: ImageDiff } {
  const r = qzs(['diff', '--json', a, b]);
  expect(r.status, r.stderr).toBeLessThan(2);
  return { status: r.status, d: JSON.parse(r.stdout) as ImageDiff };
}
function patch(p: string, offset: number, bytes: number[]): void {
  const fd = openSync(p, 'r+');
  writeSync(fd, Buffer.from(bytes), 0, bytes.length, offset);
  closeSync(fd);
}

describe('qzs diff: one known change', () => {
  it('a copy with one qemu-io write reports exactly that guest range, and nothing else', () => {
    const a = create('64M');
    qemuIo(a, ['write -P 0x11 0 1M', 'write -P 0x22 8M 128k']);
    const b = copy(a);
    qemuIo(b, ['write -P 0x33 3M 192k']);
    const { status, d } = diffJson(a, b);
    expect(status).toBe(1);
    expect(d.fields).toEqual([]);
    expect(d.zones).toBeNull();
    expect(d.guest.content.map((r) => [r.start, r.length])).toEqual([[3 * MiB, 192 * KiB]]);
    expect(d.guest.content[0].a.kind).toBe('unallocated');
    expect(d.guest.content[0].b.kind).toBe('data');
    expect(d.guest.content[0].sampleB).toBe('33'.repeat(32));
    expect(d.guest.layoutRangeCount).toBe(0);
    expect(d.guest.firstMismatch).toBe(3 * MiB);
    // A side that reads as zeros there is not read: only B's new data.
    expect(d.guest.readA).toBe(1 * MiB + 128 * KiB);
    expect(d.guest.readB).toBe(1 * MiB + 128 * KiB + 192 * KiB);
  });

  it('a write over data reports the sectors written, whatever bytes happen to be equal', () => {
    const a = create('16M');
    qemuIo(a, ['write -P 0x5a 0 2M']);
    const b = copy(a);
    // 0x5a again in most of the range: only the sectors whose bytes change are reported.
    qemuIo(b, ['write -P 0x5b 1000 100', 'write -P 0x5a 64k 64k']);
    const { d } = diffJson(a, b);
    expect(d.guest.content.map((r) => [r.start, r.length])).toEqual([[512, 1024]]);
    expect(d.guest.firstMismatch).toBe(512);
  });

  it('a header edit reports exactly that field, with its offset and both values', () => {
    const a = create('16M');
    const b = copy(a);
    // refcount_table_clusters (offset 56, 4 bytes): 1 -> 2; nothing else in the file changes.
    patch(b, 56, [0, 0, 0, 2]);
    const { status, d } = diffJson(a, b);
    expect(status).toBe(1);
    expect(d.fields).toEqual([{ area: 'header', field: 'refcount_table_clusters', offsetA: 56, offsetB: 56, a: '1', b: '2' }]);
    expect(d.guest.identical).toBe(true);
    expect(d.guest.contentRangeCount + d.guest.layoutRangeCount).toBe(0);
  });

  it('a feature bit reports the mask field and the named bit', () => {
    const a = create('16M');
    const b = copy(a);
    patch(b, 87, [1]); // compatible_features bit 0: lazy refcounts
    const { d } = diffJson(a, b);
    expect(d.fields.map((f) => [f.area, f.field, f.offsetA, f.a, f.b])).toEqual([
      ['header', 'compatible_features', 80, '0x0000000000000000', '0x0000000000000001'],
      ['feature', 'compatible bit 0 (lazy refcounts)', 87, 'clear', 'set'],
    ]);
  });

  it('identical images report nothing and exit 0', () => {
    const a = create('64M', ['-o', 'cluster_size=4k']);
    qemuIo(a, ['write -P 0x77 1M 3M', 'write -z 8M 1M']);
    const b = copy(a);
    const r = qzs(['diff', a, b]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Images are identical.\nNo differences.\n');
    const { d } = diffJson(a, b);
    expect(d.different).toBe(false);
    expect(d.fields).toEqual([]);
    expect(d.guest.contentRangeCount + d.guest.layoutRangeCount).toBe(0);
  });

  it('an image against its snapshot: only the clusters written since are read, once each side', () => {
    const a = create('64M');
    qemuIo(a, ['write -P 0x11 0 4M']);
    qemuImg(['snapshot', '-c', 'before', a]);
    qemuIo(a, ['write -P 0x22 1M 4k']);
    const { status, d } = diffJson(`${a}@before`, a);
    expect(status).toBe(1);
    expect(d.guest.content.map((r) => [r.start, r.length])).toEqual([[1 * MiB, 4 * KiB]]);
    // The rest of the copied-on-write cluster holds the same bytes elsewhere: metadata only.
    expect(d.guest.layout.map((r) => [r.start, r.length, r.a.kind, r.b.kind])).toEqual([[1 * MiB + 4 * KiB, 60 * KiB, 'data', 'data']]);
    expect(d.guest.readA).toBe(64 * KiB);
    expect(d.guest.readB).toBe(64 * KiB);
    expect(d.fields.map((f) => f.field)).toEqual(['l1_table_offset']);
    // A snapshot of an unknown name is an error (exit 2) that lists the names there are.
    const r = qzs(['diff', `${a}@nope`, a]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no snapshot "nope"');
    expect(r.stderr).toContain('"before"');
  });

  it('compressed clusters a snapshot shares are neither read nor decompressed', () => {
    const src = create('16M');
    qemuIo(src, ['write -P 0x61 0 1M']);
    const c = name();
    qemuImg(['convert', '-c', '-O', 'qcow2', src, c]);
    qemuImg(['snapshot', '-c', 'packed', c]);
    qemuIo(c, ['write -P 0x62 256k 4k']);
    const { d } = diffJson(`${c}@packed`, c);
    expect(d.guest.content.map((r) => [r.start, r.length])).toEqual([[256 * KiB, 4 * KiB]]);
    // One 64 KiB cluster was rewritten (decompressed on one side, copied on the other): only it is read.
    expect([d.guest.readA, d.guest.readB]).toEqual([64 * KiB, 64 * KiB]);
  });

  it('a zone operation on a copy reports exactly that zone', () => {
    const b0 = buildZonedImage({ layout: 'v8', virtualSize: 8 * MiB, zoneSize: MiB, zoneCapacity: MiB, conventionalZones: 1, maxOpenZones: 2, maxActiveZones: 3, maxAppendBytes: 64 * KiB, clusterBits: 16 });
    const a = name();
    writeFileSync(a, b0.bytes);
    const b = copy(a);
    expect(qzs(['zone', b, 'finish', '3']).status).toBe(0);
    const { status, d } = diffJson(a, b);
    expect(status).toBe(1);
    expect(d.zones?.map((z) => [z.zone, z.changes, z.a?.condition, z.b?.condition, z.b?.wp])).toEqual([[3, ['wp', 'condition'], 'empty', 'full', 4 * MiB]]);
    expect(d.zoneDifferenceCount).toBe(1);
    expect(d.guest.identical).toBe(true);
    // Data appended to another copy marks that zone's data too.
    const c = copy(a);
    expect(qzs(['zone', c, 'append', '5', '--bytes', '8k']).status).toBe(0);
    const dc = diffJson(a, c).d;
    expect(dc.zones?.map((z) => [z.zone, z.changes])).toEqual([[5, ['wp', 'condition', 'data']]]);
    expect(dc.guest.content.map((r) => [r.start, r.length])).toEqual([[5 * MiB, 8 * KiB]]);
  });

  it('usage and open errors exit 2, as qemu-img compare', () => {
    expect(qzs(['diff', 'only-one']).status).toBe(2);
    const r = qzs(['diff', tmp.file('missing.qcow2'), tmp.file('missing2.qcow2')]);
    expect(r.status).toBe(2);
    expect(qemuImgStatus(['compare', tmp.file('missing.qcow2'), tmp.file('missing2.qcow2')]).status).toBe(2);
  });
});

/** A pair and how it was made; the oracle is qemu-img compare on the same files. */
interface Pair { what: string; a: string; b: string; qa?: string; qb?: string }

function pairs(): Pair[] {
  const out: Pair[] = [];
  const base = create('32M');
  qemuIo(base, ['write -P 0x11 0 2M', 'write -P 0x22 16M 256k']);
  out.push({ what: 'a copy', a: base, b: copy(base) });
  {
    const b = copy(base);
    qemuIo(b, ['write -P 0x99 17M 4k']);
    out.push({ what: 'one write in unallocated space', a: base, b });
  }
  {
    const b = copy(base);
    qemuIo(b, ['write -P 0x11 1M 512', 'write -P 0x12 1536k 700']);
    out.push({ what: 'an unaligned write over data', a: base, b });
  }
  {
    const b = copy(base);
    qemuImg(['resize', '-q', b, '48M']);
    out.push({ what: 'B larger, the excess zero', a: base, b });
    out.push({ what: 'A larger, the excess zero', a: b, b: base });
    const c = copy(b);
    qemuIo(c, ['write -P 0x44 40M 64k']);
    out.push({ what: 'B larger, data in the excess', a: base, b: c });
    const d = copy(c);
    qemuIo(d, ['write -P 0x45 1M 4k']);
    out.push({ what: 'sizes differ and the common part differs', a: base, b: d });
  }
  {
    const c = name();
    qemuImg(['convert', '-c', '-O', 'qcow2', base, c]);
    out.push({ what: 'a compressed copy', a: base, b: c });
    const c2 = copy(c);
    qemuIo(c2, ['write -P 0x66 16M 1k']);
    out.push({ what: 'a compressed copy, then a write', a: c2, b: base });
  }
  {
    const z = copy(base);
    qemuIo(z, ['write -z 8M 1M']);
    out.push({ what: 'zero clusters over unallocated space', a: base, b: z });
    const z2 = copy(base);
    qemuIo(z2, ['write -z 1M 64k']);
    out.push({ what: 'zero clusters over data', a: base, b: z2 });
    const z3 = copy(base);
    qemuIo(z3, ['discard 0 64k']);
    out.push({ what: 'a discard', a: z3, b: base });
  }
  {
    const s = copy(base);
    qemuImg(['snapshot', '-c', 'one', s]);
    qemuIo(s, ['write -P 0x77 1M 64k', 'write -P 0x78 20M 64k']);
    const exported = name();
    qemuImg(['convert', '-l', 'snapshot.name=one', '-O', 'qcow2', s, exported]);
    out.push({ what: 'an image against its snapshot', a: `${s}@one`, b: s, qa: exported, qb: s });
    out.push({ what: 'a snapshot against the image it was taken of', a: `${s}@one`, b: base, qa: exported, qb: base });
  }
  {
    const overlay = name();
    qemuImg(['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', overlay]);
    out.push({ what: 'an empty overlay against its backing file', a: overlay, b: base });
    const o2 = copy(overlay);
    qemuIo(o2, ['write -P 0x88 1M 128k']);
    out.push({ what: 'an overlay with a write against its backing file', a: o2, b: base });
    const flat = name();
    qemuImg(['convert', '-O', 'qcow2', o2, flat]);
    out.push({ what: 'an overlay against its flattened copy', a: o2, b: flat });
    const o3 = name();
    qemuImg(['create', '-q', '-f', 'qcow2', '-b', o2, '-F', 'qcow2', o3, '40M']);
    qemuIo(o3, ['write -P 0x89 36M 4k']);
    out.push({ what: 'a chain of three, larger than its base', a: o3, b: o2 });
    const raw = name('raw');
    qemuImg(['convert', '-O', 'raw', o2, raw]);
    const onRaw = name();
    qemuImg(['create', '-q', '-f', 'qcow2', '-b', raw, '-F', 'raw', onRaw]);
    out.push({ what: 'an overlay on a raw file against the chain it was flattened from', a: onRaw, b: o2 });
  }
  {
    const x = create('8M', ['-o', 'extended_l2=on,cluster_size=128k']);
    qemuIo(x, ['write -P 0x31 0 4k', 'write -P 0x32 1M 8k']);
    const y = copy(x);
    qemuIo(y, ['write -P 0x33 64k 4k']);
    out.push({ what: 'extended L2: one subcluster written', a: x, b: y });
    const v2 = name();
    qemuImg(['convert', '-O', 'qcow2', '-o', 'compat=0.10,cluster_size=4k', x, v2]);
    out.push({ what: 'a version 2 copy with other clusters', a: x, b: v2 });
  }
  {
    // Metadata preallocation: every cluster mapped, the host file's holes read as zeros (SEEK_DATA).
    const p = create('256M', ['-o', 'preallocation=metadata']);
    const p2 = create('256M', ['-o', 'preallocation=metadata']);
    qemuIo(p2, ['write -P 0x21 100M 64k']);
    out.push({ what: 'two metadata-preallocated images, one written to', a: p, b: p2 });
    const sparse = name();
    qemuImg(['convert', '-O', 'qcow2', p2, sparse]);
    out.push({ what: 'a metadata-preallocated image against its sparse copy', a: p2, b: sparse });
  }
  return out;
}

/** The diff command in this process (the matrix would spend most of its time starting processes). */
async function diffHere(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { out: (t) => { stdout += t; }, err: (t) => { stderr += t; }, errIsTTY: false, stdin: process.stdin };
  const status = await runDiff(args, io);
  return { status, stdout, stderr };
}

describe('qzs diff --data-only agrees with qemu-img compare', () => {
  it('on a matrix of pairs made by qemu-img and qemu-io: exit code, text and first offset', async () => {
    const seen = new Set<number>();
    for (const p of pairs()) {
      const q = qemuImgStatus(['compare', p.qa ?? p.a, p.qb ?? p.b]);
      const r = await diffHere(['--data-only', p.a, p.b]);
      expect({ what: p.what, status: r.status, stdout: r.stdout }, r.stderr).toEqual({ what: p.what, status: q.status, stdout: q.stdout });
      const j = await diffHere(['--data-only', '--json', p.a, p.b]);
      const g = (JSON.parse(j.stdout) as { guest: ImageDiff['guest'] }).guest;
      const m = /Content mismatch at offset (\d+)!/.exec(q.stdout);
      expect({ what: p.what, first: g.firstMismatch }).toEqual({ what: p.what, first: m ? Number(m[1]) : null });
      seen.add(q.status);
    }
    // The matrix exercises both verdicts.
    expect([...seen].sort()).toEqual([0, 1]);
  });
});
