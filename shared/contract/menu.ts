// Commands the Electron menu (and its accelerators) send to the renderer; the browser build raises the same
// commands from its own keyboard handler, so one code path serves both.
export type MenuCommand = 'open' | 'new-image' | 'close' | 'reload' | 'about' | 'check' | 'toggle-editing';

export const MENU_COMMANDS: readonly MenuCommand[] = ['open', 'new-image', 'close', 'reload', 'about', 'check', 'toggle-editing'];

export function isMenuCommand(v: unknown): v is MenuCommand {
  return typeof v === 'string' && (MENU_COMMANDS as readonly string[]).includes(v);
}

/** Main → renderer event channel for menu commands and files opened from outside (file association, dock). */
export const MENU_EVENT = 'qzs:menu';
export const SESSION_OPENED_EVENT = 'qzs:session-opened';
