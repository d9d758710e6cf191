// The create matrix of the 2026 targets against ZONED-REVISIONS-2026.md: v11 family (section 2b: defaults,
// create order 1-3, qcow2_check_zone_options 3.1-3.11, warnings through warn_report then "Invalid zoned
// device options") and the Cassel respin (section 4b: no zone.max_append_bytes, zone size a multiple of the
// cluster size). Every rule's edge and every clamp; the v7/v8 matrix stays in create-options.test.ts.
import { describe, expect, it } from 'vitest';
import { validateCreateOptions, ZONE_REVISION_RULES, ZONED_LAYOUT_ALIASES, type CreateValidation } from '../../shared/qcow2/create-options';
import type { ZonedWriteLayout } from '../../shared/qcow2/zoned-types';

const K = 1024;
const M = 1024 * K;
const G = 1024 * M;

function zoned(opts: Record<string, string>, size: string, layout: ZonedWriteLayout): CreateValidation {
  return validateCreateOptions({ options: { 'zone.mode': 'host-managed', ...opts }, size, zonedLayout: layout });
}
const codes = (r: CreateValidation) => r.errors.map((e) => e.code);
const clamps = (r: CreateValidation) => r.warnings.filter((w) => w.code === 'zone-clamp');

describe.each(['v11', 'respin'] as const)('%s: defaults', (layout) => {
  it('zone.size 256 MiB, capacity = size, conventional 0, limits 0', () => {
    const r = zoned({}, '1G', layout);
    expect(r.ok).toBe(true);
    expect(r.normalized?.zoned).toMatchObject({ layout, zoneSize: 256 * M, zoneCapacity: 256 * M, conventionalZones: 0, maxActiveZones: 0, maxOpenZones: 0, maxAppendBytes: layout === 'v11' ? 64 * K : 0, nrZones: 4 });
    expect(r.warnings).toEqual([]);
  });

  it('max_open defaults to max_active when that is given; max_open alone is taken (no v7/v8 "ignored" warning)', () => {
    expect(zoned({ 'zone.size': '8M', 'zone.max_active_zones': '4' }, '64M', layout).normalized?.zoned).toMatchObject({ maxActiveZones: 4, maxOpenZones: 4 });
    const alone = zoned({ 'zone.size': '8M', 'zone.max_open_zones': '3' }, '64M', layout);
    expect(alone.normalized?.zoned).toMatchObject({ maxActiveZones: 0, maxOpenZones: 3 });
    expect(alone.warnings.map((w) => w.code)).not.toContain('zone-ignored');
  });
});

describe.each(['v11', 'respin'] as const)('%s: refusals, each at its edge', (layout) => {
  const invalid = (r: CreateValidation) => {
    expect(r.ok).toBe(false);
    expect(r.errors[r.errors.length - 1]).toMatchObject({ code: 'zone-invalid', message: 'Invalid zoned device options', qemu: 'Invalid zoned device options' });
  };

  it('zone_size 0 is an error of its own, before nr_zones (not a warning, no "Invalid zoned device options")', () => {
    const r = zoned({ 'zone.size': '0' }, '64M', layout);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'zone-size', message: 'Zoned extension header zone_size field can not be 0' })]);
  });

  it('zone size a power of two: 48M refused, 64M accepted', () => {
    const r = zoned({ 'zone.size': '48M' }, '480M', layout);
    expect(r.errors[0]).toMatchObject({ code: 'zone-size', option: 'zone.size', value: String(48 * M), qemu: 'warning: Zoned extension header zone_size 50331648B is not a power of 2' });
    invalid(r);
    expect(zoned({ 'zone.size': '64M' }, '480M', layout).ok).toBe(true);
  });

  it('at most 2^20 zones: 2^20 accepted, 2^20 + 1 refused', () => {
    // 64 KiB zones: v11's default append limit (64 KiB) would break its own rule, so it is lowered.
    const small: Record<string, string> = layout === 'v11' ? { 'zone.size': '64k', 'zone.max_append_bytes': '4k' } : { 'zone.size': '64k' };
    expect(zoned(small, String(2 ** 20 * 64 * K), layout).ok).toBe(true);
    const r = zoned(small, String((2 ** 20 + 1) * 64 * K), layout);
    expect(r.errors[0].qemu).toBe('warning: Zoned extension header nr_zones 1048577 exceeds maximum 1048576');
    invalid(r);
  });

  it('capacity <= size: equal accepted, one sector more refused', () => {
    expect(zoned({ 'zone.size': '8M', 'zone.capacity': '8M' }, '64M', layout).ok).toBe(true);
    const r = zoned({ 'zone.size': '8M', 'zone.capacity': String(8 * M + 512) }, '64M', layout);
    expect(r.errors[0]).toMatchObject({ code: 'zone-capacity', qemu: `warning: zone capacity ${8 * M + 512}B exceeds zone size ${8 * M}B` });
    invalid(r);
  });

  it('conventional_zones < nr_zones: nr - 1 accepted, nr refused', () => {
    expect(zoned({ 'zone.size': '8M', 'zone.conventional_zones': '7' }, '64M', layout).ok).toBe(true);
    const r = zoned({ 'zone.size': '8M', 'zone.conventional_zones': '8' }, '64M', layout);
    expect(r.errors[0]).toMatchObject({ code: 'zone-conventional', qemu: 'warning: Conventional_zones 8 exceeds nr_zones 8.' });
    invalid(r);
  });

  it('zone.size above 4 GiB is fine (64-bit fields)', () => {
    expect(zoned({ 'zone.size': '8G' }, '64G', layout).derived?.nrZones).toBe(8);
  });
});

