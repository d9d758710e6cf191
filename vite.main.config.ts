// Electron main and preload → dist/electron as CommonJS (package.json "main": dist/electron/main.cjs).
// Built one entry at a time (QZS_ENTRY=main|preload): a sandboxed preload can require only 'electron',
// so it must be one self-contained file with no chunk shared with main.
import { builtinModules } from 'node:module';
import { defineConfig } from 'vite';

const entry = process.env.QZS_ENTRY === 'preload' ? 'preload' : 'main';

export default defineConfig({
  build: {
    ssr: entry === 'preload' ? 'electron/preload.ts' : 'electron/main/main.ts',
    outDir: 'dist/electron',
    emptyOutDir: entry === 'main',
    target: 'node22',
    minify: false,
    sourcemap: true,
    rollupOptions: {
      external: ['electron', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
      output: { format: 'cjs', entryFileNames: `${entry}.cjs`, codeSplitting: false },
    },
  },
  ssr: { noExternal: true, target: 'node' },
});
