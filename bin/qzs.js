#!/usr/bin/env node
// Thin launcher: enable Node's compile cache where it exists (Node >= 22.1) and load the bundled CLI.
import * as nodeModule from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (typeof nodeModule.enableCompileCache === 'function') {
  try { nodeModule.enableCompileCache(); } catch { /* cache is an optimisation only */ }
}
const cli = new URL('../dist/cli/qzs.mjs', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('qzs: the CLI is not built yet: run `npm run build` in the repository first\n');
  process.exit(2);
}
await import(cli.href);
