// Recent files and window state (size, position, maximised), kept as JSON in the user-data folder. Paths here never go to the renderer
// except as display names; the renderer reopens a recent file by its index.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Bounds { x?: number; y?: number; width: number; height: number }
/** A display's work area (Electron's screen.getAllDisplays()[i].workArea). */
export interface Area { x: number; y: number; width: number; height: number }

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** Saved bounds as read back from disk: whole numbers, a positive size, a position only as a pair. */
function readBounds(v: unknown): Bounds | null {
  const b = v as Partial<Bounds> | null;
  if (typeof b !== 'object' || b === null || !isInt(b.width) || !isInt(b.height) || b.width <= 0 || b.height <= 0) return null;
  return isInt(b.x) && isInt(b.y) ? { x: b.x, y: b.y, width: b.width, height: b.height } : { width: b.width, height: b.height };
}

/** How much of the window's top strip must lie on a display for the saved position to be kept. */
const GRIP = 64;

/**
 * Where the window opens: the saved size (no smaller than the minimum, no larger than the biggest
 * display) at the saved position, unless that position is no longer on any display (a monitor was
 * unplugged, the resolution shrank): then the size alone, and the window manager centres it.
 */
export function placeWindow(saved: Bounds | null, areas: readonly Area[], fallback: Bounds, min: { width: number; height: number }): Bounds {
  if (!saved) return { width: fallback.width, height: fallback.height };
  const maxW = Math.max(min.width, ...areas.map((a) => a.width));
  const maxH = Math.max(min.height, ...areas.map((a) => a.height));
  const width = Math.min(Math.max(saved.width, min.width), maxW);
  const height = Math.min(Math.max(saved.height, min.height), maxH);
  if (saved.x === undefined || saved.y === undefined) return { width, height };
  const { x, y } = saved;
  // The title bar must be reachable: its top edge inside a work area, and GRIP pixels of it across.
  const visible = areas.some((a) => y >= a.y && y < a.y + a.height - GRIP / 2
    && Math.min(x + width, a.x + a.width) - Math.max(x, a.x) >= GRIP);
  return visible ? { x, y, width, height } : { width, height };
}

interface SettingsData {
  recent: string[];
  bounds: Bounds | null;
  maximized: boolean;
}

const MAX_RECENT = 10;

export class Settings {
  private data: SettingsData = { recent: [], bounds: null, maximized: false };
  private readonly file: string;

  constructor(userData: string) {
    this.file = join(userData, 'settings.json');
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<SettingsData>;
      this.data.recent = Array.isArray(raw.recent) ? raw.recent.filter((p): p is string => typeof p === 'string').slice(0, MAX_RECENT) : [];
      this.data.bounds = readBounds(raw.bounds);
      this.data.maximized = raw.maximized === true;
    } catch {
      // First start, or an unreadable file: defaults.
    }
  }

  get recent(): string[] { return [...this.data.recent]; }
  get bounds(): Bounds | null { return this.data.bounds; }
  get maximized(): boolean { return this.data.maximized; }

  addRecent(path: string): void {
    this.data.recent = [path, ...this.data.recent.filter((p) => p !== path)].slice(0, MAX_RECENT);
    this.save();
  }

  setBounds(bounds: Bounds, maximized: boolean): void {
    this.data.bounds = readBounds(bounds);
    this.data.maximized = maximized;
    this.save();
  }

  private save(): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(this.file, JSON.stringify(this.data, null, 2));
    } catch {
      // Settings are a convenience; never fail the app over them.
    }
  }
}
