#!/usr/bin/env node
// npm run fuzz [-- ITERATIONS [SEED [SECONDS]]]: the seeded mutation test of test/engine/fuzz.test.ts
// (open, check, map and zone report of mutated images), run longer. Defaults: 100000 iterations, a seed
// from the clock (printed, so a failure can be replayed), a 30-minute timeout.
import { spawnSync } from 'node:child_process';

const [iterations = '100000', seed = String(Date.now() % 2147483647), seconds = '1800'] = process.argv.slice(2);
console.log(`fuzz: ${iterations} iterations, seed ${seed}, at most ${seconds} s (replay: npm run fuzz -- ${iterations} ${seed})`);
const r = spawnSync('npx', ['vitest', 'run', 'test/engine/fuzz.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, QZS_FUZZ_ITERATIONS: iterations, QZS_FUZZ_SEED: seed, QZS_FUZZ_SECONDS: seconds },
});
process.exit(r.status ?? 1);
