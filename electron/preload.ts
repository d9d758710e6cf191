// The preload: exposes named methods only (one per contract channel), never ipcRenderer itself, and
// resolves a dropped file's path with webUtils.getPathForFile so the page never names a path.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { CHANNELS } from '../shared/contract/channels';
import { BRIDGE_EVENTS, isMenuCommand, MENU_EVENT, SESSION_OPENED_EVENT, type BridgeEvent, type MenuCommand } from '../shared/contract/menu';
import { isJobProgress, isSessionInfo } from '../shared/contract/bridge-guards';
import type { SessionInfo } from '../shared/contract/dto';

/** What each event may deliver: anything else main might send is dropped here. */
const ACCEPT: Record<BridgeEvent, (v: unknown) => boolean> = {
  menu: isMenuCommand,
  'session-opened': isSessionInfo,
  progress: isJobProgress,
};

const api: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
for (const channel of CHANNELS) {
  if (channel === 'session:openDropped') continue;
  api[channel] = (...args: unknown[]) => ipcRenderer.invoke(channel, ...args);
}

contextBridge.exposeInMainWorld('qzs', {
  api,
  /** Subscribe to one of the known events; returns the unsubscribe function. */
  on: (event: BridgeEvent, cb: (payload: unknown) => void) => {
    if (!Object.prototype.hasOwnProperty.call(BRIDGE_EVENTS, event)) return () => {};
    const channel = BRIDGE_EVENTS[event];
    const listener = (_e: IpcRendererEvent, v: unknown): void => { if (ACCEPT[event](v)) cb(v); };
    ipcRenderer.on(channel, listener);
    return () => { ipcRenderer.removeListener(channel, listener); };
  },
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
    const listener = (_e: IpcRendererEvent, s: unknown): void => { if (isSessionInfo(s)) cb(s); };
    ipcRenderer.on(SESSION_OPENED_EVENT, listener);
    return () => { ipcRenderer.removeListener(SESSION_OPENED_EVENT, listener); };
  },
});
