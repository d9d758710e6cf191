// Severity of every zoned rule on every layout family (docs/DECISIONS.md, issue 11, extending
// ZONED-FORMAT.md section 8 item 8): an error where a revision of the image's own layout family refuses the image (for the v5-v7
// layout: the seed, v7), a compatibility warning naming the later revisions where only they do, and the
// exit code of `qzs check` follows (4 for zoned errors only, 0 for warnings only).
import { describe, expect, it } from 'vitest';
import { checkExitCode } from '../../shared/qcow2/check-exit';
import { checkImage } from '../../shared/qcow2/check';
import { MemoryByteSource } from '../../shared/qcow2/byte-source';
import { buildZonedImage, type BuilderLayout, type ZonedImageSpec } from '../helpers/zoned-builder';

const MiB = 1 << 20;
const BASE: ZonedImageSpec = {
  layout: 'v8', virtualSize: 40 * MiB, zoneSize: 4 * MiB, zoneCapacity: 3 * MiB, conventionalZones: 2,
  maxOpenZones: 3, maxActiveZones: 4, maxAppendBytes: 65536,
};

type Rule = 'zone-size-zero' | 'capacity' | 'max-append' | 'conventional-zones' | 'nr-zones';

/** The image that breaks each rule, and the finding id that reports it. */
const BREAK: Record<Rule, { id: string; spec: Partial<ZonedImageSpec> }> = {
  'zone-size-zero': { id: 'zoned.zone-size-zero', spec: { zoneSize: 0, zoneCapacity: 0, nrZones: 10 } },
  capacity: { id: 'zoned.capacity-exceeds-size', spec: { zoneCapacity: 5 * MiB } },
  'max-append': { id: 'zoned.max-append-too-large', spec: { maxAppendBytes: 3 * MiB } },
  'conventional-zones': { id: 'zoned.conventional-zones', spec: { conventionalZones: 10, maxOpenZones: 0, maxActiveZones: 0 } },
  'nr-zones': { id: 'zoned.nr-zones', spec: { nrZones: 12 } },
};

/**
 * Which postings refuse to open an image breaking the rule (ZONED-FORMAT.md 5.1 and 5.2: RFC and v2 check
 * nothing; v3-v5 zone size 0, capacity and nr_zones; v7, the seed, adds max-append; v8 adds
 * conventional_zones >= nr_zones; the 2026 revisions keep them all, the respin without an append limit).
 */
const REFUSED_BY: Record<Rule, string[]> = {
  'zone-size-zero': ['v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10', 'v11', 'respin'],
  capacity: ['v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10', 'v11', 'respin'],
  'max-append': ['v7', 'v8', 'v9', 'v10', 'v11'],
  'conventional-zones': ['v8', 'v9', 'v10', 'v11', 'respin'],
  'nr-zones': ['v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10', 'v11', 'respin'],
};

const FAMILIES: Record<BuilderLayout, string[]> = {
  rfc: ['RFC'], v2: ['v2'], 'v3-v4': ['v3', 'v4'], 'v5-v7': ['v5', 'v6', 'v7'], v8: ['v8', 'v9', 'v10'], v11: ['v11'], respin: ['respin'],
};

const name = (p: string) => (p === 'v7' ? 'v7 (the seed)' : p === 'respin' ? 'the Cassel respin' : p);

describe('every zoned rule on every layout family: severity, revisions named, exit code', () => {
  for (const layout of Object.keys(FAMILIES) as BuilderLayout[]) {
    for (const rule of Object.keys(BREAK) as Rule[]) {
      const family = FAMILIES[layout];
      const refusing = family.filter((p) => REFUSED_BY[rule].includes(p));
      // The respin stores no append limit: there is nothing to break. A 48-byte v11 extension with zone
      // size 0 cannot be told from the seed's 48 bytes (detection weighs nr_zones against zone_size): its
      // rule is the v11 open rule (zoned-open-rules.ts), tested with the 2026 revisions.
      if (rule === 'zone-size-zero' && layout === 'v11') continue;
      const applies = !(rule === 'max-append' && layout === 'respin');
      const want = !applies ? 'none' : refusing.length ? 'error' : 'warning';
      it(`${layout} × ${rule}: ${want}`, async () => {
        const bytes = buildZonedImage({ ...BASE, ...BREAK[rule].spec, layout }).bytes;
        const report = await checkImage(new MemoryByteSource(bytes, `${layout}-${rule}.qcow2`));
        const f = report.findings.find((x) => x.id === BREAK[rule].id);
        if (!applies) {
          expect(f).toBeUndefined();
          return;
        }
        expect(f, JSON.stringify(report.findings.map((x) => x.id))).toBeDefined();
        expect(f?.severity).toBe(want);
        if (want === 'error') {
          for (const p of refusing) expect(f?.message).toContain(name(p));
        } else {
          expect(f?.message).toContain('compatibility only');
          for (const p of REFUSED_BY[rule]) expect(f?.message).toContain(name(p));
        }
        // Only zoned findings are wrong: 4 when one is an error, else 0 (nothing qemu-img would see).
        expect(report.findings.filter((x) => x.severity === 'error' && !x.id.startsWith('zoned.'))).toEqual([]);
        expect(checkExitCode(report)).toBe(report.findings.some((x) => x.severity === 'error') ? 4 : 0);
        if (want === 'warning') expect(report.findings.filter((x) => x.id.startsWith('zoned.') && !x.id.startsWith('zoned.open-refused') && x.severity === 'error')).toEqual([]);
      });
    }
  }
});

