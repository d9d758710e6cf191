// The command that runs qzs as its #! line does, for spawning it with process.execPath (tests, bench,
// npm start): node's flags from bin/qzs.js's first line, then the launcher. One definition of those flags.
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS file */
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const QZS = join(__dirname, 'qzs.js');
const shebang = readFileSync(QZS, 'utf8').split('\n', 1)[0];
const m = /^#!\/usr\/bin\/env -S node((?: --[a-z][a-z0-9-]*)*)$/.exec(shebang);
if (!m) throw new Error(`bin/qzs.js: expected "#!/usr/bin/env -S node [--flag…]" as its first line, found "${shebang}"`);
/** node's flags on the launcher's #! line. */
const NODE_FLAGS = m[1].split(' ').filter(Boolean);
/** process.execPath's arguments before qzs's own: the flags, then the launcher. */
const QZS_CMD = [...NODE_FLAGS, QZS];

module.exports = { QZS, NODE_FLAGS, QZS_CMD };
