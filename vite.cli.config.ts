// Bundles the CLI (and the engine it shares with the main process) into one ESM file for plain Node:
// one file loads faster than hundreds of modules, and it must never pull in `electron`.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    ssr: 'electron/cli/qzs.ts',
    outDir: 'dist/cli',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    rollupOptions: {
      output: { format: 'es', entryFileNames: 'qzs.mjs', chunkFileNames: 'chunks/[name]-[hash].mjs' },
    },
  },
  ssr: { noExternal: true, target: 'node' },
});
