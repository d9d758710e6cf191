// The 2026 revisions (ZONED-REVISIONS-2026.md): v8/v9/v10 as one 56-byte family, the 48-byte v11 family
// (State A: nr_zones at 4, 64-bit fields aligned, big-endian write pointers, bit 63 conventional) told apart
// from v5-v7 by content, and the 44-byte respin (State B). Images are built byte by byte by
// test/helpers/zoned-builder.ts; each ambiguity of section 5 has a test that shows what we report.
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryByteSource } from '../../shared/qcow2/byte-source';
import { openImage, type OpenedImage } from '../../shared/qcow2/image';
import { loadZoneReport } from '../../shared/qcow2/zone-report';
import { zoneInfos } from '../../shared/qcow2/zone-table';
import { decodeWpEntry, encodeWpEntry, ByteOrderDetector, WP_ENCODING_BIT63 } from '../../shared/qcow2/zonedmeta';
import { effectiveLimits, zonedInfoJson } from '../../shared/qcow2/zoned-info';
import { ZONED_OPEN_RULES } from '../../shared/qcow2/zoned-open-rules';
import { buildZonedImage, wpValue63, type ZonedImageSpec } from '../helpers/zoned-builder';
import { qzs, qzsJson } from '../helpers/cli';
import { tmpDir } from '../helpers/qemu';

const MiB = 1 << 20;
const GiB = 1 << 30;
const dir = tmpDir('qzs-2026-');
afterAll(() => dir.cleanup());

async function open(spec: ZonedImageSpec): Promise<OpenedImage> {
  return openImage(new MemoryByteSource(buildZonedImage(spec).bytes, 'built.qcow2'));
}
const zoned = (img: OpenedImage) => {
  if (!img.zoned) throw new Error('not zoned');
  return img.zoned;
};
const ids = (fs: { id: string }[]) => fs.map((f) => f.id);
const zonedIds = (img: OpenedImage) => ids(img.findings).filter((i) => i.startsWith('zoned.'));

const BASE = {
  virtualSize: 40 * MiB, zoneSize: 4 * MiB, zoneCapacity: 3 * MiB, conventionalZones: 2,
  maxOpenZones: 3, maxActiveZones: 4, maxAppendBytes: 65536,
};
const COMMON = {
  mode: 1, zoneSize: 4 * MiB, zoneCapacity: 3 * MiB, conventionalZones: 2, nrZones: 10,
  maxOpenZones: 3, maxActiveZones: 4, zonedmetaOffset: 3 * 65536, zonedmetaSize: 80,
};

