// Electron smoke test: launch the built app, see the demo's zone map. It runs only where the Electron
// binary exists; elsewhere (as on machines without access to Electron's download) it is skipped with the
// reason, and never fails the suite.
import { _electron as electron, expect, test } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The Electron executable the npm package would run, or why there is none. */
function electronBinary(): { path: string } | { reason: string } {
  const pkg = resolve(ROOT, 'node_modules/electron');
  if (!existsSync(pkg)) return { reason: 'the electron package is not installed' };
  const pathTxt = resolve(pkg, 'path.txt');
  if (!existsSync(pathTxt)) return { reason: 'the Electron binary was never downloaded (node_modules/electron/path.txt is missing; its download needs github.com)' };
  const exe = resolve(pkg, 'dist', readFileSync(pathTxt, 'utf8').trim());
  return existsSync(exe) ? { path: exe } : { reason: `the Electron binary ${exe} is missing` };
}

const bin = electronBinary();

test('Electron: launches, opens the demo, shows the zone map', async () => {
  if ('reason' in bin) console.log(`Electron smoke test did not run: ${bin.reason}`);
  test.skip('reason' in bin, `did not run: ${'reason' in bin ? bin.reason : ''}`);
  if ('reason' in bin) return;
  const app = await electron.launch({ executablePath: bin.path, args: [resolve(ROOT, 'dist/electron/main.cjs'), '--qzs-demo'], cwd: ROOT });
  try {
    const win = await app.firstWindow();
    await expect(win.getByTestId('file-facts')).toContainText('demo.qcow2');
    await win.click('[data-nav=zones]');
    await expect(win.getByTestId('zone-map')).toBeVisible();
    // What the checklist asks for, seen from the page: no Node, only the named API on window.qzs.
    const page = await win.evaluate(() => ({
      node: typeof (globalThis as { require?: unknown }).require !== 'undefined' || typeof (globalThis as { process?: unknown }).process !== 'undefined',
      api: Object.keys((window as unknown as { qzs: object }).qzs).sort(),
    }));
    expect(page).toEqual({ node: false, api: ['api', 'onMenu', 'onSessionOpened', 'openDroppedFile'] });
  } finally {
    await app.close();
  }
});
