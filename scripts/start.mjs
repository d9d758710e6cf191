#!/usr/bin/env node
// npm start [-- IMAGE...]: build what is stale, make the demo on first start (when no image is given), and
// launch Electron. Where the Electron binary cannot be had, say so in one line and serve the same UI with
// `qzs serve` instead, printing its URL.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const userCwd = process.cwd();
// Image paths are the user's, relative to where they ran npm start (npm sets INIT_CWD).
const images = process.argv.slice(2).map((p) => resolve(process.env.INIT_CWD ?? userCwd, p));
process.chdir(root);

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const sources = Math.max(newest('shared'), newest('electron'), newest('renderer'), mtime('package.json'));
const stale = (out) => mtime(out) < sources;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (stale('dist/cli/qzs.cjs')) run('npm', ['run', '--silent', 'build:cli']);
if (stale('dist/renderer/index.html') || stale('dist/electron/main.cjs') || stale('dist/electron/preload.cjs')) run('npm', ['run', '--silent', 'build:app']);

/** The Electron executable, or the reason there is none (no download, as on machines without GitHub). */
function electronBinary() {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('electron/package.json');
    const dir = resolve(pkg, '..');
    const pathTxt = join(dir, 'path.txt');
    if (!existsSync(pathTxt)) return { reason: 'its binary was never downloaded (that needs github.com)' };
    const exe = join(dir, 'dist', readFileSync(pathTxt, 'utf8').trim());
    return existsSync(exe) ? { exe } : { reason: `${exe} is missing` };
  } catch {
    return { reason: 'the electron package is not installed' };
  }
}

const bin = process.env.QZS_NO_ELECTRON ? { reason: 'QZS_NO_ELECTRON is set' } : electronBinary();
const demo = images.length === 0;
let child;
if (bin.exe) {
  child = spawn(bin.exe, ['dist/electron/main.cjs', ...(demo ? ['--qzs-demo'] : []), ...images], { stdio: 'inherit' });
} else {
  console.log(`Electron cannot start here: ${bin.reason}. Serving the same UI with qzs serve instead:`);
  // Images made in the wizard go to a folder of the user's, never into the working tree of a checkout.
  const docs = join(homedir(), 'Documents');
  const createDir = process.env.QZS_CREATE_DIR ?? join(existsSync(docs) ? docs : homedir(), 'qcow2-zone-studio');
  mkdirSync(createDir, { recursive: true });
  console.log(`New images are created in ${createDir} (QZS_CREATE_DIR to change it).`);
  const { QZS_CMD } = createRequire(import.meta.url)('../bin/qzs-command.cjs');
  const args = [...QZS_CMD, 'serve', ...(demo ? ['--demo'] : []), '--create-dir', createDir, ...images];
  if (process.env.QZS_PORT) args.splice(QZS_CMD.length + 1, 0, '--port', process.env.QZS_PORT);
  child = spawn(process.execPath, args, { stdio: 'inherit' });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
