// Imported first by main.tsx, so this runs before React and the views are evaluated: under `qzs serve` the
// requests for the first image go out while the rest of the script is still starting (issue 14). In
// Electron (window.qzs from the preload) IPC answers in microseconds and nothing is asked early.
import { prefetchFirstImage } from './http-transport';

if (typeof window !== 'undefined' && !window.qzs) prefetchFirstImage();
