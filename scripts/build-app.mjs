#!/usr/bin/env node
// Builds the renderer (vite → dist/renderer) and the Electron main and preload bundles (→ dist/electron).
// The preload is its own build: a sandboxed preload is one file that requires nothing but 'electron'.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const run = (args, env = {}) => {
  const r = spawnSync('npx', args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (existsSync('vite.renderer.config.ts')) run(['vite', 'build', '--config', 'vite.renderer.config.ts', '--logLevel', 'warn']);
if (existsSync('vite.main.config.ts')) {
  run(['vite', 'build', '--config', 'vite.main.config.ts', '--logLevel', 'warn'], { QZS_ENTRY: 'main' });
  run(['vite', 'build', '--config', 'vite.main.config.ts', '--logLevel', 'warn'], { QZS_ENTRY: 'preload' });
}
