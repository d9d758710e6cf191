#!/usr/bin/env node
// The zone map in Chromium and the serve transfer of a zone report, for `npm run bench`:
//   node scripts/bench-ui.mjs ZONED_IMAGE   → a JSON array of rows in bench.mjs's results shape on stdout.
// Runs `qzs serve` on the image and drives the UI with Playwright in /usr/bin/chromium (flags as in
// shared/reference/ENVIRONMENT.md beside the repository; software rendering, no GPU). Measured inside the page with
// performance.now():
//   - time to first full draw: from the click on the Zones view to the end of the first drawing of the
//     map (the report is already loaded by then: the app fetches it when the image opens);
//   - page load to first full draw: navigation start to the same point, report transfer included;
//   - draw time per frame while panning (drag) and zooming (wheel), against the 16 ms frame budget, plus
//     the frame interval the browser achieved (requestAnimationFrame timestamps) during the gestures;
//   - serve transfer of the full zone report (POST /api/zones:report, binary body): bytes and time;
//   - navigation → zone map drawn with the Zones view chosen as soon as it exists (issue 14), split by the
//     page's performance marks (renderer/http-transport.ts, renderer/zone-map/zone-map.tsx) into app start
//     (until the report is asked for), transfer, decode and first paint; median of several fresh loads;
//   - peak RSS of `qzs serve` (VmHWM) once it has served the report, beside Node's own idle peak;
//   - the zone table: a sort of every row by a column (click → sorted rows painted) and the frame interval
//     while the wheel scrolls it.
// A draw is timed without touching the app: an init script wraps CanvasRenderingContext2D.setTransform
// (drawZoneMap's first call) on the zone-map canvas, and the draw ends at the next microtask checkpoint,
// i.e. when the synchronous effect that draws has returned.
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
// The launcher with node's flags from its #! line (bin/qzs-command.cjs), as users run it.
const { QZS_CMD } = createRequire(import.meta.url)('../bin/qzs-command.cjs');
const BUDGET_MS = 16;
const CHROMIUM = process.env.QZS_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const image = process.argv[2];
if (!image || !existsSync(image)) {
  process.stderr.write('usage: node scripts/bench-ui.mjs ZONED_IMAGE\n');
  process.exit(2);
}
if (!existsSync(join(ROOT, 'dist/renderer/index.html'))) {
  process.stderr.write('bench-ui: the UI is not built (npm run build)\n');
  process.exit(2);
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN; };
const log = (m) => process.stderr.write(`bench-ui: ${m}\n`);

function startServe() {
  const proc = spawn(process.execPath, [...QZS_CMD, 'serve', '--port', '0', image], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((ok, bad) => {
    const timer = setTimeout(() => bad(new Error(`qzs serve did not start: ${out}`)), 60_000);
    const on = (d) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out);
      if (m) { clearTimeout(timer); ok({ url: m[1], proc }); }
    };
    proc.stdout.on('data', on);
    proc.stderr.on('data', on);
    proc.on('exit', (code) => { clearTimeout(timer); bad(new Error(`qzs serve exited ${code}: ${out}`)); });
  });
}

/** Runs in the page before the app: records each zone-map draw as {t0, ms, zones}. */
function drawProbe() {
  window.__draws = [];
  window.__frames = null;
  const orig = CanvasRenderingContext2D.prototype.setTransform;
  let pending = false;
  CanvasRenderingContext2D.prototype.setTransform = function (...args) {
    const c = this.canvas;
    if (!pending && c && c.dataset && c.dataset.testid === 'zone-map') {
      pending = true;
      const t0 = performance.now();
      const zones = Number(/(\d+) zones/.exec(c.getAttribute('aria-label') ?? '')?.[1] ?? 0);
      queueMicrotask(() => { pending = false; window.__draws.push({ t0, ms: performance.now() - t0, zones }); });
    }
    return orig.apply(this, args);
  };
  window.__startFrames = () => {
    window.__frames = [];
    const tick = (t) => { if (window.__frames) { window.__frames.push(t); requestAnimationFrame(tick); } };
    requestAnimationFrame(tick);
  };
  window.__stopFrames = () => { const f = window.__frames ?? []; window.__frames = null; return f.slice(1).map((t, i) => t - f[i]); };
}

const rows = [];
function row(name, oursMs, refMs, reference, target, extra = {}) {
  rows.push({ case: name, reference, oursMs, refMs, ratio: refMs ? oursMs / refMs : null, oursRssMb: null, refRssMb: null, target, ...extra });
}

