// A million zones with a handful in each rare condition (issue 13): every rare zone is found from the
// fitted map (its pixel is there, and clicking it selects that very zone), from the legend's "only" filter
// (the zone table lists exactly them) and by stepping next / previous through the condition.
// The image is made by our engine (`qzs create`, sparse: 9 MiB for 64 TiB) and its write pointers set in
// place; open states come from zone operations in the serving session.
import { test as base, expect, type Page } from '@playwright/test';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { tmpDir } from '../helpers/qemu';
import { buildZonedImage, wpValue } from '../helpers/zoned-builder';
import { appAt, QZS_CMD, shot, startServe } from './fixtures';
import { CONDITION_STYLE } from '../../renderer/zone-map/palette';

const ZONE = 64 << 20;
const CAP = 48 << 20;
const N = 1_048_576;
const CONVENTIONAL = [0, 1, 2, 3];
const RARE = {
  closed: [100_003, 333_333, 600_001, 777_777, 1_000_001],
  full: [50_000, 250_000, 500_000, 750_000, 1_048_000],
  'explicit-open': [123_456, 654_321, 900_000],
  'implicit-open': [222_222, 444_444, 888_888],
} as const;
type Rare = keyof typeof RARE;

function makeImage(file: string): void {
  const out = execFileSync(process.execPath, [...QZS_CMD, 'create', '-o', `zone.mode=host-managed,zone.size=64M,zone.capacity=48M,zone.conventional_zones=${CONVENTIONAL.length},zone.max_open_zones=64,zone.max_active_zones=128`, '--zoned-layout', 'v8', file, '64T'], { encoding: 'utf8' });
  const at = Number(/zonedmeta: \d+ bytes in \d+ cluster\(s\) at (\d+)/.exec(out)![1]);
  // v8 entries: little-endian absolute byte offsets (ZONED-FORMAT.md section 3).
  const fd = openSync(file, 'r+');
  const put = (i: number, wp: number): void => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(wp)); writeSync(fd, b, 0, 8, at + 8 * i); };
  for (const i of RARE.closed) put(i, i * ZONE + (1 << 20));
  for (const i of RARE.full) put(i, i * ZONE + CAP);
  closeSync(fd);
}

interface Served { url: string; proc: ChildProcess; dir: string; cleanup(): void }

