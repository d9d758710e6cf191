// The layering rules are enforced by the lint configuration, not just written down: these tests feed
// offending code to ESLint under each folder's path and expect the rule to fire.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.map((m) => m.ruleId ?? m.message);
}

describe('shared/ stays pure', () => {
  it.each([
    "import { readFileSync } from 'node:fs';",
    "import { join } from 'path';",
    "import { app } from 'electron';",
    "import { FileByteSource } from '../../electron/engine/file-source';",
    "import { App } from '../../renderer/app';",
  ])('%s is refused in shared/', async (code) => {
    expect(await ruleIds(`${code}\nexport const x = 1;\n`, 'shared/qcow2/probe.ts')).toContain('no-restricted-imports');
  });

  it('DOM and Node globals are refused in shared/', async () => {
    expect(await ruleIds('export const t = document.title;\n', 'shared/qcow2/probe.ts')).toContain('no-restricted-globals');
    expect(await ruleIds('export const b = Buffer.alloc(1);\n', 'shared/qcow2/probe.ts')).toContain('no-restricted-globals');
  });

  it('pure code passes', async () => {
    expect(await ruleIds("import { u32be } from '../bytes';\nexport const x = u32be(new Uint8Array(4), 0);\n", 'shared/qcow2/probe.ts')).toEqual([]);
  });
});

describe('the renderer reaches the engine only through the API', () => {
  it.each([
    "import { readFileSync } from 'node:fs';",
    "import { ipcRenderer } from 'electron';",
    "import { openChain } from '../electron/engine/open-chain';",
  ])('%s is refused in renderer/', async (code) => {
    expect(await ruleIds(`${code}\nexport const x = 1;\n`, 'renderer/views/probe.tsx')).toContain('no-restricted-imports');
  });
});

describe('only the Electron shell imports electron', () => {
  it('the engine and the CLI may not import electron', async () => {
    expect(await ruleIds("import { app } from 'electron';\nexport const x = app;\n", 'electron/engine/probe.ts')).toContain('no-restricted-imports');
    expect(await ruleIds("import { app } from 'electron';\nexport const x = app;\n", 'electron/cli/commands/probe.ts')).toContain('no-restricted-imports');
  });
  it('electron/main may', async () => {
    expect(await ruleIds("import { app } from 'electron';\nexport const x = app;\n", 'electron/main/probe.ts')).toEqual([]);
  });
});
