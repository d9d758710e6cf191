// The daily views in Chromium against their own `qzs serve` (images made here by qemu-img and by the
// zoned builder): Check's summary beside `qemu-img check`'s own lines and its grouped findings, the
// Overview landing page, the hex view's structure colours, integer decoding, search and structure picker,
// the Tables filter, the inspector across views, the shortcuts overlay, the theme switch, and a toolbar
// that stays on one line at 1000×650.
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { test as base, expect, type Page } from '@playwright/test';
import { qemuImg, qemuImgStatus, qemuIo, tmpDir, type TmpDir } from '../helpers/qemu';
import { buildZonedImage, wpValue } from '../helpers/zoned-builder';
import { appAt, MIB, openImage, shot, startServe } from './fixtures';

const LEAKS = 51;
const ZONE = 4 * MIB;

let tmp: TmpDir;
let serve: { url: string; proc: ChildProcess };

const test = base.extend<{ app: Page }>({
  app: async ({ page }, use) => appAt(page, serve.url, use),
});

test.beforeAll(async () => {
  tmp = tmpDir('qzs-views-');
  // 51 leaked clusters: the file grown past 64 clusters, and the refcounts (16-bit, block at 0x20000) of
  // clusters 8..58 set to 1 though nothing references them.
  const leaks = tmp.file('leaks.qcow2');
  qemuImg(['create', '-q', '-f', 'qcow2', leaks, '64M']);
  qemuIo(leaks, ['write -P 0x5a 0 128k']);
  truncateSync(leaks, 64 * 65536);
  const fd = openSync(leaks, 'r+');
  for (let c = 8; c < 8 + LEAKS; c++) writeSync(fd, Buffer.from([0, 1]), 0, 2, 0x20000 + 2 * c);
  closeSync(fd);
  // A zoned image: 16 zones of 4 MiB, 2 conventional; zones 2 and 3 part written (closed: open states do
  // not survive a close, ZONED-FORMAT.md section 4), 4 full.
  const wp: Record<number, number> = { 2: 2 * ZONE + MIB, 3: 3 * ZONE + 2 * MIB, 4: 5 * ZONE };
  const zoned = buildZonedImage({
    layout: 'v8', virtualSize: 64 * MIB, zoneSize: ZONE, conventionalZones: 2, maxOpenZones: 3, maxActiveZones: 4, maxAppendBytes: 65536,
    entry: (i, start) => (wp[i] !== undefined ? wpValue(wp[i]) : i < 2 ? wpValue(start, { conventional: true }) : wpValue(start)),
  });
  writeFileSync(tmp.file('zoned.qcow2'), zoned.bytes);
  // L2 entries: data at 1 MiB and 3 MiB, nothing in between.
  qemuImg(['create', '-q', '-f', 'qcow2', tmp.file('sparse.qcow2'), '1G']);
  qemuIo(tmp.file('sparse.qcow2'), ['write -P 0xab 1M 64k', 'write -P 0xcd 3M 64k']);
  qemuImg(['create', '-q', '-f', 'qcow2', tmp.file('edit.qcow2'), '64M']);
  serve = await startServe([tmp.file('leaks.qcow2'), tmp.file('zoned.qcow2'), tmp.file('sparse.qcow2'), tmp.file('edit.qcow2')]);
});

test.afterAll(() => {
  serve?.proc.kill('SIGTERM');
  tmp?.cleanup();
});

