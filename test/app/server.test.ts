// The HTTP transport of `qzs serve`: 127.0.0.1 only, a per-run token swapped for an HttpOnly cookie, Host
// and Origin checks, strict CSP headers, the same handler table, zone reports as one binary body.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ELECTRON_ONLY } from '../../shared/contract/channels';
import { CSP } from '../../shared/contract/http-protocol';
import { decodeZoneReport, encodeZoneReport } from '../../shared/contract/zone-report-codec';
import type { SessionInfo, ZoneReport } from '../../shared/contract/dto';
import { createHandlers } from '../../electron/app/handlers';
import { JobRegistry } from '../../electron/app/jobs';
import { createImage } from '../../electron/engine/create';
import { SessionRegistry } from '../../electron/app/sessions';
import { startServer, type RunningServer } from '../../electron/server/server';
import { qemuImg, tmpDir } from '../helpers/qemu';
import { buildZonedImage, wpValue } from '../helpers/zoned-builder';
import { qzsJson } from '../helpers/cli';

const dir = tmpDir('qzs-serve-');
const store = new SessionRegistry();
let server: RunningServer;
let cookie: string;
let zonedId: string;
let plainId: string;
let bigId: string;
const jobs = new JobRegistry();

const MIB = 1 << 20;

beforeAll(async () => {
  writeFileSync(dir.file('index.html'), '<!doctype html><title>ui</title>');
  qemuImg(['create', '-q', '-f', 'qcow2', dir.file('plain.qcow2'), '16M']);
  const img = buildZonedImage({
    layout: 'v8', virtualSize: 40 * MIB, zoneSize: 4 * MIB, zoneCapacity: 3 * MIB, conventionalZones: 2, maxOpenZones: 3, maxActiveZones: 4, maxAppendBytes: 65536,
    entry: (i, start) => (i < 2 ? wpValue(start, { conventional: true }) : i === 3 ? wpValue(start + 8192) : i === 4 ? wpValue(start + 3 * MIB) : wpValue(start)),
  });
  writeFileSync(dir.file('zoned.qcow2'), img.bytes);
  await createImage({ file: dir.file('big.qcow2'), options: { size: '128M', cluster_size: '512', preallocation: 'metadata' } });
  const table = createHandlers(store, { transport: 'http', version: 't' }, jobs);
  plainId = (await table['session:openDropped']({}, dir.file('plain.qcow2'))).id;
  zonedId = (await table['session:openDropped']({}, dir.file('zoned.qcow2'))).id;
  await table['edit:enable']({}, zonedId, true);
  bigId = (await table['session:openDropped']({}, dir.file('big.qcow2'))).id;
  server = await startServer({ table, uiDir: dir.path, token: 'test-token-123', refused: ELECTRON_ONLY });
});
afterAll(async () => {
  await server.close();
  await store.closeAll();
  dir.cleanup();
});

const base = (): string => `http://127.0.0.1:${server.port}`;
const api = (channel: string, args: unknown[], headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${base()}/api/${channel}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, ...headers }, body: JSON.stringify(args), signal });

