// The create validation (shared by CLI and wizard): qemu-img 7.2's rules for the plain options, and the
// zoned rules, order and clamps of the seed revision (v7) and of v8 (ZONED-FORMAT.md 5.1, 8 item 4, 10).
import { describe, expect, it } from 'vitest';
import { parseQemuSize, validateCreateOptions, type CreateInput, type CreateValidation } from '../../shared/qcow2/create-options';
import { qemuImgCreateCommand, shellQuote } from '../../shared/qcow2/qemu-img-command';

const M = 1024 * 1024;
const G = 1024 * M;

/** size null = no SIZE argument. */
function v(options: Record<string, string>, size: string | null = '1G', zonedLayout: 'v7' | 'v8' = 'v7', extra: Partial<CreateInput> = {}): CreateValidation {
  return validateCreateOptions({ options, size: size ?? undefined, zonedLayout, ...extra });
}

function zoned(opts: Record<string, string>, size = '64M', layout: 'v7' | 'v8' = 'v7'): CreateValidation {
  return v({ 'zone.mode': 'host-managed', ...opts }, size, layout);
}

describe('sizes as qemu-img parses them', () => {
  it.each([
    ['1G', G], ['1k', 1024], ['1K', 1024], ['1b', 1], ['1000', 1000], ['1.5k', 1536], ['1.1k', 1126], ['1.7k', 1741],
    ['0x100', 256], ['010', 10], ['+5k', 5120], ['5.k', 5120], ['1.0', 1], [' 1k', 1024], ['1P', 2 ** 50], ['1T', 2 ** 40],
  ])('%s = %d bytes', (text, bytes) => {
    const p = parseQemuSize(text);
    expect(p).toMatchObject({ ok: true, value: bytes });
  });
  it.each(['1.5', '1.5b', '1kB', '1KiB', '1e3', '.5k', '5k.', '-1', '8E', ''])('refuses %s', (text) => {
    expect(parseQemuSize(text).ok).toBe(false);
  });
  it('rounds the image size up to 512 bytes with a warning naming the written value', () => {
    const r = v({}, '1000');
    expect(r.ok).toBe(true);
    expect(r.normalized?.size).toBe(1024);
    expect(r.warnings[0]).toMatchObject({ code: 'size-rounded', option: 'size', value: '1000' });
    expect(r.warnings[0].message).toContain('written as 1024');
  });
});

