// Electron main: a flat list of setupX() calls, the window last so every listener exists first (Fiddle).
// Images to open come from the command line (`npm start -- disk.qcow2`), file association (open-file,
// second instance), the open dialog, drag and drop (via the preload) and recent files.
import { app, BrowserWindow, dialog, screen } from 'electron';
import { join, resolve } from 'node:path';
import { SESSION_OPENED_EVENT } from '../../shared/contract/menu';
import { demoPathFor, ensureDemoImage, openDemoStates } from '../app/demo-image';
import { createHandlers, type HandlerTable } from '../app/handlers';
import { SessionRegistry } from '../app/sessions';
import { setupIpc } from './ipc';
import { buildMenu } from './menu';
import { APP_URL, openDocs, registerAppScheme, securePreferences, setupSecurity } from './security';
import { placeWindow, Settings } from './settings';

const VERSION = '0.1.0';
const rendererDir = join(__dirname, '../renderer');
const preload = join(__dirname, 'preload.cjs');
const appUrl = APP_URL;

const store = new SessionRegistry();
const trusted = new Set<number>();
let win: BrowserWindow | null = null;
let settings: Settings;
let table: HandlerTable;

/** Image paths among our arguments (Electron's own flags and the app path are skipped). */
function imageArgs(argv: string[]): string[] {
  const rest = argv.slice(app.isPackaged ? 1 : 2);
  return rest.filter((a) => !a.startsWith('-')).map((a) => resolve(a));
}

async function openPath(path: string, announce: boolean): Promise<void> {
  try {
    const s = await table['session:openDropped']({}, path);
    if (announce && win) win.webContents.send(SESSION_OPENED_EVENT, s);
    rebuildMenu();
  } catch (e) {
    dialog.showErrorBox('Cannot open image', `${path}\n\n${(e as Error).message}`);
  }
}

/** `npm start` with no image: the bundled demo, made by the engine on first start (dist/demo). */
async function openDemo(): Promise<void> {
  try {
    const path = demoPathFor(rendererDir);
    await ensureDemoImage(path);
    const e = await store.open(path);
    await openDemoStates(e.session);
  } catch (e) {
    dialog.showErrorBox('The demo image could not be made', (e as Error).message);
  }
}

function rebuildMenu(): void {
  if (!win) return;
  buildMenu(win, {
    recent: () => settings.recent,
    openRecent: (i) => { const p = settings.recent[i]; if (p) void openPath(p, true); },
    openDocs: (url) => { openDocs(url).catch((e: unknown) => dialog.showErrorBox('Cannot open the documentation', `${url}\n\n${e instanceof Error ? e.message : String(e)}`)); },
  });
}

async function setupHandlers(): Promise<void> {
  settings = new Settings(app.getPath('userData'));
  table = createHandlers(store, {
      transport: 'electron',
      version: VERSION,
      recent: { list: () => settings.recent, add: (p) => settings.addRecent(p) },
      openDialog: async () => {
        const r = await dialog.showOpenDialog(win!, { properties: ['openFile'], filters: [{ name: 'qcow2 images', extensions: ['qcow2', 'qcow', 'img'] }, { name: 'All files', extensions: ['*'] }] });
        return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
      },
      saveDialog: async (name) => {
        const r = await dialog.showSaveDialog(win!, { defaultPath: name, filters: [{ name: 'qcow2 images', extensions: ['qcow2'] }] });
        return r.canceled || !r.filePath ? null : r.filePath;
      },
      openExternal: openDocs,
      exportDialog: async (name, extension) => {
        const r = await dialog.showSaveDialog(win!, { defaultPath: name, filters: [{ name: `${extension} files`, extensions: [extension.split('.').pop()!] }, { name: 'All files', extensions: ['*'] }] });
        return r.canceled || !r.filePath ? null : r.filePath;
      },
    });
  setupIpc(table, { trustedWebContents: trusted, appUrl });
}

function createWindow(): void {
  const min = { width: 900, height: 560 };
  const b = placeWindow(settings.bounds, screen.getAllDisplays().map((d) => d.workArea), { width: 1400, height: 900 }, min);
  win = new BrowserWindow({
    ...b,
    minWidth: min.width,
    minHeight: min.height,
    title: 'Qcow2 Zone Studio',
    show: false,
    webPreferences: securePreferences(preload),
  });
  trusted.add(win.webContents.id);
  // Maximised before the first show (maximize() on a hidden window shows it early on Windows).
  win.once('ready-to-show', () => { if (settings.maximized) win?.maximize(); win?.show(); });
  // The restored (normal) bounds are kept even when maximised, so un-maximising next time lands right.
  win.on('close', () => { if (win) settings.setBounds(win.getNormalBounds(), win.isMaximized()); });
  win.on('closed', () => { win = null; });
  rebuildMenu();
  void win.loadURL(appUrl);
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', (_e, argv) => {
    for (const p of imageArgs(argv)) void openPath(p, true);
    if (win) { if (win.isMinimized()) win.restore(); win.focus(); }
  });
  // macOS file association and dock drops.
  app.on('open-file', (e, path) => {
    e.preventDefault();
    if (app.isReady() && table) void openPath(path, true);
    else pending.push(path);
  });
  const pending: string[] = [];
  registerAppScheme();
  app.whenReady().then(async () => {
    setupSecurity(rendererDir);
    await setupHandlers();
    if (process.argv.includes('--qzs-demo')) await openDemo();
    for (const p of [...imageArgs(process.argv), ...pending]) await openPath(p, false);
    createWindow();
  }).catch((e: unknown) => {
    dialog.showErrorBox('Qcow2 Zone Studio could not start', String(e));
    app.quit();
  });
  app.on('window-all-closed', () => {
    void store.closeAll().finally(() => app.quit());
  });
}
