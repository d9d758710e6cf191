// Bundles the CLI (and the engine it shares with the main process) into one ESM file for plain Node:
// one file loads faster than hundreds of modules, and it must never pull in `electron`.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    ssr: true, // entries: rollupOptions.input
    outDir: 'dist/cli',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    rollupOptions: {
      // Second input: the in-process zone report bench (npm run bench); the CLI keeps its qzs.mjs name.
      input: { qzs: 'electron/cli/qzs.ts', 'bench-zone-report': 'electron/bench/zone-report.ts' },
      output: { format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs' },
    },
  },
  ssr: { noExternal: true, target: 'node' },
});
