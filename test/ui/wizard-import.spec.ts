// "Import from a zone report" and "Same device elsewhere" (issue 13), in Chromium against qzs serve: the
// blkzone report `qzs zones --format blkzone` prints for the served zoned image is picked as a file in the
// wizard, which fills its fields from it; the image created from them has the same zones (start, length,
// capacity, type) as `qzs zones --json` reports for the original. The Overview of the zoned image shows the
// emulator lines.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { QZS_CMD, expect, openImage, shot, test } from './fixtures';

interface ZoneJson { start: number; length: number; capacity: number; type: string }
const geometry = (file: string): ZoneJson[] =>
  (JSON.parse(execFileSync(process.execPath, [...QZS_CMD, 'zones', '--json', file], { encoding: 'utf8' })) as { zones: ZoneJson[] }).zones
    .map(({ start, length, capacity, type }) => ({ start, length, capacity, type }));

test('a blkzone report imported in the wizard creates an image with the same zone geometry', async ({ app, served }) => {
  await app.setViewportSize({ width: 1280, height: 900 });
  const report = resolve(served.dir, 'zoned.blkzone.txt');
  writeFileSync(report, execFileSync(process.execPath, [...QZS_CMD, 'zones', '--format', 'blkzone', served.file('zoned.qcow2')]));
  await app.getByRole('button', { name: 'New image' }).click();
  await app.getByLabel('File name').fill('imported.qcow2');
  await app.getByRole('button', { name: 'Import from a zone report…' }).click();
  const dialog = app.getByRole('dialog', { name: 'Import from a zone report' });
  await dialog.getByLabel('Report file').setInputFiles(report);
  await expect(dialog.getByTestId('import-source')).toHaveText('util-linux blkzone report');
  await expect(dialog.getByTestId('import-result')).toContainText('16 (2 conventional, 14 sequential)');
  await expect(dialog.getByTestId('import-like-command')).toHaveText('qzs create --like zoned.blkzone.txt --with-write-pointers imported.qcow2');
  await shot(app, 'wizard-import-blkzone');
  await dialog.getByRole('button', { name: 'Use these values' }).click();
  await expect(app.getByTestId('import-summary')).toContainText('zoned.blkzone.txt');
  await app.getByRole('tab', { name: /Zoned/ }).click();
  // The served image is v8; the report does not say which revision, so the user picks it.
  await app.getByRole('radio', { name: /v8/ }).check();
  await expect(app.getByTestId('derived-nr-zones')).toHaveText('16');
  await app.getByRole('tab', { name: /Review/ }).click();
  const panel = app.getByRole('region', { name: 'Same device elsewhere' });
  await expect(panel.getByTestId('emulator-qemu-nvme-zns')).toContainText('zoned.zone_capacity=3145728');
  await expect(panel.getByTestId('emulator-null_blk')).toContainText('zone_nr_conv');
  await expect(panel.getByTestId('emulator-virtio-blk')).toContainText('filename=imported.qcow2');
  await panel.scrollIntoViewIfNeeded();
  await shot(app, 'wizard-review-emulators');
  await app.getByRole('button', { name: 'Create and open' }).click();
  await expect(app.getByTestId('file-facts')).toContainText('imported.qcow2');
  expect(geometry(resolve(served.createDir, 'imported.qcow2'))).toEqual(geometry(served.file('zoned.qcow2')));
});

test('the Overview of a zoned image says how to get the same device elsewhere', async ({ app }) => {
  await app.setViewportSize({ width: 1280, height: 900 });
  await openImage(app, 'zoned.qcow2');
  const panel = app.getByRole('region', { name: 'Same device elsewhere' });
  await expect(panel.getByTestId('emulator-virtio-blk')).toContainText('filename=zoned.qcow2');
  await expect(panel.getByTestId('emulator-qemu-nvme-zns')).toContainText('zoned.zone_size=4194304');
  await panel.scrollIntoViewIfNeeded();
  await shot(app, 'overview-emulators');
});

test('under qzs serve, About lists the documentation as plain links opening a new tab', async ({ app }) => {
  await app.keyboard.press('F1');
  const about = app.getByRole('dialog', { name: 'About Qcow2 Zone Studio' });
  const link = about.getByRole('link', { name: 'QEMU qcow2 format documentation' });
  await expect(link).toHaveAttribute('href', 'https://www.qemu.org/docs/master/interop/qcow2.html');
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(link).toHaveAttribute('rel', /noopener/);
  await shot(app, 'about-docs');
});
