// The whole UI in Chromium against `qzs serve`: every view reads real images, compared with qemu-img and
// with `qzs zones --json`; writes (zone operations, creation, edits) are verified on disk.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { qemuImgJson, qemuImgStatus } from '../helpers/qemu';
import { EDITING_OFF } from '../../renderer/gate';
import { expect, MIB, openImage, QZS_CMD, setEditing, shot, test, ZONED_WP } from './fixtures';

interface ZoneJson { index: number; start: number; wp: number; condition: string; type: string }
function qzsZones(file: string): ZoneJson[] {
  return (JSON.parse(execFileSync(process.execPath, [...QZS_CMD, 'zones', '--json', file], { encoding: 'utf8' })) as { zones: ZoneJson[] }).zones;
}

test('overview and header show what qemu-img reports', async ({ app, served }) => {
  await openImage(app, 'plain.qcow2');
  const q = qemuImgJson<{ 'virtual-size': number; 'cluster-size': number }>(['info', '--output=json', served.file('plain.qcow2')]);
  await expect(app.getByTestId('ov-virtual-size')).toContainText(`(${q['virtual-size']})`);
  await expect(app.getByTestId('ov-cluster-size')).toContainText(`(${q['cluster-size']})`);
  await expect(app.getByTestId('ov-features')).toContainText('lazy refcounts');
  await shot(app, 'overview');
  await app.click('[data-nav=header]');
  await expect(app.getByTestId('value-cluster_bits')).toHaveAttribute('data-value', String(Math.log2(q['cluster-size'])));
  await expect(app.getByTestId('value-size')).toHaveAttribute('data-value', String(q['virtual-size']));
  // Selecting a field shows it in the inspector and highlights its bytes in the hex view.
  await app.locator('tr[data-field=l1_table_offset]').click();
  await expect(app.getByTestId('field-detail')).toContainText('0x28');
  await shot(app, 'header');
  await app.getByRole('button', { name: 'Show bytes' }).click();
  await expect(app.locator('.hex-row .b.hl')).toHaveCount(8);
  await expect(app.locator('.hex-row .b.hl').first()).toHaveAttribute('data-off', '40');
});

test('feature bits: grids and the named-only view agree with qemu-img', async ({ app }) => {
  await openImage(app, 'plain.qcow2');
  await app.click('[data-nav=features]');
  const grid = app.getByTestId('bits-compatible');
  await expect(grid.locator('[data-bit]')).toHaveCount(64);
  await expect(grid.locator('[data-bit="0"]')).toHaveAttribute('aria-pressed', 'true');
  await expect(app.getByTestId('bits-incompatible').locator('[data-bit="5"]')).toHaveAttribute('aria-pressed', 'false');
  await shot(app, 'features');
  await app.getByTestId('named-only').check();
  await expect(grid.locator('[data-bit]')).toHaveCount(1);
  await expect(grid).toContainText('lazy refcounts');
  await expect(app.getByTestId('bits-incompatible')).toContainText('zoned format');
});

test('find a zone by number: condition and write pointer match qzs zones --json', async ({ app, served }) => {
  await openImage(app, 'zoned.qcow2');
  await app.click('[data-nav=zones]');
  const map = app.getByTestId('zone-map');
  await expect(map).toBeVisible();
  await expect(app.getByTestId('session-only-note')).toBeVisible();
  const zones = qzsZones(served.file('zoned.qcow2'));
  for (const n of [3, 4, 5, 9, 1]) {
    await map.focus();
    await app.keyboard.press('g');
    await app.getByLabel('zone number or offset').fill(String(n));
    await app.keyboard.press('Enter');
    await expect(app.getByTestId('zone-index')).toHaveText(String(n));
    await expect(app.getByTestId('zone-condition')).toContainText(zones[n].condition);
    if (zones[n].type === 'sequential') await expect(app.getByTestId('zone-wp')).toContainText(String(zones[n].wp));
  }
  expect(zones[3].wp).toBe(ZONED_WP[3]);
  // Arrow keys move the selection; `g` with an offset finds the zone holding it.
  await map.focus();
  await app.keyboard.press('ArrowRight');
  await expect(app.getByTestId('zone-index')).toHaveText('2');
  await app.keyboard.press('g');
  await app.getByLabel('zone number or offset').fill('@' + String(13 * 4 * MIB + 5));
  await app.keyboard.press('Enter');
  await expect(app.getByTestId('zone-index')).toHaveText('13');
  // Hover names the zone under the pointer.
  const box = (await map.boundingBox())!;
  await app.mouse.move(box.x + 10, box.y + 10);
  await expect(app.getByTestId('zone-tooltip')).toContainText('zone 0');
  await shot(app, 'zones');
});

