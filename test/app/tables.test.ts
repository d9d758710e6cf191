// The Tables channels against qemu-img: an image qemu-img made and qemu-io wrote, read page by page through
// the handler table, shows each L2 entry where `qemu-img map --output=json` says the data is; pages stay
// bounded; snapshots and refcounts read back as qemu-img left them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAGE_ROWS } from '../../shared/contract/channels';
import type { L1Page, L2Page, RefblockPage, RefcountTablePage, SessionInfo, SnapshotPage } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { createHandlers, dispatch, type HandlerTable } from '../../electron/app/handlers';
import { SessionRegistry } from '../../electron/app/sessions';
import { qemuImg, qemuImgJson, qemuIo, tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-tables-');
const store = new SessionRegistry();
let table: HandlerTable;
let plain: SessionInfo;
let ext: SessionInfo;
const MIB = 1 << 20;
const CS = 65536;
const PER_L1 = (CS / 8) * CS;

interface MapEntry { start: number; length: number; present: boolean; zero: boolean; data: boolean; offset?: number }

function value<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}

beforeAll(async () => {
  const f = dir.file('t.qcow2');
  qemuImg(['create', '-q', '-f', 'qcow2', f, '1G']);
  qemuIo(f, ['write -P 0xab 1M 64k', 'write -P 0xcd 600M 128k', 'write -z 700M 64k']);
  qemuImg(['snapshot', '-c', 'first', f]);
  qemuIo(f, ['write -P 0xef 1M 64k']); // copy-on-write: the active L2 now points elsewhere, the snapshot's not
  const e = dir.file('e.qcow2');
  qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on', e, '64M']);
  qemuIo(e, ['write -P 0x11 68k 8k']);
  table = createHandlers(store, { transport: 'http', version: 't' });
  plain = value<SessionInfo>(await dispatch(table, 'session:openDropped', [f]));
  ext = value<SessionInfo>(await dispatch(table, 'session:openDropped', [e]));
});
afterAll(async () => {
  await store.closeAll();
  dir.cleanup();
});

async function l2Row(session: string, guest: number, snapshot?: number) {
  const l1Index = Math.floor(guest / PER_L1);
  const index = Math.floor((guest % PER_L1) / CS);
  const page = value<L2Page>(await dispatch(table, 'tables:l2', [session, { ...(snapshot === undefined ? {} : { snapshot }), l1Index, start: index, count: 1 }]));
  return { page, row: page.rows[0] };
}

