// The preload: exposes named methods only (one per contract channel), never ipcRenderer itself, and
// resolves a dropped file's path with webUtils.getPathForFile so the page never names a path.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { CHANNELS } from '../shared/contract/channels';
import { isMenuCommand, MENU_EVENT, SESSION_OPENED_EVENT, type MenuCommand } from '../shared/contract/menu';
import type { SessionInfo } from '../shared/contract/dto';

const api: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
for (const channel of CHANNELS) {
  if (channel === 'session:openDropped') continue;
  api[channel] = (...args: unknown[]) => ipcRenderer.invoke(channel, ...args);
}

contextBridge.exposeInMainWorld('qzs', {
  api,
  openDroppedFile: (file: File) => {
    const path = webUtils.getPathForFile(file);
    if (!path) return Promise.resolve({ ok: false, error: { code: 'invalid-argument', message: 'the dropped item is not a file on disk' } });
    return ipcRenderer.invoke('session:openDropped', path);
  },
  onMenu: (cb: (c: MenuCommand) => void) => {
    const listener = (_e: IpcRendererEvent, c: unknown): void => { if (isMenuCommand(c)) cb(c); };
    ipcRenderer.on(MENU_EVENT, listener);
    return () => { ipcRenderer.removeListener(MENU_EVENT, listener); };
  },
  onSessionOpened: (cb: (s: SessionInfo) => void) => {
    const listener = (_e: IpcRendererEvent, s: SessionInfo): void => cb(s);
    ipcRenderer.on(SESSION_OPENED_EVENT, listener);
    return () => { ipcRenderer.removeListener(SESSION_OPENED_EVENT, listener); };
  },
});
