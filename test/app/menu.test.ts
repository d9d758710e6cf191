// The application menu with Electron faked: every MenuCommand the renderer understands is sent by one of
// its items (Help ▸ Keyboard Shortcuts among them), on the menu event channel.
import { describe, expect, it, vi } from 'vitest';
import { MENU_COMMANDS, MENU_EVENT } from '../../shared/contract/menu';
import { DOC_LINKS, isDocsUrl } from '../../shared/contract/docs-links';

interface Item { label?: string; click?: () => void; submenu?: Item[] }
const built = vi.hoisted(() => ({ template: [] as unknown[] }));

vi.mock('electron', () => ({
  app: { quit: () => {} },
  Menu: { setApplicationMenu: () => {}, buildFromTemplate: (t: unknown[]) => { built.template = t; return t; } },
}));

describe('application menu', () => {
  it('sends every menu command, and Help has the keyboard shortcuts', async () => {
    const { buildMenu } = await import('../../electron/main/menu');
    const sent: unknown[][] = [];
    const docs: string[] = [];
    buildMenu({ webContents: { send: (...a: unknown[]) => sent.push(a) } } as never, { recent: () => [], openRecent: () => {}, openDocs: (u) => docs.push(u) });
    const items: Item[] = [];
    const walk = (list: Item[]): void => { for (const i of list) { items.push(i); if (Array.isArray(i.submenu)) walk(i.submenu); } };
    walk(built.template as Item[]);
    for (const i of items) if (i.click && i.label !== 'Quit') i.click();
    expect(new Set(sent.map(([channel, cmd]) => { expect(channel).toBe(MENU_EVENT); return cmd; }))).toEqual(new Set(MENU_COMMANDS));
    const help = (built.template as Item[]).find((i) => i.label === '&Help')!;
    expect(help.submenu!.map((i) => i.label)).toContain('Keyboard Shortcuts (?)');
    // Help ▸ QEMU qcow2 format documentation (and the other documentation entries) ask main to open the link.
    expect(help.submenu!.map((i) => i.label)).toContain('QEMU qcow2 format documentation');
    expect(docs).toEqual(DOC_LINKS.map((d) => d.url));
    for (const u of docs) expect(isDocsUrl(u), u).toBe(true);
  });
});
