// One `qzs serve` per worker, over images made by qemu-img, by the zoned test builder and by our engine
// (the demo), on 127.0.0.1 with its per-run token. Tests pick an image from the toolbar's image list.
import { test as base, expect, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QZS_CMD } from '../helpers/cli';
import { qemuImg, qemuIo, tmpDir } from '../helpers/qemu';
import { buildZonedImage, wpValue } from '../helpers/zoned-builder';

export { QZS_CMD };
export const MIB = 1 << 20;
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SHOTS = resolve(ROOT, 'test-results/screenshots');

export interface Served {
  url: string;
  dir: string;
  createDir: string;
  proc: ChildProcess;
  file(name: string): string;
}

/** zoned.qcow2: 16 zones of 4 MiB (capacity 3 MiB), 2 conventional; zones 3/4/5 closed, full, finished. */
export const ZONED_WP: Record<number, number> = { 3: 3 * 4 * MIB + MIB, 4: 4 * 4 * MIB + 3 * MIB, 5: 6 * 4 * MIB };

function makeImages(dir: string): string[] {
  const f = (n: string): string => resolve(dir, n);
  qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', f('plain.qcow2'), '1G']);
  qemuImg(['create', '-q', '-f', 'qcow2', f('edit.qcow2'), '64M']);
  qemuImg(['create', '-q', '-f', 'qcow2', f('corrupt.qcow2'), '64M']);
  // compression_type = 1 (zstd) with incompatible bit 3 clear: a header finding at byte 104.
  const fd = openSync(f('corrupt.qcow2'), 'r+');
  writeSync(fd, Buffer.from([1]), 0, 1, 104);
  closeSync(fd);
  // One leaked cluster: the L1 table's refcount (cluster 3, 16-bit entry in the block at 0x20000) raised to 2.
  qemuImg(['create', '-q', '-f', 'qcow2', f('leak.qcow2'), '64M']);
  const lfd = openSync(f('leak.qcow2'), 'r+');
  writeSync(lfd, Buffer.from([0, 2]), 0, 2, 0x20000 + 3 * 2);
  closeSync(lfd);
  const zoned = buildZonedImage({
    layout: 'v8', virtualSize: 64 * MIB, zoneSize: 4 * MIB, zoneCapacity: 3 * MIB, conventionalZones: 2,
    maxOpenZones: 3, maxActiveZones: 4, maxAppendBytes: 65536,
    entry: (i, start) => (ZONED_WP[i] !== undefined ? wpValue(ZONED_WP[i]) : i < 2 ? wpValue(start, { conventional: true }) : wpValue(start)),
  });
  writeFileSync(f('zoned.qcow2'), zoned.bytes);
  writeFileSync(f('ops.qcow2'), zoned.bytes);
  writeFileSync(f('append.qcow2'), zoned.bytes);
  // Known writes for the Tables view: data at 1 MiB and at 600 MiB (the second L1 entry), zeros at 700 MiB.
  qemuImg(['create', '-q', '-f', 'qcow2', f('tables.qcow2'), '1G']);
  qemuIo(f('tables.qcow2'), ['write -P 0xab 1M 64k', 'write -P 0xcd 600M 128k', 'write -z 700M 64k']);
  qemuImg(['snapshot', '-c', 'before-more', f('tables.qcow2')]);
  // 1,048,576 zones of 64 KiB: every third full, every fifth closed half way.
  const big = buildZonedImage({
    layout: 'v8', virtualSize: 1024 * 1024 * 65536, zoneSize: 65536, conventionalZones: 16, maxOpenZones: 0, maxActiveZones: 0, maxAppendBytes: 4096,
    entry: (i, start) => (i < 16 ? wpValue(start, { conventional: true }) : i % 3 === 0 ? wpValue(start + 65536) : i % 5 === 0 ? wpValue(start + 32768) : wpValue(start)),
  });
  writeFileSync(f('big.qcow2'), big.bytes);
  return ['plain.qcow2', 'zoned.qcow2', 'ops.qcow2', 'big.qcow2', 'corrupt.qcow2', 'edit.qcow2', 'leak.qcow2', 'append.qcow2', 'tables.qcow2'].map(f);
}

/**
 * The image whose check pauses mid-walk until cancelled (test hook QZS_TEST_HOLD_CHECK, electron/app/test-hold.ts):
 * a cancel test cannot race a check that got faster.
 */
export const HELD_CHECK_IMAGE = 'prealloc.qcow2';

export async function startServe(args: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [...QZS_CMD, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, QZS_TEST_HOLD_CHECK: HELD_CHECK_IMAGE },
  });
  let out = '';
  const url = await new Promise<string>((ok, bad) => {
    const timer = setTimeout(() => bad(new Error(`qzs serve did not start: ${out}`)), 30_000);
    const on = (d: Buffer): void => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out);
      if (m) { clearTimeout(timer); ok(m[1]); }
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.on('exit', (code) => { clearTimeout(timer); bad(new Error(`qzs serve exited ${code}: ${out}`)); });
  });
  return { url, proc };
}

export const test = base.extend<{ app: Page }, { served: Served }>({
  served: [async ({}, use) => {
    const tmp = tmpDir('qzs-ui-');
    const createDir = resolve(tmp.path, 'created');
    mkdirSync(createDir);
    const images = makeImages(tmp.path);
    const { url, proc } = await startServe(['--demo', '--create-dir', createDir, ...images]);
    await use({ url, dir: tmp.path, createDir, proc, file: (n) => resolve(tmp.path, n) });
    proc.kill('SIGTERM');
    tmp.cleanup();
  }, { scope: 'worker' }],
  app: async ({ page, served }, use) => appAt(page, served.url, use),
});

/**
 * The app at `url` with an image shown, for one test: a CSP violation or an uncaught error anywhere (page
 * error or console error) fails the test that caused it. Every spec's `app` fixture is this.
 */
export async function appAt(page: Page, url: string, use: (p: Page) => Promise<void>, ready?: (p: Page) => Promise<void>): Promise<void> {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await page.goto(url);
  await expect(page.getByTestId('file-facts')).toBeVisible();
  if (ready) await ready(page);
  await use(page);
  expect(problems, problems.join('\n')).toEqual([]);
}

/** Switch the UI to one of the served images. */
export async function openImage(page: Page, name: string): Promise<void> {
  await page.getByLabel('open images').selectOption({ label: name });
  await expect(page.getByTestId('file-facts')).toContainText(name);
}

/**
 * Switch editing on (or off) for the image shown. Editing is per session and the server keeps its
 * sessions between tests, so this looks before it clicks. Every change of an image needs editing on.
 */
export async function setEditing(page: Page, on: boolean): Promise<void> {
  const toggle = page.getByTestId('editing-toggle');
  const want = on ? 'Editing: on' : 'Editing: off';
  if ((await toggle.textContent()) !== want) await toggle.click();
  await expect(toggle).toHaveText(want);
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(SHOTS, `${name}.png`) });
}

export { expect };