test("Check: qemu-img check's summary above the findings, 51 leaks as one group, a severity filter", async ({ app }) => {
  const oracle = qemuImgStatus(['check', tmp.file('leaks.qcow2')]).stdout;
  expect(oracle).toContain(`${LEAKS} leaked clusters were found on the image.`);
  await openImage(app, 'leaks.qcow2');
  await app.click('[data-nav=check]');
  await app.getByRole('button', { name: 'Run full check' }).click();
  await expect(app.getByTestId('busy')).toHaveCount(0);
  const summary = app.getByTestId('check-summary');
  await expect(summary).toHaveAttribute('data-verdict', 'leaks');
  await expect(app.getByTestId('check-verdict')).toContainText(`${LEAKS} leaked clusters were found on the image.`);
  // The same line and end offset qemu-img check prints (qemu-img.c: dump_human_image_check).
  const line = /^\d+\/\d+ = .* compressed clusters$/m.exec(oracle)![0];
  await expect(app.getByTestId('sum-line')).toHaveText(line);
  const end = /^Image end offset: (\d+)$/m.exec(oracle)![1];
  await expect(app.getByTestId('sum-end')).toContainText(end);
  const group = app.locator('[data-group="refcount.leak"]');
  await expect(group).toHaveAttribute('data-count', String(LEAKS));
  await expect(group.getByTestId('group-count')).toHaveText(`× ${LEAKS}`);
  await expect(group.locator('.finding')).toHaveCount(0);
  await shot(app, 'views-check');
  await group.getByRole('button', { expanded: false }).click();
  await expect(group.locator('.finding')).toHaveCount(LEAKS);
  await shot(app, 'views-check-expanded');
  // The filter: only the severities present can be chosen; a chosen one hides the others.
  const sev = await group.locator('[data-severity]').first().getAttribute('data-severity');
  const filter = app.getByTestId('severity-filter');
  await expect(filter.locator('[data-filter=error]')).toBeDisabled();
  await filter.locator(`[data-filter=${sev}]`).click();
  await expect(app.locator('[data-group="refcount.leak"]')).toBeVisible();
  await expect(app.getByTestId('finding-groups').locator(`[data-severity]:not([data-severity=${sev}])`)).toHaveCount(0);
});

test('Overview: format, sizes, zones by condition with open/active use, the latest check, shortcuts to the views', async ({ app }) => {
  await openImage(app, 'zoned.qcow2');
  const zones = app.getByTestId('ov-zones');
  await expect(zones.locator('[data-cond=not-wp]')).toContainText('2');
  await expect(zones.locator('[data-cond=implicit-open]')).toHaveCount(0);
  await expect(zones.locator('[data-cond=closed]')).toContainText('2');
  await expect(zones.locator('[data-cond=full]')).toContainText('1');
  await expect(zones.locator('[data-cond=empty]')).toContainText('11');
  await expect(app.getByTestId('ov-open')).toContainText('0 / 3');
  await expect(app.getByTestId('ov-active')).toContainText('2 / 4');
  await expect(app.getByTestId('ov-check')).toHaveAttribute('data-verdict', 'unchecked');
  await shot(app, 'views-overview');
  await app.getByTestId('ov-check').getByRole('button', { name: 'Check now' }).click();
  await expect(app.getByTestId('busy')).toHaveCount(0);
  await app.click('[data-nav=overview]');
  await expect(app.getByTestId('ov-check')).not.toHaveAttribute('data-verdict', 'unchecked');
  await app.getByTestId('ov-views').locator('[data-goto=hex]').click();
  await expect(app.getByLabel('Hex view')).toBeVisible();
});

test('Hex: column header, structure colours, integers both ways, field ↔ bytes, search and go to', async ({ app }) => {
  await openImage(app, 'edit.qcow2');
  await app.click('[data-nav=hex]');
  await expect(app.locator('.hex-colhead .b')).toHaveText(Array.from({ length: 16 }, (_, k) => k.toString(16).padStart(2, '0')));
  await expect(app.locator('.hex-row .b[data-off="0"]')).toHaveAttribute('data-kind', 'header');
  await expect(app.getByTestId('hex-legend')).toContainText('L1 table');
  // Field → bytes: l1_size (bytes 36..39) chosen by name is selected and decoded; its bytes say 1 big-endian.
  await app.getByTestId('structure-picker').selectOption({ label: 'header l1_size · 0x24 (+4)' });
  await expect(app.getByTestId('hex-selection')).toContainText('0x24 (4 bytes)');
  await expect(app.locator('.hex-row .b.hl')).toHaveCount(4);
  const decode = app.getByTestId('hex-decode');
  await expect(decode.locator('tr[data-type=u32] [data-order=be]')).toHaveText('1 (0x1)');
  await expect(decode.locator('tr[data-type=u32] [data-order=le]')).toHaveText('16777216 (0x1000000)');
  await expect(app.getByTestId('field-detail')).toContainText('l1_size');
  // Bytes → field: each byte names its structure on hover, and a clicked byte of the magic names it.
  await expect(app.locator('.hex-row .b[data-off="37"]')).toHaveAttribute('title', '0x25: header l1_size');
  await app.locator('.hex-row .b[data-off="2"]').click();
  await expect(app.getByTestId('hex-selection')).toContainText('header magic');
  await expect(decode.locator('tr[data-type=u16] [data-order=be]')).toHaveText(`${0x49fb} (0x49fb)`);
  await shot(app, 'views-hex');
  // Search: hex bytes, then text; the selection moves to the match.
  await app.getByLabel('search', { exact: true }).fill('00 01 00 00');
  await app.getByLabel('search', { exact: true }).press('Enter');
  await expect(app.getByTestId('search-result')).toContainText('found at 0x');
  const found = Number.parseInt(/0x([0-9a-f]+)/.exec((await app.getByTestId('search-result').textContent())!)![1], 16);
  await expect(app.getByTestId('hex-selection')).toContainText(`0x${found.toString(16)} (4 bytes)`);
  await app.getByLabel('search for').selectOption('text');
  await app.getByLabel('search', { exact: true }).fill('no such text anywhere');
  await app.getByLabel('search', { exact: true }).press('Enter');
  await expect(app.getByTestId('search-result')).toHaveText('not found in the file');
  await app.getByLabel('go to offset').fill('64K');
  await app.getByLabel('go to offset').press('Enter');
  await expect(app.getByTestId('hex-selection')).toContainText('0x10000 (1 byte)');
  await expect(app.getByTestId('hex-selection')).toContainText('refcount table');
});

