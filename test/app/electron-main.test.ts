// The Electron shell with Electron faked: the window's security settings, permission and navigation
// denial, one ipcMain handler per contract channel behind the sender check. Runs in plain Node.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '../../shared/contract/channels';
import { DOC_LINKS } from '../../shared/contract/docs-links';

type Listener = (...a: unknown[]) => unknown;
const userData = mkdtempSync(join(tmpdir(), 'qzs-electron-'));
const fake = vi.hoisted(() => {
  const handlers = new Map<string, (...a: unknown[]) => Promise<unknown>>();
  const appEvents = new Map<string, Listener>();
  interface FakeWindow {
    options: Record<string, unknown>; url: string | null; webContents: { id: number; mainFrame: object; send: Listener };
    listeners: Map<string, Listener>; maximized: boolean; shown: boolean; normalBounds: object;
  }
  const windows: FakeWindow[] = [];
  const session = {
    permissionRequest: null as Listener | null, permissionCheck: null as Listener | null, devicePermission: null as Listener | null,
    headers: null as Listener | null, beforeRequest: null as Listener | null, events: new Map<string, Listener>(),
  };
  const protocol = { privileged: [] as unknown[], handlers: new Map<string, Listener>(), readyWhenRegistered: null as boolean | null };
  const opened: string[] = [];
  const menu = { template: [] as unknown[] };
  let ready: () => void = () => {};
  const whenReady = new Promise<void>((r) => { ready = r; });
  let isReady = false;
  return { handlers, appEvents, windows, session, protocol, opened, menu, whenReady, ready: () => { isReady = true; ready(); }, isReady: () => isReady };
});

vi.mock('electron', () => {
  class BrowserWindow {
    webContents: { id: number; mainFrame: object; send: Listener };
    constructor(public options: Record<string, unknown>) {
      this.webContents = { id: 41, mainFrame: {}, send: () => {} };
      fake.windows.push(this as unknown as (typeof fake.windows)[number]);
    }
    url: string | null = null;
    listeners = new Map<string, Listener>();
    maximized = false;
    shown = false;
    normalBounds = { x: 10, y: 20, width: 1000, height: 700 };
    once(e: string, f: Listener): void { this.listeners.set(e, f); }
    on(e: string, f: Listener): void { this.listeners.set(e, f); }
    maximize(): void { this.maximized = true; }
    show(): void { this.shown = true; }
    isMaximized(): boolean { return this.maximized; }
    getNormalBounds(): object { return this.normalBounds; }
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
      isReady: () => fake.isReady(),
      quit: () => {},
    },
    BrowserWindow,
    // Two side-by-side displays; the saved window sits on the second.
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1050 } }, { workArea: { x: 1920, y: 0, width: 1280, height: 1024 } }] },
    Menu: { setApplicationMenu: (m: unknown[]) => { fake.menu.template = m; }, buildFromTemplate: (t: unknown) => t },
    dialog: { showErrorBox: () => {}, showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showSaveDialog: async () => ({ canceled: true }) },
    ipcMain: { handle: (c: string, f: (...a: unknown[]) => Promise<unknown>) => { fake.handlers.set(c, f); } },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (f: Listener) => { fake.session.permissionRequest = f; },
        setPermissionCheckHandler: (f: Listener) => { fake.session.permissionCheck = f; },
        setDevicePermissionHandler: (f: Listener) => { fake.session.devicePermission = f; },
        on: (e: string, f: Listener) => { fake.session.events.set(e, f); },
        webRequest: {
          onHeadersReceived: (f: Listener) => { fake.session.headers = f; },
          onBeforeRequest: (f: Listener) => { fake.session.beforeRequest = f; },
        },
      },
    },
    shell: { openExternal: async (u: string) => { fake.opened.push(u); } },
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => { fake.protocol.privileged.push(...s); fake.protocol.readyWhenRegistered = fake.isReady(); },
      handle: (scheme: string, f: Listener) => { fake.protocol.handlers.set(scheme, f); },
    },
  };
});

afterAll(() => rmSync(userData, { recursive: true, force: true }));

// The window state a previous run left: on the second display, maximised.
mkdirSync(userData, { recursive: true });
writeFileSync(join(userData, 'settings.json'), JSON.stringify({ recent: [], bounds: { x: 2000, y: 40, width: 1100, height: 800 }, maximized: true }));

