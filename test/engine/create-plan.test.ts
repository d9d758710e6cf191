// The write plan stays bounded for huge images, and its tables say what QEMU's would. Byte-for-byte
// equality with qemu-img is shown in test/cli/create.test.ts; here the properties that test cannot reach.
import { describe, expect, it } from 'vitest';
import { u64beNum } from '../../shared/bytes';
import { validateCreateOptions, type NormalizedCreateOptions } from '../../shared/qcow2/create-options';
import { CHUNK, planImage } from '../../shared/qcow2/create-plan';

function normalized(options: Record<string, string>, size: string): NormalizedCreateOptions {
  const v = validateCreateOptions({ options, size });
  if (!v.normalized) throw new Error(JSON.stringify(v.errors));
  return v.normalized;
}

describe('planImage', () => {
  it('plans a preallocated 1 TiB image without materialising it', () => {
    const plan = planImage(normalized({ preallocation: 'metadata' }, '1T'));
    let written = 0;
    let biggest = 0;
    for (const w of plan.writes) {
      let len = 0;
      for (const c of w.chunks()) { len += c.length; biggest = Math.max(biggest, c.length); }
      expect(len, w.label).toBe(w.length);
      written += len;
    }
    // 2048 L2 tables + 512 refcount blocks + header/reftable/L1: about 170 MB of metadata, no guest data.
    expect(plan.writes.filter((w) => w.label.startsWith('L2 table'))).toHaveLength(2048);
    expect(plan.writes.filter((w) => w.label.startsWith('refcount block')).length).toBe(513);
    expect(written).toBeLessThan(200 * 1024 * 1024);
    expect(biggest).toBeLessThanOrEqual(CHUNK);
    expect(plan.fileSize).toBeGreaterThan(2 ** 40);
  });

  it('maps every guest cluster of a preallocated image once, with the copied flag', () => {
    const o = normalized({ preallocation: 'metadata', cluster_size: '4k' }, '40M');
    const plan = planImage(o);
    const hosts = new Set<number>();
    for (const w of plan.writes.filter((x) => x.label.startsWith('L2 table'))) {
      const b = [...w.chunks()][0];
      for (let i = 0; i < b.length; i += 8) {
        const hi = b[i];
        if (hi === 0) continue;
        expect(hi & 0x80).toBe(0x80);
        const off = u64beNum(b, i) - 2 ** 63;
        expect(off % 4096).toBe(0);
        hosts.add(off);
      }
    }
    expect(hosts.size).toBe((40 << 20) / 4096);
  });

  it('writes no L2 tables and a zeroed L1 without preallocation', () => {
    const plan = planImage(normalized({}, '1T'));
    expect(plan.writes.some((w) => w.label.startsWith('L2 table'))).toBe(false);
    const l1 = plan.writes.find((w) => w.label === 'L1 table');
    expect(l1?.length).toBe(2048 * 8);
    for (const c of l1?.chunks() ?? []) expect(c.every((x) => x === 0)).toBe(true);
  });
});