const test = base.extend<{ app: Page }, { served: Served }>({
  served: [async ({}, use) => {
    const tmp = tmpDir('qzs-ui-scale-');
    const file = resolve(tmp.path, 'rare-1m.qcow2');
    makeImage(file);
    // A small drive for the export: 10 zones of 4 MiB (capacity 3 MiB, the last one 2 MiB), 2 conventional, zone 3 closed, zone 4 full.
    const M = 1 << 20;
    writeFileSync(resolve(tmp.path, 'small.qcow2'), buildZonedImage({
      layout: 'v8', virtualSize: 38 * M, zoneSize: 4 * M, zoneCapacity: 3 * M, conventionalZones: 2, maxOpenZones: 2, maxActiveZones: 3, maxAppendBytes: 65536,
      entry: (i, start) => (i < 2 ? wpValue(start, { conventional: true }) : i === 3 ? wpValue(start + M) : i === 4 ? wpValue(start + 3 * M) : wpValue(start)),
    }).bytes);
    const { url, proc } = await startServe([file, resolve(tmp.path, 'small.qcow2')]);
    await use({ url, proc, dir: tmp.path, cleanup: tmp.cleanup });
    proc.kill('SIGTERM');
    tmp.cleanup();
  }, { scope: 'worker' }],
  app: async ({ page, served }, use) => appAt(page, served.url, use, async () => {
      // Open states live in the serving session: made once, through the same API the UI uses.
      await page.evaluate(async (rare) => {
        const call = async (ch: string, args: unknown[]): Promise<unknown> => {
          const res = await fetch(`/api/${ch}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(args), credentials: 'same-origin' });
          const type = res.headers.get('content-type') ?? '';
          return type.includes('json') ? res.json() : null;
        };
        const info = await call('app:info', []) as { value: { sessions: { id: string }[] } };
        const sid = info.value.sessions[0].id;
        const z = await fetch('/api/zones:report', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify([sid]), credentials: 'same-origin' });
        const bytes = new Uint8Array(await z.arrayBuffer());
        // Already done by an earlier test of this worker: the conditions byte of the first open zone says so.
        const headLen = new DataView(bytes.buffer).getUint32(4);
        const wpAt = Math.ceil((8 + headLen) / 8) * 8;
        if (bytes[wpAt + 8 * 1_048_576 + rare.explicit[0]] === 3) return;
        await call('edit:enable', [sid, true]);
        for (const i of rare.explicit) await call('zones:op', [sid, { op: 'open', zone: i }]);
        for (const i of rare.implicit) await call('zones:write', [sid, { op: 'append', zone: i, length: 4096 }]);
      }, { explicit: [...RARE['explicit-open']], implicit: [...RARE['implicit-open']] });
      await page.reload();
      await expect(page.getByTestId('file-facts')).toBeVisible();
      await page.click('[data-nav=zones]');
      await expect(page.getByTestId('zone-map')).toBeVisible();
      await expect(page.locator('[data-condition=explicit-open] .muted')).toHaveText('3');
    }),
});

/** Pixels of the fitted map in a condition's colour, as CSS coordinates inside the canvas. */
async function pixelsOf(page: Page, color: string): Promise<{ x: number; y: number }[]> {
  return page.getByTestId('zone-map').evaluate((c: HTMLCanvasElement, hex: string) => {
    const v = parseInt(hex.slice(1), 16);
    const [r, g, b] = [(v >> 16) & 255, (v >> 8) & 255, v & 255];
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const dpr = c.width / c.clientWidth;
    const out: { x: number; y: number }[] = [];
    for (let p = 0; p < d.length; p += 4) if (d[p] === r && d[p + 1] === g && d[p + 2] === b) {
      // The canvas sits at a fractional page offset and Chromium hit-tests its snapped box: the first pixel
      // row and column are clicked near their far edge so the click lands on the canvas.
      const k = p >> 2;
      const x = k % c.width;
      const y = Math.floor(k / c.width);
      out.push({ x: (x + (x === 0 ? 0.9 : 0.5)) / dpr, y: (y + (y === 0 ? 0.9 : 0.5)) / dpr });
    }
    return out;
  }, color);
}

test('every rare zone shows on the fitted map and a click on its pixel selects it', async ({ app }) => {
  await shot(app, 'zones-rare-fitted');
  const map = app.getByTestId('zone-map');
  const box = (await map.boundingBox())!;
  const found: Record<string, number[]> = {};
  // All positions first: the hover and selection frames drawn after a click must not hide a later pixel.
  const conditions = [...Object.keys(RARE), 'not-wp'] as (Rare | 'not-wp')[];
  const pixels = await Promise.all(conditions.map((c) => pixelsOf(app, CONDITION_STYLE[c].color)));
  for (const [k, c] of conditions.entries()) {
    found[c] = [];
    for (const p of pixels[k]) {
      const idx = app.getByTestId('zone-index');
      const before = (await idx.count()) > 0 ? await idx.textContent() : null;
      await app.mouse.click(box.x + p.x, box.y + p.y);
      await expect(app.getByTestId('zone-condition')).toContainText(c);
      // Rare zones lie far apart: each pixel is another zone (the four neighbouring conventional ones may not be).
      if (c !== 'not-wp') await expect(app.getByTestId('zone-index')).not.toHaveText(before ?? '');
      found[c].push(Number(await app.getByTestId('zone-index').textContent()));
    }
  }
  for (const c of Object.keys(RARE) as Rare[]) expect(new Set(found[c])).toEqual(new Set(RARE[c]));
  // The four conventional zones are neighbours: they may share a pixel, but they are on the map.
  expect(found['not-wp'].length).toBeGreaterThan(0);
  for (const i of found['not-wp']) expect(CONVENTIONAL).toContain(i);
});

test('the overview strip marks every rare zone and a click on a tick selects it', async ({ app }) => {
  const strip = app.getByTestId('zone-overview');
  const box = (await strip.boundingBox())!;
  const picked = new Set<number>();
  // One probe per tick: walk the strip a pixel column at a time where the colour is a rare one.
  const columns = await strip.evaluate((c: HTMLCanvasElement, colors: string[]) => {
    const d = c.getContext('2d')!.getImageData(0, Math.floor(c.height / 2), c.width, 1).data;
    const want = colors.map((hex) => { const v = parseInt(hex.slice(1), 16); return [(v >> 16) & 255, (v >> 8) & 255, v & 255]; });
    const dpr = c.width / c.clientWidth;
    const xs: number[] = [];
    let last = -10;
    for (let x = 0; x < c.width; x++) {
      const p = 4 * x;
      if (want.some(([r, g, b]) => d[p] === r && d[p + 1] === g && d[p + 2] === b) && x - last > 1) xs.push((x + 0.5) / dpr);
      if (want.some(([r, g, b]) => d[p] === r && d[p + 1] === g && d[p + 2] === b)) last = x;
    }
    return xs;
  }, (Object.keys(RARE) as Rare[]).map((c) => CONDITION_STYLE[c].color));
  for (const x of columns) {
    await app.mouse.click(box.x + x, box.y + box.height / 2);
    picked.add(Number(await app.getByTestId('zone-index').textContent()));
  }
  expect(picked).toEqual(new Set(Object.values(RARE).flat()));
  await shot(app, 'zones-rare-strip-picked');
});

test('"only closed" filters the zone table to exactly the closed zones; every rare condition alike', async ({ app }) => {
  await app.getByRole('tab', { name: 'Table' }).click();
  for (const c of Object.keys(RARE) as Rare[]) {
    await app.getByRole('button', { name: `show only ${CONDITION_STYLE[c].label}`, exact: true }).click();
    await expect(app.getByTestId('zone-table-count')).toHaveText(`${RARE[c].length} of ${N} zones`);
    const rows = app.getByTestId('zone-table').locator('[data-col=zone]');
    await expect(rows).toHaveCount(RARE[c].length);
    expect((await rows.allTextContents()).map(Number)).toEqual([...RARE[c]].sort((a, b) => a - b));
    if (c === 'closed') await shot(app, 'zones-table-only-closed');
  }
  await app.getByRole('button', { name: 'show all' }).click();
  await expect(app.getByTestId('zone-table-count')).toHaveText(`${N} zones`);
  // Sorting a million rows by condition (legend order: EMPTY first; descending: NOT_WP first), ties in zone order.
  const first = app.getByTestId('zone-table').locator('[data-col=zone]').first();
  await app.locator('[data-sort=condition]').click();
  await expect(first).toHaveText(String(CONVENTIONAL.length));
  await app.locator('[data-sort=condition]').click();
  await expect(first).toHaveText('0');
  await app.getByRole('radio', { name: 'hex' }).click();
  await shot(app, 'zones-table-hex');
});

test('n / p step through every zone of a condition, from the map and the buttons', async ({ app }) => {
  for (const c of Object.keys(RARE) as Rare[]) {
    await app.getByLabel('condition to step through').selectOption(c);
    const want: number[] = [...RARE[c]].sort((a, b) => a - b);
    const seen: number[] = [];
    await app.getByTestId('zone-map').focus();
    for (let k = 0; k < want.length; k++) {
      await app.keyboard.press('n');
      seen.push(Number(await app.getByTestId('zone-index').textContent()));
    }
    // From "nothing selected" or an earlier zone, the first n lands on the first zone after it: a rotation.
    expect([...seen].sort((a, b) => a - b)).toEqual(want);
    for (let k = 1; k < seen.length; k++) expect(want.indexOf(seen[k])).toBe((want.indexOf(seen[k - 1]) + 1) % want.length);
    await app.getByRole('button', { name: 'previous zone in condition' }).click();
    await expect(app.getByTestId('zone-index')).toHaveText(String(seen[seen.length - 2]));
    await expect(app.getByTestId('zone-condition')).toContainText(c);
  }
  await shot(app, 'zones-rare-stepped-zoomed');
});

test('export downloads the report in the format qzs zones prints, blkzone and CSV alike', async ({ app, served }) => {
  await app.getByLabel('open images').selectOption({ label: 'small.qcow2' });
  await expect(app.getByTestId('file-facts')).toContainText('small.qcow2');
  await app.click('[data-nav=zones]');
  for (const format of ['blkzone', 'csv'] as const) {
    await app.getByLabel('export format').selectOption(format);
    const download = app.waitForEvent('download');
    await app.getByRole('button', { name: 'Export…' }).click();
    const d = await download;
    expect(d.suggestedFilename()).toBe(format === 'csv' ? 'small.zones.csv' : 'small.zones.blkzone.txt');
    const got = readFileSync((await d.path())!, 'utf8');
    const cli = execFileSync(process.execPath, [...QZS_CMD, 'zones', '--format', format, resolve(served.dir, 'small.qcow2')], { encoding: 'utf8' });
    expect(got).toBe(cli);
  }
  await expect(app.getByTestId('export-status')).toContainText('downloaded small.zones.csv');
  // Zoomed in, cells print the kernel abbreviation, the zone number and the written part.
  await app.getByRole('radio', { name: 'sectors' }).click();
  await shot(app, 'zones-small-labels');
});
