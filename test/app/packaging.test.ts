// The packaging configuration as electron-builder itself reads it (app-builder-lib's getConfig and
// validateConfiguration, the same calls `npm run dist` makes): it passes electron-builder's schema, and the
// Electron fuses the security review asks for are set. Nothing is downloaded or packaged here.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const root = resolve(__dirname, '../..');

interface BuilderConfig { electronFuses?: Record<string, boolean>; asar?: boolean; files?: unknown; [k: string]: unknown }
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
  getConfig(projectDir: string, configPath: string | null, fromOptions: object | null): Promise<BuilderConfig>;
  validateConfiguration(config: BuilderConfig, debugLogger: { isEnabled: boolean; add(): void }): Promise<void>;
};

describe('build/electron-builder.yml', async () => {
  const config = await getConfig(root, 'build/electron-builder.yml', null);

  it('passes electron-builder 26\'s own schema', async () => {
    await expect(validateConfiguration(config, { isEnabled: false, add: () => {} })).resolves.toBeUndefined();
  });

  it('flips the fuses: no run-as-node, no NODE_OPTIONS, no --inspect, code only from an integrity-checked asar', () => {
    expect(config.asar).toBe(true);
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      // The page is served from the app scheme (electron/main/security.ts): file:// needs no privileges.
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('a schema violation is caught by the same check (the check is not a formality)', async () => {
    const bad = { ...config, electronFuses: { ...config.electronFuses, runAsNode: 'no' as unknown as boolean } };
    await expect(validateConfiguration(bad, { isEnabled: false, add: () => {} })).rejects.toThrow(/runAsNode/);
  });
});
