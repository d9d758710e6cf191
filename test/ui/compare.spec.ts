// Compare in Chromium against `qzs serve`: a zoned image against a copy on which one zone was finished and
// another appended to. The changed zones are found from the list and from the ruler under each zone map,
// the appended range is listed as guest data, and its bytes open in the copy's hex view.
import { test as base, expect, type Page } from '@playwright/test';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { qemuImg, qemuIo, tmpDir } from '../helpers/qemu';
import { buildZonedImage, wpValue } from '../helpers/zoned-builder';
import { appAt, MIB, QZS_CMD, shot, startServe } from './fixtures';

interface Pair { url: string; proc: ChildProcess }

const test = base.extend<{ app: Page }, { pair: Pair }>({
  pair: [async ({}, use) => {
    const tmp = tmpDir('qzs-ui-compare-');
    const a = resolve(tmp.path, 'before.qcow2');
    const b = resolve(tmp.path, 'after.qcow2');
    const img = buildZonedImage({
      layout: 'v8', virtualSize: 64 * MIB, zoneSize: 4 * MIB, zoneCapacity: 4 * MIB, conventionalZones: 1, maxOpenZones: 3, maxActiveZones: 4, maxAppendBytes: 65536,
      entry: (i, start) => (i < 1 ? wpValue(start, { conventional: true }) : i === 2 ? wpValue(start + MIB) : wpValue(start)),
    });
    writeFileSync(a, img.bytes);
    copyFileSync(a, b);
    execFileSync(process.execPath, [...QZS_CMD, 'zone', b, 'finish', '5']);
    execFileSync(process.execPath, [...QZS_CMD, 'zone', b, 'append', '9', '--bytes', '8k']);
    // A plain image with a snapshot, written to since.
    const p = resolve(tmp.path, 'plain.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', p, '64M']);
    qemuIo(p, ['write -P 0x41 0 1M']);
    qemuImg(['snapshot', '-c', 'first', p]);
    qemuIo(p, ['write -P 0x42 512k 64k', 'write -P 0x43 32M 128k']);
    const { url, proc } = await startServe([a, b, p]);
    await use({ url, proc });
    proc.kill('SIGTERM');
    tmp.cleanup();
  }, { scope: 'worker' }],
  app: async ({ page, pair }, use) => appAt(page, pair.url, use),
});

test('a changed zone is found in Compare; the appended bytes open in the copy\'s hex view', async ({ app }) => {
  await app.getByLabel('open images').selectOption({ label: 'before.qcow2' });
  await expect(app.getByTestId('file-facts')).toContainText('before.qcow2');
  await app.click('[data-nav=compare]');
  await app.getByLabel('compare with').selectOption({ label: 'after.qcow2' });
  await app.getByTestId('compare-run').click();
  await expect(app.getByTestId('compare-summary')).toContainText('2 zone(s)');
  await expect(app.getByTestId('compare-summary')).toContainText('1 guest range(s) of other data (8192 bytes)');
  const zones = app.getByTestId('compare-zones');
  await expect(zones.locator('tr[data-zone]')).toHaveCount(2);
  await expect(zones.locator('tr[data-zone="5"]')).toContainText('empty, wp 0x1400000');
  await expect(zones.locator('tr[data-zone="5"]')).toContainText('full, wp 0x1800000');
  await expect(zones.locator('tr[data-zone="5"]')).toContainText('wp, condition');
  await expect(zones.locator('tr[data-zone="9"]')).toContainText('wp, condition, data');
  // Both maps, each with a ruler that marks exactly the changed zones; a tick selects its zone in both.
  for (const side of ['a', 'b']) {
    const map = app.getByTestId(`compare-map-${side}`);
    await expect(map.getByTestId('zone-map')).toBeVisible();
    await expect(map.getByRole('button', { name: /^changed zone/ })).toHaveCount(2);
  }
  await app.getByTestId('compare-map-a').getByRole('button', { name: 'changed zone 9' }).click();
  await expect(zones.locator('tr[data-zone="9"]')).toHaveClass(/selected/);
  await expect(app.getByTestId('compare-map-b')).toContainText('zone 9');
  const content = app.getByTestId('compare-content');
  await expect(content.locator('tr[data-start]')).toHaveCount(1);
  await expect(content.locator(`tr[data-start="${9 * 4 * MIB}"]`)).toContainText('unallocated');
  await expect(app.getByTestId('compare-fields')).toHaveCount(0);
  await shot(app, 'compare');
  // The appended bytes, in the copy's hex view: the session switches to it.
  await content.getByTestId('open-b').click();
  await expect(app.getByTestId('file-facts')).toContainText('after.qcow2');
  await expect(app.getByTestId('hex-selection')).toBeVisible();
  // Back in Compare, the result is still there.
  await app.click('[data-nav=compare]');
  await expect(app.getByTestId('compare-summary')).toContainText('2 zone(s)');
});

test('an image against one of its snapshots: the L1 table field and the ranges written since', async ({ app }) => {
  await app.getByLabel('open images').selectOption({ label: 'plain.qcow2' });
  await expect(app.getByTestId('file-facts')).toContainText('plain.qcow2');
  await app.click('[data-nav=compare]');
  await app.getByLabel('compare with').selectOption({ label: 'plain.qcow2@first (snapshot 1)' });
  await app.getByTestId('compare-run').click();
  const fields = app.getByTestId('compare-fields');
  await expect(fields.locator('tbody tr')).toHaveCount(1);
  await expect(fields).toContainText('l1_table_offset');
  const content = app.getByTestId('compare-content');
  await expect(content.locator('tr[data-start]')).toHaveCount(2);
  await expect(content.locator(`tr[data-start="${512 * 1024}"]`)).toContainText('65536');
  await expect(content.locator(`tr[data-start="${32 * MIB}"]`)).toContainText('unallocated');
  await expect(app.getByTestId('compare-summary')).toContainText('plain.qcow2 against plain.qcow2@first');
  await expect(app.getByTestId('compare-summary')).toContainText('Content mismatch at offset 524288!');
  await shot(app, 'compare-snapshot');
});
