// What the Electron preload puts on window.qzs: one method per contract channel, plus the few things only
// a preload can do (a dropped file's path, menu events). The renderer never sees ipcRenderer itself.
import type { QzsApi } from '../shared/contract/channels';
import type { SessionInfo } from '../shared/contract/dto';
import type { BridgeEvent, MenuCommand } from '../shared/contract/menu';
import type { Result } from '../shared/contract/result';

export interface QzsBridge {
  api: QzsApi;
  /** Subscribe to a known event (menu, session-opened, progress); returns an unsubscribe function. */
  on(event: BridgeEvent, cb: (payload: unknown) => void): () => void;
  /** Open a file dropped on the window (the preload resolves its path with webUtils.getPathForFile). */
  openDroppedFile(file: File): Promise<Result<SessionInfo>>;
  /** Menu commands from main; returns an unsubscribe function. */
  onMenu(cb: (cmd: MenuCommand) => void): () => void;
  /** A session opened by main (file association, second instance, command line). */
  onSessionOpened(cb: (s: SessionInfo) => void): () => void;
}

declare global {
  interface Window {
    qzs?: QzsBridge;
  }
}
