// The Tables view in Chromium against `qzs serve`: an image qemu-img made and qemu-io wrote shows each L2
// entry at the host offset `qemu-img map --output=json` reports; a host offset opens the hex view there.
import { qemuImgJson } from '../helpers/qemu';
import { expect, MIB, openImage, shot, test } from './fixtures';

interface MapEntry { start: number; length: number; data: boolean; zero: boolean; present: boolean; offset?: number }

test('Tables: L1 → L2 → hex, at the offsets qemu-img map reports', async ({ app, served }) => {
  const map = qemuImgJson<MapEntry[]>(['map', '--output=json', served.file('tables.qcow2')]);
  const at600 = map.find((m) => m.data && m.start === 600 * MIB)!;
  expect(at600.offset).toBeGreaterThan(0);
  await openImage(app, 'tables.qcow2');
  await app.click('[data-nav=tables]');
  const l1 = app.getByTestId('l1-list');
  await expect(l1.locator('[data-index="1"]')).toContainText('0x');
  await expect(app.getByTestId('l1-meta')).toContainText('2 entries');
  // 600 MiB lies in L1 entry 1, L2 entry (600M - 512M) / 64K = 1408.
  await l1.locator('[data-index="1"]').click();
  const l2 = app.getByTestId('l2-list');
  await expect(l2.locator('[data-index="0"]')).toBeVisible();
  await app.getByLabel('go to L2 entry').fill('1408');
  await app.getByLabel('go to L2 entry').press('Enter');
  const row = l2.locator('[data-index="1408"]');
  await expect(row).toContainText(`0x${(600 * MIB).toString(16)}`);
  await expect(row.locator('[data-kind]')).toHaveAttribute('data-kind', 'normal');
  await expect(row.locator('[data-host]')).toHaveAttribute('data-host', String(at600.offset));
  await expect(l2.locator('[data-index="1409"] [data-host]')).toHaveAttribute('data-host', String(at600.offset! + 65536));
  await expect(l2.locator('[data-index="1410"] [data-kind]')).toHaveAttribute('data-kind', 'unallocated');
  // Keyboard: the list moves its selection with the arrows.
  await l2.locator('.plist-body').focus();
  await app.keyboard.press('ArrowDown');
  await expect(l2.locator('[data-index="1409"]')).toHaveAttribute('aria-selected', 'true');
  // The selection drives the inspector: the entry, where it sits in the file, and its bytes in the hex view.
  const detail = app.getByTestId('entry-detail');
  await expect(detail).toContainText('L2 entry 1409 of L1 entry 1');
  await expect(detail.locator('[data-fact="host offset"]')).toContainText(`0x${(at600.offset! + 65536).toString(16)}`);
  const l2Table = Number(await l1.locator('[data-index="1"] [data-host]').getAttribute('data-host'));
  await detail.getByRole('button', { name: 'Show entry bytes' }).click();
  await expect(app.getByTestId('hex-selection')).toContainText(`0x${(l2Table + 1409 * 8).toString(16)} (8 bytes)`);
  await app.click('[data-nav=tables]');
  // The zeroed cluster at 700 MiB reads as a zero entry: jump there by guest offset.
  await app.getByLabel('go to L2 entry').fill('@700M');
  await app.getByLabel('go to L2 entry').press('Enter');
  await expect(l2.locator('[data-index="3008"] [data-kind]')).toHaveAttribute('data-kind', 'zero');
  await shot(app, 'tables-l1-l2');
  // Host offset → hex view at that offset, showing the bytes qemu-io wrote.
  await app.getByLabel('go to L2 entry').fill('1408');
  await app.getByLabel('go to L2 entry').press('Enter');
  await row.locator('[data-host]').click();
  await expect(app.getByTestId('hex-selection')).toContainText(`0x${at600.offset!.toString(16)}`);
  const first = app.locator(`.hex-row .b[data-off="${at600.offset}"]`);
  await expect(first).toHaveText('cd');
  await expect(first).toHaveClass(/hl/);
});

test('Tables: refcount table → block, and the snapshot list with its own L1 table', async ({ app }) => {
  await openImage(app, 'tables.qcow2');
  await app.click('[data-nav=tables]');
  await app.getByRole('tab', { name: 'Refcounts' }).click();
  const rt = app.getByTestId('reftable-list');
  // Click only once the entry's page has loaded (a click on a placeholder row can race the page load).
  await expect(rt.locator('[data-index="0"]')).toContainText('0x');
  await rt.locator('[data-index="0"]').click();
  await expect(rt.locator('[data-index="0"]')).toHaveAttribute('aria-selected', 'true');
  const block = app.getByTestId('refblock-list');
  // Cluster 0 (the header) has refcount 1.
  await expect(block.locator('[data-index="0"]')).toContainText('1');
  await expect(block.locator('[data-index="0"] .num').last()).toHaveText('1');
  await shot(app, 'tables-refcounts');
  await app.getByRole('tab', { name: 'Snapshots' }).click();
  const snaps = app.getByTestId('snapshot-list');
  await expect(snaps.locator('[data-index="0"]')).toContainText('before-more');
  await shot(app, 'tables-snapshots');
  await snaps.locator('[data-index="0"] button').click();
  await expect(app.getByRole('tab', { name: 'L1 / L2' })).toHaveAttribute('aria-selected', 'true');
  await expect(app.locator('.table-pane h3').first()).toContainText('snapshot 1 (before-more)');
  await expect(app.getByTestId('l1-list').locator('[data-index="1"]')).toContainText('0x');
});