describe('the seed\'s own words beside ours (reference/zoned-format-patch.txt)', () => {
  it('the max-append message is quoted with its two numbers swapped, and says so', async () => {
    const append = 3 * MiB - 256;
    const bytes = buildZonedImage({ ...BASE, layout: 'v5-v7', maxAppendBytes: append }).bytes;
    const report = await checkImage(new MemoryByteSource(bytes, 'seed-append.qcow2'));
    const f = report.findings.find((x) => x.id === 'zoned.max-append-too-large');
    // error_report("max append bytes %uB exceeds zone capacity %uB …", zone_capacity, max_append_bytes)
    expect(f?.message).toContain(`"max append bytes ${3 * MiB}B exceeds zone capacity ${append}B by more than block size"`);
    expect(f?.message).toContain(`swapped order, so the two numbers print the wrong way round; the append limit is ${append}, the capacity ${3 * MiB}`);
    expect(f?.message).toContain('v7 (the seed) refuses the image (v5 and v6 did not check it)');
  });

  it('the seed opens an all-conventional image and a size-0 image: compatibility warnings naming v8, exit 0', async () => {
    for (const spec of [{ conventionalZones: 10, maxOpenZones: 0, maxActiveZones: 0 }, { virtualSize: 0, conventionalZones: 0, maxOpenZones: 0, maxActiveZones: 0 }]) {
      const bytes = buildZonedImage({ ...BASE, ...spec, layout: 'v5-v7' }).bytes;
      const report = await checkImage(new MemoryByteSource(bytes, 'seed-conv.qcow2'));
      const f = report.findings.find((x) => x.id === 'zoned.conventional-zones');
      expect(f).toMatchObject({ severity: 'warning' });
      expect(f?.message).toMatch(/compatibility only: v5, v6 and v7 \(the seed\) open the image; v8, v9, v10/);
      // The exit code follows the warning: no zoned error (a size-0 image built here leaks its zonedmeta cluster).
      expect(checkExitCode(report)).toBe(report.leaks > 0 ? 3 : 0);
    }
  });

  it('capacity, nr_zones and clamp messages are the seed\'s verbatim on a seed-layout image', async () => {
    const cap = await checkImage(new MemoryByteSource(buildZonedImage({ ...BASE, layout: 'v5-v7', zoneCapacity: 5 * MiB }).bytes, 'c.qcow2'));
    expect(cap.findings.find((x) => x.id === 'zoned.capacity-exceeds-size')?.message).toContain(`"zone capacity ${5 * MiB}B exceeds zone size ${4 * MiB}B"`);
    const nr = await checkImage(new MemoryByteSource(buildZonedImage({ ...BASE, layout: 'v5-v7', nrZones: 12 }).bytes, 'n.qcow2'));
    expect(nr.findings.find((x) => x.id === 'zoned.nr-zones')?.message).toContain('"Zoned extension header nr_zones field is wrong"');
    const clamp = await checkImage(new MemoryByteSource(buildZonedImage({ ...BASE, layout: 'v5-v7', maxActiveZones: 20, maxOpenZones: 9 }).bytes, 'l.qcow2'));
    expect(clamp.findings.find((x) => x.id === 'zoned.max-active-clamped')?.message).toContain('"Max_active_zones 20 exceeds nr_zones 10. Set it to nr_zones."');
    expect(clamp.findings.find((x) => x.id === 'zoned.max-open-clamped')?.message).toContain('"Max_open_zones field can not be larger than the number of SWR zones. Set it to number of SWR zones 8."');
  });
});
