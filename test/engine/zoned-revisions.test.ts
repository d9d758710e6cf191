// Every revision layout of the zoned extension (ZONED-FORMAT.md section 2), built byte by byte by
// test/helpers/zoned-builder.ts, must decode to the fields it was built with and give the zone report its
// write pointers imply: byte order, bit 59, bits 60-63, short last zone, capacity < size, 32-bit wraps,
// and the findings of section 8 item 8.
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryByteSource } from '../../shared/qcow2/byte-source';
import { openImage, type OpenedImage } from '../../shared/qcow2/image';
import { loadZoneReport, ZoneJsonEncoder, zoneJsonText } from '../../shared/qcow2/zone-report';
import {
  conditionCounts, createZoneTable, rederiveCondition, resourceUse, setZoneCondition, setZoneWp, zoneInfo, zoneInfos,
} from '../../shared/qcow2/zone-table';
import { decodeWpEntry, encodeWpEntry } from '../../shared/qcow2/zonedmeta';
import { effectiveLimits, imageWpByteOrder, zonedInfoJson } from '../../shared/qcow2/zoned-info';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { buildZonedImage, createEntry, wpValue, withoutBit5, type BuilderLayout, type ZonedImageSpec } from '../helpers/zoned-builder';
import { qemuImgStatus, tmpDir } from '../helpers/qemu';

const MiB = 1 << 20;
const GiB = 1 << 30;
const dir = tmpDir();
afterAll(() => dir.cleanup());

async function open(spec: ZonedImageSpec | Uint8Array): Promise<OpenedImage> {
  const bytes = spec instanceof Uint8Array ? spec : buildZonedImage(spec).bytes;
  return openImage(new MemoryByteSource(bytes, 'built.qcow2'));
}

async function zones(spec: ZonedImageSpec) {
  const img = await open(spec);
  const r = await loadZoneReport(img);
  return { img, r, zones: zoneInfos(r.table, 0, r.table.count) };
}

const ids = (fs: { id: string }[]) => fs.map((f) => f.id);

const BASE = {
  virtualSize: 40 * MiB, zoneSize: 4 * MiB, zoneCapacity: 3 * MiB, conventionalZones: 2,
  maxOpenZones: 3, maxActiveZones: 4, maxAppendBytes: 65536,
};

describe('the builder makes structurally valid qcow2 (stock qemu-img check on a copy without bit 5)', () => {
  it.each<[BuilderLayout, number]>([['v8', 16], ['v5-v7', 16], ['v3-v4', 12], ['v2', 16], ['rfc', 9]])(
    '%s layout, cluster_bits %i: no corruption, exactly the zonedmeta clusters leak', (layout, clusterBits) => {
      const built = buildZonedImage({ ...BASE, layout, clusterBits, virtualSize: 1 * GiB, zoneSize: 1 * MiB, zoneCapacity: MiB });
      const f = dir.file(`check-${layout}.qcow2`);
      writeFileSync(f, withoutBit5(built.bytes));
      const r = qemuImgStatus(['check', '--output=json', f]);
      const out = JSON.parse(r.stdout) as { corruptions?: number; leaks?: number; 'check-errors'?: number };
      expect(out.corruptions ?? 0).toBe(0);
      expect(out['check-errors'] ?? 0).toBe(0);
      expect(out.leaks).toBe(Math.ceil((8 * 1024) / 2 ** clusterBits));
      expect(out.leaks).toBe(built.zonedmetaClusters);
    });
});

