// UI tests in Debian's Chromium against `qzs serve` (started per worker by test/ui/fixtures.ts with images
// made by qemu-img and by our engine). Never downloads a browser; no network beyond 127.0.0.1.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'test/ui',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  outputDir: 'test-results/playwright-artifacts',
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  use: {
    viewport: { width: 1400, height: 860 },
    trace: 'off',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
});
