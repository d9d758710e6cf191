// Zone data operations in Chromium: append (by keyboard) and write at the write pointer land where
// `qzs zones --json` then says the write pointer is; an illegal append shows the typed zone error and
// changes nothing; reset-all empties every sequential zone. All of them need editing on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, MIB, openImage, QZS_CMD, setEditing, shot, test } from './fixtures';

interface ZoneJson { wp: number; condition: string; type: string }
function qzsZones(file: string): ZoneJson[] {
  return (JSON.parse(execFileSync(process.execPath, [...QZS_CMD, 'zones', '--json', file], { encoding: 'utf8' })) as { zones: ZoneJson[] }).zones;
}

async function gotoZone(app: import('@playwright/test').Page, n: number): Promise<void> {
  await app.getByTestId('zone-map').focus();
  await app.keyboard.press('g');
  await app.getByLabel('zone number or offset').fill(String(n));
  await app.keyboard.press('Enter');
  await expect(app.getByTestId('zone-index')).toHaveText(String(n));
}

test('append and write at the write pointer show where the data landed; the file agrees', async ({ app, served }) => {
  const file = served.file('append.qcow2');
  await openImage(app, 'append.qcow2');
  await setEditing(app, true);
  await app.click('[data-nav=zones]');
  await gotoZone(app, 7);
  const map = app.getByTestId('zone-map');
  const before = await map.screenshot();
  // Keyboard only: type the length, Enter appends.
  const len = app.getByLabel('length to append or write');
  await len.fill('8K');
  await len.press('Enter');
  await expect(app.getByTestId('landed-offset')).toHaveText(String(7 * 4 * MIB));
  await expect(app.getByTestId('zone-wp')).toContainText(String(7 * 4 * MIB + 8192));
  await expect(app.getByTestId('zone-condition')).toContainText('implicit-open');
  expect(qzsZones(file)[7].wp).toBe(7 * 4 * MIB + 8192);
  expect((await map.screenshot()).equals(before)).toBe(false);
  await expect(app.getByTestId('zone-clusters')).toContainText('allocated in the file');
  // Where it landed in the file: the hex view there shows the block's self-describing pattern.
  await app.getByTestId('landed-host').click();
  await expect(app.getByTestId('hex-selection')).toBeVisible();
  const label = `qzs append zone 7 @0x${(7 * 4 * MIB).toString(16)}`;
  await expect(app.locator('.hex-row').first()).toBeVisible();
  const hostText = (await app.getByTestId('hex-selection').textContent())!;
  const host = parseInt(/0x([0-9a-f]+)/.exec(hostText)![1], 16);
  expect(readFileSync(file).toString('latin1', host, host + label.length)).toBe(label);
  await app.click('[data-nav=zones]');
  await gotoZone(app, 7);
  await app.getByLabel('length to append or write').fill('8192');
  await app.getByRole('button', { name: 'Write at WP' }).click();
  await expect(app.getByTestId('landed-offset')).toHaveText(String(7 * 4 * MIB + 8192));
  await expect(app.getByTestId('zone-wp')).toContainText(String(7 * 4 * MIB + 16384));
  expect(qzsZones(file)[7].wp).toBe(7 * 4 * MIB + 16384);
  await shot(app, 'zone-append');
});

test('an illegal append shows the typed zone error and changes nothing', async ({ app, served }) => {
  const file = served.file('append.qcow2');
  await openImage(app, 'append.qcow2');
  await setEditing(app, true);
  await app.click('[data-nav=zones]');
  await gotoZone(app, 4); // full
  const bytes = readFileSync(file);
  await app.getByLabel('length to append or write').fill('4K');
  await app.getByRole('button', { name: 'Append' }).click();
  const err = app.getByTestId('zone-error');
  await expect(err).toHaveAttribute('data-kind', 'zone-full');
  await expect(err).toContainText('zone 4');
  await expect(err.locator('[data-detail=condition]')).toContainText('full');
  await expect(err.locator('[data-detail=wp]')).toContainText(String(4 * 4 * MIB + 3 * MIB));
  await expect(err).toContainText('Nothing was changed');
  await shot(app, 'zone-error');
  // Too large for max_append_bytes (64 KiB) on an empty zone: the limit and the numbers are shown.
  await gotoZone(app, 9);
  await app.getByLabel('length to append or write').fill('128K');
  await app.getByRole('button', { name: 'Append' }).click();
  await expect(app.getByTestId('zone-error')).toHaveAttribute('data-kind', 'append-too-large');
  await expect(app.getByTestId('zone-error').locator('[data-detail=limit]')).toContainText('65536');
  expect(readFileSync(file).equals(bytes)).toBe(true);
  expect(qzsZones(file)[9].condition).toBe('empty');
});

test('reset all zones empties every sequential zone after a confirmation', async ({ app, served }) => {
  const file = served.file('append.qcow2');
  await openImage(app, 'append.qcow2');
  await setEditing(app, true);
  await app.click('[data-nav=zones]');
  expect(qzsZones(file).filter((z) => z.type !== 'conventional' && z.condition !== 'empty').length).toBeGreaterThan(0);
  await app.getByRole('button', { name: 'Reset all zones…' }).click();
  await expect(app.getByTestId('reset-all-confirm')).toContainText('14 sequential zones');
  await app.getByRole('button', { name: 'Reset all zones', exact: true }).click();
  await expect(app.locator('[data-condition=empty] .muted')).toHaveText('14');
  const z = qzsZones(file);
  expect(z.filter((x) => x.type !== 'conventional').every((x) => x.condition === 'empty')).toBe(true);
});