describe('plain qcow2 options: qemu-img 7.2 rules', () => {
  const cases: [string, Record<string, string>, string | null, string, RegExp][] = [
    ['no size', {}, null, 'size', /Image creation needs a size parameter/],
    ['size twice', { size: '2M' }, '3M', 'size', /only once/],
    ['cluster not a power of two', { cluster_size: '1000' }, '1G', 'cluster_size', /power of two between 512 and 2048k.*1000/],
    ['cluster too small', { cluster_size: '256' }, '1G', 'cluster_size', /between 512 and 2048k/],
    ['cluster too big', { cluster_size: '4M' }, '1G', 'cluster_size', /between 512 and 2048k/],
    ['extended L2 with small clusters', { extended_l2: 'on', cluster_size: '8k' }, '1G', 'cluster_size', /at least 16384 bytes/],
    ['extended L2 with compat 0.10', { extended_l2: 'on', compat: '0.10' }, '1G', 'extended_l2', /compatibility level 1\.1/],
    ['refcount bits not a power of two', { refcount_bits: '3' }, '1G', 'refcount_bits', /power of two and may not exceed 64/],
    ['refcount bits above 64', { refcount_bits: '128' }, '1G', 'refcount_bits', /may not exceed 64/],
    ['refcount bits with compat 0.10', { refcount_bits: '8', compat: '0.10' }, '1G', 'refcount_bits', /Different refcount widths than 16 bits/],
    ['lazy refcounts with compat 0.10', { lazy_refcounts: 'on', compat: '0.10' }, '1G', 'lazy_refcounts', /Lazy refcounts only supported with compatibility level 1\.1/],
    ['data_file_raw without data_file', { data_file_raw: 'on' }, '1G', 'data_file_raw', /data-file-raw requires data-file/],
    ['data file with compat 0.10', { data_file: 'd.raw', compat: '0.10' }, '1G', 'data_file', /External data files are only supported with compatibility level 1\.1/],
    ['zstd with compat 0.10', { compression_type: 'zstd', compat: '0.10' }, '1G', 'compression_type', /Non-zlib compression type/],
    ['unknown compression', { compression_type: 'lz4' }, '1G', 'compression_type', /does not accept value 'lz4'/],
    ['unknown compat', { compat: '1.2' }, '1G', 'compat', /does not accept value '1\.2'/],
    ['bad bool', { lazy_refcounts: '1' }, '1G', 'lazy_refcounts', /expects 'on' or 'off'/],
    ['unknown preallocation', { preallocation: 'foo' }, '1G', 'preallocation', /does not accept value 'foo'/],
    ['preallocation full (qemu-img accepts, we do not)', { preallocation: 'full' }, '1G', 'preallocation', /not supported by Qcow2 Zone Studio/],
    ['backing file without format', { backing_file: 'b.qcow2' }, '1G', 'backing_file', /without backing format/],
    ['backing format without file', { backing_fmt: 'raw' }, '1G', 'backing_fmt', /Backing format cannot be used without backing file/],
    ['backing file with preallocation', { backing_file: 'b', backing_fmt: 'raw', preallocation: 'metadata' }, '1G', 'preallocation', /only be used at the same time if extended_l2 is on/],
    ['backing file with data_file_raw', { backing_file: 'b', backing_fmt: 'raw', data_file: 'd', data_file_raw: 'on' }, '1G', 'data_file_raw', /Backing file and data-file-raw cannot be used at the same time/],
    ['unknown option', { encryption: 'on' }, '1G', 'encryption', /Invalid parameter 'encryption'/],
    ['dashed spelling', { 'cluster-size': '4k' }, '1G', 'cluster-size', /spells it "cluster_size"/],
    ['L1 too large', { cluster_size: '512' }, '1P', 'size', /L1 table would need/],
  ];
  it.each(cases)('%s', (_name, options, size, option, message) => {
    const r = v(options, size);
    expect(r.ok).toBe(false);
    const e = r.errors.find((x) => x.option === option);
    expect(e, JSON.stringify(r.errors)).toBeDefined();
    expect(e?.message).toMatch(message);
  });

  it('reports errors in qemu-img order and all of them', () => {
    const r = v({ extended_l2: 'on', compat: '0.10', cluster_size: '1000', lazy_refcounts: 'on', compression_type: 'zstd' });
    expect(r.errors.map((e) => e.option)).toEqual(['extended_l2', 'cluster_size', 'lazy_refcounts', 'compression_type']);
  });

  it('accepts the v2/v3 compat spellings and normalizes them', () => {
    expect(v({ compat: 'v2' }).normalized).toMatchObject({ compat: '0.10', version: 2 });
    expect(v({ compat: 'v3' }).normalized).toMatchObject({ compat: '1.1', version: 3 });
  });

  it('turns data_file_raw on into preallocation=metadata, as qemu-img does', () => {
    expect(v({ data_file: 'd.raw', data_file_raw: 'on' }).normalized?.preallocation).toBe('metadata');
  });

  it('allows backing + preallocation with extended L2 and takes the size from the backing file', () => {
    const r = v({ backing_file: 'b.qcow2', backing_fmt: 'qcow2', preallocation: 'metadata', extended_l2: 'on' }, null);
    expect(r).toMatchObject({ ok: false, needsBackingSize: true, errors: [] });
    const r2 = v({ backing_file: 'b.qcow2', backing_fmt: 'qcow2' }, null, 'v7', { backingSize: 3 * M });
    expect(r2.normalized?.size).toBe(3 * M);
  });

  it('derives the layout of a default 1 GiB image as qemu-img lays it out', () => {
    const d = v({}).derived;
    expect(d).toMatchObject({ l1Entries: 2, l1Offset: 3 * 65536, refcountTableOffset: 65536, refcountTableClusters: 1, refcountBlocks: 1, fileSize: 196624, nrZones: null });
  });

  it('derives refcount table growth for tiny clusters', () => {
    const d = v({ cluster_size: '512' }, '100G').derived;
    expect(d?.refcountTableClusters).toBe(5);
    expect(d?.refcountTableOffset).toBe(0x1920200);
  });
});

