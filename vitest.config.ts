import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/{engine,cli,app,renderer,layering}/**/*.test.{ts,tsx}'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
