// qzs create against the oracle: for every plain option alone and in combination, our image and
// qemu-img's are byte-identical, read the same in `qemu-img info --output=json` and check clean. Zoned
// images (v7 and v8 layouts) check clean on a bit-5-cleared copy but for exactly the zonedmeta leaks,
// and read back through our own reader. Needs `npm run build:cli` first.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { u64be, u64le } from '../../shared/bytes';
import { loadZoneReport } from '../../shared/qcow2/zone-report';
import { openImage } from '../../shared/qcow2/image';
import { FileByteSource } from '../../electron/engine/file-source';
import { QZS_CMD, qzs } from '../helpers/cli';
import { qemuImg, qemuImgStatus, tmpDir, type TmpDir } from '../helpers/qemu';
import { sample } from '../helpers/samples';

let tmp: TmpDir;
let seq = 0;

beforeAll(() => {
  tmp = tmpDir('qzs-create-');
});
afterAll(() => tmp.cleanup());

interface CheckJson { 'check-errors': number; corruptions?: number; leaks?: number }

/** qemu-img check, run in the image's folder: QEMU opens a relative data_file from its working directory. */
function check(file: string): CheckJson {
  const r = spawnSync('qemu-img', ['check', '--output=json', basename(file)], { cwd: dirname(file), encoding: 'utf8' });
  expect(r.stdout, r.stderr).not.toBe('');
  return JSON.parse(r.stdout) as CheckJson;
}

/** The built CLI run in a given working directory (qemu-img creates a relative data_file there). */
function qzsIn(cwd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...QZS_CMD, ...args], { cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function info(dir: string, name: string): Record<string, unknown> {
  const j = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', name], { cwd: dir, encoding: 'utf8' })) as Record<string, unknown>;
  delete j.filename;
  // Disk usage (st_blocks) depends on the file system and its allocation, not on the bytes: the files
  // themselves are compared byte for byte below.
  delete j['actual-size'];
  return j;
}

/** Two sibling folders holding the same auxiliary files, so that relative names stored in headers match. */
function pair(): { ours: string; ref: string } {
  const base = join(tmp.path, `case${seq++}`);
  const ours = join(base, 'ours');
  const ref = join(base, 'ref');
  for (const d of [ours, ref]) {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'base.raw'), Buffer.alloc(0));
    execFileSync('truncate', ['-s', '5M', join(d, 'base.raw')]);
    qemuImg(['create', '-q', '-f', 'qcow2', join(d, 'base.qcow2'), '7M']);
  }
  return { ours, ref };
}

function optionString(o: Record<string, string>): string {
  return Object.entries(o).map(([k, v]) => `${k}=${v}`).join(',');
}

const plainCases: [string, Record<string, string>, string | null][] = [
  ['defaults', {}, '1G'],
  ['size 0', {}, '0'],
  ['size not a multiple of 512', {}, '1000'],
  ['-o size', { size: '3M' }, null],
  ['cluster_size=512', { cluster_size: '512' }, '1G'],
  ['cluster_size=4k (no feature table)', { cluster_size: '4k' }, '1G'],
  ['cluster_size=8k (feature table)', { cluster_size: '8k' }, '1G'],
  ['cluster_size=2M', { cluster_size: '2M' }, '10G'],
  ['compat=0.10', { compat: '0.10' }, '1G'],
  ['compat=v3', { compat: 'v3' }, '1G'],
  ['lazy_refcounts=on', { lazy_refcounts: 'on' }, '1G'],
  ['refcount_bits=1', { refcount_bits: '1' }, '1G'],
  ['refcount_bits=8', { refcount_bits: '8' }, '1G'],
  ['refcount_bits=64', { refcount_bits: '64' }, '1G'],
  ['extended_l2=on', { extended_l2: 'on' }, '1G'],
  ['compression_type=zstd', { compression_type: 'zstd' }, '1G'],
  ['compression_type=zlib', { compression_type: 'zlib' }, '1G'],
  ['preallocation=metadata', { preallocation: 'metadata' }, '200M'],
  ['preallocation=metadata, partial last cluster', { preallocation: 'metadata' }, '1000k'],
  ['preallocation=off', { preallocation: 'off' }, '1G'],
  ['preallocation=metadata past the first refcount block', { preallocation: 'metadata' }, '3G'],
  ['backing raw', { backing_file: 'base.raw', backing_fmt: 'raw' }, '1G'],
  ['backing qcow2, size from the backing file', { backing_file: 'base.qcow2', backing_fmt: 'qcow2' }, null],
  ['data_file', { data_file: 'data.raw' }, '64M'],
  ['data_file + data_file_raw', { data_file: 'data.raw', data_file_raw: 'on' }, '64M'],
  ['data_file_raw with a partial last cluster', { data_file: 'data.raw', data_file_raw: 'on' }, '1000k'],
  ['data_file with preallocation', { data_file: 'data.raw', preallocation: 'metadata' }, '3G'],
  ['compat 0.10 + 4k clusters + refcount 16', { compat: '0.10', cluster_size: '4k', refcount_bits: '16' }, '2G'],
  ['lazy + zstd + extended L2 + 32k clusters + refcount 4', { lazy_refcounts: 'on', compression_type: 'zstd', extended_l2: 'on', cluster_size: '32k', refcount_bits: '4' }, '3G'],
  ['preallocation + extended L2 + qcow2 backing', { preallocation: 'metadata', extended_l2: 'on', backing_file: 'base.qcow2', backing_fmt: 'qcow2' }, '100M'],
  ['data_file_raw + 2M clusters + lazy + zstd', { data_file: 'data.raw', data_file_raw: 'on', cluster_size: '2M', lazy_refcounts: 'on', compression_type: 'zstd' }, '100M'],
  ['512-byte clusters, refcount table growth', { cluster_size: '512' }, '40G'],
  ['preallocation with 1k clusters and 8-bit refcounts (refblocks amid data, table growth)', { preallocation: 'metadata', cluster_size: '1k', refcount_bits: '8' }, '12M'],
  ['backing raw + data file + zstd + 512-byte clusters', { backing_file: 'base.raw', backing_fmt: 'raw', data_file: 'data.raw', compression_type: 'zstd', cluster_size: '512' }, '1G'],
];

