// Opening an image under `qzs serve` (issue 14): the page asks for the first image's summary, zone report and
// edit history as soon as app:info names it, all three at once, and the store's own calls take those answers
// instead of asking again. Counted in requests, not in milliseconds.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BINARY_TYPE } from '../../shared/contract/http-protocol';
import { encodeZoneReport } from '../../shared/contract/zone-report-codec';
import type { ZoneReport } from '../../shared/contract/dto';

interface Pending { channel: string; args: unknown; answer(r: Response): void }
let pending: Pending[];

const json = (v: unknown): Response => new Response(JSON.stringify({ ok: true, value: v }), { headers: { 'content-type': 'application/json' } });
const report: ZoneReport = {
  nrZones: 4, zoneSize: 1 << 20, zoneCapacity: 1 << 20, conventionalZones: 0, deviceSize: 4 << 20, maxOpenZones: 2, maxActiveZones: 2,
  maxAppendBytes: 65536, wpByteOrder: 'le', wp: Float64Array.from([0, (1 << 20) + 4096, 2 << 20, 3 << 20]), cond: Uint8Array.from([1, 2, 1, 1]),
};

beforeEach(() => {
  pending = [];
  vi.resetModules();
  vi.stubGlobal('fetch', (url: string, init: RequestInit) => new Promise<Response>((answer) => {
    pending.push({ channel: url.replace(/^.*\/api\//, ''), args: JSON.parse(init.body as string), answer });
  }));
});

const ticks = async (): Promise<void> => { for (let k = 0; k < 5; k++) await new Promise((ok) => setTimeout(ok, 0)); };
const take = (channel: string): Pending => { const i = pending.findIndex((p) => p.channel === channel); expect(i).toBeGreaterThanOrEqual(0); return pending.splice(i, 1)[0]; };

describe('the first image under qzs serve', () => {
  it('has its report asked for after one answered round trip, beside its summary and history', async () => {
    const { prefetchFirstImage } = await import('../../renderer/http-transport');
    prefetchFirstImage();
    expect(pending.map((p) => p.channel)).toEqual(['app:info']);
    take('app:info').answer(json({ sessions: [{ id: 's1' }, { id: 's2' }] }));
    await ticks();
    // Nothing else answered yet: the three went out together, for the first image only.
    expect(pending.map((p) => [p.channel, p.args])).toEqual([['image:summary', ['s1']], ['zones:report', ['s1']], ['edit:history', ['s1']]]);
  });

  it('hands each early answer once to the call that matches it; other calls go to the server', async () => {
    const { prefetchFirstImage, httpApi } = await import('../../renderer/http-transport');
    prefetchFirstImage();
    take('app:info').answer(json({ sessions: [{ id: 's1' }] }));
    await ticks();
    take('image:summary').answer(json({ session: { id: 's1' }, zoned: {} }));
    take('zones:report').answer(new Response(new Blob([encodeZoneReport(report) as Uint8Array<ArrayBuffer>]), { headers: { 'content-type': BINARY_TYPE } }));
    take('edit:history').answer(json([]));
    await ticks();
    const api = httpApi();
    const z = await api['zones:report']('s1');
    expect(z.ok && Array.from(z.value.wp)).toEqual(Array.from(report.wp));
    expect((await api['image:summary']('s1')).ok).toBe(true);
    expect(pending).toEqual([]);
    // Asked again (after a zone operation, or another session): a request of its own.
    void api['zones:report']('s1');
    void api['image:summary']('s2');
    expect(pending.map((p) => [p.channel, p.args])).toEqual([['zones:report', ['s1']], ['image:summary', ['s2']]]);
  });

  it('forgets early answers that are no longer current: the report of an image that is not zoned, all after another summary', async () => {
    const { prefetchFirstImage, httpApi } = await import('../../renderer/http-transport');
    prefetchFirstImage();
    take('app:info').answer(json({ sessions: [{ id: 's1' }] }));
    await ticks();
    take('image:summary').answer(json({ session: { id: 's1' }, zoned: null }));
    take('zones:report').answer(json(null));
    take('edit:history').answer(json([]));
    await ticks();
    const api = httpApi();
    void api['zones:report']('s1');
    expect(pending.map((p) => p.channel)).toEqual(['zones:report']);
    pending = [];

    vi.resetModules();
    const again = await import('../../renderer/http-transport');
    again.prefetchFirstImage();
    take('app:info').answer(json({ sessions: [{ id: 's1' }, { id: 's2' }] }));
    await ticks();
    for (const c of ['image:summary', 'zones:report', 'edit:history']) take(c).answer(json({ session: { id: 's1' }, zoned: {} }));
    const api2 = again.httpApi();
    void api2['image:summary']('s2');
    void api2['edit:history']('s1');
    expect(pending.map((p) => [p.channel, p.args])).toEqual([['image:summary', ['s2']], ['edit:history', ['s1']]]);
  });

  it('asks nothing more when the server offers no image', async () => {
    const { prefetchFirstImage } = await import('../../renderer/http-transport');
    prefetchFirstImage();
    take('app:info').answer(json({ sessions: [] }));
    await ticks();
    expect(pending).toEqual([]);
  });
});
