// The renderer's only door to the engine: window.qzs in Electron, HTTP under `qzs serve`. Same interface.
import type { QzsApi } from '../shared/contract/channels';
import type { SessionInfo } from '../shared/contract/dto';
import type { MenuCommand } from '../shared/contract/menu';
import type { Result } from '../shared/contract/result';
import './bridge';
import { httpApi } from './http-transport';

export const inElectron = typeof window !== 'undefined' && !!window.qzs;

export const api: QzsApi = inElectron ? window.qzs!.api : httpApi();

/** An API whose calls stop when `signal` aborts (HTTP: the request is dropped and the server cancels). */
export function cancellableApi(signal: AbortSignal): QzsApi {
  return inElectron ? api : httpApi(signal);
}

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
