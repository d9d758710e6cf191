// The React app, loaded by main.tsx after it has sent the first image's requests (renderer/early.ts): this
// chunk is most of the script, and parsing it no longer delays those requests (issue 14).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { ErrorBoundary } from './components/error-boundary';
import { initTheme } from './theme';

initTheme();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ErrorBoundary label="application"><App /></ErrorBoundary>
  </StrictMode>,
);
