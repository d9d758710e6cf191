// The Electron shell with Electron faked: the window's security settings, permission and navigation
// denial, one ipcMain handler per contract channel behind the sender check. Runs in plain Node.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '../../shared/contract/channels';

type Listener = (...a: unknown[]) => unknown;
const userData = mkdtempSync(join(tmpdir(), 'qzs-electron-'));
const fake = vi.hoisted(() => {
  const handlers = new Map<string, (...a: unknown[]) => Promise<unknown>>();
  const appEvents = new Map<string, Listener>();
  const windows: { options: Record<string, unknown>; url: string | null; webContents: { id: number; mainFrame: object; send: Listener } }[] = [];
  const session = { permissionRequest: null as Listener | null, permissionCheck: null as Listener | null, headers: null as Listener | null, beforeRequest: null as Listener | null };
  let ready: () => void = () => {};
  const whenReady = new Promise<void>((r) => { ready = r; });
  return { handlers, appEvents, windows, session, whenReady, ready: () => ready() };
});

vi.mock('electron', () => {
  class BrowserWindow {
    webContents: { id: number; mainFrame: object; send: Listener };
    constructor(public options: Record<string, unknown>) {
      this.webContents = { id: 41, mainFrame: {}, send: () => {} };
      fake.windows.push(this as unknown as (typeof fake.windows)[number]);
    }
    url: string | null = null;
    once(): void {}
    on(): void {}
    maximize(): void {}
    loadURL(u: string): Promise<void> { this.url = u; return Promise.resolve(); }
    static getAllWindows(): unknown[] { return fake.windows; }
  }
  return {
    app: {
      isPackaged: false,
      getPath: () => userData,
      requestSingleInstanceLock: () => true,
      on: (e: string, f: Listener) => { fake.appEvents.set(e, f); },
      whenReady: () => fake.whenReady,
      isReady: () => true,
      quit: () => {},
    },
    BrowserWindow,
    Menu: { setApplicationMenu: () => {}, buildFromTemplate: (t: unknown) => t },
    dialog: { showErrorBox: () => {}, showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showSaveDialog: async () => ({ canceled: true }) },
    ipcMain: { handle: (c: string, f: (...a: unknown[]) => Promise<unknown>) => { fake.handlers.set(c, f); } },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (f: Listener) => { fake.session.permissionRequest = f; },
        setPermissionCheckHandler: (f: Listener) => { fake.session.permissionCheck = f; },
        webRequest: {
          onHeadersReceived: (f: Listener) => { fake.session.headers = f; },
          onBeforeRequest: (f: Listener) => { fake.session.beforeRequest = f; },
        },
      },
    },
    shell: { openExternal: async () => {} },
  };
});

afterAll(() => rmSync(userData, { recursive: true, force: true }));

