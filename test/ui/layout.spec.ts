// The Layout view in Chromium against `qzs serve`: an image qemu-img made, whose first L1 entry is then
// pointed at the refcount block (an L2 table overlapping it: the corpus case l2-over-refblock). The
// conflict cluster is found on the map by clicking its cell, opens the finding about it, and the Check
// view's finding leads back to that cluster on the map.
import { test as base, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { qemuImg, qemuIo, tmpDir } from '../helpers/qemu';
import type { FileLayout } from '../../shared/qcow2/layout';
import { appAt, expect, openImage, QZS_CMD, shot, startServe } from './fixtures';

interface Served { url: string; conflict: number; leaked: number; layout: FileLayout; kill(): void }

const test = base.extend<{ app: Page }, { served: Served }>({
  served: [async ({}, use) => {
    const tmp = tmpDir('qzs-ui-layout-');
    const f = resolve(tmp.path, 'overlap.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', f, '1G']);
    qemuIo(f, ['write -P 1 0 64k', 'write -P 2 600M 192k']);
    // Read with plain DataView reads (header bytes 40 and 48, the first refcount table entry).
    const bytes = readFileSync(f);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const l1 = Number(dv.getBigUint64(40));
    const refblock = Number(dv.getBigUint64(Number(dv.getBigUint64(48))) & ~0x1ffn);
    dv.setBigUint64(l1, (1n << 63n) | BigInt(refblock));
    writeFileSync(f, bytes);
    const layout = JSON.parse(execFileSync(process.execPath, [...QZS_CMD, 'layout', '--json', f], { encoding: 'utf8', maxBuffer: 1 << 28 })) as FileLayout;
    const conflict = layout.runs.find((r) => r.kind === 'conflict');
    if (!conflict) throw new Error('the patched image has no conflict on the map');
    expect(conflict.start).toBe(refblock / 65536);
    // 16 M clusters (sparse): the map must stay interactive, drawn from a few thousand runs.
    const tib = resolve(tmp.path, 'tib.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', tib, '1T']);
    const { url, proc } = await startServe([f, tib]);
    await use({ url, conflict: conflict.start, leaked: layout.totals.leaked.clusters, layout, kill: () => proc.kill('SIGTERM') });
    proc.kill('SIGTERM');
    tmp.cleanup();
  }, { scope: 'worker' }],
  app: async ({ page, served }, use) => appAt(page, served.url, use),
});

/** Click the map cell of cluster k at the map's current zoom. */
async function clickCluster(page: Page, k: number): Promise<void> {
  const map = page.getByTestId('layout-map');
  const cell = Number(await map.getAttribute('data-cell'));
  const cols = Number(await map.getAttribute('data-cols'));
  const first = Number(await map.getAttribute('data-first'));
  const per = Number(await map.getAttribute('data-per'));
  const c = Math.floor((k - first) / per);
  await map.click({ position: { x: (c % cols) * cell + cell / 2, y: Math.floor(c / cols) * cell + cell / 2 } });
}

