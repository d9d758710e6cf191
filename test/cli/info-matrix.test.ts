// qzs info --json and qzs map --json against Debian's qemu-img 7.2 for a matrix of images made by
// qemu-img and qemu-io: every key qemu-img prints must be present with the same value, and the map must
// be identical.
import { execFileSync } from 'node:child_process';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { qzs, qzsJson } from '../helpers/cli';
import { qemuImg, qemuImgJson, qemuIo, tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-info-matrix-');
afterAll(() => dir.cleanup());

interface Case {
  name: string;
  /** Builds the image; returns its path. */
  make: () => string;
}

const K = 1024;
const M = 1024 * 1024;

/** A non-trivial map: data, zeroes, a discard, an unaligned tail, all scaled to the cluster size. */
function scribble(file: string, cs: number): void {
  qemuIo(file, [
    `write -P 0xa5 0 ${3 * cs}`,
    `write -P 0x5a ${8 * cs + 512} ${cs}`,
    `write -z ${4 * cs} ${2 * cs}`,
    `discard ${cs} ${cs}`,
    `write -P 0x11 ${20 * cs} 512`,
  ]);
}

function create(name: string, opts: string, size: string, cs: number): string {
  const f = dir.file(name);
  qemuImg(['create', '-q', '-f', 'qcow2', ...(opts ? ['-o', opts] : []), f, size]);
  scribble(f, cs);
  return f;
}

function rawSource(name: string): string {
  const f = dir.file(name);
  qemuImg(['create', '-q', '-f', 'raw', f, '4M']);
  qemuIo(f, ['write -P 0x31 0 1M', 'write -P 0 1M 64k', 'write -P 0x77 2M 192k', 'write -P 0x42 3M 100k'], 'raw');
  return f;
}

const cases: Case[] = [
  { name: 'compat 0.10', make: () => create('v2.qcow2', 'compat=0.10', '8M', 64 * K) },
  { name: 'compat 1.1', make: () => create('v3.qcow2', 'compat=1.1', '8M', 64 * K) },
  { name: 'cluster 512 B', make: () => create('c512.qcow2', 'cluster_size=512', '1M', 512) },
  { name: 'cluster 512 B, compat 0.10', make: () => create('c512v2.qcow2', 'cluster_size=512,compat=0.10', '1M', 512) },
  { name: 'cluster 4 KiB', make: () => create('c4k.qcow2', 'cluster_size=4k', '4M', 4 * K) },
  { name: 'cluster 2 MiB', make: () => create('c2m.qcow2', 'cluster_size=2M', '64M', 2 * M) },
  { name: 'extended_l2', make: () => {
    const f = create('xl2.qcow2', 'extended_l2=on', '8M', 64 * K);
    qemuIo(f, ['write -P 0x66 4k 6k', 'write -z 40k 4k', 'discard 1M 8k']);
    return f;
  } },
  { name: 'extended_l2, cluster 16 KiB', make: () => create('xl2-16k.qcow2', 'extended_l2=on,cluster_size=16k', '4M', 16 * K) },
  { name: 'compression_type=zstd', make: () => create('zstd.qcow2', 'compression_type=zstd', '8M', 64 * K) },
  { name: 'lazy_refcounts', make: () => create('lazy.qcow2', 'lazy_refcounts=on', '8M', 64 * K) },
  { name: 'refcount_bits=1', make: () => create('rc1.qcow2', 'refcount_bits=1', '8M', 64 * K) },
  { name: 'refcount_bits=16', make: () => create('rc16.qcow2', 'refcount_bits=16', '8M', 64 * K) },
  { name: 'refcount_bits=64', make: () => create('rc64.qcow2', 'refcount_bits=64', '8M', 64 * K) },
  { name: 'backing file with backing_fmt', make: () => {
    create('base.qcow2', '', '8M', 64 * K);
    const top = dir.file('top.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', top]);
    qemuIo(top, ['write -P 0xbb 128k 256k', 'write -z 2M 64k', 'discard 64k 64k']);
    return top;
  } },
  { name: 'backing chain of three, shorter base', make: () => {
    create('short-base.qcow2', '', '2M', 64 * K);
    const mid = dir.file('mid.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-b', 'short-base.qcow2', '-F', 'qcow2', mid, '4M']);
    qemuIo(mid, ['write -P 0xcc 1M 128k']);
    const top = dir.file('top3.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-b', mid, '-F', 'qcow2', top, '6M']);
    qemuIo(top, ['write -P 0xdd 0 64k', 'write -P 0xee 5M 64k']);
    return top;
  } },
  { name: 'raw backing file', make: () => {
    const raw = rawSource('backing.raw');
    const top = dir.file('over-raw.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-b', raw, '-F', 'raw', top]);
    qemuIo(top, ['write -P 0x99 64k 64k']);
    return top;
  } },
  { name: 'external data file', make: () => create('df.qcow2', `data_file=${dir.file('df.data')}`, '8M', 64 * K) },
  { name: 'external data file, data_file_raw', make: () => create('dfr.qcow2', `data_file=${dir.file('dfr.data')},data_file_raw=on`, '8M', 64 * K) },
  { name: 'internal snapshots', make: () => {
    const f = create('snap.qcow2', '', '8M', 64 * K);
    qemuImg(['snapshot', '-c', 'first', f]);
    qemuIo(f, ['write -P 0x12 0 64k']);
    qemuImg(['snapshot', '-c', 'second snapshot', f]);
    return f;
  } },
  { name: 'internal snapshot, compat 0.10', make: () => {
    const f = create('snapv2.qcow2', 'compat=0.10', '8M', 64 * K);
    qemuImg(['snapshot', '-c', 'old', f]);
    return f;
  } },
  { name: 'persistent bitmaps', make: () => {
    const f = create('bitmaps.qcow2', '', '8M', 64 * K);
    qemuImg(['bitmap', '--add', f, 'b0']);
    qemuImg(['bitmap', '--add', '-g', '512k', '--disable', f, 'b1']);
    qemuImg(['bitmap', '--add', '-g', '4k', f, 'third']);
    return f;
  } },
  { name: 'compressed clusters (zlib)', make: () => {
    const f = dir.file('cz.qcow2');
    qemuImg(['convert', '-c', '-O', 'qcow2', rawSource('cz.raw'), f]);
    return f;
  } },
  { name: 'compressed clusters (zstd)', make: () => {
    const f = dir.file('czstd.qcow2');
    qemuImg(['convert', '-c', '-O', 'qcow2', '-o', 'compression_type=zstd', rawSource('czstd.raw'), f]);
    return f;
  } },
  { name: 'compressed clusters, extended_l2', make: () => {
    const f = dir.file('cxl2.qcow2');
    qemuImg(['convert', '-c', '-O', 'qcow2', '-o', 'extended_l2=on', rawSource('cxl2.raw'), f]);
    qemuIo(f, ['write -P 0x44 2M 4k']);
    return f;
  } },
  { name: 'preallocation=metadata, 64 GiB (holes in the host file)', make: () => {
    const f = dir.file('prealloc.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', f, '64G']);
    qemuIo(f, ['write -P 0x71 1G 1M', 'write -z 2G 64k']);
    return f;
  } },
  { name: 'empty image of size 0', make: () => {
    const f = dir.file('empty.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', f, '0']);
    return f;
  } },
];

