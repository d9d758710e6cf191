// The preload with Electron faked: it exposes named methods only (never ipcRenderer, invoke or send),
// passes arguments through to the channel of the same name, and turns a dropped File into a path itself.
import { describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '../../shared/contract/channels';

const fake = vi.hoisted(() => ({ exposed: new Map<string, unknown>(), invoked: [] as unknown[][], listeners: new Map<string, (...a: unknown[]) => void>() }));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (k: string, v: unknown) => { fake.exposed.set(k, v); } },
  ipcRenderer: {
    invoke: async (...a: unknown[]) => { fake.invoked.push(a); return { ok: true, value: null }; },
    on: (c: string, f: (...a: unknown[]) => void) => { fake.listeners.set(c, f); },
    removeListener: (c: string) => { fake.listeners.delete(c); },
  },
  webUtils: { getPathForFile: (f: { path?: string }) => f.path ?? '' },
}));

interface Bridge {
  api: Record<string, (...a: unknown[]) => Promise<unknown>>;
  openDroppedFile(f: unknown): Promise<unknown>;
  onMenu(cb: (c: string) => void): () => void;
  on(event: string, cb: (v: unknown) => void): () => void;
}

describe('preload', async () => {
  await import('../../electron/preload');
  const qzs = fake.exposed.get('qzs') as Bridge;

  it('exposes exactly one window global with named methods', () => {
    expect([...fake.exposed.keys()]).toEqual(['qzs']);
    expect(Object.keys(qzs).sort()).toEqual(['api', 'on', 'onMenu', 'onSessionOpened', 'openDroppedFile']);
    expect(Object.keys(qzs.api).sort()).toEqual(CHANNELS.filter((c) => c !== 'session:openDropped').sort());
    expect(JSON.stringify(Object.keys(qzs))).not.toMatch(/invoke|send|ipcRenderer/);
  });

  it('forwards calls to the channel of the same name', async () => {
    await qzs.api['image:read']('sabc', 0, 16);
    expect(fake.invoked.at(-1)).toEqual(['image:read', 'sabc', 0, 16]);
  });

  it('resolves a dropped file to its path in the preload, and refuses items that are not files', async () => {
    await qzs.openDroppedFile({ path: '/data/disk.qcow2' });
    expect(fake.invoked.at(-1)).toEqual(['session:openDropped', '/data/disk.qcow2']);
    const n = fake.invoked.length;
    expect(await qzs.openDroppedFile({})).toMatchObject({ ok: false });
    expect(fake.invoked.length).toBe(n);
  });

  it('delivers only known menu commands and unsubscribes', () => {
    const got: string[] = [];
    const off = qzs.onMenu((c) => got.push(c));
    const l = fake.listeners.get('qzs:menu')!;
    l(null, 'open');
    l(null, 'rm -rf');
    expect(got).toEqual(['open']);
    off();
    expect(fake.listeners.has('qzs:menu')).toBe(false);
  });

  it('on(event) subscribes to known events only, passes only well-formed payloads, and unsubscribes', () => {
    const got: unknown[] = [];
    const off = qzs.on('progress', (p) => got.push(p));
    const l = fake.listeners.get('qzs:progress')!;
    l(null, { job: 'j1', phase: 'refcounts', done: 3, total: 9 });
    l(null, { job: 'j1', phase: 'refcounts' });
    l(null, 'not progress');
    expect(got).toEqual([{ job: 'j1', phase: 'refcounts', done: 3, total: 9 }]);
    off();
    expect(fake.listeners.has('qzs:progress')).toBe(false);
    const before = fake.listeners.size;
    const none = qzs.on('ipc-raw', () => {});
    expect(fake.listeners.size).toBe(before);
    none();
  });
  it('passes on a session main opened only when it has the SessionInfo shape, like every IPC value', () => {
    const got: unknown[] = [];
    const off = (qzs as unknown as { onSessionOpened(cb: (s: unknown) => void): () => void }).onSessionOpened((s) => got.push(s));
    const l = fake.listeners.get('qzs:session-opened')!;
    const good = { id: 's1a2b', name: 'disk.qcow2', location: '/data', size: 1024, writable: true, editing: false, degraded: null, inUse: null, lockWarning: null, generation: 0 };
    l(null, good);
    l(null, { ...good, id: '../../etc' });
    l(null, { ...good, size: -1 });
    l(null, { ...good, degraded: 'bad' });
    l(null, { ...good, extra: '<img onerror=…>' });
    l(null, { id: 's1' });
    l(null, null);
    l(null, { ...good, degraded: { code: 'not-qcow2', message: 'not a qcow2 image' } });
    expect(got).toEqual([good, { ...good, degraded: { code: 'not-qcow2', message: 'not a qcow2 image' } }]);
    off();
    expect(fake.listeners.has('qzs:session-opened')).toBe(false);
    const viaOn: unknown[] = [];
    const off2 = qzs.on('session-opened', (s) => viaOn.push(s));
    fake.listeners.get('qzs:session-opened')!(null, { id: 's1' });
    fake.listeners.get('qzs:session-opened')!(null, good);
    expect(viaOn).toEqual([good]);
    off2();
  });
});
