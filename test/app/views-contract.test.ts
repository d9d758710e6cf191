// What the daily views ask of the engine beyond the findings: check:run carries qemu-img check's counts
// (compared key by key with `qemu-img check --output=json`, which omits the counts that are zero), and a
// header edit takes the size suffixes the rest of the tool takes and warns when a zoned image's size
// would no longer match its nr_zones.
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckResult, EditPreview, SessionInfo } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { createHandlers, dispatch } from '../../electron/app/handlers';
import { SessionRegistry } from '../../electron/app/sessions';
import { qemuImg, qemuImgStatus, qemuIo, tmpDir } from '../helpers/qemu';
import { buildZonedImage } from '../helpers/zoned-builder';

const dir = tmpDir('qzs-views-contract-');
const store = new SessionRegistry();
const table = createHandlers(store, { transport: 'http', version: 'test' });
const MIB = 1 << 20;

afterAll(async () => {
  await store.closeAll();
  dir.cleanup();
});

function value<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}

async function open(file: string): Promise<SessionInfo> {
  return value<SessionInfo>(await dispatch(table, 'session:openDropped', [file]));
}

describe('check:run counts', () => {
  it('are the counts qemu-img check reports, for compressed and for fragmented clusters', async () => {
    // Compressed clusters from convert -c; fragmentation from guest clusters written out of order.
    const src = dir.file('src.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', src, '64M']);
    qemuIo(src, ['write -P 0x11 4M 192k', 'write -P 0x22 0 64k', 'write -P 0x33 8M 64k', 'write -P 0x44 64k 64k']);
    const compressed = dir.file('compressed.qcow2');
    qemuImg(['convert', '-q', '-c', '-O', 'qcow2', src, compressed]);
    for (const f of [src, compressed]) {
      const qemu = JSON.parse(qemuImgStatus(['check', '--output=json', f]).stdout) as Record<string, unknown>;
      const s = await open(f);
      const r = value<CheckResult>(await dispatch(table, 'check:run', [s.id, 'jviews1']));
      const { filename: _f, format: _t, ...want } = qemu;
      for (const [k, v] of Object.entries(want)) expect(r.counts[k as keyof CheckResult['counts']], k).toBe(v);
      // What qemu-img leaves out is zero.
      for (const [k, v] of Object.entries(r.counts)) if (!(k in want)) expect(v, k).toBe(0);
      if (f === compressed) expect(r.counts['compressed-clusters']).toBeGreaterThan(0);
      else expect(r.counts['fragmented-clusters']).toBeGreaterThan(0);
    }
  });
});

describe('edit:preview', () => {
  const zoned = dir.file('zoned.qcow2');
  writeFileSync(zoned, buildZonedImage({ layout: 'v8', virtualSize: 64 * MIB, zoneSize: 4 * MIB, conventionalZones: 1 }).bytes);

  it('takes 64M, 1.5G and 0x hex as the CLI does; refuses what is not a size', async () => {
    const s = await open(zoned);
    const size = async (text: string): Promise<Result<EditPreview>> => dispatch(table, 'edit:preview', [s.id, { kind: 'field', name: 'size', value: text }]) as Promise<Result<EditPreview>>;
    expect(value<EditPreview>(await size('128M')).afterValue).toBe(String(128 * MIB));
    expect(value<EditPreview>(await size('1.5G')).afterValue).toBe(String(1.5 * 1024 * MIB));
    expect(value<EditPreview>(await size('0x4000000')).afterValue).toBe(String(64 * MIB));
    expect(await size('64 apples')).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringContaining('64M') } });
    // A 64-bit mask keeps its exact value beyond 2^53 (no suffix, no float).
    const mask = value<EditPreview>(await dispatch(table, 'edit:preview', [s.id, { kind: 'field', name: 'autoclear_features', value: '0x8000000000000001' }]));
    expect(mask.after).toBe('8000000000000001');
  });

  it('warns when a zoned image\'s new size would disagree with nr_zones, and not when it agrees', async () => {
    const s = await open(zoned);
    const grown = value<EditPreview>(await dispatch(table, 'edit:preview', [s.id, { kind: 'field', name: 'size', value: '128M' }]));
    expect(grown.warnings.join('\n')).toMatch(/= 32 zones, but the zoned extension says nr_zones 16/);
    // 62 MiB still needs ceil(62 / 4) = 16 zones (a short last zone): nothing to warn about.
    const same = value<EditPreview>(await dispatch(table, 'edit:preview', [s.id, { kind: 'field', name: 'size', value: '62M' }]));
    expect(same.warnings.filter((w) => w.includes('nr_zones'))).toEqual([]);
  });
});