const paths = new Map<string, string>();

beforeAll(() => {
  execFileSync('npm', ['run', '-s', 'build:cli'], { stdio: 'ignore' });
  for (const c of cases) paths.set(c.name, c.make());
});

/** Only the keys qemu-img prints; our own keys are checked elsewhere. */
function qemuKeys(info: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(info).filter(([k]) => !k.startsWith('qzs-') && k !== 'zoned'));
}

describe.each(cases)('$name', (c) => {
  it('qzs info --json carries every key qemu-img info prints, with equal values', () => {
    const f = paths.get(c.name) as string;
    const expected = qemuImgJson<Record<string, unknown>>(['info', '--output=json', f]);
    const ours = qzsJson<Record<string, unknown>>(['info', '--json', f]);
    expect(qemuKeys(ours)).toEqual(expected);
  });

  it('qzs map --json equals qemu-img map --output=json', () => {
    const f = paths.get(c.name) as string;
    const expected = qemuImg(['map', '--output=json', f]);
    const r = qzs(['map', '--json', f]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(expected));
    // Same text too, so scripts that diff the two outputs see no difference.
    expect(r.stdout).toBe(expected);
  });
});

describe('our own info keys', () => {
  it('header fields, extensions and feature names come with their offsets', () => {
    const info = qzsJson<Record<string, unknown>>(['info', '--json', paths.get('persistent bitmaps') as string]);
    const header = info['qzs-header'] as { name: string; offset: number; size: number; value: unknown }[];
    expect(header.find((x) => x.name === 'l1_table_offset')).toMatchObject({ offset: 40, size: 8 });
    const exts = info['qzs-extensions'] as { name: string; offset: number }[];
    expect(exts.map((e) => e.name)).toEqual(['feature name table', 'bitmaps', 'end of extensions']);
    const features = info['qzs-features'] as { autoclear: { bit: number; set: boolean; name: string; 'image-name': string }[] };
    expect(features.autoclear.find((b) => b.bit === 0)).toMatchObject({ set: true, name: 'bitmaps', 'image-name': 'bitmaps' });
    expect(info['qzs-findings']).toEqual([]);
  });

  it('snapshot entries carry their field offsets', () => {
    const info = qzsJson<Record<string, unknown>>(['info', '--json', paths.get('internal snapshots') as string]);
    const snaps = info['qzs-snapshots'] as { name: string; offset: number; fields: { name: string; offset: number }[] }[];
    expect(snaps.map((s) => s.name)).toEqual(['first', 'second snapshot']);
    expect(snaps[1].offset).toBeGreaterThan(snaps[0].offset);
    expect(snaps[0].fields.find((x) => x.name === 'l1_size')?.offset).toBe(snaps[0].offset + 8);
  });

  it('the human summary names the format, features and extensions', () => {
    const r = qzs(['info', paths.get('backing file with backing_fmt') as string]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^image: .*top\.qcow2\nfile format: qcow2\nvirtual size: 8 MiB \(8388608 bytes\)\n/);
    expect(r.stdout).toContain('backing file format: qcow2');
    expect(r.stdout).toContain('0xe2792aca backing file format');
  });

  it('the human map lists data extents like qemu-img map', () => {
    const f = paths.get('backing file with backing_fmt') as string;
    const r = qzs(['map', f]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(qemuImg(['map', f]));
  });
});

describe('usage', () => {
  it('exits 2 without an image and 1 on a missing file', () => {
    expect(qzs(['info']).status).toBe(2);
    expect(qzs(['map', '--bogus', 'x']).status).toBe(2);
    const r = qzs(['info', dir.file('missing.qcow2')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('missing.qcow2');
  });
});