describe('plain images are indistinguishable from qemu-img create', () => {
  it.each(plainCases)('%s', (_name, opts, size) => {
    const { ours, ref } = pair();
    const o = optionString(opts);
    const args = ['create', ...(o ? ['-o', o] : []), join(ours, 'img.qcow2'), ...(size !== null ? [size] : [])];
    const r = qzsIn(ours, args);
    expect(r.stderr.replace(/^qzs create: warning:.*\n/gm, '')).toBe('');
    expect(r.status).toBe(0);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', ...(o ? ['-o', o] : []), 'img.qcow2', ...(size !== null ? [size] : [])], { cwd: ref });

    expect(info(ours, 'img.qcow2')).toEqual(info(ref, 'img.qcow2'));
    // Byte for byte (cmp streams; the files are sparse).
    const cmp = qemuImgStatus(['compare', '-q', '-f', 'raw', '-F', 'raw', join(ours, 'img.qcow2'), join(ref, 'img.qcow2')]);
    expect(cmp.status, 'raw comparison of the two files').toBe(0);
    expect(statSync(join(ours, 'img.qcow2')).size).toBe(statSync(join(ref, 'img.qcow2')).size);
    for (const f of [join(ours, 'img.qcow2'), join(ref, 'img.qcow2')]) {
      const c = check(f);
      expect(c).toMatchObject({ 'check-errors': 0 });
      expect(c.corruptions ?? 0).toBe(0);
      expect(c.leaks ?? 0).toBe(0);
    }
    if (opts.data_file) expect(statSync(join(ours, opts.data_file)).size).toBe(statSync(join(ref, opts.data_file)).size);
  });
});

/** A copy with incompatible bit 5 cleared (byte 79, 0x20), which stock qemu-img will open. */
function bit5Cleared(file: string): string {
  const copy = `${file}.nobit5`;
  copyFileSync(file, copy);
  const b = readFileSync(copy);
  expect(b[79] & 0x20).toBe(0x20);
  b[79] &= ~0x20;
  writeFileSync(copy, b);
  return copy;
}