describe('every revision layout decodes to the fields it was built with', () => {
  const expectedCommon = {
    mode: 1, zoneSize: 4 * MiB, zoneCapacity: 3 * MiB, conventionalZones: 2, nrZones: 10,
    maxOpenZones: 3, maxActiveZones: 4, maxAppendBytes: 65536, zonedmetaOffset: 3 * 65536, zonedmetaSize: 80,
  };
  it.each<[BuilderLayout, number, number | null, RegExp]>([
    ['v8', 56, null, /length 56/],
    ['v5-v7', 48, null, /v5-v7/],
    ['v3-v4', 48, null, /v3\/v4 order/],
    ['v2', 48, 2, /profile byte 2 \(zns\)/],
    ['rfc', 55, 1, /RFC layout.*little-endian/],
  ])('%s (length %i)', async (layout, length, profile, reason) => {
    const img = await open({ ...BASE, layout, profile: profile ?? undefined });
    expect(img.zoned).toMatchObject({ ...expectedCommon, revision: layout, length, profile });
    expect(img.zoned?.revisionReason).toMatch(reason);
    expect(img.findings.filter((f) => f.id.startsWith('zoned.'))).toEqual([]);
    // Every field keeps its file offset for display.
    const off = (n: string) => img.zoned?.fields.find((f) => f.name === n)?.offset;
    const data = img.zoned?.dataOffset ?? 0;
    expect(data).toBe(120);
    const sizeAt: Record<string, number> = { v8: 40, 'v5-v7': 32, 'v3-v4': 40, v2: 40, rfc: 44 };
    expect(off('zonedmeta_size')).toBe(data + sizeAt[layout]);
  });

  it('v3/v4 and v2/RFC store max append in sectors; the decoder reports bytes', async () => {
    const img = await open({ ...BASE, layout: 'v3-v4', maxAppendBytes: 8192 });
    expect(img.zoned?.fields.find((f) => f.name === 'max_append_sectors')?.value).toBe(16);
    expect(img.zoned?.maxAppendBytes).toBe(8192);
  });

  it('RFC enums written by a big-endian host', async () => {
    const img = await open({ ...BASE, layout: 'rfc', rfcEnumOrder: 'big-endian', profile: 2 });
    expect(img.zoned).toMatchObject({ revision: 'rfc', mode: 1, profile: 2 });
    expect(img.zoned?.revisionReason).toMatch(/big-endian/);
  });

  it('a v8 extension longer than 56 bytes is read with the v8 layout and its tail kept raw', async () => {
    const img = await open({ ...BASE, layout: 'v8', extTail: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]) });
    expect(img.zoned).toMatchObject({ revision: 'v8', length: 64, zoneSize: 4 * MiB, nrZones: 10 });
    expect(img.zoned?.fields.find((f) => f.name === 'trailing')?.raw).toBe('deadbeef01020304');
    expect(img.zoned?.raw.endsWith('deadbeef01020304')).toBe(true);
    expect(ids(img.findings)).toContain('zoned.length-longer');
    const r = await loadZoneReport(img);
    expect(r.table.count).toBe(10);
  });

  it.each([40, 52, 54])('an unknown length (%i) is kept raw and the image is read as plain qcow2', async (len) => {
    const img = await open({ ...BASE, layout: 'v8', extData: new Uint8Array(len).fill(1) });
    expect(img.zoned).toBeNull();
    expect(ids(img.findings)).toContain('zoned.length-unknown');
    const ext = img.extensions.extensions.find((e) => e.magic === 0x007a6264);
    expect(ext?.raw).toBe('01'.repeat(len));
    await expect(loadZoneReport(img)).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('a bad mode byte is an error finding and the image is not read as zoned', async () => {
    const img = await open({ ...BASE, layout: 'v5-v7', mode: 2 });
    expect(img.zoned).toBeNull();
    const f = img.findings.find((x) => x.id === 'zoned.mode');
    expect(f).toMatchObject({ severity: 'error', field: 'zoned', offset: 120, found: '2' });
  });

  it('mode 0 means not zoned', async () => {
    const img = await open({ ...BASE, layout: 'v8', mode: 0 });
    expect(img.zoned).toBeNull();
    expect(ids(img.findings)).toContain('zoned.mode-none');
  });

  it('non-zero reserved bytes are a warning naming their offset', async () => {
    const img = await open({ ...BASE, layout: 'v8', reserved: [0, 7, 0] });
    expect(img.findings.find((x) => x.id === 'zoned.reserved')).toMatchObject({ offset: 121, length: 3, found: '000700' });
    expect(img.zoned).not.toBeNull();
  });
});