async function boot(): Promise<void> {
  await import('../../electron/main/main');
  fake.ready();
  for (let i = 0; i < 100 && fake.windows.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('Electron main (faked Electron)', () => {
  it('creates one window with isolation, sandbox and no Node, loading our own file:// page', async () => {
    await boot();
    expect(fake.windows).toHaveLength(1);
    const prefs = fake.windows[0].options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false });
    expect(String(prefs.preload)).toMatch(/preload\.cjs$/);
    expect(fake.windows[0].url).toMatch(/^file:\/\/.*\/renderer\/index\.html$/);
  });

  it('denies permissions, remote requests, navigation and new windows', () => {
    let granted: boolean | null = null;
    fake.session.permissionRequest!(null, 'media', (g: boolean) => { granted = g; });
    expect(granted).toBe(false);
    expect(fake.session.permissionCheck!()).toBe(false);
    let cancel: boolean | null = null;
    fake.session.beforeRequest!({ url: 'https://example.com/x.js' }, (r: { cancel: boolean }) => { cancel = r.cancel; });
    expect(cancel).toBe(true);
    fake.session.beforeRequest!({ url: 'file:///app/index.html' }, (r: { cancel: boolean }) => { cancel = r.cancel; });
    expect(cancel).toBe(false);
    let headers: Record<string, string[]> = {};
    fake.session.headers!({ responseHeaders: {} }, (r: { responseHeaders: Record<string, string[]> }) => { headers = r.responseHeaders; });
    expect(headers['Content-Security-Policy'][0]).toMatch(/default-src 'none'/);

    const events = new Map<string, Listener>();
    let openHandler: Listener | null = null;
    fake.appEvents.get('web-contents-created')!(null, { on: (e: string, f: Listener) => events.set(e, f), setWindowOpenHandler: (f: Listener) => { openHandler = f; } });
    let prevented = false;
    events.get('will-navigate')!({ preventDefault: () => { prevented = true; } });
    expect(prevented).toBe(true);
    expect(openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
  });

  it('registers every contract channel and answers only our window\'s main frame', async () => {
    expect([...fake.handlers.keys()].sort()).toEqual([...CHANNELS].sort());
    const wc = fake.windows[0].webContents;
    const url = fake.windows[0].url!;
    const call = (frame: object | null, sender = wc) => fake.handlers.get('app:info')!({ senderFrame: frame, sender }) as Promise<{ ok: boolean; error?: { message: string } }>;
    const main = Object.assign(wc.mainFrame, { url });
    expect((await call(main)).ok).toBe(true);
    expect(await call({ url })).toMatchObject({ ok: false, error: { message: expect.stringContaining('did not come from the application window') } });
    expect((await call(null)).ok).toBe(false);
    expect((await call(main, { ...wc, id: 99 })).ok).toBe(false);
    Object.assign(main, { url: 'https://evil.example/' });
    expect((await call(main)).ok).toBe(false);
    Object.assign(main, { url });
    const bad = await fake.handlers.get('image:read')!({ senderFrame: main, sender: wc }, 'x', 0, 1) as { ok: boolean };
    expect(bad.ok).toBe(false);
  });

  it('sends a job\'s progress to the window that asked, and job:cancel over IPC stops it', async () => {
    const { createImage } = await import('../../electron/engine/create');
    const image = join(userData, 'job.qcow2');
    await createImage({ file: image, options: { size: '64M', cluster_size: '512', preallocation: 'metadata' } });
    const wc = fake.windows[0].webContents;
    const main = Object.assign(wc.mainFrame, { url: fake.windows[0].url! });
    const sent: [string, { job: string; done: number; total: number }][] = [];
    const sender = { ...wc, isDestroyed: () => false, send: (c: string, p: { job: string; done: number; total: number }) => { sent.push([c, p]); } };
    const call = <T>(channel: string, ...args: unknown[]) => fake.handlers.get(channel)!({ senderFrame: main, sender }, ...args) as Promise<{ ok: boolean; value: T; error: { details?: Record<string, unknown> } }>;
    const s = await call<{ id: string }>('session:openDropped', image);
    expect(s.ok).toBe(true);
    const done = await call<{ complete: boolean }>('check:run', s.value.id, 'jipc1');
    expect(done.value.complete).toBe(true);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every(([c, p]) => c === 'qzs:progress' && p.job === 'jipc1' && p.done <= p.total)).toBe(true);

    sent.length = 0;
    const cancelSender = { ...sender, send: (c: string, p: { job: string; done: number; total: number }) => { sent.push([c, p]); if (sent.length === 1) void call('job:cancel', 'jipc2'); } };
    const r = await (fake.handlers.get('check:run')!({ senderFrame: main, sender: cancelSender }, s.value.id, 'jipc2') as Promise<{ ok: boolean; error: { details?: Record<string, unknown> } }>);
    expect(r.ok).toBe(false);
    expect(r.error.details?.cancelled).toBe(true);
    // A window that went away gets nothing (and the job still answers).
    const gone = { ...sender, isDestroyed: () => true, send: () => { throw new Error('sent to a destroyed window'); } };
    const g = await (fake.handlers.get('check:run')!({ senderFrame: main, sender: gone }, s.value.id, 'jipc3') as Promise<{ ok: boolean }>);
    expect(g.ok).toBe(true);
  }, 30_000);
});
