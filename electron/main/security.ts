// SECURITY REGION — change only with the Electron security checklist at hand
// (docs/tutorial/security.md #3 isolation, #4 sandbox, #7 CSP, #13 navigation, #14 new windows,
// #15 openExternal, #17 sender validation). The window shows only our own bundled page.
import { app, session, shell, type WebContents } from 'electron';
import { CSP } from '../../shared/contract/http-protocol';

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

export function setupSecurity(): void {
  // Permission requests (camera, notifications, …) and checks: always no.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  // CSP as a header as well as the meta tag, for every response the window loads.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  // No remote content: only file:// (our bundle) and devtools may load.
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    const ok = details.url.startsWith('file://') || details.url.startsWith('devtools://') || details.url.startsWith('data:') || details.url.startsWith('blob:');
    callback({ cancel: !ok });
  });
  app.on('web-contents-created', (_e, contents) => lockDown(contents));
}

function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    // Links to documentation open in the user's browser, never in the app; everything else is refused.
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}
// END SECURITY REGION