describe('detection by content (2026 notes section 5)', () => {
  it('56 bytes: the v8/v9/v10 family, said to be one family whose postings cannot be told apart', async () => {
    const z = zoned(await open({ ...BASE, layout: 'v8' }));
    expect(z).toMatchObject({ ...COMMON, revision: 'v8', length: 56, wpFlagBit: 59, wpDeclaredOrder: null, hasAppendLimit: true });
    expect(z.revisionCandidates).toEqual(['v8', 'v9', 'v10']);
    expect(z.revisionAmbiguity.join(' ')).toMatch(/v8, v9 and v10 write byte-identical images/);
    expect(z.revisionReason).toMatch(/one family: v8, v9, v10/);
  });

  it('48 bytes with nr_zones at +4: the v11 family, not v5-v7; big-endian, bit 63, the discriminators named', async () => {
    const img = await open({ ...BASE, layout: 'v11' });
    const z = zoned(img);
    expect(z).toMatchObject({ ...COMMON, revision: 'v11', length: 48, maxAppendBytes: 65536, wpFlagBit: 63, wpDeclaredOrder: 'big-endian', hasAppendLimit: true });
    expect(z.revisionCandidates).toEqual(['v11', 'v12?', 'v13?', 'floatious State A']);
    expect(z.revisionDiscriminators.join('\n')).toMatch(/nr_zones@4 = 10 == ceil\(size 41943040 \/ zone_size@8 4194304\) = 10/);
    expect(z.revisionDiscriminators.join('\n')).toMatch(/no 8 x nr_zones@16 at \+32 or \+40/);
    expect(z.revisionAmbiguity.join('\n')).toMatch(/cannot be told apart/);
    expect(z.revisionAmbiguity.join('\n')).toMatch(/inferred/);
    expect(z.fields.map((f) => [f.name, f.offset - z.dataOffset])).toEqual([
      ['zoned', 0], ['reserved', 1], ['nr_zones', 4], ['zone_size', 8], ['zone_capacity', 16], ['conventional_zones', 24],
      ['max_active_zones', 28], ['max_open_zones', 32], ['max_append_bytes', 36], ['zonedmeta_offset', 40],
    ]);
    expect(zonedIds(img)).toEqual([]);
  });

  it('44 bytes: the respin, padded to 48 in the file, without an append limit', async () => {
    const img = await open({ ...BASE, layout: 'respin', maxAppendBytes: undefined });
    const z = zoned(img);
    expect(z).toMatchObject({ ...COMMON, revision: 'respin', length: 44, maxAppendBytes: 0, hasAppendLimit: false, wpFlagBit: 63, wpDeclaredOrder: 'big-endian' });
    expect(z.fields.map((f) => f.name)).not.toContain('max_append_bytes');
    expect(z.fields.find((f) => f.name === 'zonedmeta_offset')?.offset).toBe(z.dataOffset + 24);
    expect(z.revisionAmbiguity.join(' ')).toMatch(/respin #1 and #2/);
    expect(img.extensions.extensions.find((e) => e.magic === 0x007a6264)?.paddedLength).toBe(48);
    expect(zonedIds(img)).toEqual([]);
  });

  it('v5-v7 images stay v5-v7 (the v11 reading gives the wrong nr_zones)', async () => {
    const z = zoned(await open({ ...BASE, layout: 'v5-v7' }));
    expect(z.revision).toBe('v5-v7');
    expect(z.revisionDiscriminators.join('\n')).toMatch(/read as v11: nr_zones@4 = 4194304 != /);
  });

  it('ambiguity: a v11 image whose max_open/max_append form 8 x nr_zones at +32 is still v11, and says why', async () => {
    // v5-v7 reading: nr_zones@16 = high half of the capacity (1 for a capacity past 4 GiB); u64@32 =
    // max_open << 32 | max_append = 8 = 8 x 1, exactly a v5-v7 zonedmeta_size.
    const img = await open({ layout: 'v11', virtualSize: 16 * GiB, zoneSize: 8 * GiB, zoneCapacity: 4 * GiB + 65536, maxOpenZones: 0, maxAppendBytes: 8, clusterBits: 16 });
    const z = zoned(img);
    expect(z.revision).toBe('v11');
    expect(z.revisionAmbiguity.join('\n')).toMatch(/8 x nr_zones@16 sits at \+32 as a v3-v7 zonedmeta_size would, but only the v11 reading gives the right nr_zones/);
    // And v11's own rule refuses the unaligned append limit.
    expect(zonedIds(img)).toContain('zoned.open-refused.max-append-aligned');
  });

  it('the write pointers confirm or contradict: a v11 image with little-endian entries is reported', async () => {
    const img = await open({ ...BASE, layout: 'v11', wpOrder: 'little-endian', entry: (i, start) => wpValue63(start + (i >= 2 ? 4096 : 0), i < 2) });
    const r = await loadZoneReport(img);
    expect(r.byteOrder).toBe('little-endian');
    const f = r.findings.find((x) => x.id === 'zoned.wp-byte-order');
    expect(f?.severity).toBe('warning');
    expect(f?.message).toMatch(/contradicts the revision's big-endian entries/);
  });

  it('info --json and the text output carry the revision, candidates, discriminators and ambiguity', () => {
    const f = dir.file('v11.qcow2');
    writeFileSync(f, buildZonedImage({ ...BASE, layout: 'v11' }).bytes);
    const j = qzsJson<{ zoned: Record<string, unknown> }>(['info', '--json', f]);
    expect(j.zoned).toMatchObject({ revision: 'v11', 'wp-byte-order': 'big-endian', 'wp-flag-bit': 63, 'has-append-limit': true, 'revision-candidates': ['v11', 'v12?', 'v13?', 'floatious State A'] });
    expect((j.zoned['revision-discriminators'] as string[]).length).toBeGreaterThan(2);
    const t = qzs(['info', f]);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/revision: v11 \(length 48 without a profile byte; read as v11: nr_zones@4 = 10 == .*one family: v11, v12\?, v13\?, floatious State A\); ambiguous: /);
    expect(t.stdout).toMatch(/write pointers big-endian/);
  });
});

describe('write pointers: big-endian, bit 63', () => {
  it('entries encode and decode with either flag bit in either order', () => {
    for (const order of ['little-endian', 'big-endian'] as const) {
      const b = encodeWpEntry(5 * GiB + 4096, true, order, 0, 63);
      expect(decodeWpEntry(b, 0, order, 63)).toEqual({ address: 5 * GiB + 4096, conventional: true, nibble: 0 });
      // Read with the old layout, bit 63 is a condition nibble, not the flag.
      expect(decodeWpEntry(b, 0, order, 59)).toMatchObject({ conventional: false, nibble: 8 });
    }
    expect(Array.from(encodeWpEntry(64 * MiB, true, 'big-endian', 0, 63))).toEqual([0x80, 0, 0, 0, 0x04, 0, 0, 0]);
  });

  it('the one detector prefers the revision\'s order and falls back when only the other fits', () => {
    const raw = new Uint8Array(16);
    const dv = new DataView(raw.buffer);
    dv.setBigUint64(8, BigInt(4 * MiB + 512), true);
    const d = new ByteOrderDetector({ zoneSize: 4 * MiB }, false, WP_ENCODING_BIT63, 'big-endian');
    d.visit(0, dv, 2);
    expect(d.result().order).toBe('little-endian');
    const single = new ByteOrderDetector({ zoneSize: 4 * MiB }, false, WP_ENCODING_BIT63, 'big-endian');
    single.visit(0, new DataView(new Uint8Array(8).buffer), 1);
    expect(single.result().order).toBe('big-endian');
  });

  it.each(['v11', 'respin'] as const)('%s: conventional, written, full and short-last zones report from big-endian entries', async (layout) => {
    const img = await open({
      layout, virtualSize: 38 * MiB, zoneSize: 4 * MiB, zoneCapacity: 3 * MiB, conventionalZones: 1,
      maxAppendBytes: layout === 'v11' ? 65536 : undefined,
      entry: (i, start) => (i === 1 ? wpValue63(start + 8192) : i === 2 ? wpValue63(start + 3 * MiB) : i === 9 ? wpValue63(start + MiB) : undefined),
    });
    const r = await loadZoneReport(img);
    expect(r.byteOrder).toBe('big-endian');
    const zs = zoneInfos(r.table, 0, r.table.count);
    expect(zs[0]).toMatchObject({ type: 'conventional', condition: 'not-wp', wp: 0 });
    expect(zs[1]).toMatchObject({ type: 'sequential', condition: 'closed', wp: 4 * MiB + 8192 });
    expect(zs[2]).toMatchObject({ condition: 'full', wp: 8 * MiB + 3 * MiB });
    expect(zs[3]).toMatchObject({ condition: 'empty', wp: 12 * MiB });
    // Last zone: 2 MiB long, capacity min(3 MiB, 2 MiB); 1 MiB written.
    expect(zs[9]).toMatchObject({ length: 2 * MiB, capacity: 2 * MiB, condition: 'closed', wp: 37 * MiB });
    expect(ids(r.findings).filter((i) => i !== 'zoned.zone-size-not-cluster-multiple')).toEqual([]);
  });
});

describe('open-time rules of each revision, as findings naming the revision and quoting its message', () => {
  it('v11: a 48M zone size (not a power of two)', async () => {
    const img = await open({ ...BASE, layout: 'v11', virtualSize: 480 * MiB, zoneSize: 48 * MiB, zoneCapacity: 48 * MiB });
    const f = img.findings.find((x) => x.id === 'zoned.open-refused.zone-size-power-of-two');
    expect(f?.severity).toBe('error');
    expect(f?.message).toBe('the v11 family (State A) refuses to open this image: "warning: Zoned extension header zone_size 50331648B is not a power of 2; then: Invalid zoned extension header"');
    expect(zoned(img).revision).toBe('v11');
  });

  it('v11: more than 2^20 zones, an unaligned or too large append limit, all zones conventional, zoned byte 2', async () => {
    const many = await open({ layout: 'v11', virtualSize: (2 ** 20 + 1) * 65536, zoneSize: 65536, maxAppendBytes: 0 });
    expect(many.findings.find((x) => x.id === 'zoned.open-refused.nr-zones-maximum')?.message).toMatch(/"warning: Zoned extension header nr_zones 1048577 exceeds maximum 1048576; then: Invalid zoned extension header"/);
    const append = await open({ ...BASE, layout: 'v11', maxAppendBytes: 3 * MiB - 100 });
    expect(zonedIds(append)).toEqual(expect.arrayContaining(['zoned.open-refused.max-append-aligned', 'zoned.open-refused.max-append-capacity']));
    expect(append.findings.find((x) => x.id === 'zoned.open-refused.max-append-capacity')?.message).toMatch(/max append bytes 3145628B exceeds zone capacity 3145728B by more than block size/);
    const conv = await open({ ...BASE, layout: 'v11', conventionalZones: 10 });
    expect(conv.findings.find((x) => x.id === 'zoned.open-refused.conventional-zones')?.message).toMatch(/Conventional_zones 10 exceeds nr_zones 10\./);
    const mode = await open({ ...BASE, layout: 'v11', mode: 2 });
    expect(mode.findings.find((x) => x.id === 'zoned.open-refused.zoned-value')?.message).toMatch(/Zoned extension header zoned field has unknown value 2/);
  });

  it('v11 and respin: nr_zones wrong, zonedmeta past the end of the file', async () => {
    const wrong = await open({ ...BASE, layout: 'v11', nrZones: 11 });
    expect(wrong.findings.find((x) => x.id === 'zoned.open-refused.nr-zones')?.message).toMatch(/"Zoned extension header nr_zones field is wrong"/);
    const past = await open({ ...BASE, layout: 'respin', zonedmetaOffset: 64 * MiB });
    expect(past.findings.find((x) => x.id === 'zoned.open-refused.zonedmeta-inside-file')?.message).toMatch(/the Cassel respin \(State B\) refuses to open this image: "Zoned metadata region exceeds the image file size"/);
  });

  it('respin: zone size not a multiple of the cluster size, unaligned zonedmeta offset (our wording, said so)', async () => {
    const img = await open({ layout: 'respin', virtualSize: 4 * MiB, zoneSize: 32768, clusterBits: 16, zonedmetaOffset: 3 * 65536 + 8 });
    const f = img.findings.find((x) => x.id === 'zoned.open-refused.zone-size-cluster-multiple');
    expect(f?.message).toMatch(/Zone size 32768 is not a multiple of the cluster size 65536.*our wording/);
    expect(zonedIds(img)).toContain('zoned.open-refused.zonedmeta-offset');
  });

  it('respin: every write pointer is checked at open, with the floatious iotest\'s texts', async () => {
    const img = await open({
      layout: 'respin', virtualSize: 256 * MiB, zoneSize: 64 * MiB, clusterBits: 16,
      entry: (i, start) => (i === 1 ? BigInt(0x4000201) : i === 2 ? wpValue63(start, true) : i === 3 ? 0n : undefined),
    });
    const r = await loadZoneReport(img);
    const msg = (id: string) => r.findings.find((x) => x.id === id)?.message;
    expect(msg('zoned.open-refused.wp-unaligned')).toBe('the Cassel respin (State B) refuses to open this image: "can\'t open: Zone 1 has write pointer 0x4000201 that is not sector aligned"');
    expect(msg('zoned.open-refused.wp-flag')).toBe('the Cassel respin (State B) refuses to open this image: "can\'t open: Zone 2 contradicts the header, which declares the first 0 zones conventional"');
    expect(msg('zoned.open-refused.wp-range')).toBe('the Cassel respin (State B) refuses to open this image: "can\'t open: Zone 3 has write pointer 0x0 outside its writable range 0xc000000..0x10000000"');
  });

  it('the same stored values are not refused by the v8 family (its rules differ)', async () => {
    const img = await open({ ...BASE, layout: 'v8', virtualSize: 480 * MiB, zoneSize: 48 * MiB, zoneCapacity: 48 * MiB });
    expect(zonedIds(img).filter((i) => i.startsWith('zoned.open-refused'))).toEqual([]);
  });

  it('every rule names only 2026 revisions and has a message', () => {
    for (const r of ZONED_OPEN_RULES) {
      expect(r.revisions.every((v) => v === 'v11' || v === 'respin')).toBe(true);
      expect(r.error).toBeTruthy();
    }
  });
});

describe('effective limits follow the image\'s revision', () => {
  it('v11/respin: max_open > max_active is clamped only when max_active is set; v8 forces max_open to 0', async () => {
    const v11 = zoned(await open({ ...BASE, layout: 'v11', maxOpenZones: 3, maxActiveZones: 0 }));
    expect(effectiveLimits(v11)).toMatchObject({ maxOpenZones: 3, maxActiveZones: 0 });
    const v8 = zoned(await open({ ...BASE, layout: 'v8', maxOpenZones: 3, maxActiveZones: 0 }));
    expect(effectiveLimits(v8)).toMatchObject({ maxOpenZones: 0, maxActiveZones: 0 });
    const respin = zoned(await open({ ...BASE, layout: 'respin' }));
    expect(effectiveLimits(respin).violations).toEqual([]);
    expect(zonedInfoJson(respin, 'big-endian')['has-append-limit']).toBe(false);
  });
});
