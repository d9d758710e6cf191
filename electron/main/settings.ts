// Recent files and window bounds, kept as JSON in the user-data folder. Paths here never go to the renderer
// except as display names; the renderer reopens a recent file by its index.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Bounds { x?: number; y?: number; width: number; height: number }

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
      const b = raw.bounds;
      if (b && typeof b.width === 'number' && typeof b.height === 'number') this.data.bounds = b;
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
    this.data.bounds = bounds;
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
