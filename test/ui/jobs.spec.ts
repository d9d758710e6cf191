// Long work in Chromium: creating a large preallocated image and checking it show a determinate progress
// bar that moves; Cancel stops the engine (a cancelled create leaves no file) and the UI says so.
// prealloc.qcow2 is the fixture's HELD_CHECK_IMAGE: its check waits mid-walk for the cancel.
import { existsSync, readdirSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { qemuImgJson } from '../helpers/qemu';
import { expect, shot, test } from './fixtures';

/** Values the progress bar showed, sampled until `until` resolves. */
async function watchProgress(app: Page): Promise<number[]> {
  const seen: number[] = [];
  const bar = app.getByTestId('progress');
  await expect(bar).toHaveAttribute('max', /\d+/, { timeout: 20_000 });
  for (let i = 0; i < 6; i++) {
    const v = await bar.getAttribute('value').catch(() => null);
    if (v !== null) seen.push(Number(v));
    await app.waitForTimeout(120);
  }
  return seen;
}

async function fillWizard(app: Page, name: string, size: string): Promise<void> {
  await app.getByRole('button', { name: 'New image' }).click();
  await app.getByLabel('File name').fill(name);
  await app.getByLabel('Virtual size').fill(size);
  await app.getByLabel('Cluster size').selectOption('512');
  await app.getByLabel('Preallocation').selectOption('metadata');
  await app.getByRole('tab', { name: /Review/ }).click();
  await expect(app.getByTestId('qemu-img-command')).toContainText('preallocation=metadata');
}

test('create with preallocation and check show moving progress; Cancel really stops both', async ({ app, served }) => {
  test.setTimeout(90_000);
  // 1. Create 2 GiB in 512-byte clusters: 65536 L2 tables and their refcounts are written one by one.
  await fillWizard(app, 'prealloc.qcow2', '2G');
  await app.getByRole('button', { name: 'Create and open' }).click();
  const created = await watchProgress(app);
  expect(created.length).toBeGreaterThan(2);
  expect(created.at(-1)!).toBeGreaterThan(created[0]);
  await expect(app.getByTestId('progress-text')).toContainText('writing');
  await shot(app, 'progress-create');
  await expect(app.getByTestId('file-facts')).toContainText('prealloc.qcow2', { timeout: 60_000 });
  expect(qemuImgJson<{ 'cluster-size': number }>(['info', '--output=json', `${served.createDir}/prealloc.qcow2`])['cluster-size']).toBe(512);

  // 2. Check it: the bar fills phase by phase; Cancel stops the check and the check view says so. The
  // check of this image pauses inside the table walk until cancelled (test hook, HELD_CHECK_IMAGE), so the
  // cancel always lands mid-walk however fast the machine; the engine must still notice the cancel itself,
  // or it would carry on and report a complete check.
  await app.click('[data-nav=check]');
  await app.getByRole('button', { name: /Run full check/ }).click();
  await expect(app.getByTestId('progress')).toHaveAttribute('max', /\d+/, { timeout: 20_000 });
  // Past the header: the walk of the tables reports how far it got, and it has not finished.
  await expect(app.getByTestId('progress-text')).toContainText(/active tables|refcounts/);
  const walked = Number(await app.getByTestId('progress').getAttribute('value'));
  expect(walked).toBeGreaterThan(0);
  expect(walked).toBeLessThan(Number(await app.getByTestId('progress').getAttribute('max')));
  await app.waitForTimeout(300);
  await expect(app.getByTestId('busy')).toHaveCount(1);
  await shot(app, 'progress-check');
  await app.getByTestId('cancel-job').click();
  await expect(app.getByTestId('busy')).toHaveCount(0);
  await expect(app.getByTestId('check-cancelled')).toBeVisible();
  await expect(app.getByTestId('status-text')).toContainText('checking the image: cancelled');
  await shot(app, 'check-cancelled');

  // 3. Cancel a create half way: the wizard says so and no file (not even a temporary one) is left.
  await fillWizard(app, 'never.qcow2', '2G');
  await app.getByRole('button', { name: 'Create and open' }).click();
  await expect(app.getByTestId('progress')).toHaveAttribute('max', /\d+/, { timeout: 20_000 });
  await app.getByTestId('cancel-job').click();
  await expect(app.getByRole('alert')).toContainText('was cancelled; no file was left behind');
  expect(existsSync(`${served.createDir}/never.qcow2`)).toBe(false);
  expect(readdirSync(served.createDir).filter((n) => n.includes('never'))).toEqual([]);
});

test('under qzs serve the header names the served images, and the API opens no other path', async ({ app }) => {
  const header = app.getByTestId('served-images');
  await expect(header).toContainText('qzs serve');
  const info = await app.evaluate(async () => {
    const r = await fetch('/api/app:info', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[]' });
    return r.json() as Promise<{ value: { sessions: { name: string }[] } }>;
  });
  const names = info.value.sessions.map((x) => x.name);
  for (const name of ['plain.qcow2', 'zoned.qcow2', 'tables.qcow2', 'demo.qcow2']) expect(names).toContain(name);
  const title = (await header.getAttribute('title'))!;
  for (const name of names) expect(title).toContain(name);
  await expect(header).toContainText(`${names.length} images`);
  const refused = await app.evaluate(async () => {
    const r = await fetch('/api/session:openDropped', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(['/etc/passwd']) });
    return r.json() as Promise<{ ok: boolean; error: { message: string } }>;
  });
  expect(refused.ok).toBe(false);
  expect(refused.error.message).toContain('not available over this transport');
});