describe('48-byte extensions: v3/v4 (offset before size) versus v5-v7 (size before offset)', () => {
  it('a v3/v4 image whose offset is cluster aligned and whose size is 8 x nr_zones', async () => {
    const img = await open({ ...BASE, layout: 'v3-v4' });
    expect(img.zoned?.revision).toBe('v3-v4');
    expect(img.zoned?.zonedmetaOffset).toBe(196608);
  });

  it('the same bytes with the two u64 swapped read as v5-v7', async () => {
    const img = await open({ ...BASE, layout: 'v5-v7' });
    expect(img.zoned?.revision).toBe('v5-v7');
    expect(img.zoned?.zonedmetaOffset).toBe(196608);
  });

  it('a v3/v4 image with a wrong zonedmeta_size is still told apart by the aligned offset', async () => {
    const img = await open({ ...BASE, layout: 'v3-v4', zonedmetaSize: 4096 });
    expect(img.zoned?.revision).toBe('v3-v4');
    expect(img.zoned?.zonedmetaSize).toBe(4096);
    const r = await loadZoneReport(img);
    expect(ids(r.findings)).toContain('zoned.zonedmeta-size');
  });

  it('when neither order is plausible, the seed layout is assumed and the reason says so', async () => {
    const img = await open({ ...BASE, layout: 'v5-v7', zonedmetaSize: 12, zonedmetaOffset: 100 });
    expect(img.zoned?.revision).toBe('v5-v7');
    expect(img.zoned?.revisionReason).toMatch(/both field orders fit equally/);
  });

  it('a v5-v7 image with reserved byte 1 = 1 and zone model 1 is not mistaken for v2', async () => {
    // v2 needs bytes 2-3 zero and byte 1 == 1; this has byte 1 = 1, byte 2 = 1.
    const img = await open({ ...BASE, layout: 'v5-v7', reserved: [1, 1, 0] });
    expect(img.zoned?.revision).toBe('v5-v7');
    expect(ids(img.findings)).toContain('zoned.reserved');
  });
});