test('Layout: the conflict is found from the map and from its finding', async ({ app, served }) => {
  await app.click('[data-nav=layout]');
  const summary = app.getByTestId('layout-summary');
  await expect(summary).toBeVisible({ timeout: 30_000 });
  await expect(app.getByTestId('layout-conflicts')).toHaveText('conflicts 1');
  await expect(app.locator('.legend [data-kind=conflict]')).toContainText('1');
  await shot(app, 'layout-whole-file');

  // From the map: hover names the cell, a click selects it and lists the finding about it.
  const map = app.getByTestId('layout-map');
  await clickCluster(app, served.conflict);
  const detail = app.getByTestId('cluster-detail');
  await expect(detail).toHaveAttribute('data-kind', 'conflict');
  await expect(detail).toHaveAttribute('data-cluster', String(served.conflict));
  await expect(app.getByTestId('cluster-owner')).toContainText('refcount block');
  await expect(detail.getByTestId('cluster-finding').first()).toHaveAttribute('data-finding', 'overlap.metadata');
  const box = (await map.boundingBox())!;
  await app.mouse.move(box.x + 5, box.y + 5);
  await expect(app.getByTestId('layout-tooltip')).toContainText('cluster');
  await shot(app, 'layout-conflict-selected');

  // Zoom in to single clusters and back: the selection stays drawn, the position line follows.
  for (let i = 0; i < 3; i++) await app.getByRole('button', { name: 'zoom in' }).click();
  await expect(map).toHaveAttribute('data-per', '1');
  await app.getByRole('button', { name: 'fit' }).click();

  // The finding opens in the Check view; its "on the map" link comes back to the same cluster.
  await detail.getByTestId('cluster-finding').first().click();
  await expect(app.locator('[data-nav=check]')).toHaveAttribute('aria-current', 'page');
  const card = app.locator('.finding', { has: app.locator('[data-finding="overlap.metadata"]') }).first();
  await expect(card).toBeVisible();
  await shot(app, 'layout-check-finding-link');
  await app.click('[data-nav=layout]');
  await app.locator('[data-nav=overview]').click();
  await app.click('[data-nav=check]');
  await card.getByTestId('finding-map-link').click();
  await expect(app.locator('[data-nav=layout]')).toHaveAttribute('aria-current', 'page');
  await expect(detail).toHaveAttribute('data-cluster', String(served.conflict));
  await expect(map).toHaveAttribute('data-per', '1');
  await shot(app, 'layout-from-finding');

  // Cluster actions: bytes in the hex view, the table entry in Tables.
  await detail.getByTestId('open-cluster-bytes').click();
  await expect(app.getByTestId('hex-selection')).toContainText(`0x${(served.conflict * served.layout.clusterSize).toString(16)}`);
  await app.click('[data-nav=layout]');
  const data = served.layout.runs.find((r) => r.kind === 'data' && r.guest === 600 * 1024 * 1024)!;
  await app.getByRole('button', { name: 'fit' }).click();
  await clickCluster(app, data.start);
  await expect(detail).toHaveAttribute('data-kind', 'data');
  await expect(app.getByTestId('cluster-owner')).toContainText('guest 0x25800000');
  await detail.getByTestId('open-table-entry').click();
  await expect(app.locator('[data-nav=tables]')).toHaveAttribute('aria-current', 'page');
  // 600 MiB is L1 entry 1, L2 entry (600M - 512M) / 64K = 1408.
  await expect(app.getByTestId('l1-list').locator('[data-index="1"]')).toHaveAttribute('aria-selected', 'true');
  await expect(app.getByTestId('l2-list').locator('[data-index="1408"]')).toHaveAttribute('aria-selected', 'true');
  await shot(app, 'layout-table-entry');
});

test('Layout: hiding a kind in the legend takes it off the map', async ({ app }) => {
  await app.click('[data-nav=layout]');
  await expect(app.getByTestId('layout-summary')).toBeVisible({ timeout: 30_000 });
  const data = app.locator('.legend [data-kind=data]');
  await data.click();
  await expect(data).toHaveAttribute('aria-pressed', 'false');
  await shot(app, 'layout-data-hidden');
  await data.click();
  await expect(data).toHaveAttribute('aria-pressed', 'true');
});

test('Layout: a 1 TiB metadata-preallocated image (16 M clusters) maps and zooms to single clusters', async ({ app }) => {
  await openImage(app, 'tib.qcow2');
  await app.click('[data-nav=layout]');
  await expect(app.getByTestId('layout-summary')).toBeVisible({ timeout: 60_000 });
  await expect(app.locator('.legend [data-kind=data]')).toContainText('16777216');
  await expect(app.locator('.legend [data-kind=l2]')).toContainText('2048');
  const map = app.getByTestId('layout-map');
  expect(Number(await map.getAttribute('data-per'))).toBeGreaterThan(100);
  await shot(app, 'layout-1tib-whole');
  const box = (await map.boundingBox())!;
  for (let i = 0; i < 14; i++) await app.mouse.wheel(0, -100).then(() => app.mouse.move(box.x + 200, box.y + 150));
  await expect(map).toHaveAttribute('data-per', '1');
  await app.mouse.move(box.x + 201, box.y + 151);
  await expect(app.getByTestId('layout-tooltip')).toContainText('cluster');
  await map.click({ position: { x: 201, y: 151 } });
  await expect(app.getByTestId('cluster-detail')).toBeVisible();
  await shot(app, 'layout-1tib-zoomed');
});
