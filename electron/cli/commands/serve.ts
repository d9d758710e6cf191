// qzs serve [--port N] [--create-dir DIR] [IMAGE…]: the desktop UI in a browser, for headless hosts (reach it
// through an SSH tunnel) and for testing the whole UI in a real browser. Same handler table as Electron.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ELECTRON_ONLY } from '../../../shared/contract/channels';
import { createHandlers, type HandlerTable } from '../../app/handlers';
import { demoPathFor, ensureDemoImage, openDemoStates } from '../../app/demo-image';
import { OpenDir } from '../../app/open-dir';
import { SessionRegistry } from '../../app/sessions';
import { holdCheckFromEnv } from '../../app/test-hold';
import { startServer } from '../../server/server';
import { parse, UsageError, type CliIo } from '../io';

const USAGE = 'qzs serve [--port N] [--create-dir DIR] [--open-dir DIR] [--demo] [IMAGE...]';
const VERSION = '0.1.0';

/** The built renderer: dist/renderer beside dist/cli (the bundle may sit in dist/cli or dist/cli/chunks). */
export function findUiDir(): string | null {
  if (process.env.QZS_UI_DIR) return resolve(process.env.QZS_UI_DIR);
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const rel of ['../renderer', '../../renderer', '../../dist/renderer', '../../../dist/renderer']) {
    const dir = resolve(here, rel);
    if (existsSync(resolve(dir, 'index.html'))) return dir;
  }
  return null;
}

async function openDirAt(dir: string): Promise<OpenDir> {
  try {
    return await OpenDir.at(resolve(dir));
  } catch {
    throw new UsageError(`--open-dir ${resolve(dir)} is not an existing folder`);
  }
}

/**
 * Open serve's images. One image that cannot be opened never takes the others down: it is reported and
 * left out. An image that opens but cannot be decoded is served degraded (its bytes and the findings that
 * say why).
 */
export async function openServedImages(table: HandlerTable, paths: string[], io: CliIo): Promise<void> {
  for (const p of paths) {
    const r = await table['session:openDropped']({}, p).then((info) => info, (e: unknown) => e as Error);
    if (r instanceof Error) io.err(`qzs serve: cannot open ${p}: ${r.message} (left out)\n`);
    else if (r.degraded) io.err(`qzs serve: ${p} cannot be decoded (${r.degraded.message}): served for inspection only\n`);
  }
}

/** The page asks for each zoned image's zone report first: have it read while the browser starts (issue 14). */
export function readServedReportsAhead(store: SessionRegistry): void {
  for (const e of store.list()) e.session.readAhead();
}

// Test hook: QZS_TEST_HOLD_CHECK=NAME in the environment pauses the check of the image file NAME mid-walk
// until it is cancelled (electron/app/test-hold.ts). Read once here; nothing a browser sends can turn it on.
export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, {
    port: { type: 'string' },
    'create-dir': { type: 'string' },
    'open-dir': { type: 'string' },
    demo: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (values.help) {
    io.out(`usage: ${USAGE}\n\nServes the Qcow2 Zone Studio UI and engine on 127.0.0.1 behind a per-run token.\n` +
      '  --port N          port to listen on (default: any free port)\n' +
      '  --create-dir DIR  folder where the New Image wizard may create images (default: creation off)\n' +
      '  --open-dir DIR    folder whose images the browser may list and open (nothing outside it; default: off)\n' +
      '  --demo            also open the bundled demo (a zoned image made on first use in dist/demo)\n');
    return 0;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid port "${values.port}"\nusage: ${USAGE}`);
  const uiDir = findUiDir();
  if (!uiDir) {
    io.err('qzs serve: the UI is not built: run `npm run build` first\n');
    return 1;
  }
  const store = new SessionRegistry();
  const createDir = values['create-dir'] === undefined ? undefined : resolve(values['create-dir']);
  if (createDir && !existsSync(createDir)) throw new UsageError(`--create-dir ${createDir} does not exist`);
  const openDir = values['open-dir'] === undefined ? undefined : await openDirAt(values['open-dir']);
  const table = createHandlers(store, { transport: 'http', version: VERSION, createDirectory: createDir, openDirectory: openDir, holdCheckOf: holdCheckFromEnv(process.env) });
  const paths = [...positionals];
  if (values.demo) {
    const demo = demoPathFor(uiDir);
    await ensureDemoImage(demo);
    paths.unshift(demo);
  }
  await openServedImages(table, paths, io);
  if (values.demo) {
    const demo = store.list()[0];
    if (demo) await openDemoStates(demo.session).catch((e: unknown) => io.err(`qzs serve: demo open states not set: ${(e as Error).message}\n`));
  }
  const server = await startServer({ table, uiDir, port, refused: ELECTRON_ONLY });
  readServedReportsAhead(store);
  io.out(`Qcow2 Zone Studio is being served at ${server.url}\n(127.0.0.1 only; the token in the URL is this run's key. Ctrl+C stops.)\n`);
  if (openDir) io.out(`Images under ${resolve(values['open-dir']!)} can be opened from the browser (Open…).\n`);
  await new Promise<void>((done) => {
    const stop = (): void => { done(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await store.closeAll();
  return 0;
}
