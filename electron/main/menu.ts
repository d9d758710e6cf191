// The application menu. Items that act on the page send a MenuCommand to the renderer; Open Recent opens in
// main (the path never leaves main) and tells the renderer which session appeared.
import { app, Menu, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import { basename } from 'node:path';
import { MENU_EVENT, type MenuCommand } from '../../shared/contract/menu';
import { DOC_LINKS } from '../../shared/contract/docs-links';

export interface MenuActions {
  recent(): string[];
  openRecent(index: number): void;
  /** An allowlisted documentation link (main's openDocs, the function behind app:openDocs). */
  openDocs(url: string): void;
}

export function buildMenu(win: BrowserWindow, actions: MenuActions): void {
  const send = (c: MenuCommand) => () => win.webContents.send(MENU_EVENT, c);
  const recent = actions.recent();
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: send('open') },
        {
          label: 'Open Recent',
          submenu: recent.length ? recent.map((p, i) => ({ label: basename(p), sublabel: p, click: () => actions.openRecent(i) })) : [{ label: 'No recent files', enabled: false }],
        },
        { label: 'New Image…', accelerator: 'CmdOrCtrl+N', click: send('new-image') },
        { type: 'separator' },
        { label: 'Close', accelerator: 'CmdOrCtrl+W', click: send('close') },
        { type: 'separator' },
        { label: 'Quit', accelerator: 'CmdOrCtrl+Q', click: () => app.quit() },
      ],
    },
    {
      label: '&Image',
      submenu: [
        { label: 'Reload', accelerator: 'CmdOrCtrl+R', click: send('reload') },
        { label: 'Check', accelerator: 'CmdOrCtrl+Shift+C', click: send('check') },
        { label: 'Toggle Editing', accelerator: 'CmdOrCtrl+E', click: send('toggle-editing') },
      ],
    },
    { role: 'editMenu' },
    { label: '&Help', submenu: [{ label: 'Keyboard Shortcuts (?)', click: send('shortcuts') }, { label: 'About Qcow2 Zone Studio', accelerator: 'F1', click: send('about') },
      { type: 'separator' }, ...DOC_LINKS.map((d) => ({ label: d.title, sublabel: d.url, click: () => actions.openDocs(d.url) }))] },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