describe('L1 and L2 pages', () => {
  it('every cluster qemu-img maps as data has an L2 entry of kind normal at the host offset qemu-img names', async () => {
    const map = qemuImgJson<MapEntry[]>(['map', '--output=json', dir.file('t.qcow2')]);
    const data = map.filter((m) => m.data);
    expect(data.length).toBeGreaterThanOrEqual(2);
    for (const m of data) {
      for (let g = m.start; g < m.start + m.length; g += CS) {
        const { row } = await l2Row(plain.id, g);
        expect(row, `guest ${g}`).toMatchObject({ guestOffset: g, kind: 'normal', hostOffset: m.offset! + (g - m.start) });
      }
    }
    const zero = map.find((m) => m.present && m.zero && !m.data)!;
    expect((await l2Row(plain.id, zero.start)).row.kind).toBe('zero');
    expect((await l2Row(plain.id, 2 * MIB)).row).toMatchObject({ kind: 'unallocated', hostOffset: null });
  });

  it('the L1 page names the L2 tables the L2 pages were read from', async () => {
    const hdr = qemuImgJson<{ 'virtual-size': number }>(['info', '--output=json', dir.file('t.qcow2')]);
    const l1 = value<L1Page>(await dispatch(table, 'tables:l1', [plain.id, { start: 0, count: 100 }]));
    expect(l1.size).toBe(Math.ceil(hdr['virtual-size'] / PER_L1));
    expect(l1.rows).toHaveLength(l1.size);
    expect(l1.rows[0].l2Offset).toBeGreaterThan(0);
    expect(l1.rows[1].l2Offset).toBeGreaterThan(0); // 600M lies in the second L1 entry
    expect(l1.rows[1].guestOffset).toBe(PER_L1);
    const { page } = await l2Row(plain.id, 600 * MIB);
    expect(page.tableOffset).toBe(l1.rows[1].l2Offset);
    expect(l1.rows[0].raw).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a snapshot\'s L1 table still maps the data as it was when the snapshot was taken', async () => {
    const snaps = value<SnapshotPage>(await dispatch(table, 'tables:snapshots', [plain.id, { start: 0, count: 10 }]));
    const q = qemuImgJson<{ snapshots: { id: string; name: string; 'vm-state-size': number }[] }>(['info', '--output=json', dir.file('t.qcow2')]);
    expect(snaps.rows.map((s) => ({ id: s.id, name: s.name, vm: s.vmStateSize }))).toEqual(q.snapshots.map((s) => ({ id: s.id, name: s.name, vm: s['vm-state-size'] })));
    const active = (await l2Row(plain.id, MIB)).row;
    const old = (await l2Row(plain.id, MIB, 0)).row;
    expect(old.kind).toBe('normal');
    expect(old.hostOffset).not.toBe(active.hostOffset);
    expect(old.copied).toBe(false); // QEMU clears OFLAG_COPIED in the tables a snapshot takes over
    const bytes = value<Uint8Array>(await dispatch(table, 'image:read', [plain.id, old.hostOffset!, 4]));
    expect([...bytes]).toEqual([0xab, 0xab, 0xab, 0xab]);
  });

  it('extended L2 entries show their subcluster bitmap as qemu-img maps it', async () => {
    const map = qemuImgJson<MapEntry[]>(['map', '--output=json', dir.file('e.qcow2')]);
    const d = map.find((m) => m.data)!;
    const { row, page } = await l2Row(ext.id, d.start);
    expect(page.extended).toBe(true);
    const sub = CS / 32;
    const first = (d.start % CS) / sub;
    expect(row.subclusters).toHaveLength(32);
    expect(row.subclusters!.slice(first, first + d.length / sub)).toBe('N'.repeat(d.length / sub));
    expect(row.subclusters!.replace(/N/g, '')).toBe('-'.repeat(32 - d.length / sub));
    expect(row.kind).toBe('normal');
    expect(row.hostOffset).toBe(d.offset! - (d.start % CS));
    expect(row.bitmap).toMatch(/^[0-9a-f]{16}$/);
  });

  it('pages are bounded: oversized pages are refused, pages past the end come back empty', async () => {
    expect(await dispatch(table, 'tables:l2', [plain.id, { l1Index: 0, start: 0, count: MAX_PAGE_ROWS + 1 }])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await dispatch(table, 'tables:l1', [plain.id, { start: 0, count: 0 }])).toMatchObject({ ok: false });
    expect(await dispatch(table, 'tables:l1', [plain.id, { start: 0, count: 10, path: '/etc' }])).toMatchObject({ ok: false });
    const past = value<L2Page>(await dispatch(table, 'tables:l2', [plain.id, { l1Index: 0, start: CS, count: 10 }]));
    expect(past.rows).toEqual([]);
    expect(await dispatch(table, 'tables:l2', [plain.id, { l1Index: 99, start: 0, count: 1 }])).toMatchObject({ ok: false, error: { message: expect.stringContaining('no entry 99') } });
    expect(await dispatch(table, 'tables:l1', [plain.id, { snapshot: 5, start: 0, count: 1 }])).toMatchObject({ ok: false, error: { message: expect.stringContaining('no snapshot number 5') } });
  });
});

describe('refcount pages', () => {
  it('the refcount block counts the shared data cluster twice and the header once', async () => {
    const rt = value<RefcountTablePage>(await dispatch(table, 'tables:refcounts', [plain.id, { start: 0, count: 4 }]));
    expect(rt.refcountBits).toBe(16);
    expect(rt.perBlock).toBe(CS * 8 / 16);
    expect(rt.rows[0].blockOffset).toBeGreaterThan(0);
    const block = value<RefblockPage>(await dispatch(table, 'tables:refblock', [plain.id, { tableIndex: 0, start: 0, count: 256 }]));
    expect(block.blockOffset).toBe(rt.rows[0].blockOffset);
    expect(block.rows[0]).toMatchObject({ cluster: 0, hostOffset: 0, refcount: 1 });
    // 600M was written before the snapshot and not since: the snapshot and the active table share it.
    const sharedRow = (await l2Row(plain.id, 600 * MIB)).row;
    expect(block.rows[sharedRow.hostOffset! / CS].refcount).toBe(2);
    expect(sharedRow.copied).toBe(false);
    const ownRow = (await l2Row(plain.id, MIB)).row;
    expect(block.rows[ownRow.hostOffset! / CS].refcount).toBe(1);
    expect(ownRow.copied).toBe(true); // OFLAG_COPIED means exactly: refcount 1
    const empty = value<RefblockPage>(await dispatch(table, 'tables:refblock', [plain.id, { tableIndex: 5, start: 0, count: 16 }]));
    expect(empty).toMatchObject({ blockOffset: 0, rows: [] });
  });
});
