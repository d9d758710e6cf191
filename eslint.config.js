// Layering is enforced here, not just written down: shared/ stays pure (no Node, Electron or DOM), the
// renderer never touches Node, Electron or electron/ code, and nothing the CLI loads imports `electron`.
import tseslint from 'typescript-eslint';

const nodeModules = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'http', 'https', 'net', 'url', 'util', 'crypto', 'stream', 'zlib', 'worker_threads', 'module', 'process', 'buffer', 'events'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'bench/results*', 'out/**', 'release/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: nodeModules, message: 'shared/ is pure: no Node modules (it runs in the renderer too).' },
          { group: ['electron', 'electron/*'], message: 'shared/ must not import electron.' },
          { group: ['**/electron/**', '**/renderer/**', 'react', 'react-dom', 'react-dom/*'], message: 'shared/ imports nothing from electron/ or renderer/, and no UI library.' },
        ],
      }],
      'no-restricted-globals': ['error', 'window', 'document', 'process', 'Buffer', 'require', 'navigator', 'localStorage'],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: nodeModules, message: 'The renderer has no Node: reach the engine through the typed API.' },
          { group: ['electron', 'electron/*'], message: 'The renderer must not import electron: use window.qzs (preload).' },
          { group: ['**/electron/**'], message: 'The renderer reaches the engine only through the typed API, never electron/ code.' },
        ],
      }],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require'],
    },
  },
  {
    // Everything the CLI and the tests load; only the Electron shell files may import electron.
    files: ['electron/**/*.ts'],
    ignores: ['electron/main/**', 'electron/preload.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['electron', 'electron/*'], message: 'Only electron/main/ and electron/preload.ts may import electron: the CLI and tests load the rest in plain Node.' },
          { group: ['**/renderer/**'], message: 'electron/ must not import renderer code.' },
        ],
      }],
    },
  },
);
