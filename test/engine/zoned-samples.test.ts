// The two reference images written by a patched QEMU (v8 2/4 + v9 3/4) must give exactly the zone
// reports QEMU printed for them (samples/*.zone-report.txt), converted from sectors to bytes. That QEMU
// reports the zone length as capacity; we report the real capacity from the header (section 9 item 9).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileByteSource } from '../../electron/engine/file-source';
import { openImage } from '../../shared/qcow2/image';
import { loadZoneReport } from '../../shared/qcow2/zone-report';
import { conditionFromCode, zoneInfos } from '../../shared/qcow2/zone-table';
import { imageWpByteOrder } from '../../shared/qcow2/zoned-info';
import { SAMPLES } from '../helpers/samples';


interface QemuZone { start: number; len: number; cap: number; wptr: number; zcond: number; type: number }

/** Parse qemu-io's zone_report lines: "start: 0x0, len 0x4000, cap 0x4000, wptr 0x0, zcond:1, [type: 2]". */
function parseZoneReport(text: string): QemuZone[] {
  const re = /^start: (0x[0-9a-f]+), len (0x[0-9a-f]+), cap (0x[0-9a-f]+), wptr (0x[0-9a-f]+), zcond:(\d+), \[type: (\d+)\]$/;
  return text.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const m = re.exec(line.trim());
    if (!m) throw new Error(`unparsable zone report line: ${line}`);
    return { start: Number(m[1]), len: Number(m[2]), cap: Number(m[3]), wptr: Number(m[4]), zcond: Number(m[5]), type: Number(m[6]) };
  });
}

async function report(name: string) {
  const src = await FileByteSource.open(join(SAMPLES, name));
  try {
    const img = await openImage(src);
    return { img, report: await loadZoneReport(img), order: await imageWpByteOrder(img) };
  } finally {
    await src.close();
  }
}

describe.each([
  { image: 'sample-v8-fresh.qcow2', txt: 'sample-v8-fresh.zone-report.txt', zones: 8, capacity: 8 << 20, conv: 0 },
  { image: 'sample-v8-mixed.qcow2', txt: 'sample-v8-mixed.zone-report.txt', zones: 10, capacity: 3 << 20, conv: 2 },
])('$image', ({ image, txt, zones, capacity, conv }) => {
  it('matches the zone report QEMU printed, in bytes, with the capacity from the header', async () => {
    const expected = parseZoneReport(readFileSync(join(SAMPLES, txt), 'utf8'));
    expect(expected).toHaveLength(zones);
    const { img, report: r } = await report(image);
    expect(img.zoned?.revision).toBe('v8');
    expect(img.zoned?.zoneCapacity).toBe(capacity);
    expect(r.table.count).toBe(zones);
    const got = zoneInfos(r.table, 0, r.table.count);
    expect(got).toEqual(expected.map((q, index) => ({
      index,
      start: q.start * 512,
      length: q.len * 512,
      // Conventional zones: their length (the device model); QEMU's cap column is the length for every zone.
      capacity: q.type === 1 ? q.len * 512 : Math.min(capacity, q.len * 512),
      wp: q.wptr * 512,
      type: q.type === 1 ? 'conventional' : 'sequential',
      condition: conditionFromCode(q.zcond),
    })));
  });

  it('has little-endian write pointers, no zoned findings and the header values of its qemu-img create', async () => {
    const { img, report: r, order } = await report(image);
    expect(order).toBe('little-endian');
    expect(r.byteOrder).toBe('little-endian');
    expect(r.findings).toEqual([]);
    expect(img.findings.filter((f) => f.id.startsWith('zoned.'))).toEqual([]);
    expect(img.zoned?.conventionalZones).toBe(conv);
    expect(img.zoned?.zonedmetaSize).toBe(8 * zones);
    expect(img.zoned?.zonedmetaOffset).toBe(3 * 65536);
  });
});

describe('sample-v8-mixed.qcow2 limits', () => {
  it('keeps the create options as stored', async () => {
    const { img, report: r } = await report('sample-v8-mixed.qcow2');
    expect(img.zoned).toMatchObject({ maxAppendBytes: 65536, maxActiveZones: 4, maxOpenZones: 3, zoneSize: 4 << 20 });
    expect(r.limits).toMatchObject({ maxActiveZones: 4, maxOpenZones: 3, clamps: [], violations: [] });
  });
});