test('a zone operation changes the map and the file', async ({ app, served }) => {
  await openImage(app, 'ops.qcow2');
  await app.click('[data-nav=zones]');
  const map = app.getByTestId('zone-map');
  await map.focus();
  await app.keyboard.press('g');
  await app.getByLabel('zone number or offset').fill('7');
  await app.keyboard.press('Enter');
  await expect(app.getByTestId('zone-condition')).toContainText('empty');
  // Editing off: the operations are there, disabled, and say how to switch editing on.
  const openButton = app.getByRole('group', { name: 'zone operations' }).getByRole('button', { name: 'Open' });
  await expect(openButton).toBeDisabled();
  await expect(openButton).toHaveAttribute('title', EDITING_OFF);
  await shot(app, 'zone-ops-editing-off');
  await setEditing(app, true);
  const before = await map.screenshot();
  await openButton.click();
  await expect(app.getByTestId('zone-condition')).toContainText('explicit-open');
  await expect(app.locator('[data-condition=explicit-open]')).toContainText('1');
  await expect(app.getByTestId('gauge-open')).toContainText('1');
  expect((await map.screenshot()).equals(before)).toBe(false);
  await app.getByRole('group', { name: 'zone operations' }).getByRole('button', { name: 'Finish' }).click();
  await expect(app.getByTestId('zone-condition')).toContainText('full');
  const z = qzsZones(served.file('ops.qcow2'))[7];
  expect(z.condition).toBe('full');
  expect(z.wp).toBe(8 * 4 * MIB);
  await shot(app, 'zone-operation');
});

test('a million zones stay interactive', async ({ app }) => {
  await openImage(app, 'big.qcow2');
  await app.click('[data-nav=zones]');
  const map = app.getByTestId('zone-map');
  await expect(app.locator('[data-nav=zones] .badge')).toHaveText('1048576');
  await shot(app, 'zones-million');
  // Each step below must answer within the expect timeout; no wall-clock total (a loaded machine stretches it).
  await map.focus();
  await app.keyboard.press('g');
  await app.getByLabel('zone number or offset').fill('1000002');
  await app.keyboard.press('Enter');
  await expect(app.getByTestId('zone-index')).toHaveText('1000002');
  await expect(app.getByTestId('zone-condition')).toContainText('full'); // 1000002 % 3 === 0
  await app.keyboard.press('ArrowRight');
  await expect(app.getByTestId('zone-index')).toHaveText('1000003');
  await expect(app.getByTestId('zone-condition')).toContainText('empty');
  const box = (await map.boundingBox())!;
  await app.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await expect(app.getByTestId('zone-tooltip')).toBeVisible();
  await shot(app, 'zones-million-zoomed');
});

test('the demo made by our engine shows conventional, empty, open, closed and full zones', async ({ app }) => {
  await openImage(app, 'demo.qcow2');
  await app.click('[data-nav=zones]');
  for (const c of ['not-wp', 'empty', 'implicit-open', 'explicit-open', 'closed', 'full']) {
    await expect(app.locator(`[data-condition=${c}] .muted`)).not.toHaveText('0');
  }
  // Zone 6 was written to capacity by the engine: its clusters are listed with their file offsets.
  await app.getByTestId('zone-map').focus();
  await app.keyboard.press('g');
  await app.getByLabel('zone number or offset').fill('6');
  await app.keyboard.press('Enter');
  await expect(app.getByTestId('zone-condition')).toContainText('full');
  await expect(app.getByTestId('zone-clusters')).toContainText('768 KiB (786432) allocated');
  await shot(app, 'demo-zones');
  // Legend as filter: dimming a condition toggles its button.
  await app.locator('[data-condition=empty]').click();
  await expect(app.locator('[data-condition=empty]')).toHaveAttribute('aria-pressed', 'false');
  await app.emulateMedia({ colorScheme: 'dark' });
  await shot(app, 'demo-zones-dark');
  await app.emulateMedia({ colorScheme: 'light' });
});

