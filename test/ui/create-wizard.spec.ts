// The create wizard's zoned targets and wording (issues 10 and 15), in Chromium against qzs serve: the four
// targets with what each is and which QEMU reads it, errors that name the control to change, sizes in the
// user's unit with metadata and file size explained; a respin image created through it reads as the respin.
import { execFileSync } from 'node:child_process';
import { QZS_CMD, expect, shot, test } from './fixtures';

test('the wizard offers every zoned target, words errors for the form and creates a respin image', async ({ app, served }) => {
  await app.setViewportSize({ width: 1280, height: 900 });
  await app.getByRole('button', { name: 'New image' }).click();
  await app.getByLabel('File name').fill('wizard-respin.qcow2');
  await app.getByLabel('Virtual size').fill('768M');
  await expect(app.getByTestId('derived-size')).toHaveText('768 MiB');
  await expect(app.getByTestId('derived-explain')).toContainText('bytes actually written');
  await app.getByRole('tab', { name: /Zoned/ }).click();
  await app.getByLabel('Zoned (host-managed)').check();
  await app.getByLabel('Zone size').fill('48M');
  await app.getByRole('radio', { name: /v11 family/ }).check();
  await expect(app.locator('.invalid[data-option="zone.size"]').first()).toContainText('is not a power of 2');
  await expect(app.getByTestId('error-count')).toContainText('Zone size');
  await shot(app, 'wizard-targets-v11-error');
  await app.getByLabel('Zone size').fill('64M');
  await app.getByRole('radio', { name: /Cassel respin/ }).check();
  await expect(app.getByTestId('derived-revision')).toHaveText('Cassel respin (State B)');
  await expect(app.getByTestId('derived-zone-size')).toHaveText('64 MiB');
  await shot(app, 'wizard-targets-respin');
  await app.getByRole('tab', { name: /Review/ }).click();
  await expect(app.getByTestId('qemu-img-command')).toContainText('zone.size=64M');
  await shot(app, 'wizard-review-respin');
  await app.getByRole('button', { name: 'Create and open' }).click();
  await expect(app.getByTestId('file-facts')).toContainText('wizard-respin.qcow2');
  const info = JSON.parse(execFileSync(process.execPath, [...QZS_CMD, 'info', '--json', `${served.createDir}/wizard-respin.qcow2`], { encoding: 'utf8' })) as { zoned: { revision: string; 'nr-zones': number } };
  expect(info.zoned).toMatchObject({ revision: 'respin', 'nr-zones': 12 });
});