test('Hex: the layout map colours what the summary cannot size (refcount blocks, L2 tables, data)', async ({ app }) => {
  // qemu-img's layout of a fresh 64M image with 128k written: refcount block 0x20000, L2 table 0x40000,
  // data from 0x50000 (qemu-img map of the same file says so in tables.spec.ts).
  await app.click('[data-nav=hex]');
  const at = (off: number) => app.locator(`.hex-row .b[data-off="${off}"]`);
  const go = async (off: number) => { await app.getByLabel('go to offset').fill(`0x${off.toString(16)}`); await app.getByLabel('go to offset').press('Enter'); };
  await go(0x40000);
  await expect(at(0x40000)).not.toHaveAttribute('data-kind', /./);
  await app.getByTestId('hex-map-layout').click();
  await expect(at(0x40000)).toHaveAttribute('data-kind', 'l2');
  await expect(at(0x40000)).toHaveAttribute('title', /L2 table/);
  await expect(app.getByTestId('hex-legend')).toContainText('L2 tables');
  await go(0x20000);
  await expect(at(0x20000)).toHaveAttribute('data-kind', 'refcount-block');
  await go(0x50000);
  await expect(at(0x50000)).toHaveAttribute('data-kind', 'data');
  await expect(at(0x50000)).toHaveAttribute('title', /guest 0x0/);
  await shot(app, 'views-hex-layout');
});

test('Tables: "allocated only" keeps the L2 entries that map clusters; the raw entry in full on hover', async ({ app }) => {
  await openImage(app, 'sparse.qcow2');
  await app.click('[data-nav=tables]');
  await app.getByTestId('l1-list').locator('[data-index="0"]').click();
  const l2 = app.getByTestId('l2-list');
  await expect(l2.locator('[data-index="0"]')).toBeVisible();
  await app.getByLabel('allocated only').check();
  await expect(l2.locator('.plist-row')).toHaveCount(2);
  // Entries 16 (1 MiB) and 48 (3 MiB), listed first and second.
  await expect(l2.locator('.plist-row [data-entry]')).toHaveText(['16', '48']);
  const raw = l2.locator('.plist-row').nth(0).locator('[data-raw]');
  await expect(raw).toHaveAttribute('title', /^raw 0x[0-9a-f]{16}$/);
  await l2.locator('.plist-row').nth(1).locator('[data-entry]').click();
  await expect(app.getByTestId('entry-detail')).toContainText('L2 entry 48 of L1 entry 0');
  await shot(app, 'views-tables');
  await app.setViewportSize({ width: 1000, height: 650 });
  await shot(app, 'views-tables-narrow');
});