const zonedCases: [string, string, Record<string, string>, string, { nrZones: number; conventional: number; zoneSize: number; capacity: number; maxOpen: number; maxActive: number; maxAppend: number; clusterSize: number }][] = [
  ['v7, conventional zones and limits', 'v7', { 'zone.size': '8M', 'zone.capacity': '6M', 'zone.conventional_zones': '2', 'zone.max_active_zones': '4', 'zone.max_open_zones': '3', 'zone.max_append_bytes': '64k' }, '64M',
    { nrZones: 8, conventional: 2, zoneSize: 8 << 20, capacity: 6 << 20, maxOpen: 3, maxActive: 4, maxAppend: 65536, clusterSize: 65536 }],
  ['v7, zonedmeta over two 4k clusters', 'v7', { 'zone.size': '1M', 'zone.max_append_bytes': '4k', cluster_size: '4k' }, '1G',
    { nrZones: 1024, conventional: 0, zoneSize: 1 << 20, capacity: 1 << 20, maxOpen: 0, maxActive: 0, maxAppend: 4096, clusterSize: 4096 }],
  ['v7, last zone short, preallocated', 'v7', { 'zone.size': '4M', 'zone.conventional_zones': '1', 'zone.max_append_bytes': '8k', preallocation: 'metadata' }, '18M',
    { nrZones: 5, conventional: 1, zoneSize: 4 << 20, capacity: 4 << 20, maxOpen: 0, maxActive: 0, maxAppend: 8192, clusterSize: 65536 }],
  ['v8 defaults', 'v8', {}, '1G',
    { nrZones: 4, conventional: 0, zoneSize: 256 << 20, capacity: 256 << 20, maxOpen: 0, maxActive: 0, maxAppend: 65536, clusterSize: 65536 }],
  ['v8, 64-bit zone size, clamped limits', 'v8', { 'zone.size': '8G', 'zone.conventional_zones': '1', 'zone.max_active_zones': '9', 'zone.max_open_zones': '9' }, '32G',
    { nrZones: 4, conventional: 1, zoneSize: 8 * 2 ** 30, capacity: 8 * 2 ** 30, maxOpen: 3, maxActive: 4, maxAppend: 65536, clusterSize: 65536 }],
  ['v10 (alias of the v8 family)', 'v10', { 'zone.size': '8M' }, '64M',
    { nrZones: 8, conventional: 0, zoneSize: 8 << 20, capacity: 8 << 20, maxOpen: 0, maxActive: 0, maxAppend: 65536, clusterSize: 65536 }],
  ['v11 defaults', 'v11', {}, '1G',
    { nrZones: 4, conventional: 0, zoneSize: 256 << 20, capacity: 256 << 20, maxOpen: 0, maxActive: 0, maxAppend: 65536, clusterSize: 65536 }],
  ['v11, conventional zones, max_open alone is taken, last zone short', 'v11', { 'zone.size': '4M', 'zone.capacity': '3M', 'zone.conventional_zones': '2', 'zone.max_open_zones': '3', 'zone.max_append_bytes': '32k' }, '38M',
    { nrZones: 10, conventional: 2, zoneSize: 4 << 20, capacity: 3 << 20, maxOpen: 3, maxActive: 0, maxAppend: 32768, clusterSize: 65536 }],
  ['v11, 64-bit zone size, clamped limits', 'v11', { 'zone.size': '8G', 'zone.conventional_zones': '1', 'zone.max_active_zones': '9', 'zone.max_open_zones': '9' }, '32G',
    { nrZones: 4, conventional: 1, zoneSize: 8 * 2 ** 30, capacity: 8 * 2 ** 30, maxOpen: 3, maxActive: 4, maxAppend: 65536, clusterSize: 65536 }],
  ['respin defaults', 'respin', {}, '1G',
    { nrZones: 4, conventional: 0, zoneSize: 256 << 20, capacity: 256 << 20, maxOpen: 0, maxActive: 0, maxAppend: 0, clusterSize: 65536 }],
  ['respin, conventional zones, zonedmeta over two 4k clusters', 'respin', { 'zone.size': '1M', 'zone.conventional_zones': '3', 'zone.max_active_zones': '6', cluster_size: '4k' }, '1G',
    { nrZones: 1024, conventional: 3, zoneSize: 1 << 20, capacity: 1 << 20, maxOpen: 6, maxActive: 6, maxAppend: 0, clusterSize: 4096 }],
];

const REVISION_OF: Record<string, string> = { v7: 'v5-v7', v8: 'v8', v9: 'v8', v10: 'v8', v11: 'v11', respin: 'respin' };

