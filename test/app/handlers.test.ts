// The handler table in plain Node: argument guards, session ids instead of paths, results as plain data,
// edits with backup and undo, all checked against qemu-img.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUARDS } from '../../shared/contract/channels';
import type { ImageSummary, SessionInfo } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { createHandlers, dispatch, type HandlerTable } from '../../electron/app/handlers';
import { SessionRegistry } from '../../electron/app/sessions';
import { qemuImg, qemuImgJson, tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-ipc-');
const store = new SessionRegistry();
let table: HandlerTable;
let plain: string;

function value<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}

beforeAll(() => {
  plain = dir.file('plain.qcow2');
  qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=65536,lazy_refcounts=on', plain, '256M']);
  qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', dir.file('small.qcow2'), '1M']);
  table = createHandlers(store, { transport: 'http', version: 'test' });
});
afterAll(async () => {
  await store.closeAll();
  dir.cleanup();
});

describe('argument guards', () => {
  it('refuses unknown channels, wrong arity, bad session ids and oversized reads', async () => {
    expect(await dispatch(table, 'fs:readFile', ['/etc/passwd'])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await dispatch(table, 'image:summary', [])).toMatchObject({ ok: false, error: { message: expect.stringContaining('expected 1 argument') } });
    expect(await dispatch(table, 'image:summary', ['../../etc/passwd'])).toMatchObject({ ok: false, error: { message: expect.stringContaining('session id') } });
    expect(await dispatch(table, 'image:read', ['sabc', 0, 2 ** 21])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await dispatch(table, 'image:read', ['sabc', -1, 16])).toMatchObject({ ok: false });
    expect(await dispatch(table, 'image:read', ['sabc', 0.5, 16])).toMatchObject({ ok: false });
    expect(await dispatch(table, 'app:info', 'not-an-array')).toMatchObject({ ok: false });
  });

  it('refuses a create request whose file name is a path', async () => {
    for (const fileName of ['../x.qcow2', '/tmp/x.qcow2', 'a/b.qcow2', '.hidden', '']) {
      const r = await dispatch(table, 'create:run', [{ fileName, options: { size: '1G' } }, 'jcreate']);
      expect(r.ok, fileName).toBe(false);
    }
    expect(GUARDS['create:run']([{ fileName: 'ok.qcow2', options: { size: '1G', 'zone.mode': 'host-managed' } }, 'j1'])).toBeNull();
    expect(GUARDS['create:run']([{ fileName: 'ok.qcow2', options: { 'Bad Key': '1' } }, 'j1'])).toMatch(/unexpected key/);
    expect(GUARDS['create:run']([{ fileName: 'ok.qcow2', options: { size: '1G' } }])).toMatch(/expected 2 argument/);
  });

  it('keeps every path-valued create option inside the create directory, with no existence oracle', async () => {
    const made = tmpDir('qzs-confine-');
    try {
      const t = createHandlers(store, { transport: 'http', version: 'test', createDirectory: made.path });
      const outside = [{ data_file: '/tmp/escaped-data.raw' }, { data_file: '../escaped.raw' }, { backing_file: '/etc/shadow', backing_fmt: 'raw' }, { backing_file: '/etc/no-such-file-here', backing_fmt: 'raw' }];
      const messages: string[] = [];
      for (const [k, extra] of outside.entries()) {
        const r = await dispatch(t, 'create:run', [{ fileName: `c${k}.qcow2`, options: { size: '1M', ...extra } }, `jconf${k}`]);
        expect(r, JSON.stringify(extra)).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
        if (!r.ok) messages.push(r.error.message.replace(/\/etc\/\S+/, 'PATH'));
      }
      // An existing and a missing outside file are refused in the same words.
      expect(messages[2]).toBe(messages[3]);
      expect(readdirSync(made.path)).toEqual([]);
    } finally {
      made.cleanup();
    }
  });

  it('refuses channels the transport does not offer', async () => {
    const r = await dispatch(table, 'session:openDropped', [plain], {}, new Set(['session:openDropped']));
    expect(r).toMatchObject({ ok: false, error: { message: expect.stringContaining('not available over this transport') } });
  });

  it('turns engine errors into AppError values instead of throwing', async () => {
    const missing = dir.file('missing.qcow2');
    expect(await dispatch(table, 'session:openDropped', [missing])).toMatchObject({ ok: false, error: { code: 'io' } });
    expect(store.list().some((e) => e.session.path.endsWith('missing.qcow2'))).toBe(false);
    expect(await dispatch(table, 'image:summary', ['s0123456789'])).toMatchObject({ ok: false, error: { message: expect.stringContaining('no such image session') } });
  });

  it('opens a file that is not qcow2 degraded: its bytes and why, no decoded views', async () => {
    const notQcow = dir.file('raw.img');
    writeFileSync(notQcow, new Uint8Array(4096));
    const s = value<SessionInfo>(await dispatch(table, 'session:openDropped', [notQcow]));
    expect(s.degraded).toMatchObject({ code: 'not-qcow2' });
    const sum = value<ImageSummary>(await dispatch(table, 'image:summary', [s.id]));
    expect(sum.degraded).toMatchObject({ code: 'not-qcow2' });
    expect(sum.findings[0]).toMatchObject({ id: 'header.magic', offset: 0 });
    expect(await dispatch(table, 'zones:report', [s.id])).toMatchObject({ ok: false, error: { code: 'not-qcow2' } });
    await dispatch(table, 'session:close', [s.id]);
  });
});

