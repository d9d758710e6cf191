#!/usr/bin/env node
// Builds the renderer (vite) and the Electron main/preload bundles, when their sources exist.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const run = (args) => {
  const r = spawnSync('npx', args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (existsSync('vite.renderer.config.ts')) run(['vite', 'build', '--config', 'vite.renderer.config.ts']);
if (existsSync('vite.main.config.ts')) run(['vite', 'build', '--config', 'vite.main.config.ts']);