async function boot(): Promise<void> {
  await import('../../electron/main/main');
  fake.ready();
  for (let i = 0; i < 100 && fake.windows.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('Electron main (faked Electron)', () => {
  it('creates one window with isolation, sandbox and no Node, loading our own page from the app scheme', async () => {
    await boot();
    expect(fake.windows).toHaveLength(1);
    const prefs = fake.windows[0].options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false });
    expect(String(prefs.preload)).toMatch(/preload\.cjs$/);
    expect(fake.windows[0].url).toBe('qzs://app/index.html');
  });

  it('reopens where the last run closed: size, position, maximised (before the first show); saves the state on close', () => {
    const w = fake.windows[0];
    expect(w.options).toMatchObject({ x: 2000, y: 40, width: 1100, height: 800, show: false });
    expect(w.maximized).toBe(false);
    w.listeners.get('ready-to-show')!();
    expect(w.maximized).toBe(true);
    expect(w.shown).toBe(true);
    w.maximized = false;
    w.normalBounds = { x: 1950, y: 30, width: 1024, height: 720 };
    w.listeners.get('close')!();
    expect(JSON.parse(readFileSync(join(userData, 'settings.json'), 'utf8'))).toMatchObject({ bounds: w.normalBounds, maximized: false });
  });

  it('registers the app scheme as privileged before ready: standard and secure, not a CSP bypass, not CORS', () => {
    expect(fake.protocol.readyWhenRegistered).toBe(false);
    expect(fake.protocol.privileged).toEqual([{ scheme: 'qzs', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    const p = (fake.protocol.privileged[0] as { privileges: Record<string, boolean> }).privileges;
    expect(p.bypassCSP).not.toBe(true);
    expect(p.corsEnabled).not.toBe(true);
    expect([...fake.protocol.handlers.keys()].sort()).toEqual(['file', 'qzs']);
  });

  it('answers no file:// request, and refuses file:// and remote URLs before they load', async () => {
    const r = await (fake.protocol.handlers.get('file')!({ url: 'file:///etc/passwd' }) as Promise<Response>);
    expect(r.status).toBe(403);
    expect(await r.text()).not.toMatch(/root:/);
    const cancelled = (url: string): boolean => {
      let cancel: boolean | null = null;
      fake.session.beforeRequest!({ url }, (x: { cancel: boolean }) => { cancel = x.cancel; });
      return cancel!;
    };
    expect(cancelled('qzs://app/index.html')).toBe(false);
    expect(cancelled('qzs://app/assets/index-abc.js')).toBe(false);
    expect(cancelled('file:///app/index.html')).toBe(true);
    expect(cancelled('qzs://other/index.html')).toBe(true);
    expect(cancelled('https://example.com/x.js')).toBe(true);
  });

  it('serves the renderer folder on the app scheme, with the CSP, and nothing outside it', async () => {
    const { appResponse } = await import('../../electron/main/security');
    const ui = join(userData, 'ui');
    mkdirSync(join(ui, 'assets'), { recursive: true });
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>qzs</title>');
    writeFileSync(join(ui, 'assets', 'a.js'), 'export {};');
    writeFileSync(join(userData, 'secret.txt'), 'not for the page');
    const page = await appResponse(ui, 'qzs://app/index.html');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await page.text()).toContain('<title>qzs</title>');
    expect((await appResponse(ui, 'qzs://app/')).status).toBe(200);
    expect((await appResponse(ui, 'qzs://app/assets/a.js')).headers.get('content-type')).toMatch(/javascript/);
    for (const url of ['qzs://app/../secret.txt', 'qzs://app/%2e%2e/secret.txt', 'qzs://app/..%2fsecret.txt', 'qzs://other/index.html', 'qzs://app/missing.js', 'not a url']) {
      const r = await appResponse(ui, url);
      expect(r.status, url).toBeGreaterThanOrEqual(400);
      expect(await r.text(), url).not.toContain('not for the page');
    }
  });

  it('denies every permission request and check, and every USB, HID and serial device', () => {
    for (const permission of ['media', 'notifications', 'usb', 'hid', 'serial', 'openExternal', 'clipboard-read']) {
      let granted: boolean | null = null;
      fake.session.permissionRequest!(null, permission, (g: boolean) => { granted = g; });
      expect(granted, permission).toBe(false);
      expect(fake.session.permissionCheck!(null, permission, 'qzs://app'), permission).toBe(false);
    }
    for (const deviceType of ['usb', 'hid', 'serial']) {
      expect(fake.session.devicePermission!({ deviceType, origin: 'qzs://app', device: {} }), deviceType).toBe(false);
    }
    // A page asking to pick a device gets none, and the chooser is taken over (preventDefault) so none shows.
    for (const [event, pick] of [['select-usb-device', (cb: Listener) => [{ deviceList: [{ deviceId: 'd1' }] }, cb]], ['select-hid-device', (cb: Listener) => [{ deviceList: [{ deviceId: 'd1' }] }, cb]], ['select-serial-port', (cb: Listener) => [[{ portId: 'p1' }], {}, cb]]] as const) {
      let prevented = false;
      let chosen: unknown = 'untouched';
      const cb = (id?: string): void => { chosen = id; };
      fake.session.events.get(event)!({ preventDefault: () => { prevented = true; } }, ...pick(cb as Listener));
      expect(prevented, event).toBe(true);
      expect([undefined, ''], event).toContain(chosen);
    }
  });

  it('denies navigation in any frame, redirects, webviews and new windows, and puts the CSP on every response', () => {
    let headers: Record<string, string[]> = {};
    fake.session.headers!({ responseHeaders: {} }, (r: { responseHeaders: Record<string, string[]> }) => { headers = r.responseHeaders; });
    expect(headers['Content-Security-Policy'][0]).toMatch(/default-src 'none'/);

    const events = new Map<string, Listener>();
    let openHandler: Listener | null = null;
    fake.appEvents.get('web-contents-created')!(null, { on: (e: string, f: Listener) => events.set(e, f), setWindowOpenHandler: (f: Listener) => { openHandler = f; } });
    for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
      let prevented = false;
      events.get(event)!({ preventDefault: () => { prevented = true; }, url: 'https://example.com/', isMainFrame: false });
      expect(prevented, event).toBe(true);
    }
    // Even a documentation link does not open a window or a browser by a click: only app:openDocs does.
    expect(openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    expect(openHandler!({ url: 'https://www.qemu.org/docs/master/interop/qcow2.html' })).toEqual({ action: 'deny' });
    expect(fake.opened).toEqual([]);
  });

  it('app:openDocs opens allowlisted documentation links in the browser, and nothing else', async () => {
    const wc = fake.windows[0].webContents;
    const main = Object.assign(wc.mainFrame, { url: fake.windows[0].url! });
    const call = (...a: unknown[]) => fake.handlers.get('app:openDocs')!({ senderFrame: main, sender: wc }, ...a) as Promise<{ ok: boolean; error?: { message: string } }>;
    expect((await call('https://www.qemu.org/docs/master/interop/qcow2.html')).ok).toBe(true);
    expect(fake.opened).toEqual(['https://www.qemu.org/docs/master/interop/qcow2.html']);
    for (const url of [
      'https://example.com/', 'http://www.qemu.org/docs/', 'https://www.qemu.org.evil.example/docs/', 'https://www.qemu.org@evil.example/docs/',
      'https://www.qemu.org/docs/../../evil', 'https://www.qemu.org/docs/%2e%2e/x', 'file:///etc/passwd', 'javascript:alert(1)', 'https://www.qemu.org:8443/docs/', 42,
    ]) {
      const r = await call(url);
      expect(r.ok, String(url)).toBe(false);
    }
    expect(fake.opened).toHaveLength(1);
  });

  it('Help lists each documentation link, and choosing one opens it in the browser through the allowlisted openDocs', async () => {
    interface Item { label?: string; sublabel?: string; click?: () => void; submenu?: Item[] }
    const help = (fake.menu.template as Item[]).find((i) => i.label === '&Help')!;
    const before = fake.opened.length;
    for (const d of DOC_LINKS) {
      const item = help.submenu!.find((i) => i.label === d.title);
      expect(item?.sublabel, d.title).toBe(d.url);
      item!.click!();
    }
    await new Promise((r) => setTimeout(r, 0));
    expect(fake.opened.slice(before)).toEqual(DOC_LINKS.map((d) => d.url));
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