test('the create wizard validates live and creates an image qemu-img reads', async ({ app, served }) => {
  await app.getByRole('button', { name: 'New image' }).click();
  await app.getByLabel('File name').fill('wizard.qcow2');
  await app.getByLabel('Virtual size').fill('12x');
  await expect(app.locator('.invalid[data-option=size]')).toBeVisible();
  await app.getByLabel('Virtual size').fill('96M');
  await expect(app.locator('.invalid[data-option=size]')).toHaveCount(0);
  await app.getByLabel('Cluster size').selectOption('16384');
  await shot(app, 'wizard-basics');
  await app.getByRole('tab', { name: /Zoned/ }).click();
  await app.getByLabel('Zoned (host-managed)').check();
  await app.getByLabel('Zone size').fill('0');
  await expect(app.locator('.invalid[data-option="zone.size"]')).toBeVisible();
  await app.getByLabel('Zone size').fill('8M');
  await expect(app.getByTestId('derived-nr-zones')).toHaveText('12');
  await shot(app, 'wizard-zoned');
  // Back to a plain image, which stock qemu-img can read.
  await app.getByLabel('Zoned (host-managed)').uncheck();
  await app.getByLabel('Zone size').fill('');
  await app.getByRole('tab', { name: /Review/ }).click();
  await expect(app.getByTestId('qemu-img-command')).toHaveText(/^qemu-img create -f qcow2 -o size=96M,cluster_size=16384 wizard\.qcow2$/);
  await shot(app, 'wizard-review');
  await app.getByRole('button', { name: 'Create and open' }).click();
  await expect(app.getByTestId('file-facts')).toContainText('wizard.qcow2');
  const q = qemuImgJson<{ 'virtual-size': number; 'cluster-size': number; format: string }>(['info', '--output=json', `${served.createDir}/wizard.qcow2`]);
  expect(q).toMatchObject({ format: 'qcow2', 'virtual-size': 96 * MIB, 'cluster-size': 16384 });
});

test('a finding in the check view jumps to its bytes in the hex view', async ({ app }) => {
  await openImage(app, 'corrupt.qcow2');
  await expect(app.locator('[data-nav=check] .badge')).toBeVisible();
  await app.click('[data-nav=check]');
  await app.getByRole('button', { name: /Run full check|Check again/ }).click();
  await expect(app.getByTestId('busy')).toHaveCount(0);
  const f = app.locator('[data-finding="header.compression_type"]').first();
  await expect(f).toBeVisible();
  await shot(app, 'check');
  await f.click();
  await expect(app.getByTestId('hex-selection')).toContainText('0x68');
  await expect(app.getByTestId('hex-selection')).toContainText('header compression_type');
  await expect(app.locator('.hex-row .b.hl')).toHaveCount(1);
  await expect(app.locator('.hex-row .b.hl')).toHaveAttribute('data-off', '104');
  await expect(app.getByTestId('finding-detail')).toContainText('compression_type');
  await shot(app, 'hex');
});

