// Bundles the CLI (and the engine it shares with the main process) for plain Node, as CommonJS: Node
// loads CommonJS faster than ES modules (no module graph to link first), which counts for commands that
// run for a few tens of milliseconds. Commands stay in chunks of their own, loaded on demand, and the
// bundle must never pull in `electron`.
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
      // Second input: the in-process zone report bench (npm run bench); bin/qzs.js loads qzs.cjs.
      input: { qzs: 'electron/cli/qzs.ts', 'bench-zone-report': 'electron/bench/zone-report.ts' },
      output: { format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs' },
    },
  },
  ssr: { noExternal: true, target: 'node' },
});
