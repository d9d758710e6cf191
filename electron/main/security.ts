// SECURITY REGION — change only with the Electron security checklist at hand
// (docs/tutorial/security.md #3 isolation, #4 sandbox, #7 CSP, #13 navigation, #14 new windows,
// #15 openExternal, #17 sender validation, #18 file://, #19 fuses: build/electron-builder.yml).
// The window shows only our own bundled page, served from the privileged app scheme below: CSP 'self'
// then means that scheme and nothing on the local disk, and no file:// request is answered at all.
import { app, protocol, session, shell, type WebContents } from 'electron';
import { isDocsUrl } from '../../shared/contract/docs-links';
import { CSP } from '../../shared/contract/http-protocol';
import { staticFile } from '../server/static-files';

export const APP_SCHEME = 'qzs';
export const APP_HOST = 'app';
/** The page the window loads; its scheme and host are the only ones the sender check trusts. */
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** The only webPreferences the app uses. */
export function securePreferences(preload: string): Electron.WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    webviewTag: false,
  };
}

/**
 * Before app ready (Electron allows it only then): our scheme is standard (relative URLs and an origin),
 * secure (a secure context, like https) and may use fetch. It does not bypass CSP, and it is not
 * CORS-enabled: nothing else may read from it.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } }]);
}

const HEADERS = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' };

/** The answer to one request on the app scheme: a file of the built renderer, or 404. */
export async function appResponse(rendererDir: string, url: string): Promise<Response> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return new Response('bad request', { status: 400, headers: HEADERS });
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return new Response('not found', { status: 404, headers: HEADERS });
  // The same confinement as `qzs serve`'s static files: nothing outside the renderer folder.
  const file = await staticFile(rendererDir, u.pathname);
  if (!file) return new Response('not found', { status: 404, headers: HEADERS });
  return new Response(new Uint8Array(file.body), { status: 200, headers: { ...HEADERS, 'Content-Type': file.type } });
}

/** What may load in the window: our scheme, and devtools, data: and blob: (images the page makes). */
export function allowedRequest(url: string): boolean {
  return url.startsWith(`${APP_SCHEME}://${APP_HOST}/`) || url.startsWith('devtools://') || url.startsWith('data:') || url.startsWith('blob:');
}

/** shell.openExternal for allowlisted documentation links only (the contract's app:openDocs and the Help menu). */
export async function openDocs(url: string): Promise<void> {
  if (!isDocsUrl(url)) throw new Error('not a documentation link this app opens');
  await shell.openExternal(url);
}

export function setupSecurity(rendererDir: string): void {
  const ses = session.defaultSession;
  protocol.handle(APP_SCHEME, (req) => appResponse(rendererDir, req.url));
  // file:// answers nothing: the bundle is on the app scheme, so a file URL is never ours.
  protocol.handle('file', () => new Response('file:// is not served', { status: 403, headers: HEADERS }));
  // Permission requests (camera, notifications, …) and checks: always no.
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  // WebUSB, WebHID, Web Serial: no device is ever granted, and no chooser ever picks one.
  ses.setDevicePermissionHandler(() => false);
  ses.on('select-usb-device', (e, _details, callback) => { e.preventDefault(); callback(); });
  ses.on('select-hid-device', (e, _details, callback) => { e.preventDefault(); callback(); });
  ses.on('select-serial-port', (e, _ports, _wc, callback) => { e.preventDefault(); callback(''); });
  // CSP as a header as well as the meta tag, for every response the window loads.
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  // No remote content and no file://: only our scheme (and devtools, data:, blob:) may load.
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !allowedRequest(details.url) }));
  app.on('web-contents-created', (_e, contents) => lockDown(contents));
}

function lockDown(contents: WebContents): void {
  // The page never navigates, in its main frame or any frame; loadURL (ours) does not raise these.
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-frame-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  // No new windows. A documentation link is opened on purpose through app:openDocs, never by a click
  // that happens to carry target=_blank.
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}
// END SECURITY REGION