test('editing: off until enabled, applies with a backup, undoes exactly', async ({ app, served }) => {
  const file = served.file('edit.qcow2');
  const original = readFileSync(file);
  await openImage(app, 'edit.qcow2');
  await app.click('[data-nav=header]');
  // Editing off: the Edit buttons are disabled and say why.
  const edit = app.locator('tr[data-field=compatible_features]').getByRole('button', { name: 'Edit' });
  await expect(edit).toBeDisabled();
  await expect(edit).toHaveAttribute('title', EDITING_OFF);
  await setEditing(app, true);
  await app.locator('tr[data-field=compatible_features]').getByRole('button', { name: 'Edit' }).click();
  await app.getByLabel('new value for compatible_features').fill('1');
  await app.getByRole('button', { name: 'Preview' }).click();
  await expect(app.getByTestId('diff-preview')).toContainText('0000000000000001');
  await shot(app, 'edit-preview');
  expect(readFileSync(file).equals(original)).toBe(true);
  await app.getByRole('button', { name: 'Apply with backup' }).click();
  await expect(app.getByTestId('edit-history')).toContainText('compatible_features');
  // Editing on holds QEMU's write lock: qemu-img is refused unless it asks to share (-U).
  expect(qemuImgStatus(['info', file]).stderr).toMatch(/Failed to get shared "write" lock/);
  expect(qemuImgJson<{ 'format-specific': { data: { 'lazy-refcounts': boolean } } }>(['info', '-U', '--output=json', file])['format-specific'].data['lazy-refcounts']).toBe(true);
  expect(readdirSync(served.dir).some((n) => n.startsWith('edit.qcow2.qzs-backup-'))).toBe(true);
  await app.getByRole('button', { name: 'Undo last edit' }).click();
  await expect(app.getByTestId('status-text')).toContainText('undone');
  expect(readFileSync(file).equals(original)).toBe(true);
  // Editing off lets go of the lock.
  await setEditing(app, false);
  expect(qemuImgStatus(['info', file]).status).toBe(0);
});

test('repair shows what it writes and where the backup goes, then fixes the leak', async ({ app, served }) => {
  const file = served.file('leak.qcow2');
  expect(qemuImgStatus(['check', file]).stdout).toMatch(/1 leaked cluster/);
  await openImage(app, 'leak.qcow2');
  await app.click('[data-nav=check]');
  await app.getByRole('button', { name: /Run full check/ }).click();
  await expect(app.getByTestId('busy')).toHaveCount(0);
  await expect(app.locator('.finding')).not.toHaveCount(0);
  await expect(app.getByRole('button', { name: 'Repair leaks…' })).toBeDisabled();
  await setEditing(app, true);
  await app.getByRole('button', { name: 'Repair leaks…' }).click();
  await expect(app.getByTestId('repair-confirm')).toBeVisible();
  await expect(app.getByTestId('backup-path')).toContainText('leak.qcow2.backup-');
  await shot(app, 'repair-confirm');
  // Editing on holds QEMU's write lock: qemu-img check reads it sharing (-U).
  expect(qemuImgStatus(['check', '-U', file]).stdout).toMatch(/1 leaked cluster/);
  await app.getByRole('button', { name: 'Repair with backup' }).click();
  await expect(app.getByTestId('status-text')).toContainText(/check: 0 finding|repaired/);
  await setEditing(app, false);
  expect(qemuImgStatus(['check', file]).status).toBe(0);
  expect(readdirSync(served.dir).some((n) => n.startsWith('leak.qcow2.backup-'))).toBe(true);
});

test('a zoned image made through the wizard reads back with the zones it was given', async ({ app, served }) => {
  await app.getByRole('button', { name: 'New image' }).click();
  await app.getByLabel('File name').fill('zoned-wizard.qcow2');
  await app.getByRole('button', { name: 'Small zoned test disk' }).click();
  await app.getByRole('tab', { name: /Review/ }).click();
  await expect(app.getByTestId('qemu-img-command')).toContainText('zone.mode=host-managed');
  await app.getByRole('button', { name: 'Create and open' }).click();
  await expect(app.getByTestId('file-facts')).toContainText('zoned-wizard.qcow2');
  await expect(app.getByTestId('ov-zoned')).toContainText('16 zones');
  const zones = qzsZones(`${served.createDir}/zoned-wizard.qcow2`);
  expect(zones).toHaveLength(16);
  expect(zones[0].type).toBe('conventional');
  expect(zones.slice(1).every((z) => z.condition === 'empty')).toBe(true);
});