test('Inspector: a view change clears it; no other view\'s selection is left there', async ({ app }) => {
  await openImage(app, 'zoned.qcow2');
  await app.click('[data-nav=header]');
  await app.locator('tr[data-field=l1_size]').click();
  await expect(app.getByTestId('field-detail')).toBeVisible();
  await app.click('[data-nav=features]');
  await expect(app.getByTestId('field-detail')).toHaveCount(0);
  // A feature bit is one byte of its mask: the inspector's size and raw bytes say one byte.
  await app.getByTestId('bits-incompatible').locator('[data-bit="5"]').click();
  await expect(app.getByTestId('field-size')).toHaveText('1 byte');
  await expect(app.getByTestId('field-raw')).toHaveText('20');
  await app.click('[data-nav=zones]');
  await expect(app.getByTestId('field-detail')).toHaveCount(0);
});

test('Extensions: field tables have column headers, the offset line has no gap', async ({ app }) => {
  await openImage(app, 'zoned.qcow2');
  await app.click('[data-nav=extensions]');
  await expect(app.getByTestId('zoned-fields').locator('thead th')).toHaveText(['Field', 'Offset', 'Raw', 'Value', 'Meaning']);
  const line = app.getByTestId('extensions').locator('.ext-line').first();
  await expect(line).toHaveText(/^\S.* at 0x[0-9a-f]+, \d+ bytes$/);
  await shot(app, 'views-extensions');
  // qemu-img writes a feature name table.
  await openImage(app, 'edit.qcow2');
  await app.click('[data-nav=extensions]');
  await expect(app.getByTestId('feature-table').locator('thead th')).toHaveText(['Type', 'Bit', 'Name', 'Offset']);
});

test('Editing: sizes take suffixes (64M); a size that disagrees with nr_zones is warned about', async ({ app }) => {
  await openImage(app, 'zoned.qcow2');
  await app.click('[data-nav=header]');
  await app.getByTestId('editing-toggle').click();
  await expect(app.getByTestId('editing-toggle')).toHaveText('Editing: on');
  await app.locator('tr[data-field=size]').getByRole('button', { name: 'Edit' }).click();
  await app.getByLabel('new value for size').fill('128M');
  await app.getByRole('button', { name: 'Preview' }).click();
  const diff = app.getByTestId('diff-preview');
  await expect(diff).toContainText(`= ${128 * MIB}`);
  await expect(diff.locator('.warnings')).toContainText('nr_zones 16');
  await shot(app, 'views-edit-zoned');
  await app.getByLabel('new value for size').fill('64M');
  await app.getByRole('button', { name: 'Preview' }).click();
  await expect(diff).toContainText(`= ${64 * MIB}`);
  await expect(diff.locator('.warnings')).toHaveCount(0);
  await app.getByRole('button', { name: 'Cancel' }).click();
  await app.getByTestId('editing-toggle').click();
  await expect(app.getByTestId('editing-toggle')).toHaveText('Editing: off');
});

test('Keys and theme: ? lists every shortcut; the theme switch is remembered; the toolbar stays on one line at 1000×650', async ({ app }) => {
  await app.setViewportSize({ width: 1000, height: 650 });
  await openImage(app, 'zoned.qcow2');
  const toolbar = app.getByRole('toolbar', { name: 'main toolbar' });
  const tops = await toolbar.locator(':scope > *').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2)));
  expect(new Set(tops).size, `toolbar items at heights ${tops.join(', ')}`).toBe(1);
  const box = await toolbar.boundingBox();
  expect(box!.width).toBeLessThanOrEqual(1000);
  await shot(app, 'views-toolbar-1000');
  await app.locator('body').press('?');
  const overlay = app.getByTestId('shortcuts');
  await expect(overlay).toContainText('Ctrl+Shift+C');
  await expect(overlay).toContainText('Alt+1 … Alt+9, Alt+0');
  await expect(overlay).toContainText('next, previous zone in the chosen condition');
  await shot(app, 'views-shortcuts');
  await app.keyboard.press('Escape');
  await expect(overlay).toHaveCount(0);
  await app.getByTestId('theme-switch').selectOption('dark');
  await expect(app.locator('html')).toHaveAttribute('data-theme', 'dark');
  await app.reload();
  await expect(app.getByTestId('file-facts')).toBeVisible();
  await expect(app.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(app.getByTestId('theme-switch')).toHaveValue('dark');
  await openImage(app, 'zoned.qcow2');
  await shot(app, 'views-dark');
  await app.getByTestId('theme-switch').selectOption('light');
  await expect(app.locator('html')).toHaveAttribute('data-theme', 'light');
  await app.getByTestId('theme-switch').selectOption('system');
});