describe('zone reports from write pointers', () => {
  it.each(['little-endian', 'big-endian'] as const)('%s write pointers: conditions at rest, short last zone, capacity < size', async (order) => {
    // 38 MiB: 10 zones of 4 MiB, the last one 2 MiB long (capacity min(3 MiB, 2 MiB)).
    const wps: Record<number, number> = { 2: 8 * MiB + 4096, 3: 12 * MiB + 3 * MiB, 4: 20 * MiB, 5: 20 * MiB + 1, 6: 24 * MiB };
    const { r, zones: z } = await zones({
      ...BASE, layout: 'v8', virtualSize: 38 * MiB, wpOrder: order,
      entry: (i, start) => (wps[i] !== undefined ? wpValue(wps[i]) : i === 9 ? wpValue(start + 2 * MiB) : undefined),
    });
    expect(r.byteOrder).toBe(order);
    expect(r.table.count).toBe(10);
    expect(z.map((x) => x.condition)).toEqual(['not-wp', 'not-wp', 'closed', 'full', 'full', 'closed', 'empty', 'empty', 'empty', 'full']);
    // A conventional zone's capacity is its length (Linux's device model): zone_capacity is for sequential zones.
    expect(z[0]).toEqual({ index: 0, start: 0, length: 4 * MiB, capacity: 4 * MiB, wp: 0, type: 'conventional', condition: 'not-wp' });
    expect(z[2]).toMatchObject({ wp: 8 * MiB + 4096, type: 'sequential', condition: 'closed' });
    // Zone 4 finished (wp = zone end), zone 3 written to capacity: both full.
    expect(z[3]).toMatchObject({ wp: 15 * MiB, condition: 'full' });
    expect(z[4]).toMatchObject({ wp: 20 * MiB, condition: 'full' });
    expect(z[5]).toMatchObject({ wp: 20 * MiB + 1, condition: 'closed' });
    expect(z[6]).toMatchObject({ wp: 24 * MiB, condition: 'empty' });
    expect(z[9]).toEqual({ index: 9, start: 36 * MiB, length: 2 * MiB, capacity: 2 * MiB, wp: 38 * MiB, type: 'sequential', condition: 'full' });
    expect(ids(r.findings)).toEqual(order === 'big-endian' ? ['zoned.wp-byte-order'] : []);
  });

  it('the last zone finished by QEMU (wp = start + zone_size, past the device end) is full, not corrupt', async () => {
    const { r, zones: z } = await zones({ ...BASE, layout: 'v8', virtualSize: 38 * MiB, entry: (i, start) => (i === 9 ? wpValue(start + 4 * MiB) : undefined) });
    expect(z[9]).toMatchObject({ wp: 40 * MiB, condition: 'full', length: 2 * MiB });
    expect(r.findings).toEqual([]);
  });

  it('big-endian is chosen only when every big-endian pointer fits (all-empty BE images read the same either way)', async () => {
    const { r } = await zones({ ...BASE, layout: 'v8', conventionalZones: 0, wpOrder: 'big-endian', entry: () => 0n });
    // Only zone 0 has start 0; the rest misfit in both orders: little-endian, the default, with a warning.
    expect(r.byteOrder).toBe('little-endian');
    expect(ids(r.findings)).toContain('zoned.wp-byte-order');
    expect(ids(r.findings)).toContain('zoned.wp-out-of-range');
  });

  it('RFC-v3 images: bits 60-63 are a persisted condition, reported beside the condition at rest', async () => {
    const nib: Record<number, number> = { 2: 1, 3: 4, 4: 0xe, 5: 2 };
    const wps: Record<number, number> = { 3: 12 * MiB + 4096, 4: 16 * MiB + 3 * MiB, 5: 20 * MiB + 512 };
    for (const layout of ['rfc', 'v2', 'v3-v4'] as const) {
      const { r, zones: z } = await zones({ ...BASE, layout, entry: (i, start) => (nib[i] !== undefined ? wpValue(wps[i] ?? start, { nibble: nib[i] }) : undefined) });
      expect(z.slice(2, 7).map((x) => x.condition)).toEqual(['empty', 'closed', 'full', 'closed', 'empty']);
      expect(r.table.persisted).not.toBeNull();
      expect(Array.from(r.table.persisted ?? []).slice(2, 7)).toEqual([1, 4, 0xe, 2, 1]);
      expect(zoneJsonText(r.table, 4)).toBe(`{"index":4,"start":${16 * MiB},"length":${4 * MiB},"capacity":${3 * MiB},"wp":${19 * MiB},"wp-defined":true,"wp-normalised":${20 * MiB},"type":"sequential","condition":"full","persisted-condition":14}`);
      expect(r.findings).toEqual([]);
    }
  });

  it('an RFC-v3 persisted condition that contradicts the write pointer is an info finding', async () => {
    const { r } = await zones({ ...BASE, layout: 'v3-v4', entry: (i, start) => (i === 5 ? wpValue(start, { nibble: 0xe }) : undefined) });
    expect(r.findings.find((f) => f.id === 'zoned.persisted-condition')).toMatchObject({ severity: 'info', offset: 196608 + 40 });
  });

  it('bits 60-63 in a v4+ image are ignored with a warning', async () => {
    const { r, zones: z } = await zones({ ...BASE, layout: 'v5-v7', entry: (i, start) => (i === 4 ? wpValue(start + 8192, { nibble: 4 }) : undefined) });
    expect(z[4]).toMatchObject({ wp: 16 * MiB + 8192, condition: 'closed' });
    expect(r.table.persisted).toBeNull();
    expect(r.findings.find((f) => f.id === 'zoned.state-bits')).toMatchObject({ severity: 'warning', offset: 196608 + 32 });
    expect(zoneJsonText(r.table, 4)).not.toContain('persisted');
  });

  it('v7 wrapped initial pointers past 4 GiB are unwrapped with a warning naming the overflow', async () => {
    // 8 zones of 1 GiB: zone 4 starts at 4 GiB, which a v7 QEMU stores as 0 (section 10).
    const { r, zones: z } = await zones({
      layout: 'v5-v7', virtualSize: 8 * GiB, zoneSize: GiB, zoneCapacity: GiB, maxAppendBytes: 65536,
      entry: (i, start) => wpValue((start + (i === 6 ? 4096 : 0)) % 2 ** 32),
    });
    expect(z.map((x) => x.wp)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => i * GiB + (i === 6 ? 4096 : 0)));
    expect(z.map((x) => x.condition)).toEqual(['empty', 'empty', 'empty', 'empty', 'empty', 'empty', 'closed', 'empty']);
    expect(r.byteOrder).toBe('little-endian');
    const wrapped = r.findings.filter((f) => f.id === 'zoned.wp-wrapped');
    expect(wrapped.map((f) => f.field)).toEqual([4, 5, 6, 7].map((i) => `write pointer of zone ${i}`));
    expect(wrapped[0].message).toMatch(/32-bit overflow/);
  });

  it('v8 images never wrap: the same pointers are out of range', async () => {
    const { r } = await zones({
      layout: 'v8', virtualSize: 8 * GiB, zoneSize: GiB, zoneCapacity: GiB, maxAppendBytes: 65536,
      entry: (_i, start) => wpValue(start % 2 ** 32),
    });
    expect(r.findings.filter((f) => f.id === 'zoned.wp-out-of-range')).toHaveLength(4);
  });
});

