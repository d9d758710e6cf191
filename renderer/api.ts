// The renderer's only door to the engine: window.qzs in Electron, HTTP under `qzs serve`. Same interface.
import type { QzsApi } from '../shared/contract/channels';
import type { JobProgress, SessionInfo } from '../shared/contract/dto';
import type { MenuCommand } from '../shared/contract/menu';
import type { Result } from '../shared/contract/result';
import { isDocsUrl } from '../shared/contract/docs-links';
import './bridge';
import { httpApi, httpProgress } from './http-transport';

export const inElectron = typeof window !== 'undefined' && !!window.qzs;

export const api: QzsApi = inElectron ? window.qzs!.api : httpApi();

export function onMenu(cb: (cmd: MenuCommand) => void): () => void {
  return window.qzs?.onMenu(cb) ?? (() => {});
}

export function onSessionOpened(cb: (s: SessionInfo) => void): () => void {
  return window.qzs?.onSessionOpened(cb) ?? (() => {});
}

export async function openDropped(file: File): Promise<Result<SessionInfo>> {
  if (!window.qzs) return { ok: false, error: { code: 'invalid-argument', message: 'dropping files works in the desktop app; under qzs serve, pass images on its command line' } };
  return window.qzs.openDroppedFile(file);
}

/** Progress of jobs (check, create): Electron events through the preload, or lines of the HTTP answers. */
export function onProgress(cb: (p: JobProgress) => void): () => void {
  if (window.qzs) return window.qzs.on('progress', (p) => cb(p as JobProgress));
  httpProgress.add(cb);
  return () => { httpProgress.delete(cb); };
}

let jobCounter = 0;

/** A fresh job id for a long call (unique within this page). */
export function newJobId(): string {
  jobCounter += 1;
  return `j${Date.now().toString(36)}${jobCounter.toString(36)}`;
}

/**
 * Open a documentation page (shared/contract/docs-links.ts allowlist) in the user's browser: in Electron
 * through app:openDocs (main checks the link again and calls shell.openExternal); under qzs serve the page
 * is already in a browser, which opens it in a new tab without handing it this page.
 */
export async function openDocs(url: string): Promise<Result<null>> {
  if (!isDocsUrl(url)) return { ok: false, error: { code: 'invalid-argument', message: 'not a documentation link this app opens' } };
  if (inElectron) return api['app:openDocs'](url);
  window.open(url, '_blank', 'noopener,noreferrer');
  return { ok: true, value: null };
}
