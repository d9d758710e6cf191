// A file that cannot be decoded is served degraded, beside a good image: its overview says why (the field,
// its offset, found and expected), lists the findings, dumps its first bytes; a finding opens its bytes in
// the hex view; only Overview, Header, Check and Hex are offered. The good image still works in full.
// Also: an image QEMU holds for writing (qemu-io) shows who holds it, and switching editing on is refused
// with qemu-img's words. This spec starts its own `qzs serve` over images made here (a good one, a copy
// with cluster_bits = 40, an empty file, and one for qemu-io to hold).
import { test as base, type Page } from '@playwright/test';
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { qemuImg, qemuImgStatus, tmpDir } from '../helpers/qemu';
import { appAt, expect, openImage, shot, startServe } from './fixtures';

interface Broken { url: string; file(name: string): string }

const test = base.extend<{ app: Page }, { broken: Broken }>({
  broken: [async ({}, use) => {
    const tmp = tmpDir('qzs-ui-degraded-');
    const f = (n: string): string => resolve(tmp.path, n);
    qemuImg(['create', '-q', '-f', 'qcow2', f('good.qcow2'), '64M']);
    copyFileSync(f('good.qcow2'), f('broken-header.qcow2'));
    const fd = openSync(f('broken-header.qcow2'), 'r+');
    writeSync(fd, Buffer.from([0, 0, 0, 40]), 0, 4, 20); // cluster_bits = 40
    closeSync(fd);
    writeFileSync(f('empty.qcow2'), Buffer.alloc(0));
    copyFileSync(f('good.qcow2'), f('held.qcow2'));
    const { url, proc } = await startServe(['good.qcow2', 'broken-header.qcow2', 'empty.qcow2', 'held.qcow2'].map(f));
    await use({ url, file: f });
    proc.kill('SIGTERM');
    tmp.cleanup();
  }, { scope: 'worker' }],
  app: async ({ page, broken }, use) => appAt(page, broken.url, use),
});

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

