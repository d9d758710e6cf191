// `qzs serve --open-dir DIR` in the browser: Open… lists DIR, folders are entered, an image opens without
// restarting the server, and a symlink leading out of DIR is not offered at all.
import { test, expect } from '@playwright/test';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { qemuImg, tmpDir } from '../helpers/qemu';
import { SHOTS, startServe } from './fixtures';

test('Open… under --open-dir lists the folder and opens an image from a subfolder', async ({ page }) => {
  const tmp = tmpDir('qzs-ui-opendir-');
  const root = resolve(tmp.path, 'vm-images');
  mkdirSync(resolve(root, 'zoned'), { recursive: true });
  mkdirSync(resolve(tmp.path, 'private'));
  qemuImg(['create', '-q', '-f', 'qcow2', resolve(root, 'base.qcow2'), '2G']);
  qemuImg(['create', '-q', '-f', 'qcow2', resolve(root, 'zoned', 'nested.qcow2'), '64M']);
  qemuImg(['create', '-q', '-f', 'qcow2', resolve(tmp.path, 'private', 'secret.qcow2'), '64M']);
  writeFileSync(resolve(root, 'README.txt'), 'images for the lab VMs\n');
  symlinkSync(resolve(tmp.path, 'private'), resolve(root, 'private-link'));
  const { url, proc } = await startServe(['--open-dir', root]);
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  try {
    await page.setViewportSize({ width: 1000, height: 650 });
    await page.goto(url);
    await expect(page.getByRole('heading', { name: 'No image open' })).toBeVisible();
    await expect(page.getByText('Open an image from the folder qzs serve offers')).toBeVisible();
    await page.keyboard.press('Control+o');
    const dialog = page.getByTestId('open-dir-dialog');
    await expect(dialog).toBeVisible();
    const rows = dialog.getByRole('table', { name: 'folder contents' }).locator('tbody tr');
    await expect(rows).toHaveText([/zoned\/.*folder/, /base\.qcow2.*qcow2/, /README\.txt.*other file/]);
    await expect(dialog).not.toContainText('private-link');
    await page.screenshot({ path: resolve(SHOTS, 'open-dir-dialog.png') });

    await dialog.getByText('zoned/', { exact: true }).click();
    await expect(dialog.getByRole('navigation', { name: 'folder' })).toContainText('vm-images / zoned');
    await dialog.getByText('nested.qcow2').click();
    await expect(dialog).toContainText('zoned/nested.qcow2');
    await dialog.getByRole('button', { name: 'Open', exact: true }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId('file-facts')).toContainText('nested.qcow2');
    await expect(page.getByTestId('file-facts')).toContainText('64 MiB');

    // A second image from the same server run, by double-click; both stay open.
    await page.getByTestId('open-dir-button').click();
    await dialog.getByText('base.qcow2').dblclick();
    await expect(page.getByTestId('file-facts')).toContainText('base.qcow2');
    await expect(page.getByLabel('open images').locator('option')).toHaveText(['nested.qcow2', 'base.qcow2']);
    await page.screenshot({ path: resolve(SHOTS, 'open-dir-opened.png') });
    expect(problems, problems.join('\n')).toEqual([]);
  } finally {
    proc.kill('SIGTERM');
    tmp.cleanup();
  }
});
