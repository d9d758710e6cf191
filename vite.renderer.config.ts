// The renderer: React app from renderer/ into dist/renderer, with relative asset paths so the same build
// loads from file:// (Electron) and from `qzs serve`.
import react from '@vitejs/plugin-react';
import { defineConfig, type HtmlTagDescriptor, type Plugin } from 'vite';

/**
 * main.tsx imports the app (start.tsx) dynamically, after sending the first requests; a modulepreload link
 * for that chunk and its imports lets the page download it beside the entry instead of after it (issue 14).
 */
function preloadApp(): Plugin {
  return {
    name: 'qzs-preload-app',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const bundle = ctx.bundle;
        if (!bundle) return [];
        const chunks = Object.values(bundle).filter((c) => c.type === 'chunk');
        const app = chunks.find((c) => c.facadeModuleId?.endsWith('/renderer/start.tsx'));
        if (!app) throw new Error('vite.renderer.config.ts: no chunk for renderer/start.tsx');
        const files = new Set<string>();
        const visit = (file: string): void => {
          if (files.has(file)) return;
          files.add(file);
          const c = chunks.find((x) => x.fileName === file);
          for (const i of c?.imports ?? []) visit(i);
        };
        visit(app.fileName);
        for (const c of chunks) if (c.isEntry) files.delete(c.fileName); // the entry has its own script tag
        return [...files].map((f): HtmlTagDescriptor => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `./${f}` }, injectTo: 'head' }));
      },
    },
  };
}

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react(), preloadApp()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
    // No inline scripts or modulepreload polyfill: the CSP allows 'self' scripts only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
