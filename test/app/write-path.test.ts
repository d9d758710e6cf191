// The one write path as users reach it: many writes at once over HTTP and from several CLI processes
// never corrupt an image; the editing gate refuses every mutating channel at the handler with the file
// left byte for byte; QEMU's locks hold both ways against real qemu-io, while read-only inspection goes
// on beside a running writer; an image that cannot be decoded still opens beside good ones.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ELECTRON_ONLY, type Channel } from '../../shared/contract/channels';
import type { ImageSummary, SessionInfo, ZoneReport, ZoneWriteResult } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { decodeZoneReport } from '../../shared/contract/zone-report-codec';
import { ZONE_CONDITION_CODES } from '../../shared/qcow2/zoned-types';
import { createHandlers, dispatch, type HandlerTable } from '../../electron/app/handlers';
import { SessionRegistry } from '../../electron/app/sessions';
import { startServer, type RunningServer } from '../../electron/server/server';
import { QZS_CMD, qzs, qzsJson } from '../helpers/cli';
import { qemuCheck } from '../helpers/image-oracle';
import { qemuImg, qemuImgStatus, tmpDir } from '../helpers/qemu';
import { buildZonedImage, withoutBit5, wpValue } from '../helpers/zoned-builder';

const MIB = 1 << 20;
const ZONE = 4 * MIB;
const dir = tmpDir('qzs-write-path-');
const sessions = new SessionRegistry();
let table: HandlerTable;

function value<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}

function zonedFile(name: string): string {
  const f = dir.file(name);
  writeFileSync(f, buildZonedImage({
    layout: 'v8', virtualSize: 16 * ZONE, zoneSize: ZONE, zoneCapacity: ZONE, conventionalZones: 1, maxOpenZones: 0, maxActiveZones: 0, maxAppendBytes: 1 * MIB,
    entry: (i, start) => (i === 0 ? wpValue(start, { conventional: true }) : wpValue(start)),
  }).bytes);
  return f;
}

/** Our check and stock qemu-img's on a bit-5-cleared copy: no corruption (zonedmeta shows as leaks there). */
function expectNoCorruption(file: string): void {
  const ours = qzs(['check', '--json', file]);
  const j = JSON.parse(ours.stdout) as { corruptions: number; findings: { severity: string; id: string }[] };
  expect(j.corruptions, ours.stdout.slice(0, 2000)).toBe(0);
  expect(j.findings.filter((f) => f.severity === 'error').map((f) => f.id)).toEqual([]);
  const copy = `${file}.nobit5`;
  writeFileSync(copy, withoutBit5(readFileSync(file)));
  expect(qemuCheck(copy).corruptions).toBe(0);
}

