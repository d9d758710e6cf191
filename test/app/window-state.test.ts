// Where the window reopens (electron/main/settings.ts placeWindow) and what the settings file may hold:
// the saved state comes back unless it would put the window where no display shows it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { placeWindow, Settings } from '../../electron/main/settings';

const laptop = { x: 0, y: 0, width: 1440, height: 860 };
const monitor = { x: 1440, y: -200, width: 2560, height: 1400 };
const fallback = { width: 1400, height: 900 };
const min = { width: 900, height: 560 };
const dir = mkdtempSync(join(tmpdir(), 'qzs-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('placeWindow', () => {
  it('first start: the default size, placed by the window manager', () => {
    expect(placeWindow(null, [laptop], fallback, min)).toEqual({ width: 1400, height: 900 });
  });

  it('keeps the saved size and position while that spot is on a display', () => {
    expect(placeWindow({ x: 1600, y: 0, width: 1800, height: 1000 }, [laptop, monitor], fallback, min)).toEqual({ x: 1600, y: 0, width: 1800, height: 1000 });
    expect(placeWindow({ x: -300, y: 100, width: 1000, height: 700 }, [laptop], fallback, min)).toEqual({ x: -300, y: 100, width: 1000, height: 700 });
  });

  it('drops a position no display shows any more (the monitor was unplugged), keeping the size it can', () => {
    expect(placeWindow({ x: 1600, y: 0, width: 1800, height: 1000 }, [laptop], fallback, min)).toEqual({ width: 1440, height: 860 });
    // Title bar above the top edge, or only a sliver of it on screen: not reachable, so not kept.
    expect(placeWindow({ x: 100, y: -40, width: 1000, height: 700 }, [laptop], fallback, min)).toEqual({ width: 1000, height: 700 });
    expect(placeWindow({ x: 1440 - 20, y: 100, width: 1000, height: 700 }, [laptop], fallback, min)).toEqual({ width: 1000, height: 700 });
  });

  it('never opens smaller than the minimum', () => {
    expect(placeWindow({ x: 10, y: 10, width: 200, height: 100 }, [laptop], fallback, min)).toEqual({ x: 10, y: 10, width: 900, height: 560 });
  });
});

describe('Settings window state', () => {
  it('round-trips size, position and maximised through the settings file', () => {
    const s = new Settings(dir);
    s.setBounds({ x: 12, y: 34, width: 1234, height: 777 }, true);
    const again = new Settings(dir);
    expect(again.bounds).toEqual({ x: 12, y: 34, width: 1234, height: 777 });
    expect(again.maximized).toBe(true);
  });

  it('reads a damaged or hand-edited file as no saved state rather than as numbers it is not', () => {
    for (const bounds of [{ width: '1200', height: 800 }, { width: 0, height: 800 }, { width: 1.5, height: 800 }, null, 'big']) {
      writeFileSync(join(dir, 'settings.json'), JSON.stringify({ recent: [], bounds, maximized: 'yes' }));
      const s = new Settings(dir);
      expect(s.bounds, JSON.stringify(bounds)).toBeNull();
      expect(s.maximized).toBe(false);
    }
    // A position is kept only as a whole-number pair.
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ bounds: { x: '5', y: 6, width: 1000, height: 700 } }));
    expect(new Settings(dir).bounds).toEqual({ width: 1000, height: 700 });
    writeFileSync(join(dir, 'settings.json'), '{ not json');
    expect(new Settings(dir).bounds).toBeNull();
    expect(readFileSync(join(dir, 'settings.json'), 'utf8')).toBe('{ not json');
  });
});