describe('v11: the append rules', () => {
  it('max_append_bytes must be 512-aligned (new in v11): 4096 accepted, 1000 refused', () => {
    expect(zoned({ 'zone.size': '8M', 'zone.max_append_bytes': '4096' }, '64M', 'v11').ok).toBe(true);
    const r = zoned({ 'zone.size': '8M', 'zone.max_append_bytes': '1000' }, '64M', 'v11');
    expect(codes(r)).toEqual(['zone-append', 'zone-invalid']);
    expect(r.errors[0].qemu).toBe('warning: max append bytes 1000B is not aligned to 512');
  });

  it('max_append_bytes + 512 < capacity: capacity - 1024 accepted, capacity - 512 refused', () => {
    expect(zoned({ 'zone.size': '1M', 'zone.max_append_bytes': String(M - 1024) }, '8M', 'v11').ok).toBe(true);
    const r = zoned({ 'zone.size': '1M', 'zone.max_append_bytes': String(M - 512) }, '8M', 'v11');
    expect(r.errors[0].qemu).toBe(`warning: max append bytes ${M - 512}B exceeds zone capacity ${M}B by more than block size`);
  });

  it('every refusal in the order of qcow2_check_zone_options, then one "Invalid zoned device options"', () => {
    const r = zoned({ 'zone.size': '48M', 'zone.capacity': '49M', 'zone.max_append_bytes': '1000', 'zone.conventional_zones': '10' }, '480M', 'v11');
    expect(codes(r)).toEqual(['zone-size', 'zone-capacity', 'zone-append', 'zone-conventional', 'zone-invalid']);
    // 1000 + 512 < 49M: only the alignment rule of the two append rules breaks.
    expect(r.errors[2].qemu).toMatch(/not aligned to 512/);
  });
});

describe('respin: no append limit, zones of whole clusters', () => {
  it('zone.max_append_bytes is refused as an unknown option, as the respin qemu-img does', () => {
    const r = zoned({ 'zone.size': '8M', 'zone.max_append_bytes': '4096' }, '64M', 'respin');
    expect(r.errors).toEqual([expect.objectContaining({ code: 'unknown-option', option: 'zone.max_append_bytes', value: '4096', qemu: "Invalid parameter 'zone.max_append_bytes'" })]);
    expect(r.errors[0].message).toMatch(/^Invalid parameter 'zone.max_append_bytes'/);
  });

  it('zone size a multiple of the cluster size: 64k with 64k clusters accepted, 32k refused, 32k with 4k clusters accepted', () => {
    expect(zoned({ 'zone.size': '64k' }, '8M', 'respin').ok).toBe(true);
    const r = zoned({ 'zone.size': '32k' }, '8M', 'respin');
    expect(codes(r)).toEqual(['zone-size', 'zone-invalid']);
    expect(r.errors[0]).toMatchObject({ limit: 'a multiple of cluster_size (65536)', qemu: 'warning: zone size 32768B is not a multiple of the cluster size 65536B' });
    expect(zoned({ 'zone.size': '32k', cluster_size: '4k' }, '8M', 'respin').ok).toBe(true);
    // v11 only advises.
    const v11 = zoned({ 'zone.size': '32k', 'zone.max_append_bytes': '4k' }, '8M', 'v11');
    expect(v11.ok).toBe(true);
    expect(v11.warnings.map((w) => w.code)).toContain('zone-advice');
  });
});

