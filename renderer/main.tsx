// The page's entry, kept small: it sends the first image's requests (early.ts) as soon as it runs, then
// loads the app (start.tsx), whose download the page already started (a modulepreload link added by
// vite.renderer.config.ts). Under `qzs serve` a million-zone report is then on its way while React is
// still being parsed (issue 14).
import './early';
import './styles.css';
import './views.css';

import('./start').catch((e: unknown) => {
  // The app's error boundary lives in that chunk: without this the window would stay blank.
  const root = document.getElementById('root');
  if (root) root.textContent = `Qcow2 Zone Studio could not load its code (${e instanceof Error ? e.message : String(e)}). Reload the page; if this persists, rebuild the app (npm run build).`;
});