describe('zoned images', () => {
  it.each(zonedCases)('%s', async (_name, layout, opts, size, want) => {
    const file = join(tmp.path, `zoned${seq++}.qcow2`);
    const r = qzs(['create', '--zoned-layout', layout, '-o', optionString({ 'zone.mode': 'host-managed', ...opts }), file, size]);
    expect(r.status, r.stderr).toBe(0);

    const c = check(bit5Cleared(file));
    expect(c['check-errors']).toBe(0);
    expect(c.corruptions ?? 0).toBe(0);
    expect(c.leaks).toBe(Math.ceil((8 * want.nrZones) / want.clusterSize));

    const src = await FileByteSource.open(file);
    try {
      const img = await openImage(src);
      expect(img.findings.filter((f) => f.severity === 'error')).toEqual([]);
      const z = img.zoned;
      expect(z?.revision).toBe(REVISION_OF[layout]);
      expect(z?.length).toBe({ v7: 48, v11: 48, respin: 44 }[layout] ?? 56);
      expect(z).toMatchObject({
        mode: 1, zoneSize: want.zoneSize, zoneCapacity: want.capacity, conventionalZones: want.conventional, nrZones: want.nrZones,
        maxOpenZones: want.maxOpen, maxActiveZones: want.maxActive, maxAppendBytes: want.maxAppend, zonedmetaSize: 8 * want.nrZones,
      });
      expect(z?.zonedmetaOffset).toBe(3 * want.clusterSize);
      expect(img.features.incompatible.find((b) => b.bit === 5)).toMatchObject({ set: true, imageName: want.clusterSize > 4096 ? 'zoned format' : null });
      const wps = await src.read(z?.zonedmetaOffset ?? 0, 8 * want.nrZones);
      const modern = layout === 'v11' || layout === 'respin';
      for (let i = 0; i < want.nrZones; i++) {
        const start = BigInt(i * want.zoneSize);
        // Up to v10: little-endian, bit 59; from v11 on: big-endian, bit 63.
        const raw = modern ? u64be(wps, i * 8) : u64le(wps, i * 8);
        expect(raw, `write pointer of zone ${i}`).toBe(i < want.conventional ? start | (1n << (modern ? 63n : 59n)) : start);
      }
      const report = await loadZoneReport(img);
      expect(report.byteOrder).toBe(modern ? 'big-endian' : 'little-endian');
      expect(report.findings.filter((f) => f.severity !== 'info' && f.id !== 'zoned.zone-size-not-cluster-multiple')).toEqual([]);
    } finally {
      await src.close();
    }
  });

  it('v8 layout is byte-identical to the patched QEMU sample', () => {
    const file = join(tmp.path, 'like-sample.qcow2');
    expect(qzs(['create', '--zoned-layout', 'v8', '-o', 'size=64M,zone.mode=host-managed,zone.size=8M', file]).status).toBe(0);
    // The reference material lies beside the repository (../shared/reference).
    const ref = sample('sample-v8-fresh.qcow2');
    expect(Buffer.compare(readFileSync(file), readFileSync(ref))).toBe(0);
  });
});

describe('qzs create behaviour', () => {
  it('--print-qemu-img prints the command line and writes nothing', () => {
    const file = join(tmp.path, 'printed.qcow2');
    const r = qzs(['create', '--print-qemu-img', '-o', 'zone.mode=host-managed,zone.size=8M', '-o', 'cluster_size=4k', file, '64M']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`qemu-img create -f qcow2 -o cluster_size=4k,zone.mode=host-managed,zone.size=8M ${file} 64M\n`);
    expect(existsSync(file)).toBe(false);
  });

  it('--dry-run reports derived values and leaves no file', () => {
    const file = join(tmp.path, 'dry.qcow2');
    const r = qzs(['create', '--dry-run', '--json', '-o', 'zone.mode=host-managed,zone.size=4M,zone.conventional_zones=3,zone.max_append_bytes=4k', file, '41M']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { ok: boolean; written: boolean; derived: Record<string, number> };
    expect(j).toMatchObject({ ok: true, written: false });
    expect(j.derived).toMatchObject({ nrZones: 11, sequentialZones: 8, zonedmetaSize: 88, zonedmetaOffset: 196608 });
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(tmp.path).filter((n) => n.includes('dry'))).toEqual([]);
  });

  it('validation errors exit 2 with the option, value and limit, and write nothing', () => {
    const file = join(tmp.path, 'invalid.qcow2');
    const r = qzs(['create', '--json', '-o', 'zone.mode=host-managed,zone.size=8M,zone.capacity=9M', file, '64M']);
    expect(r.status).toBe(2);
    const j = JSON.parse(r.stdout) as { errors: { option: string; value: string; limit: string }[] };
    expect(j.errors[0]).toMatchObject({ option: 'zone.capacity', value: String(9 << 20), limit: `at most zone.size (${8 << 20})` });
    expect(existsSync(file)).toBe(false);
    const h = qzs(['create', '-o', 'zone.mode=host-managed', file, '64M']);
    expect(h.status).toBe(2);
    expect(h.stderr).toMatch(/Missing zone_size parameter/);
  });

  it('usage errors exit 2', () => {
    expect(qzs(['create']).status).toBe(2);
    // v9 and v10 are aliases of the v8 family now (issue 10); an unknown revision is still a usage error.
    expect(qzs(['create', '--zoned-layout', 'v6', 'x.qcow2', '1G']).status).toBe(2);
  });

  it('never overwrites an existing file without --force, and replaces it with --force', () => {
    const file = join(tmp.path, 'existing.qcow2');
    writeFileSync(file, 'precious');
    const r = qzs(['create', file, '1G']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/exists/);
    expect(readFileSync(file, 'utf8')).toBe('precious');
    expect(qzs(['create', '--force', file, '1G']).status).toBe(0);
    expect(check(file)['check-errors']).toBe(0);
  });

  it('a failed create leaves no partial file behind', () => {
    const dir = join(tmp.path, 'fail');
    mkdirSync(join(dir, 'target.qcow2', 'occupied'), { recursive: true });
    // --force onto a non-empty directory: everything is written, the final rename fails.
    const r = qzs(['create', '--force', join(dir, 'target.qcow2'), '1G']);
    expect(r.status).toBe(1);
    expect(readdirSync(dir)).toEqual(['target.qcow2']);
    expect(readdirSync(join(dir, 'target.qcow2'))).toEqual(['occupied']);
    // The data file is removed again when the image cannot be placed.
    const r2 = qzsIn(dir, ['create', '--force', '-o', 'data_file=data.raw', join(dir, 'target.qcow2'), '1G']);
    expect(r2.status).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['target.qcow2']);
  });

  it('a missing backing file is refused as qemu-img refuses it', () => {
    const r = qzs(['create', '-o', 'backing_file=nonexistent.qcow2,backing_fmt=qcow2', join(tmp.path, 'nb.qcow2')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Could not open 'nonexistent.qcow2'/);
    expect(existsSync(join(tmp.path, 'nb.qcow2'))).toBe(false);
  });
});