describe.each(['v11', 'respin'] as const)('%s: clamps, as warnings that keep create going', (layout) => {
  it('max_active > nr_zones, then max_open > SWR zones', () => {
    const r = zoned({ 'zone.size': '1M', 'zone.conventional_zones': '2', 'zone.max_active_zones': '100', 'zone.max_open_zones': '200' }, '10M', layout);
    expect(r.ok).toBe(true);
    expect(clamps(r).map((w) => [w.option, w.value, w.qemu])).toEqual([
      ['zone.max_active_zones', '100', 'warning: max_active_zones 100 exceeds nr_zones 10, clamping to nr_zones'],
      ['zone.max_open_zones', '200', 'warning: max_open_zones 200 exceeds the number of SWR zones, clamping to 8'],
    ]);
    expect(r.normalized?.zoned).toMatchObject({ maxActiveZones: 10, maxOpenZones: 8 });
  });

  it('max_open > max_active clamps only when max_active is set (v8 forced max_open to 0)', () => {
    const r = zoned({ 'zone.size': '1M', 'zone.max_active_zones': '4', 'zone.max_open_zones': '6' }, '10M', layout);
    expect(clamps(r).map((w) => w.qemu)).toEqual(['warning: max_open_zones 6 exceeds max_active_zones 4, clamping to max_active_zones']);
    expect(r.normalized?.zoned?.maxOpenZones).toBe(4);
    const none = zoned({ 'zone.size': '1M', 'zone.max_open_zones': '6' }, '10M', layout);
    expect(clamps(none)).toEqual([]);
    expect(none.normalized?.zoned?.maxOpenZones).toBe(6);
  });

  it('edges: max_active = nr_zones and max_open = SWR zones are not clamped', () => {
    expect(clamps(zoned({ 'zone.size': '1M', 'zone.conventional_zones': '2', 'zone.max_active_zones': '10', 'zone.max_open_zones': '8' }, '10M', layout))).toEqual([]);
  });
});

describe('the rules are data', () => {
  it('one entry per target, and the aliases map v9 and v10 to the v8 family', () => {
    expect(Object.keys(ZONE_REVISION_RULES)).toEqual(['v7', 'v8', 'v11', 'respin']);
    expect(ZONED_LAYOUT_ALIASES).toMatchObject({ v9: 'v8', v10: 'v8', v11: 'v11', respin: 'respin' });
    expect(ZONE_REVISION_RULES.respin.defaultMaxAppend).toBeNull();
    expect(ZONE_REVISION_RULES.v7.defaultZoneSize).toBeNull();
  });

  it('v11\'s default append limit (64 KiB) refuses zones of 64 KiB unless lowered, as State A would', () => {
    expect(codes(zoned({ 'zone.size': '64k' }, '8M', 'v11'))).toEqual(['zone-append', 'zone-invalid']);
  });

  it('v11 and the respin refuse what v8 only advises (48M zones)', () => {
    expect(zoned({ 'zone.size': '48M' }, '480M', 'v8').ok).toBe(true);
    expect(zoned({ 'zone.size': '48M' }, '480M', 'v11').ok).toBe(false);
    expect(zoned({ 'zone.size': '48M' }, '480M', 'respin').ok).toBe(false);
  });

  it('a zoned image of any target needs compat 1.1', () => {
    for (const layout of ['v11', 'respin'] as const) expect(zoned({ compat: '0.10' }, '1G', layout).errors[0]).toMatchObject({ option: 'compat' });
  });

  it('sizes stay exact past 4 GiB', () => {
    expect(zoned({ 'zone.size': '4G' }, String(16 * G), 'v11').normalized?.zoned?.nrZones).toBe(4);
  });
});