describe('sessions and image data', () => {
  let session: SessionInfo;
  beforeAll(async () => {
    session = value<SessionInfo>(await dispatch(table, 'session:openDropped', [plain]));
  });

  it('hands out an id and a display name, never the path as an argument', async () => {
    expect(session.id).toMatch(/^s[0-9a-f]+$/);
    expect(session.name).toBe('plain.qcow2');
    const info = value<{ sessions: SessionInfo[]; capabilities: { zoneOps: boolean; transport: string } }>(await dispatch(table, 'app:info', []));
    expect(info.sessions.map((s) => s.id)).toContain(session.id);
    expect(info.capabilities.transport).toBe('http');
  });

  it('summarises the image as qemu-img sees it', async () => {
    const s = value<ImageSummary>(await dispatch(table, 'image:summary', [session.id]));
    const q = qemuImgJson<{ 'virtual-size': number; 'cluster-size': number; 'format-specific': { data: { 'lazy-refcounts': boolean; 'refcount-bits': number; compat: string } } }>(['info', '--output=json', plain]);
    expect(s.virtualSize).toBe(q['virtual-size']);
    expect(s.clusterSize).toBe(q['cluster-size']);
    expect(s.refcountBits).toBe(q['format-specific'].data['refcount-bits']);
    expect(s.version).toBe(q['format-specific'].data.compat === '1.1' ? 3 : 2);
    expect(s.features.compatible.find((b) => b.bit === 0)?.set).toBe(q['format-specific'].data['lazy-refcounts']);
    expect(s.masks.compatible).toBe('0x0000000000000001');
    // Plain data: survives JSON unchanged (no bigint, no class instances).
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('reads any byte range of the file', async () => {
    const bytes = value<Uint8Array>(await dispatch(table, 'image:read', [session.id, 65536 - 8, 24]));
    expect([...bytes]).toEqual([...readFileSync(plain).subarray(65536 - 8, 65536 + 16)]);
    const past = value<Uint8Array>(await dispatch(table, 'image:read', [session.id, 1 << 30, 16]));
    expect(past.length).toBe(0);
  });

  it('refuses zone reports for images that are not zoned, with a readable reason', async () => {
    expect(await dispatch(table, 'zones:report', [session.id])).toMatchObject({ ok: false, error: { message: expect.stringContaining('not zoned') } });
  });
});

describe('editing', () => {
  it('is refused until enabled, then applies with a backup and undoes exactly', async () => {
    const f = dir.file('edit.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', f, '64M']);
    const original = readFileSync(f);
    const s = value<SessionInfo>(await dispatch(table, 'session:openDropped', [f]));
    const edit = { kind: 'feature-bit', mask: 'compatible', bit: 0, set: true };
    expect(await dispatch(table, 'edit:apply', [s.id, edit])).toMatchObject({ ok: false, error: { code: 'read-only' } });

    const preview = value<{ before: string; after: string; offset: number }>(await dispatch(table, 'edit:preview', [s.id, edit]));
    expect(preview).toMatchObject({ offset: 80, before: '0000000000000000', after: '0000000000000001' });
    expect(readFileSync(f).equals(original)).toBe(true);

    expect(value<SessionInfo>(await dispatch(table, 'edit:enable', [s.id, true])).editing).toBe(true);
    const rec = value<{ backupName: string }>(await dispatch(table, 'edit:apply', [s.id, edit]));
    // While editing is on we are a writer and hold QEMU's write lock: qemu-img reads with -U (force share).
    expect(qemuImgJson<{ 'format-specific': { data: { 'lazy-refcounts': boolean } } }>(['info', '-U', '--output=json', f])['format-specific'].data['lazy-refcounts']).toBe(true);
    expect(readdirSync(dir.path)).toContain(rec.backupName);
    expect(readFileSync(`${dir.path}/${rec.backupName}`).equals(original.subarray(0, 65536))).toBe(true);

    const size = value<{ field: string; warnings: string[] }>(await dispatch(table, 'edit:preview', [s.id, { kind: 'field', name: 'cluster_bits', value: '30' }]));
    expect(size.warnings.join(' ')).toMatch(/cluster_bits 30/);
    expect(await dispatch(table, 'edit:preview', [s.id, { kind: 'field', name: 'version', value: '0x1ffffffff' }])).toMatchObject({ ok: false, error: { message: expect.stringContaining('does not fit') } });

    expect(value<unknown[]>(await dispatch(table, 'edit:history', [s.id]))).toHaveLength(1);
    await dispatch(table, 'edit:undo', [s.id]);
    expect(readFileSync(f).equals(original)).toBe(true);
    expect(value<unknown[]>(await dispatch(table, 'edit:history', [s.id]))).toHaveLength(0);
    expect(value<unknown>(await dispatch(table, 'edit:undo', [s.id]))).toBeNull();
  });
});

describe('repair', () => {
  it('plans first (actions and backup path), then repairs in place after a backup', async () => {
    const t = createHandlers(store, { transport: 'http', version: 'test' });
    const f = dir.file('leak.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', f, '64M']);
    const b = readFileSync(f);
    b.writeUInt16BE(2, 0x20000 + 3 * 2); // the L1 cluster's refcount raised to 2: one leak
    writeFileSync(f, b);
    const s = value<SessionInfo>(await dispatch(t, 'session:openDropped', [f]));
    const plan = value<{ backupPath: string; actions: string[]; refused: string | null }>(await dispatch(t, 'check:planRepair', [s.id, { mode: 'leaks' }]));
    expect(plan.refused).toBeNull();
    expect(plan.backupPath).toContain('leak.qcow2.backup-');
    expect(plan.actions.join(' ')).toMatch(/refcount/);
    expect(readFileSync(f).equals(b)).toBe(true);
    expect(await dispatch(t, 'check:repair', [s.id, { mode: 'leaks' }])).toMatchObject({ ok: false, error: { code: 'read-only' } });
    value(await dispatch(t, 'edit:enable', [s.id, true]));
    const r = value<{ backupName: string; repaired: number }>(await dispatch(t, 'check:repair', [s.id, { mode: 'leaks' }]));
    expect(r.repaired).toBe(1);
    expect(readdirSync(dir.path)).toContain(r.backupName);
    expect(readFileSync(`${dir.path}/${r.backupName}`).equals(b)).toBe(true);
    value(await dispatch(t, 'edit:enable', [s.id, false]));
    expect(qemuImgJson<{ leaks?: number }>(['check', '--output=json', f]).leaks ?? 0).toBe(0);
  });
});