describe('findings the write-pointer array shows (section 8 item 8)', () => {
  it('write pointer outside [start, start + zone_size]', async () => {
    const { r, zones: z } = await zones({ ...BASE, layout: 'v8', entry: (i, start) => (i === 3 ? wpValue(start + 5 * MiB) : i === 4 ? wpValue(start - 512) : undefined) });
    const f = r.findings.filter((x) => x.id === 'zoned.wp-out-of-range');
    expect(f.map((x) => [x.offset, x.found, x.severity])).toEqual([[196608 + 24, String(17 * MiB), 'error'], [196608 + 32, String(16 * MiB - 512), 'error']]);
    expect(f[0].expected).toBe(`in [${12 * MiB}, ${16 * MiB}]`);
    expect(z[4].condition).toBe('not-wp');
  });

  it('conventional entry without start | bit 59, and bit 59 on a sequential zone', async () => {
    const { r, zones: z } = await zones({ ...BASE, layout: 'v8', entry: (i, start) => (i === 0 ? wpValue(start) : i === 1 ? wpValue(start + 4096, { conventional: true }) : i === 2 ? wpValue(start, { conventional: true }) : undefined) });
    expect(r.findings.filter((f) => f.id === 'zoned.conventional-wp').map((f) => f.field)).toEqual(['write pointer of zone 0', 'write pointer of zone 1']);
    expect(r.findings.find((f) => f.id === 'zoned.conventional-bit')?.field).toBe('write pointer of zone 2');
    expect(z[1]).toMatchObject({ wp: 4 * MiB, condition: 'not-wp', type: 'conventional' });
  });

  it('nr_zones that does not match the virtual size', async () => {
    const { r } = await zones({ ...BASE, layout: 'v8', nrZones: 12 });
    expect(r.findings.find((f) => f.id === 'zoned.nr-zones')).toMatchObject({ severity: 'error', found: '12', offset: 120 + 24 });
    expect(r.table.count).toBe(10);
  });

  it('the RFC accepted floor(size / zone_size) zones', async () => {
    const { r } = await zones({ ...BASE, layout: 'rfc', virtualSize: 38 * MiB, nrZones: 9 });
    expect(ids(r.findings)).not.toContain('zoned.nr-zones');
    expect(r.table.count).toBe(9);
  });

  it('limits that break the rules: raw and effective values', async () => {
    const { img, r } = await zones({ ...BASE, layout: 'v8', maxActiveZones: 20, maxOpenZones: 9 });
    const act = r.findings.find((f) => f.id === 'zoned.max-active-clamped');
    const opn = r.findings.find((f) => f.id === 'zoned.max-open-clamped');
    expect(act).toMatchObject({ severity: 'warning', found: '20', offset: 120 + 28 });
    expect(act?.message).toContain('effective value 10');
    expect(opn).toMatchObject({ found: '9', offset: 120 + 32 });
    expect(opn?.message).toContain('effective value 8');
    expect(r.limits).toMatchObject({ maxActiveZones: 10, maxOpenZones: 8 });
    const info = zonedInfoJson(img.zoned!, 'little-endian');
    expect(info).toMatchObject({ 'max-active-zones': 20, 'max-open-zones': 9, effective: { 'max-active-zones': 10, 'max-open-zones': 8 } });
  });

  it('rules QEMU rejects: capacity > size, append too large, all zones conventional, size not a power of two', async () => {
    const { r } = await zones({ ...BASE, layout: 'v8', zoneSize: 3 * MiB, virtualSize: 30 * MiB, zoneCapacity: 4 * MiB, maxAppendBytes: 4 * MiB, conventionalZones: 10 });
    expect(ids(r.findings)).toEqual(expect.arrayContaining([
      'zoned.zone-size-not-power-of-two', 'zoned.capacity-exceeds-size', 'zoned.max-append-too-large', 'zoned.conventional-zones',
    ]));
    expect(r.limits.violations).toHaveLength(3);
  });

  it('zonedmeta unaligned, and past the end of the file: missing zones are offline', async () => {
    const built = buildZonedImage({ ...BASE, layout: 'v8' });
    // Move the offset 40 bytes back inside the refcount block cluster: unaligned, but readable.
    const unaligned = await zones({ ...BASE, layout: 'v8', zonedmetaOffset: 3 * 65536 - 40 });
    expect(ids(unaligned.r.findings)).toContain('zoned.zonedmeta-unaligned');
    // Truncate the file inside the array: zones 5.. have no entry.
    const cut = built.bytes.slice(0, built.zonedmetaOffset + 40);
    const img = await open(cut);
    const r = await loadZoneReport(img);
    expect(ids(r.findings)).toContain('zoned.zonedmeta-past-eof');
    expect(Array.from({ length: 10 }, (_, i) => zoneInfo(r.table, i).condition)).toEqual(['not-wp', 'not-wp', 'empty', 'empty', 'empty', 'offline', 'offline', 'offline', 'offline', 'offline']);
  });

  it('zone size 0 is a typed error, not a crash', async () => {
    const img = await open({ ...BASE, layout: 'v8', zoneSize: 0, nrZones: 10 } as ZonedImageSpec);
    const err = await loadZoneReport(img).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Qcow2Error);
    expect((err as Qcow2Error).code).toBe('invalid-extension');
    expect(await imageWpByteOrder(img)).toBeNull();
  });

  it('many bad pointers are summarised, not listed one by one', async () => {
    const { r } = await zones({ layout: 'v8', virtualSize: 1000 * MiB, zoneSize: MiB, zoneCapacity: MiB, maxAppendBytes: 4096, entry: (i, start) => wpValue(start + 2 * MiB + i) });
    const f = r.findings.filter((x) => x.id === 'zoned.wp-out-of-range');
    expect(f).toHaveLength(17);
    expect(f[16].found).toBe('1000 zones in all');
  });
});