describe('2026 targets on the command line: messages and exit codes (ZONED-REVISIONS-2026.md 2b, 4b)', () => {
  it('v11 refuses a 48M zone size with its warning and "Invalid zoned device options" (exit 2, nothing written)', () => {
    const file = join(tmp.path, `v11-refused${seq++}.qcow2`);
    const r = qzs(['create', '--zoned-layout', 'v11', '-o', 'zone.mode=host-managed,zone.size=48M', file, '480M']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Zoned extension header zone_size 50331648B is not a power of 2/);
    expect(r.stderr).toMatch(/error: Invalid zoned device options/);
    expect(existsSync(file)).toBe(false);
  });

  it('v11 clamps are warnings and create succeeds (exit 0); --json carries the revision\'s text', () => {
    const file = join(tmp.path, `v11-clamp${seq++}.qcow2`);
    const r = qzs(['create', '--json', '--zoned-layout', 'v11', '-o', 'zone.mode=host-managed,zone.size=1M,zone.max_active_zones=100', file, '10M']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { warnings: { qemu?: string }[]; options: { zoned: { layout: string; maxActiveZones: number; maxOpenZones: number } } };
    expect(j.warnings.map((w) => w.qemu)).toContain('warning: max_active_zones 100 exceeds nr_zones 10, clamping to nr_zones');
    expect(j.options.zoned).toMatchObject({ layout: 'v11', maxActiveZones: 10, maxOpenZones: 10 });
  });

  it('the respin refuses zone.max_append_bytes as an unknown option (exit 2)', () => {
    const file = join(tmp.path, `respin-append${seq++}.qcow2`);
    const r = qzs(['create', '--zoned-layout', 'respin', '-o', 'zone.mode=host-managed,zone.size=8M,zone.max_append_bytes=4096', file, '64M']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Invalid parameter 'zone.max_append_bytes'/);
    expect(existsSync(file)).toBe(false);
  });

  it('the respin refuses zones smaller than a cluster; the v8 alias v9 is accepted', () => {
    const r = qzs(['create', '--zoned-layout', 'respin', '-o', 'zone.mode=host-managed,zone.size=32k', join(tmp.path, 'respin-small.qcow2'), '8M']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/zone size 32768B is not a multiple of the cluster size 65536B/);
    const v9 = join(tmp.path, `v9-${seq++}.qcow2`);
    expect(qzs(['create', '--zoned-layout', 'v9', '-o', 'zone.mode=host-managed', v9, '1G']).status).toBe(0);
    expect(qzs(['info', v9]).stdout).toMatch(/revision: v8 \(length 56: v8\/v9\/v10 layout.*one family: v8, v9, v10/);
  });

  it('--help lists every target', () => {
    expect(qzs(['create', '--help']).stdout).toMatch(/v8 +the v8\/v9\/v10 family[\s\S]*v11 +the v11 family[\s\S]*respin +the Cassel respin/);
  });
});