test('a served broken-header image shows its header bytes and findings next to a good image', async ({ app, broken }) => {
  // The good image first: decoded as usual.
  await openImage(app, 'good.qcow2');
  await expect(app.getByTestId('ov-version')).toContainText('qcow2 version 3');
  await expect(app.getByTestId('file-facts')).toContainText('v3');

  // The broken one: why, where, found and expected.
  await openImage(app, 'broken-header.qcow2');
  const panel = app.getByTestId('degraded-panel');
  await expect(panel).toContainText('This file cannot be read as qcow2');
  await expect(panel).toContainText('cluster_bits');
  await expect(app.getByTestId('degraded-offset')).toContainText('0x14');
  await expect(app.getByTestId('degraded-found')).toContainText('40');
  await expect(app.getByTestId('file-facts')).toContainText('not readable as qcow2');
  await expect(app.getByTestId('file-facts')).not.toContainText('v0');
  // The findings, the fatal one about cluster_bits among them.
  const findings = app.getByTestId('degraded-findings').locator('[data-finding]');
  await expect(findings.first()).toBeVisible();
  await expect(app.getByTestId('degraded-findings')).toContainText('cluster_bits');
  // The first 512 bytes as in the file, cluster_bits' four bytes highlighted.
  const bytes = readFileSync(broken.file('broken-header.qcow2'));
  const dump = app.getByTestId('degraded-dump');
  await expect(dump.locator('.hex-row')).toHaveCount(32);
  for (const off of [0, 1, 2, 3, 7, 20, 23, 511]) await expect(dump.locator(`[data-off="${off}"]`)).toHaveText(hex2(bytes[off]));
  await expect(dump.locator('.b.hl')).toHaveCount(4);
  await expect(dump.locator('.b.hl').first()).toHaveAttribute('data-off', '20');
  // Only Overview, Header, Check and Hex.
  for (const v of ['extensions', 'features', 'zones', 'tables']) {
    await expect(app.locator(`[data-nav=${v}]`)).toBeDisabled();
    await expect(app.locator(`[data-nav=${v}]`)).toHaveAttribute('title', /cannot be read as qcow2/);
  }
  await expect(app.getByTestId('editing-toggle')).toBeDisabled();
  await shot(app, 'degraded-overview');

  // A finding opens its bytes in the hex view.
  await app.getByTestId('degraded-findings').locator('[data-finding="header.cluster_bits"]').first().click();
  await expect(app.getByTestId('hex-selection')).toContainText('0x14 (4 bytes)');
  await expect(app.locator('.hex-row .b.hl')).toHaveCount(4);
  await expect(app.locator('.hex-row .b.hl').first()).toHaveAttribute('data-off', '20');
  await expect(app.locator('.hex-row .b.hl').last()).toHaveText('28');
  await expect(app.getByTestId('finding-detail')).toContainText('cluster_bits');
  await shot(app, 'degraded-hex');

  // Header: the fields the decoder got to (cluster_bits among them), or a note; Check: the findings, no buttons.
  await app.click('[data-nav=header]');
  await expect(app.getByTestId('header-table').or(app.getByTestId('no-header-fields'))).toBeVisible();
  if (await app.getByTestId('header-table').count()) await expect(app.getByTestId('value-cluster_bits')).toHaveAttribute('data-value', '40');
  await expect(app.getByRole('button', { name: 'Edit', exact: true })).toHaveCount(0);
  await shot(app, 'degraded-header');
  await app.click('[data-nav=check]');
  await expect(app.getByTestId('check-degraded')).toBeVisible();
  await expect(app.locator('[data-finding="header.cluster_bits"]').first()).toBeVisible();
  await expect(app.getByRole('button', { name: /Run full check|Repair/ })).toHaveCount(0);
  await shot(app, 'degraded-check');

  // An empty file: degraded too, nothing to dump.
  await openImage(app, 'empty.qcow2');
  await expect(app.getByTestId('check-degraded')).toContainText('too short'); // the Check view stays
  await app.click('[data-nav=overview]');
  await expect(app.getByTestId('degraded-panel')).toContainText('This file cannot be read as qcow2');
  await expect(app.getByTestId('degraded-empty')).toBeVisible();
  await shot(app, 'degraded-empty');

  // Back to the good image: every view is there again and reads it.
  await openImage(app, 'good.qcow2');
  await expect(app.getByTestId('ov-version')).toContainText('qcow2 version 3');
  await expect(app.locator('[data-nav=tables]')).toBeEnabled();
  await app.click('[data-nav=header]');
  await expect(app.getByTestId('value-cluster_bits')).toHaveAttribute('data-value', '16');
  await app.click('[data-nav=tables]');
  await expect(app.getByTestId('l1-meta')).toContainText('entries');
  await app.click('[data-nav=check]');
  await app.getByRole('button', { name: 'Run full check' }).click();
  await expect(app.getByTestId('no-findings')).toBeVisible();
  await shot(app, 'degraded-back-to-good');
});

test('an image qemu-io holds for writing says who holds it, and editing is refused with qemu-img\'s words', async ({ app, broken }) => {
  const file = broken.file('held.qcow2');
  // qemu-io in interactive mode keeps the image open read-write (with QEMU's write lock) until its input ends.
  const holder = spawn('qemu-io', ['-f', 'qcow2', file], { stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    await expect.poll(() => qemuImgStatus(['info', file]).stderr).toMatch(/Failed to get shared "write" lock/);
    await openImage(app, 'held.qcow2');
    const banner = app.getByTestId('in-use-banner');
    await expect(banner).toHaveAttribute('role', 'status');
    await expect(banner).toContainText(`in use by qemu-io (pid ${holder.pid})`);
    await expect(banner).toContainText('shown as read at');
    // Reading goes on.
    await expect(app.getByTestId('ov-version')).toContainText('qcow2 version 3');
    // Editing on would take the write lock qemu-io holds: refused, in qemu-img's words; nothing changes.
    await app.getByTestId('editing-toggle').click();
    await expect(app.getByRole('alert')).toContainText('lock');
    await expect(app.getByTestId('editing-toggle')).toHaveText('Editing: off');
    await shot(app, 'in-use');
  } finally {
    holder.stdin!.end();
    if (holder.exitCode === null && holder.signalCode === null) await new Promise((ok) => holder.once('exit', ok));
  }
  // Once qemu-io is gone, opening the image again shows no banner.
  await openImage(app, 'good.qcow2');
  await openImage(app, 'held.qcow2');
  await expect(app.getByTestId('ov-version')).toContainText('qcow2 version 3');
  await expect(app.getByTestId('in-use-banner')).toHaveCount(0);
});
