#!/usr/bin/env -S node --no-concurrent-recompilation
// Thin launcher, CommonJS like the bundle it loads (bin/package.json): CommonJS starts faster than ES
// modules. Enables Node's compile cache where it exists (Node >= 22.1) and runs dist/cli/qzs.cjs.
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS file */
//
// --no-concurrent-recompilation: Node 20 can deadlock at exit when V8 is still optimising a function on a
// worker thread and that job waits for a garbage collection only the (exiting) main thread can run
// (nodejs/node#54918; seen as `qzs zones --json big.qcow2 | head` never ending, about one run in four).
// Optimising on the main thread instead costs ~3 % on a million-zone report and nothing at start-up. The
// flag cannot be set once node runs (v8.setFlagsFromString is too late for it), so it lives on this line;
// bin/qzs-command.cjs gives tests and scripts the same command.
'use strict';
const nodeModule = require('node:module');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

if (typeof nodeModule.enableCompileCache === 'function') {
  try { nodeModule.enableCompileCache(); } catch { /* the cache is an optimisation only */ }
}
const cli = join(__dirname, '../dist/cli/qzs.cjs');
if (!existsSync(cli)) {
  process.stderr.write('qzs: the CLI is not built yet: run `npm run build` in the repository first\n');
  process.exit(2);
}
// The bundle runs its main() when loaded as the program; say so whatever name this launcher has (a
// symlink, an npx shim). Only while it loads, so that no child process inherits it.
process.env.QZS_FORCE_MAIN = '1';
try {
  require(cli);
} finally {
  delete process.env.QZS_FORCE_MAIN;
}