describe('zoned options, seed revision (v7)', () => {
  it('requires zone.size', () => {
    const r = zoned({});
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'zone-size-missing', option: 'zone.size', value: null })]);
    expect(r.errors[0].message).toMatch(/Missing zone_size parameter/);
  });

  it('rejects zone.size 0 (rule 1)', () => {
    const r = zoned({ 'zone.size': '0' });
    expect(r.errors).toEqual([expect.objectContaining({ code: 'zone-size', option: 'zone.size', value: '0' })]);
    expect(r.errors[0].message).toMatch(/zone_size field can not be 0/);
  });

  it('rejects capacity > size (rule 2) and append + 512 >= capacity (rule 3), in that order', () => {
    const r = zoned({ 'zone.size': '8M', 'zone.capacity': '9M', 'zone.max_append_bytes': '10M' });
    // The seed then fails the create without setting errp: bdrv_co_create's "Could not create image".
    expect(r.errors.map((e) => e.code)).toEqual(['zone-capacity', 'zone-append', 'zone-invalid']);
    expect(r.errors[2]).toMatchObject({ qemu: 'Could not create image: Invalid argument', qemuErrp: true });
    expect(r.errors[0]).toMatchObject({ option: 'zone.capacity', value: String(9 * M), limit: `at most zone.size (${8 * M})` });
    expect(r.errors[0].message).toMatch(/zone capacity 9437184B exceeds zone size 8388608B/);
    expect(r.errors[1]).toMatchObject({ option: 'zone.max_append_bytes', value: String(10 * M) });
    expect(r.errors[1].message).toMatch(/max append bytes 10485760B exceeds zone capacity 9437184B/);
  });

  it('rule 3 is exact: append = capacity - 512 is rejected, capacity - 1024 accepted', () => {
    expect(zoned({ 'zone.size': '1M', 'zone.max_append_bytes': String(M - 512) }).errors[0]?.code).toBe('zone-append');
    expect(zoned({ 'zone.size': '1M', 'zone.max_append_bytes': String(M - 1024) }).ok).toBe(true);
  });

  it('has no conventional >= nr_zones rule: an all-conventional image is accepted', () => {
    const r = zoned({ 'zone.size': '8M', 'zone.conventional_zones': '8', 'zone.max_append_bytes': '4k' });
    expect(r.ok).toBe(true);
    expect(r.derived).toMatchObject({ nrZones: 8, sequentialZones: 0 });
  });

  it('refuses more conventional zones than zones (v7 QEMU corrupts memory there)', () => {
    const r = zoned({ 'zone.size': '8M', 'zone.conventional_zones': '9' });
    expect(r.errors[0]).toMatchObject({ code: 'zone-conventional', value: '9', limit: 'at most nr_zones (8)' });
  });

  it('clamps in the order 5, 7, 6 and says what is written', () => {
    const r = zoned({ 'zone.size': '1M', 'zone.conventional_zones': '2', 'zone.max_active_zones': '100', 'zone.max_open_zones': '200', 'zone.max_append_bytes': '4k' }, '10M');
    expect(r.ok).toBe(true);
    const clamps = r.warnings.filter((w) => w.code === 'zone-clamp');
    expect(clamps.map((w) => [w.option, w.value, w.limit])).toEqual([
      ['zone.max_active_zones', '100', 'nr_zones (10)'],
      ['zone.max_open_zones', '200', 'max_active_zones (10)'],
      ['zone.max_open_zones', '10', 'sequential zones (8)'],
    ]);
    // Our words in our option names; QEMU's own line, in its spelling, as the qemu text.
    expect(clamps.map((w) => w.message)).toEqual([
      'max_active_zones 100 exceeds nr_zones (10): written as 10',
      'max_open_zones 200 exceeds max_active_zones (10): written as 10',
      'max_open_zones 10 exceeds sequential zones (8): written as 8',
    ]);
    expect(clamps.map((w) => w.qemu)).toEqual([
      'Max_active_zones 100 exceeds nr_zones 10. Set it to nr_zones.',
      'Max_open_zones 200 exceeds max_active_zones 10. Set it to max_active_zones.',
      'Max_open_zones field can not be larger than the number of SWR zones. Set it to number of SWR zones 8.',
    ]);
    expect(r.normalized?.zoned).toMatchObject({ maxActiveZones: 10, maxOpenZones: 8 });
  });

  it('ignores max_open_zones without max_active_zones, with a warning', () => {
    const r = zoned({ 'zone.size': '8M', 'zone.max_open_zones': '3', 'zone.max_append_bytes': '4k' });
    expect(r.warnings).toContainEqual(expect.objectContaining({ code: 'zone-ignored', option: 'zone.max_open_zones', value: '3' }));
    expect(r.normalized?.zoned).toMatchObject({ maxOpenZones: 0, maxActiveZones: 0 });
  });

  it('max_open defaults to max_active when only max_active is given', () => {
    expect(zoned({ 'zone.size': '8M', 'zone.max_active_zones': '4', 'zone.max_append_bytes': '4k' }).normalized?.zoned?.maxOpenZones).toBe(4);
  });

  it('max_append_bytes defaults to 0 and is warned about', () => {
    const r = zoned({ 'zone.size': '8M' });
    expect(r.normalized?.zoned?.maxAppendBytes).toBe(0);
    expect(r.warnings).toContainEqual(expect.objectContaining({ option: 'zone.max_append_bytes', value: '0' }));
  });

  it('refuses 32-bit overflow of zone.size and zone.capacity, pointing to v8', () => {
    const r = zoned({ 'zone.size': '4G', 'zone.capacity': '4G' }, '16G');
    expect(r.errors.map((e) => [e.code, e.option])).toEqual([['zone-32bit', 'zone.size'], ['zone-32bit', 'zone.capacity']]);
    expect(r.errors[0].message).toMatch(/--zoned-layout v8/);
    expect(zoned({ 'zone.size': String(4 * G - 512), 'zone.max_append_bytes': '4k' }, '16G').ok).toBe(true);
  });

  it('warns that a v7 QEMU misreads zones past 4 GiB', () => {
    const r = zoned({ 'zone.size': '1G', 'zone.max_append_bytes': '4k' }, '8G');
    expect(r.ok).toBe(true);
    expect(r.warnings).toContainEqual(expect.objectContaining({ code: 'zone-overflow' }));
  });

  it('warns (never refuses) on a zone size that is not a power of two or not a cluster multiple, and unaligned append', () => {
    const r = zoned({ 'zone.size': '3000k', 'zone.max_append_bytes': '1000' }, '30M');
    expect(r.ok).toBe(true);
    const advice = r.warnings.filter((w) => w.code === 'zone-advice').map((w) => w.limit);
    expect(advice).toEqual(['a power of two', 'a multiple of cluster_size (65536)', 'a multiple of 512']);
  });

  it('derives nr_zones, sequential zones and zonedmeta size and offset', () => {
    const r = zoned({ 'zone.size': '4M', 'zone.conventional_zones': '3', 'zone.max_append_bytes': '4k' }, '41M');
    expect(r.derived).toMatchObject({ nrZones: 11, sequentialZones: 8, zonedmetaSize: 88, zonedmetaClusters: 1, zonedmetaOffset: 3 * 65536, l1Offset: 4 * 65536 });
  });

  it('zonedmeta spanning several clusters pushes the L1 table back', () => {
    const r = zoned({ 'zone.size': '1M', 'zone.max_append_bytes': '4k', cluster_size: '4k' }, '1G');
    expect(r.derived).toMatchObject({ nrZones: 1024, zonedmetaClusters: 2, zonedmetaOffset: 3 * 4096, l1Offset: 5 * 4096 });
  });

  it('zone options need zone.mode, and zone.mode only takes host-managed', () => {
    expect(v({ 'zone.size': '8M' }).errors[0]).toMatchObject({ code: 'zone-option-without-mode', option: 'zone.size' });
    expect(v({ 'zone.mode': 'host-aware', 'zone.size': '8M' }).errors[0]).toMatchObject({ option: 'zone.mode', value: 'host-aware' });
  });

  it('a zoned image needs compat 1.1', () => {
    expect(zoned({ 'zone.size': '8M', compat: '0.10' }).errors[0]).toMatchObject({ option: 'compat', value: '0.10' });
  });
});

