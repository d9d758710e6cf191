#!/usr/bin/env node
// `npm test`: install what npm cannot (system oracles), build, typecheck, lint, then every test layer
// (vitest: engine, cli, app (sessions, handlers, server), renderer components; Playwright: the UI in Debian's Chromium). Ends with one
// line "N passed, N failed" so the totals are visible to CI and to people.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const env = { ...process.env };
function step(name, cmd, args, opts = {}) {
  process.stdout.write(`\n== ${name}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env, ...opts });
  return r.status ?? 1;
}

let failedSteps = [];
const must = (name, cmd, args) => { if (step(name, cmd, args) !== 0) { failedSteps.push(name); return false; } return true; };

if (!must('system dependencies', 'bash', ['scripts/ensure-system-deps.sh'])) finish();
if (!must('build', 'npm', ['run', 'build', '--silent'])) finish();
must('typecheck', 'npm', ['run', 'typecheck', '--silent']);
must('lint', 'npm', ['run', 'lint', '--silent']);

mkdirSync('test-results', { recursive: true });
rmSync('test-results/vitest.json', { force: true });
rmSync('test-results/playwright.json', { force: true });
step('unit, engine, cli and app tests (vitest)', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json']);
if (existsSync('playwright.config.ts')) {
  step('UI tests (Playwright, Chromium)', 'npx', ['playwright', 'test']);
}
finish();

function finish() {
  let passed = 0, failed = 0, skipped = 0;
  try {
    const v = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
    passed += v.numPassedTests; failed += v.numFailedTests; skipped += v.numPendingTests + (v.numTodoTests ?? 0);
    if (!v.success && v.numFailedTests === 0) failedSteps.push('vitest (suite error)');
  } catch { if (!failedSteps.length) failedSteps.push('vitest (no report)'); }
  if (existsSync('playwright.config.ts')) {
    try {
      const p = JSON.parse(readFileSync('test-results/playwright.json', 'utf8'));
      passed += p.stats.expected; failed += p.stats.unexpected + p.stats.flaky * 0; skipped += p.stats.skipped;
      if (p.stats.unexpected > 0) failedSteps.push('playwright');
      if ((p.errors ?? []).length) failedSteps.push('playwright (errors)');
    } catch { failedSteps.push('playwright (no report)'); }
  }
  if (failed > 0 && !failedSteps.length) failedSteps.push('tests');
  if (failedSteps.length) console.log(`\nfailed steps: ${[...new Set(failedSteps)].join(', ')}`);
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failedSteps.length || failed ? 1 : 0);
}