/** qemu-io holding an image open read-write until killed; resolves once it has taken its locks. */
async function qemuIoHolding(file: string): Promise<ChildProcess> {
  const p = spawn('qemu-io', ['-f', 'qcow2', '-c', 'sleep 60000', file], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  // Its lock shows in /proc/locks (OFD locks on bytes 100-299 of the file's inode).
  const ino = String(statSync(file).ino);
  for (;;) {
    const locks = readFileSync('/proc/locks', 'utf8');
    if (locks.split('\n').some((l) => l.includes(`:${ino} `))) return p;
    if (Date.now() > deadline || p.exitCode !== null) { p.kill('SIGKILL'); throw new Error('qemu-io did not take its locks within 15 s'); }
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(() => {
  table = createHandlers(sessions, { transport: 'http', version: 't' });
});
afterAll(async () => {
  await sessions.closeAll();
  dir.cleanup();
});

describe('concurrent writers', () => {
  let server: RunningServer;
  let cookie: string;
  beforeAll(async () => {
    writeFileSync(dir.file('index.html'), '<!doctype html><title>ui</title>');
    server = await startServer({ table, uiDir: dir.path, token: 'tok-write-path', refused: ELECTRON_ONLY });
    const r = await fetch(server.url, { redirect: 'manual' });
    cookie = r.headers.get('set-cookie')!.split(';')[0];
  });
  afterAll(async () => { await server.close(); });
  const call = async (channel: Channel, args: unknown[]): Promise<Response> =>
    fetch(`http://127.0.0.1:${server.port}/api/${channel}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify(args) });

  it('30 appends and 10 writes at the write pointer sent at once over HTTP land one after another', async () => {
    const file = zonedFile('http.qcow2');
    const id = value<SessionInfo>(await dispatch(table, 'session:openDropped', [file])).id;
    value(await dispatch(table, 'edit:enable', [id, true]));
    const reqs = [
      ...Array.from({ length: 30 }, (_, k) => call('zones:write', [id, { op: 'append', zone: 1 + (k % 3), length: 12288 }])),
      ...Array.from({ length: 10 }, () => call('zones:write', [id, { op: 'write', zone: 4, length: 4096 }])),
    ];
    const answers = await Promise.all(reqs.map(async (p) => (await p).json() as Promise<Result<ZoneWriteResult>>));
    const results = answers.map((a) => value<ZoneWriteResult>(a));
    // Every append got its own place: the offsets in each zone are distinct and tile it from the start.
    for (const z of [1, 2, 3]) {
      const offs = results.filter((r) => r.op === 'append' && r.zone === z).map((r) => r.offset).sort((a, b) => a - b);
      expect(offs).toEqual(Array.from({ length: 10 }, (_, k) => z * ZONE + k * 12288));
    }
    expect(results.filter((r) => r.op === 'write').map((r) => r.offset).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, k) => 4 * ZONE + k * 4096));
    const report = decodeZoneReport(new Uint8Array(await (await call('zones:report', [id])).arrayBuffer()));
    expect([report.wp[1], report.wp[2], report.wp[3], report.wp[4]]).toEqual([ZONE + 10 * 12288, 2 * ZONE + 10 * 12288, 3 * ZONE + 10 * 12288, 4 * ZONE + 10 * 4096]);
    value(await dispatch(table, 'edit:enable', [id, false]));
    await sessions.close(id);
    expect(qzsJson<{ zones: { wp: number }[] }>(['zones', '--json', file]).zones[4].wp).toBe(4 * ZONE + 10 * 4096);
    expectNoCorruption(file);
  });

  it('CLI writers in parallel with the served session: each is refused or done whole, never interleaved', async () => {
    const file = zonedFile('cli.qcow2');
    const run = (args: string[]) => new Promise<{ status: number; stderr: string }>((done) => {
      const p = spawn(process.execPath, [...QZS_CMD, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
      p.on('close', (code) => done({ status: code ?? -1, stderr }));
    });
    const id = value<SessionInfo>(await dispatch(table, 'session:openDropped', [file])).id;
    value(await dispatch(table, 'edit:enable', [id, true]));
    const http = Array.from({ length: 8 }, () => call('zones:write', [id, { op: 'append', zone: 5, length: 8192 }]).then((r) => r.json() as Promise<Result<ZoneWriteResult>>));
    const cli = Array.from({ length: 6 }, (_, k) => run(['zone', file, 'append', String(6 + (k % 2)), '--bytes', '64k']));
    const [h, c] = await Promise.all([Promise.all(http), Promise.all(cli)]);
    expect(h.every((a) => a.ok)).toBe(true);
    // The served session holds QEMU's write lock while editing is on: every CLI writer is refused with
    // qemu-img's words, and none of them wrote a byte.
    for (const r of c) {
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/Failed to get "write" lock/);
    }
    value(await dispatch(table, 'edit:enable', [id, false]));
    // With the lock released, CLI writers run; several at once still never cross-link a cluster.
    const cli2 = await Promise.all(Array.from({ length: 6 }, (_, k) => run(['zone', file, 'append', String(6 + (k % 2)), '--bytes', '64k'])));
    const done = cli2.filter((r) => r.status === 0).length;
    expect(done).toBeGreaterThan(0);
    for (const r of cli2.filter((x) => x.status !== 0)) expect(r.stderr).toMatch(/Failed to get "write" lock/);
    await sessions.close(id);
    const zones = qzsJson<{ zones: { wp: number }[] }>(['zones', '--json', file]).zones;
    expect(zones[5].wp).toBe(5 * ZONE + 8 * 8192);
    expect(zones[6].wp - 6 * ZONE + zones[7].wp - 7 * ZONE).toBe(done * 64 * 1024);
    expectNoCorruption(file);
  });
});

describe('the editing gate', () => {
  it('refuses every mutating channel at the handler while editing is off; the file is unchanged', async () => {
    const file = zonedFile('gate.qcow2');
    const before = readFileSync(file);
    const id = value<SessionInfo>(await dispatch(table, 'session:openDropped', [file])).id;
    const mutations: [Channel, unknown[]][] = [
      ['zones:op', [id, { op: 'open', zone: 1 }]],
      ['zones:op', [id, { op: 'close', zone: 1 }]],
      ['zones:op', [id, { op: 'finish', zone: 2 }]],
      ['zones:op', [id, { op: 'reset', zone: 2 }]],
      ['zones:op', [id, { op: 'reset-all', zone: 0 }]],
      ['zones:write', [id, { op: 'append', zone: 1, length: 4096 }]],
      ['zones:write', [id, { op: 'write', zone: 0, length: 4096 }]],
      ['check:repair', [id, { mode: 'leaks' }]],
      ['check:repair', [id, { mode: 'all' }]],
      ['edit:apply', [id, { kind: 'feature-bit', mask: 'compatible', bit: 0, set: true }]],
      ['edit:apply', [id, { kind: 'field', name: 'l1_size', value: '1' }]],
      ['edit:undo', [id]],
    ];
    for (const [ch, args] of mutations) {
      const r = await dispatch(table, ch, args);
      expect(r, `${ch} ${JSON.stringify(args[1])}`).toMatchObject({ ok: false, error: { code: 'read-only', details: { gate: true } } });
    }
    expect(readFileSync(file).equals(before)).toBe(true);
    // Reading goes on, and the same calls work once editing is on.
    value<ZoneReport>(await dispatch(table, 'zones:report', [id]));
    value(await dispatch(table, 'edit:enable', [id, true]));
    value(await dispatch(table, 'zones:op', [id, { op: 'open', zone: 1 }]));
    value(await dispatch(table, 'edit:enable', [id, false]));
    await sessions.close(id);
  });
});

describe('one session, one view of the image', () => {
  it('a header edit re-opens the zone device on the new header and keeps the open zones', async () => {
    const file = zonedFile('edit-zones.qcow2');
    const id = value<SessionInfo>(await dispatch(table, 'session:openDropped', [file])).id;
    value(await dispatch(table, 'edit:enable', [id, true]));
    value(await dispatch(table, 'zones:op', [id, { op: 'open', zone: 3 }]));
    value(await dispatch(table, 'edit:apply', [id, { kind: 'feature-bit', mask: 'compatible', bit: 0, set: true }]));
    const r = value<ZoneReport>(await dispatch(table, 'zones:report', [id]));
    expect(r.cond[3]).toBe(ZONE_CONDITION_CODES['explicit-open']);
    // The device now runs on the edited header: lazy refcounts on, so a write marks the image dirty.
    value(await dispatch(table, 'zones:write', [id, { op: 'append', zone: 3, length: 4096 }]));
    expect(readFileSync(file)[79] & 1).toBe(1);
    value(await dispatch(table, 'edit:enable', [id, false]));
    expect(readFileSync(file)[79] & 1).toBe(0);
    await sessions.close(id);
    expectNoCorruption(file);
  });
});

describe("QEMU's locks", () => {
  it('a running qemu-io writer: editing is refused with its name, inspection goes on with a banner', async () => {
    const file = dir.file('vm.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', file, '64M']);
    const before = readFileSync(file);
    const q = await qemuIoHolding(file);
    try {
      const s = value<SessionInfo>(await dispatch(table, 'session:openDropped', [file]));
      expect(s.inUse).toMatch(/^in use by qemu-io \(pid \d+\); shown as read at \d\d:\d\d:\d\d$/);
      value<ImageSummary>(await dispatch(table, 'image:summary', [s.id]));
      const r = await dispatch(table, 'edit:enable', [s.id, true]);
      expect(r).toMatchObject({ ok: false, error: { code: 'locked', message: expect.stringMatching(/Failed to get "write" lock/) } });
      expect(value<SessionInfo>(await dispatch(table, 'edit:enable', [s.id, false])).editing).toBe(false);
      // The CLI refuses as qemu-img check -r does, and writes nothing.
      const cli = qzs(['check', '-r', 'all', '--in-place', file]);
      expect(cli.status).not.toBe(0);
      expect(cli.stderr + cli.stdout).toMatch(/Failed to get "write" lock/);
      const ref = qemuImgStatus(['check', '-r', 'all', file]);
      expect(ref.stderr).toMatch(/Failed to get "write" lock/);
      // Nor is the image replaced under the VM by a create over it.
      const create = qzs(['create', '--force', file, '1M']);
      expect(create.status).toBe(1);
      expect(create.stderr).toMatch(/Failed to get "write" lock/);
      await sessions.close(s.id);
    } finally {
      q.kill('SIGKILL');
    }
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('editing on makes qzs a writer: qemu-io cannot write until editing is off', async () => {
    const file = dir.file('ours.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', file, '64M']);
    const s = value<SessionInfo>(await dispatch(table, 'session:openDropped', [file]));
    value(await dispatch(table, 'edit:enable', [s.id, true]));
    const refused = qemuIoStatus(file, 'write 0 512');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/Failed to get "write" lock/);
    // Forced-share reading (qemu-img info -U) still works while we hold it.
    expect(qemuImgStatus(['info', '-U', file]).status).toBe(0);
    value(await dispatch(table, 'edit:enable', [s.id, false]));
    expect(qemuIoStatus(file, 'write 0 512').status).toBe(0);
    await sessions.close(s.id);
  });
});

function qemuIoStatus(file: string, cmd: string): { status: number; stderr: string } {
  const r = spawnSync('qemu-io', ['-f', 'qcow2', '-c', cmd, file], { encoding: 'utf8' });
  return { status: r.status ?? -1, stderr: r.stderr + r.stdout };
}

describe('degraded sessions', () => {
  it('an image that cannot be decoded opens beside a good one: bytes and findings, nothing else', async () => {
    const good = dir.file('good.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', good, '64M']);
    const bad = dir.file('bad-cluster-bits.qcow2');
    const b = readFileSync(good);
    b.writeUInt32BE(40, 20);
    writeFileSync(bad, b);
    const empty = dir.file('empty.qcow2');
    writeFileSync(empty, new Uint8Array(0));
    const g = value<SessionInfo>(await dispatch(table, 'session:openDropped', [good]));
    for (const [f, id] of [[bad, 'header.cluster_bits'], [empty, 'header.truncated']] as const) {
      const s = value<SessionInfo>(await dispatch(table, 'session:openDropped', [f]));
      expect(s.degraded, f).not.toBeNull();
      const sum = value<ImageSummary>(await dispatch(table, 'image:summary', [s.id]));
      expect(sum.degraded).not.toBeNull();
      expect(sum.findings.map((x) => x.id)).toContain(id);
      expect([...value<Uint8Array>(await dispatch(table, 'image:read', [s.id, 0, 24]))]).toEqual([...readFileSync(f).subarray(0, 24)]);
      expect(await dispatch(table, 'tables:l1', [s.id, { start: 0, count: 1 }])).toMatchObject({ ok: false });
      expect(await dispatch(table, 'edit:enable', [s.id, true])).toMatchObject({ ok: false, error: { code: 'read-only' } });
    }
    expect(value<ImageSummary>(await dispatch(table, 'image:summary', [g.id])).virtualSize).toBe(64 * MIB);
  });

  it('qzs serve with a good and a broken image serves both', async () => {
    const good = dir.file('serve-good.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', good, '64M']);
    const empty = dir.file('serve-empty.qcow2');
    writeFileSync(empty, new Uint8Array(0));
    const p = spawn(process.execPath, [...QZS_CMD, 'serve', good, empty, dir.file('missing.qcow2')], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const out = await new Promise<{ url: string; err: string }>((done, fail) => {
        let o = '';
        let e = '';
        const t = setTimeout(() => fail(new Error(`qzs serve did not start: ${e}`)), 20_000);
        p.stderr!.on('data', (b: Buffer) => { e += b.toString(); });
        p.stdout!.on('data', (b: Buffer) => {
          o += b.toString();
          const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(o);
          if (m) { clearTimeout(t); done({ url: m[0], err: e }); }
        });
        p.on('exit', (code) => fail(new Error(`qzs serve exited ${code}: ${e}`)));
      });
      const r = await fetch(out.url, { redirect: 'manual' });
      const c = r.headers.get('set-cookie')!.split(';')[0];
      const info = await (await fetch(new URL('/api/app:info', out.url), { method: 'POST', headers: { 'content-type': 'application/json', cookie: c }, body: '[]' })).json() as Result<{ sessions: SessionInfo[] }>;
      const list = value<{ sessions: SessionInfo[] }>(info).sessions;
      expect(list.map((s) => [s.name, s.degraded === null])).toEqual([['serve-good.qcow2', true], ['serve-empty.qcow2', false]]);
    } finally {
      p.kill('SIGTERM');
    }
  });
});