describe('zoned options, v8', () => {
  it('defaults zone.size to 256 MiB and max_append_bytes to 64 KiB', () => {
    const r = zoned({}, '1G', 'v8');
    expect(r.ok).toBe(true);
    expect(r.normalized?.zoned).toMatchObject({ layout: 'v8', zoneSize: 256 * M, zoneCapacity: 256 * M, maxAppendBytes: 64 * 1024, nrZones: 4 });
  });

  it('rejects conventional_zones >= nr_zones (rule 4), after rules 2 and 3', () => {
    const r = zoned({ 'zone.size': '8M', 'zone.capacity': '9M', 'zone.max_append_bytes': '10M', 'zone.conventional_zones': '8' }, '64M', 'v8');
    expect(r.errors.map((e) => e.code)).toEqual(['zone-capacity', 'zone-append', 'zone-conventional']);
    expect(r.errors[2]).toMatchObject({ option: 'zone.conventional_zones', value: '8', limit: 'below nr_zones (8)' });
    expect(zoned({ 'zone.size': '8M', 'zone.conventional_zones': '7' }, '64M', 'v8').ok).toBe(true);
  });

  it('clamps in the order 5, 6, 7', () => {
    const r = zoned({ 'zone.size': '1M', 'zone.conventional_zones': '2', 'zone.max_active_zones': '100', 'zone.max_open_zones': '200' }, '10M', 'v8');
    const clamps = r.warnings.filter((w) => w.code === 'zone-clamp');
    expect(clamps.map((w) => [w.option, w.value, w.limit])).toEqual([
      ['zone.max_active_zones', '100', 'nr_zones (10)'],
      ['zone.max_open_zones', '200', 'sequential zones (8)'],
    ]);
    expect(r.normalized?.zoned).toMatchObject({ maxActiveZones: 10, maxOpenZones: 8 });
    // Rule 7 after rule 6: open 6 > seq? no; 6 > active 4 -> 4.
    const r2 = zoned({ 'zone.size': '1M', 'zone.max_active_zones': '4', 'zone.max_open_zones': '6' }, '10M', 'v8');
    expect(r2.warnings.filter((w) => w.code === 'zone-clamp').map((w) => w.limit)).toEqual(['max_active_zones (4)']);
  });

  it('the two orders give different results when both open clamps apply', () => {
    // nr 10, conv 4 -> seq 6; active 8, open 9: v7 (7 then 6) -> 8 then 6; v8 (6 then 7) -> 6, no second clamp.
    const opts = { 'zone.size': '1M', 'zone.conventional_zones': '4', 'zone.max_active_zones': '8', 'zone.max_open_zones': '9', 'zone.max_append_bytes': '4k' };
    const v7 = zoned(opts, '10M', 'v7').warnings.filter((w) => w.code === 'zone-clamp').map((w) => w.value);
    const v8 = zoned(opts, '10M', 'v8').warnings.filter((w) => w.code === 'zone-clamp').map((w) => w.value);
    expect(v7).toEqual(['9', '8']);
    expect(v8).toEqual(['9']);
  });

  it('accepts 64-bit zone sizes', () => {
    const r = zoned({ 'zone.size': '8G' }, '64G', 'v8');
    expect(r.ok).toBe(true);
    expect(r.derived?.nrZones).toBe(8);
  });

  it('refuses max_append_bytes >= 4 GiB (32-bit field)', () => {
    expect(zoned({ 'zone.size': '16G', 'zone.max_append_bytes': '4G' }, '64G', 'v8').errors[0]).toMatchObject({ code: 'zone-32bit', option: 'zone.max_append_bytes' });
  });
});

describe('qemu-img command line', () => {
  it('uses underscore spellings, canonical order, shell quoting and doubled commas', () => {
    const cmd = qemuImgCreateCommand({ options: { 'zone.size': '4M', 'zone.mode': 'host-managed', backing_file: "a b,c'd", backing_fmt: 'raw' }, size: '1G' }, 'my img.qcow2');
    expect(cmd).toBe(`qemu-img create -f qcow2 -o 'backing_file=a b,,c'\\''d,backing_fmt=raw,zone.mode=host-managed,zone.size=4M' 'my img.qcow2' 1G`);
    expect(shellQuote('plain.qcow2')).toBe('plain.qcow2');
  });
});