const { url, proc } = await startServe();
let browser;
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript(drawProbe);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.getByTestId('file-facts').waitFor();
  log('app loaded');

  // Time to first full draw of the million-zone map after opening the Zones view.
  await page.waitForFunction(() => document.querySelector('[data-nav=zones] .badge')?.textContent?.length > 0, null, { timeout: 120_000 });
  const clickAt = await page.evaluate(() => { const t = performance.now(); document.querySelector('[data-nav=zones]').click(); return t; });
  await page.waitForFunction((t) => window.__draws.some((d) => d.t0 >= t && d.zones > 0), clickAt, { timeout: 120_000 });
  const first = await page.evaluate((t) => window.__draws.find((d) => d.t0 >= t && d.zones > 0), clickAt);
  const zones = first.zones;
  row(`zone map: click Zones → first full draw, ${zones.toLocaleString('en')} zones (Chromium)`, first.t0 + first.ms - clickAt, BUDGET_MS, '16 ms frame budget', 'report (one-off)', { drawMs: first.ms });
  row(`zone map: page load → first full draw, ${zones.toLocaleString('en')} zones (report transfer included)`, first.t0 + first.ms, null, 'navigation start', 'report');
  log(`first draw ${(first.t0 + first.ms - clickAt).toFixed(1)} ms after the click (${first.ms.toFixed(1)} ms drawing)`);

  const map = page.getByTestId('zone-map');
  const box = await map.boundingBox();
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;

  async function gesture(name, act) {
    await page.evaluate(() => { window.__draws = []; window.__startFrames(); });
    await act();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const frames = await page.evaluate(() => window.__stopFrames());
    const draws = (await page.evaluate(() => window.__draws)).map((d) => d.ms);
    const p95 = pct(draws, 95);
    log(`${name}: ${draws.length} draws, median ${median(draws).toFixed(2)} ms, p95 ${p95.toFixed(2)} ms, max ${Math.max(...draws).toFixed(2)} ms; frame interval median ${median(frames).toFixed(1)} ms, p95 ${pct(frames, 95).toFixed(1)} ms`);
    row(`zone map ${name}: draw per frame, p95 of ${draws.length} (median ${median(draws).toFixed(1)} ms, frame interval p95 ${pct(frames, 95).toFixed(1)} ms)`, p95, BUDGET_MS, '16 ms frame budget', name.startsWith('zoom') ? '≤ 8 ms (half the budget)' : '≤ 16 ms', { drawMedianMs: median(draws), drawMaxMs: Math.max(...draws), frameIntervalMedianMs: median(frames), frameIntervalP95Ms: pct(frames, 95) });
  }

  // Whole map (one pixel or less per zone): panning is clamped, so zoom first a little, then drag.
  await gesture('zoom in/out by wheel, whole map', async () => {
    await page.mouse.move(cx, cy);
    for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -100);
    for (let i = 0; i < 12; i++) await page.mouse.wheel(0, 100);
  });
  for (let i = 0; i < 6; i++) await page.mouse.wheel(0, -100); // about 3.8× zoom: still pixel-sized cells
  await gesture('pan by drag, pixel cells', async () => {
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    for (let i = 1; i <= 40; i++) await page.mouse.move(cx - i * 8, cy - i * 4);
    for (let i = 1; i <= 40; i++) await page.mouse.move(cx - 320 + i * 8, cy - 160 + i * 4);
    await page.mouse.up();
  });
  for (let i = 0; i < 14; i++) await page.mouse.wheel(0, -100); // tiles of several pixels: the per-cell painter
  await gesture('pan by drag, tile cells', async () => {
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    for (let i = 1; i <= 40; i++) await page.mouse.move(cx - i * 8, cy - i * 4);
    await page.mouse.up();
  });

  // Zone table (issue 13): sort every row by a column, click → sorted rows painted (two frames later), and
  // scrolling the virtualised list: frame intervals while the wheel moves it.
  await page.getByRole('tab', { name: 'Table' }).click();
  await page.getByTestId('zone-table').waitFor();
  for (const col of ['wp', 'condition', 'wp']) {
    const sortMs = await page.evaluate(async (c) => {
      const b = document.querySelector(`[data-sort="${c}"]`);
      const before = b.getAttribute('aria-sort');
      const t = performance.now();
      b.click();
      const frame = () => new Promise((r) => requestAnimationFrame(r));
      while (document.querySelector(`[data-sort="${c}"]`).getAttribute('aria-sort') === before) await frame();
      await frame();
      await frame();
      return performance.now() - t;
    }, col);
    log(`zone table: sort by ${col} → painted in ${sortMs.toFixed(0)} ms`);
    row(`zone table: sort ${zones.toLocaleString('en')} rows by ${col} → sorted rows painted`, sortMs, BUDGET_MS, '16 ms frame budget', 'report (one-off)');
  }
  const tbox = await page.getByTestId('zone-table').boundingBox();
  await page.mouse.move(tbox.x + tbox.width / 2, tbox.y + tbox.height / 2);
  await page.evaluate(() => window.__startFrames());
  for (let i = 0; i < 40; i++) await page.mouse.wheel(0, 400);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const tableFrames = await page.evaluate(() => window.__stopFrames());
  log(`zone table scroll: frame interval median ${median(tableFrames).toFixed(1)} ms, p95 ${pct(tableFrames, 95).toFixed(1)} ms`);
  row(`zone table: scroll by wheel through ${zones.toLocaleString('en')} rows, frame interval p95 (median ${median(tableFrames).toFixed(1)} ms)`, pct(tableFrames, 95), BUDGET_MS, '16 ms frame budget', '≤ 16 ms');
  await page.getByRole('tab', { name: 'Map' }).click();

  // Serve transfer of the whole report: what the UI fetches when a zoned image opens.
  const transfer = await page.evaluate(async () => {
    const info = await (await fetch('/api/app:info', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[]', credentials: 'same-origin' })).json();
    const sid = info.value.sessions[0].id;
    const out = [];
    for (let i = 0; i < 6; i++) {
      const t = performance.now();
      const res = await fetch('/api/zones:report', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify([sid]), credentials: 'same-origin' });
      const buf = await res.arrayBuffer();
      out.push({ ms: performance.now() - t, bytes: buf.byteLength, type: res.headers.get('content-type') });
    }
    return out.slice(1); // the first is a warm-up
  });
  const bytes = transfer[0].bytes;
  const ms = median(transfer.map((t) => t.ms));
  log(`zones:report over HTTP: ${bytes} bytes (${transfer[0].type}) in ${ms.toFixed(1)} ms median`);
  row(`serve: zones:report of ${zones.toLocaleString('en')} zones over HTTP (${(bytes / 2 ** 20).toFixed(1)} MiB binary, ${(bytes / 2 ** 20 / (ms / 1000)).toFixed(0)} MiB/s)`, ms, null, `${bytes} bytes moved`, 'report', { bytes });

  // Navigation → zone map drawn: fresh pages that pick the Zones view the moment its button exists.
  const loads = [];
  for (let k = 0; k < 6; k++) {
    const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await p.addInitScript(() => {
      // Clicked again on every change until the view is there (the app refuses views before the image's summary).
      const pick = () => { if (document.querySelector('section.zones, section[aria-label=Zones]')) return true; document.querySelector('[data-nav=zones]')?.click(); return false; };
      new MutationObserver((_m, o) => { if (pick()) o.disconnect(); }).observe(document, { childList: true, subtree: true });
    });
    await p.addInitScript(drawProbe);
    await p.goto(url);
    // The end is the first full draw seen by the probe (the same for builds without the page's marks).
    await p.waitForFunction(() => window.__draws.some((d) => d.zones > 0), null, { timeout: 120_000 });
    loads.push(await p.evaluate(() => {
      const at = (n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN;
      const d = window.__draws.find((x) => x.zones > 0);
      return { requested: at('qzs:zones-requested'), received: at('qzs:zones-received'), decoded: at('qzs:zones-decoded'), drawn: d.t0 + d.ms };
    }));
    await p.close();
  }
  const measured = loads.slice(1); // the first is a warm-up (cold HTTP cache for the app's own files)
  const part = (f) => median(measured.map(f));
  const nav = { total: part((l) => l.drawn), start: part((l) => l.requested), transfer: part((l) => l.received - l.requested), decode: part((l) => l.decoded - l.received), paint: part((l) => l.drawn - l.decoded) };
  log(`navigation → map drawn ${nav.total.toFixed(0)} ms: app start ${nav.start.toFixed(0)}, transfer ${nav.transfer.toFixed(0)}, decode ${nav.decode.toFixed(1)}, first paint ${nav.paint.toFixed(0)} ms (median of ${measured.length})`);
  row(`zone map: navigation → map drawn, ${zones.toLocaleString('en')} zones (app start ${nav.start.toFixed(0)} + transfer ${nav.transfer.toFixed(0)} + decode ${nav.decode.toFixed(1)} + first paint ${nav.paint.toFixed(0)} ms)`, nav.total, null, 'navigation start', '≤ 300 ms', { parts: nav });

  // Peak RSS of the server after serving the report (Linux: VmHWM), and of an idle Node for scale.
  const hwm = (pid) => { try { return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024; } catch { return NaN; } };
  const serveMb = hwm(proc.pid);
  const idle = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 1500)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1000));
  const idleMb = hwm(idle.pid);
  idle.kill();
  log(`qzs serve peak RSS ${serveMb.toFixed(1)} MiB (idle node ${idleMb.toFixed(1)} MiB)`);
  rows.push({ case: `serve: peak RSS holding ${zones.toLocaleString('en')} zones (zonedmeta ${(zones * 8 / 2 ** 20).toFixed(0)} MiB), vs idle node`, reference: 'idle node -e', oursMs: null, refMs: null, ratio: null, oursRssMb: serveMb, refRssMb: idleMb, target: `≤ 3 × zonedmeta + idle node (${(3 * zones * 8 / 2 ** 20 + idleMb).toFixed(0)} MiB)` });
  if (errors.length) log(`page errors: ${errors.join('; ')}`);
} finally {
  await browser?.close();
  proc.kill('SIGTERM');
}
process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
