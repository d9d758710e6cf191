// Commands the Electron menu (and its accelerators) send to the renderer; the browser build raises the same
// commands from its own keyboard handler, so one code path serves both.
export type MenuCommand = 'open' | 'new-image' | 'close' | 'reload' | 'about' | 'check' | 'toggle-editing' | 'shortcuts';

export const MENU_COMMANDS: readonly MenuCommand[] = ['open', 'new-image', 'close', 'reload', 'about', 'check', 'toggle-editing', 'shortcuts'];

export function isMenuCommand(v: unknown): v is MenuCommand {
  return typeof v === 'string' && (MENU_COMMANDS as readonly string[]).includes(v);
}

/** Main → renderer event channel for menu commands and files opened from outside (file association, dock). */
export const MENU_EVENT = 'qzs:menu';
export const SESSION_OPENED_EVENT = 'qzs:session-opened';
/** Main → renderer event channel for JobProgress of long calls (check, create with preallocation). */
export const PROGRESS_EVENT = 'qzs:progress';

/** Events the preload's on(event, cb) accepts: nothing else can be subscribed to. */
export type BridgeEvent = 'menu' | 'session-opened' | 'progress';
export const BRIDGE_EVENTS: Readonly<Record<BridgeEvent, string>> = { menu: MENU_EVENT, 'session-opened': SESSION_OPENED_EVENT, progress: PROGRESS_EVENT };
