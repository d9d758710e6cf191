// The bundled demo is made by our own engine (create plan + zoned device); its zones and clusters, as the
// app's handlers report them, agree with qemu-img on a copy with incompatible bit 5 cleared.
import { copyFileSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZoneClusters, ZoneReport } from '../../shared/contract/dto';
import { ZONE_CONDITION_CODES } from '../../shared/qcow2/zoned-types';
import { DEMO_ZONES, ensureDemoImage, openDemoStates } from '../../electron/app/demo-image';
import { createHandlers, dispatch, type HandlerTable } from '../../electron/app/handlers';
import { SessionRegistry } from '../../electron/app/sessions';
import { qemuImgJson, qemuImgStatus, tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-demo-');
const store = new SessionRegistry();
let table: HandlerTable;
let id: string;
const demo = dir.file('demo.qcow2');

beforeAll(async () => {
  await ensureDemoImage(demo);
  table = createHandlers(store, { transport: 'http', version: 't' });
  id = (await table['session:openDropped']({}, demo)).id;
});
afterAll(async () => {
  await store.closeAll();
  dir.cleanup();
});

function withoutBit5(src: string, dst: string): void {
  copyFileSync(src, dst);
  const fd = openSync(dst, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, 79);
  b[0] &= ~(1 << 5);
  writeSync(fd, b, 0, 1, 79);
  closeSync(fd);
}

describe('demo image', () => {
  it('has conventional, empty, closed and full zones on disk, and open ones in its session', async () => {
    const r = await dispatch(table, 'zones:report', [id]);
    const rep = (r as { ok: true; value: ZoneReport }).value;
    expect(rep.nrZones).toBe(DEMO_ZONES);
    const present = new Set(rep.cond);
    for (const c of ['not-wp', 'empty', 'closed', 'full'] as const) expect(present.has(ZONE_CONDITION_CODES[c]), c).toBe(true);
    await openDemoStates(store.get(id));
    const after = ((await dispatch(table, 'zones:report', [id])) as { ok: true; value: ZoneReport }).value;
    expect(after.cond[10]).toBe(ZONE_CONDITION_CODES['explicit-open']);
    expect(after.cond[33]).toBe(ZONE_CONDITION_CODES['implicit-open']);
  });

  it('is consistent for stock qemu-img (bit 5 cleared): no corruption, only the zonedmeta leak', () => {
    const copy = dir.file('nobit5.qcow2');
    withoutBit5(demo, copy);
    const r = qemuImgStatus(['check', '--output=json', copy]);
    const j = JSON.parse(r.stdout) as { corruptions?: number; leaks?: number };
    expect(j.corruptions ?? 0).toBe(0);
    expect(j.leaks).toBe(1); // ceil(8 * 48 / 65536) = 1 zonedmeta cluster
  });

  it('lists the clusters of a zone where qemu-img map puts them', async () => {
    const copy = dir.file('map.qcow2');
    withoutBit5(demo, copy);
    const map = qemuImgJson<{ start: number; length: number; data: boolean; offset?: number }[]>(['map', '--output=json', copy]);
    for (const zone of [0, 6, 9]) {
      const c = ((await dispatch(table, 'zones:clusters', [id, zone])) as { ok: true; value: ZoneClusters }).value;
      const start = zone * (1 << 20);
      const end = start + (1 << 20);
      const expected = map.filter((e) => e.data && e.start < end && e.start + e.length > start)
        .reduce((n, e) => n + Math.min(end, e.start + e.length) - Math.max(start, e.start), 0);
      expect(c.allocatedBytes, `zone ${zone}`).toBe(expected);
      for (const e of c.extents.filter((x) => x.type === 'normal')) {
        const m = map.find((x) => x.start <= e.start && x.start + x.length > e.start)!;
        expect(m.offset! + (e.start - m.start)).toBe(e.hostOffset);
      }
    }
  });
});
