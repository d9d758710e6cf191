// The built page (dist/renderer, made by `npm run build`): its entry script is small and sends the first
// image's requests (renderer/early.ts) before the React app is even parsed; the app's chunk downloads beside
// it (modulepreload), not after it. Under `qzs serve` a million-zone report is then on its way while React
// starts (issue 14).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST = resolve(__dirname, '../../dist/renderer');
const html = (): string => {
  const f = join(DIST, 'index.html');
  if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first`);
  return readFileSync(f, 'utf8');
};
/** The first group of every match of `re` in the page. */
const found = (re: RegExp): string[] => [...html().matchAll(re)].map((m) => m[1]);

describe('the page entry', () => {
  const entries = found(/<script type="module"[^>]*\ssrc="\.\/([^"]+)"/g);
  const preloads = found(/<link rel="modulepreload"[^>]*\shref="\.\/([^"]+)"/g);
  const js = (f: string): string => readFileSync(join(DIST, f), 'utf8');

  it('is one small module that sends the early requests and holds no React', () => {
    expect(entries).toHaveLength(1);
    const entry = js(entries[0]);
    expect(statSync(join(DIST, entries[0])).size).toBeLessThan(48 * 1024);
    expect(entry).toContain('app:info');
    expect(entry).toContain('zones:report');
    expect(entry).not.toContain('createRoot');
  });

  it('has the React app downloaded beside it (modulepreload), with every chunk that app imports', () => {
    const app = preloads.filter((f) => js(f).includes('createRoot'));
    expect(app).toHaveLength(1);
    // Every static import of the app's chunk is preloaded too (or is the entry itself).
    const imports = [...js(app[0]).matchAll(/from\s*"\.\/([^"]+\.js)"/g)].map((m) => `assets/${m[1]}`);
    expect(imports.length).toBeGreaterThan(0);
    for (const i of imports) expect([...preloads, ...entries]).toContain(i);
    for (const f of preloads) expect(existsSync(join(DIST, f))).toBe(true);
  });
});