describe('zone table API for the writer and the UI', () => {
  const g = { zoneSize: 4 * MiB, zoneCapacity: 3 * MiB, deviceSize: 38 * MiB, count: 10, conventionalZones: 2 };

  it('derives conditions from the write pointer and keeps in-memory overrides until re-derived', () => {
    const t = createZoneTable(g);
    expect(conditionCounts(t)).toMatchObject({ 'not-wp': 2, empty: 8 });
    expect(setZoneWp(t, 3, 12 * MiB + 512)).toBe('closed');
    setZoneCondition(t, 3, 'implicit-open');
    setZoneCondition(t, 4, 'explicit-open');
    expect(zoneInfo(t, 3).condition).toBe('implicit-open');
    expect(resourceUse(t)).toEqual({ open: 2, active: 2 });
    expect(rederiveCondition(t, 4)).toBe('empty');
    expect(setZoneWp(t, 9, 36 * MiB + 2 * MiB)).toBe('full');
    expect(zoneInfo(t, 9).capacity).toBe(2 * MiB);
    expect(conditionCounts(t)).toMatchObject({ 'implicit-open': 1, full: 1, empty: 6 });
  });

  it('encodes and decodes entries in both byte orders', () => {
    for (const order of ['little-endian', 'big-endian'] as const) {
      const b = encodeWpEntry(5 * GiB + 4096, true, order, 0xe);
      expect(decodeWpEntry(b, 0, order)).toEqual({ address: 5 * GiB + 4096, conventional: true, nibble: 0xe });
      const v = new DataView(b.buffer).getBigUint64(0, order === 'little-endian');
      expect(v).toBe(wpValue(5 * GiB + 4096, { conventional: true, nibble: 0xe }));
    }
  });

  it('createEntry matches what each revision writes at create', () => {
    expect(createEntry('v8', 0, 0, 1)).toBe(1n << 59n);
    expect(createEntry('v3-v4', 2, 8 * MiB, 1)).toBe(BigInt(8 * MiB) | (1n << 60n));
  });

  it('effectiveLimits follows the v8 order (max_active 0 forces max_open to 0)', () => {
    const z = { zoneSize: MiB, zoneCapacity: MiB, conventionalZones: 0, nrZones: 10, maxActiveZones: 0, maxOpenZones: 5, maxAppendBytes: 0 };
    expect(effectiveLimits(z as Parameters<typeof effectiveLimits>[0])).toMatchObject({ maxOpenZones: 0, maxActiveZones: 0 });
  });

  it('the streaming JSON encoder writes exactly what JSON.stringify of each zone gives', async () => {
    for (const layout of ['v8', 'v3-v4'] as const) {
      const { r } = await zones({ ...BASE, layout, virtualSize: 38 * MiB, entry: (i, start) => (i === 3 ? wpValue(start + 4096) : undefined) });
      const enc = new ZoneJsonEncoder(4);
      const text = [enc.encode(r.table, 0, 4), enc.encode(r.table, 4, 8), enc.encode(r.table, 8, 10)].join(',\n');
      expect(text).toBe(Array.from({ length: 10 }, (_, i) => zoneJsonText(r.table, i)).join(',\n'));
      const parsed = JSON.parse(`[${text}]`) as Record<string, unknown>[];
      expect(parsed.map(({ 'persisted-condition': _p, 'wp-defined': _d, 'wp-normalised': _n, ...z }) => z)).toEqual(zoneInfos(r.table, 0, 10));
      expect(() => enc.encode(r.table, 0, 5)).toThrow(RangeError);
    }
    // Numbers of every width, up to a 64 TiB device.
    const t = createZoneTable({ zoneSize: 64 * MiB, zoneCapacity: 64 * MiB, deviceSize: 2 ** 46, count: 1 << 20, conventionalZones: 0 });
    setZoneWp(t, (1 << 20) - 1, 2 ** 46);
    expect(new ZoneJsonEncoder().encode(t, (1 << 20) - 2, 1 << 20)).toBe([zoneJsonText(t, (1 << 20) - 2), zoneJsonText(t, (1 << 20) - 1)].join(',\n'));
    expect(JSON.parse(zoneJsonText(t, (1 << 20) - 1))).toMatchObject({ start: 2 ** 46 - 64 * MiB, wp: 2 ** 46, condition: 'full' });
  });
});