describe('qzs serve', () => {
  it('listens on 127.0.0.1 and prints a URL carrying the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=test-token-123`);
  });

  it('refuses everything without the token, and swaps the token for an HttpOnly cookie', async () => {
    expect((await fetch(`${base()}/`)).status).toBe(401);
    expect((await fetch(`${base()}/api/app:info`, { method: 'POST', body: '[]', headers: { 'content-type': 'application/json' } })).status).toBe(401);
    expect((await fetch(`${base()}/?token=wrong`, { redirect: 'manual' })).status).toBe(403);
    const r = await fetch(server.url, { redirect: 'manual' });
    expect(r.status).toBe(303);
    const set = r.headers.get('set-cookie')!;
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    cookie = set.split(';')[0];
    const page = await fetch(`${base()}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CSP);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses other Host names (DNS rebinding) and cross-origin API calls', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((ok) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/', headers: { host: 'evil.example:80', cookie } }, (res) => { res.resume(); ok(res.statusCode ?? 0); });
      req.end();
    });
    expect(status).toBe(421);
    expect((await api('app:info', [], { origin: 'http://evil.example' })).status).toBe(403);
    expect((await fetch(`${base()}/api/app:info`, { method: 'POST', headers: { cookie, 'content-type': 'text/plain' }, body: '[]' })).status).toBe(415);
  });

  it('serves only files inside the UI folder', async () => {
    expect((await fetch(`${base()}/..%2f..%2fetc%2fpasswd`, { headers: { cookie } })).status).toBe(404);
    expect((await fetch(`${base()}/plain.qcow2`, { headers: { cookie } })).status).toBe(404);
  });

  it('answers the contract with Results and refuses Electron-only channels', async () => {
    const info = await (await api('app:info', [])).json() as { ok: true; value: { sessions: SessionInfo[]; capabilities: { transport: string; zoneOps: boolean } } };
    expect(info.ok).toBe(true);
    expect(info.value.sessions.map((s) => s.name)).toEqual(['plain.qcow2', 'zoned.qcow2', 'big.qcow2']);
    expect(info.value.capabilities).toMatchObject({ transport: 'http', zoneOps: true });
    expect(await (await api('session:openDropped', ['/etc/passwd'])).json()).toMatchObject({ ok: false, error: { message: expect.stringContaining('not available over this transport') } });
    expect(await (await api('image:summary', ['not a session'])).json()).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
  });

  it('sends bytes and zone reports as binary bodies that match the file and qzs zones', async () => {
    const bytes = new Uint8Array(await (await api('image:read', [plainId, 0, 4])).arrayBuffer());
    expect([...bytes]).toEqual([0x51, 0x46, 0x49, 0xfb]);
    const res = await api('zones:report', [zonedId]);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const body = new Uint8Array(await res.arrayBuffer());
    // Sent in pieces (the report's own arrays), announced with its full length.
    expect(Number(res.headers.get('content-length'))).toBe(body.length);
    const r = decodeZoneReport(body);
    expect(body).toEqual(encodeZoneReport(r));
    const cli = qzsJson<{ zones: { wp: number; condition: string }[] }>(['zones', '--json', dir.file('zoned.qcow2')]).zones;
    expect(r.nrZones).toBe(cli.length);
    expect([...r.wp]).toEqual(cli.map((z) => z.wp));
    expect(r.conventionalZones).toBe(2);
    expect(r.maxOpenZones).toBe(3);
  });

  it('runs zone operations; open states stay in the session, write pointers reach the file', async () => {
    const open = decodeZoneReport(new Uint8Array(await (await api('zones:op', [zonedId, { op: 'open', zone: 6 }])).arrayBuffer()));
    expect(open.cond[6]).toBe(3); // explicit open
    const onDisk = qzsJson<{ zones: { wp: number; condition: string }[] }>(['zones', '--json', dir.file('zoned.qcow2')]).zones;
    expect(onDisk[6].condition).toBe('empty');
    const fin = decodeZoneReport(new Uint8Array(await (await api('zones:op', [zonedId, { op: 'finish', zone: 6 }])).arrayBuffer()));
    expect(fin.wp[6]).toBe(7 * 4 * MIB);
    expect(qzsJson<{ zones: { wp: number; condition: string }[] }>(['zones', '--json', dir.file('zoned.qcow2')]).zones[6]).toMatchObject({ wp: 7 * 4 * MIB, condition: 'full' });
    const bad = await (await api('zones:op', [zonedId, { op: 'open', zone: 0 }])).json() as { ok: boolean; error: { message: string } };
    expect(bad.ok).toBe(false);
    expect(bad.error.message.length).toBeGreaterThan(10);
  });
});

describe('jobs over HTTP', () => {
  it('streams progress lines for the job, then the Result, behind the same cookie', async () => {
    expect((await fetch(`${base()}/api/check:run`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' }, body: JSON.stringify([bigId, 'jhttp0']) })).status).toBe(401);
    const res = await api('check:run', [bigId, 'jhttp1'], { accept: 'application/x-ndjson' });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { progress?: { job: string; done: number; total: number; phase: string }; result?: { ok: boolean; value: { complete: boolean } } });
    const progress = lines.filter((l) => l.progress).map((l) => l.progress!);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((p) => p.job === 'jhttp1' && p.done <= p.total)).toBe(true);
    expect(lines.at(-1)!.result).toMatchObject({ ok: true, value: { complete: true } });
    expect(lines.filter((l) => l.result)).toHaveLength(1);
  });

  it('job:cancel over HTTP stops the job, which answers cancelled in its own stream', async () => {
    const res = await api('check:run', [bigId, 'jhttp2'], { accept: 'application/x-ndjson' });
    const reader = res.body!.getReader();
    await reader.read(); // the first progress line: the job runs
    expect(await (await api('job:cancel', ['jhttp2'])).json()).toEqual({ ok: true, value: true });
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (value) text += new TextDecoder().decode(value);
      if (done) break;
    }
    const last = JSON.parse(text.trim().split('\n').at(-1)!) as { result: { ok: boolean; error: { details: { cancelled: boolean } } } };
    expect(last.result).toMatchObject({ ok: false, error: { details: { cancelled: true } } });
    expect(jobs.list()).toEqual([]);
    expect(jobs.outcome('jhttp2')).toBe('cancelled');
  });

  it('closing the stream aborts the job in the server', async () => {
    const ctl = new AbortController();
    const res = await api('check:run', [bigId, 'jhttp3'], { accept: 'application/x-ndjson' }, ctl.signal);
    const reader = res.body!.getReader();
    await reader.read();
    expect(jobs.list()).toContain('jhttp3');
    ctl.abort();
    for (let i = 0; i < 200 && jobs.list().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(jobs.list()).toEqual([]);
    expect(jobs.outcome('jhttp3')).toBe('cancelled');
    expect(jobs.outcome('jhttp1')).toBe('done');
  });

  it('without the NDJSON Accept header a job answers one plain Result', async () => {
    const r = await (await api('check:run', [plainId, 'jhttp4'])).json() as { ok: boolean; value: { complete: boolean } };
    expect(r).toMatchObject({ ok: true, value: { complete: true } });
  });
});

describe('zone report codec', () => {
  it('round-trips any number of zones without per-zone objects', () => {
    const n = 20_003;
    const r: ZoneReport = {
      nrZones: n, zoneSize: 65536, zoneCapacity: 65536, conventionalZones: 3, deviceSize: n * 65536, maxOpenZones: 0, maxActiveZones: 0, maxAppendBytes: 0, wpByteOrder: 'little-endian',
      wp: Float64Array.from({ length: n }, (_, i) => i * 65536 + (i % 7) * 512), cond: Uint8Array.from({ length: n }, (_, i) => [1, 4, 0xe][i % 3]),
    };
    const bytes = encodeZoneReport(r);
    expect(bytes.length).toBeLessThan(n * 9 + 400);
    const back = decodeZoneReport(bytes.slice());
    expect(back.nrZones).toBe(n);
    let same = true;
    for (let i = 0; i < n; i++) if (back.wp[i] !== r.wp[i] || back.cond[i] !== r.cond[i]) same = false;
    expect(same).toBe(true);
    expect(() => decodeZoneReport(bytes.subarray(0, 100))).toThrow(/truncated/);
    expect(() => decodeZoneReport(new Uint8Array(16))).toThrow(/not a zone report/);
  });
});

describe('content security policy', () => {
  it('index.html carries the same policy the server sends (frame-ancestors only works as a header)', async () => {
    const { readFileSync } = await import('node:fs');
    const html = readFileSync(new URL('../../renderer/index.html', import.meta.url), 'utf8');
    const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1];
    const norm = (p: string): string[] => p.split(';').map((x) => x.trim()).filter((x) => x && !x.startsWith('frame-ancestors')).sort();
    expect(norm(meta)).toEqual(norm(CSP));
    expect(CSP).not.toMatch(/unsafe-(inline|eval)/);
  });
});
