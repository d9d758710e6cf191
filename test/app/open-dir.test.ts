// `qzs serve --open-dir DIR` through the handler table, as the browser reaches it: listing and opening by a
// path relative to DIR, and every way out of DIR refused ('..', absolute paths, symlinks that land outside,
// directly or through a linked folder) with the same words whether the outside target exists or not.
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DirListing } from '../../shared/contract/browse';
import type { AppInfo, SessionInfo } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { createHandlers, dispatch, type HandlerTable } from '../../electron/app/handlers';
import { OpenDir } from '../../electron/app/open-dir';
import { SessionRegistry } from '../../electron/app/sessions';
import { createImage } from '../../electron/engine/create';
import { QZS_CMD } from '../helpers/cli';
import { tmpDir } from '../helpers/qemu';

const tmp = tmpDir('qzs-opendir-');
const root = join(tmp.path, 'images');
const outside = join(tmp.path, 'outside');
const store = new SessionRegistry();
let table: HandlerTable;

function value<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}
const refusal = (r: Result<unknown>): string => {
  if (r.ok) throw new Error('expected a refusal');
  return r.error.message;
};

beforeAll(async () => {
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  await createImage({ file: join(root, 'a.qcow2'), options: { size: '1M' } });
  await createImage({ file: join(root, 'sub', 'b.qcow2'), options: { size: '1M' } });
  await createImage({ file: join(outside, 'secret.qcow2'), options: { size: '1M' } });
  writeFileSync(join(root, 'notes.txt'), 'not an image');
  writeFileSync(join(root, '.hidden.qcow2'), 'dot files are not listed');
  symlinkSync(join(root, 'sub', 'b.qcow2'), join(root, 'link-in.qcow2'));
  symlinkSync(join(outside, 'secret.qcow2'), join(root, 'link-out.qcow2'));
  symlinkSync(outside, join(root, 'escape'));
  symlinkSync(join(outside, 'gone.qcow2'), join(root, 'dangling.qcow2'));
  // The open folder itself given through a symlink: judged by its real path, it still works.
  symlinkSync(root, join(tmp.path, 'images-link'));
  table = createHandlers(store, { transport: 'http', version: 'test', openDirectory: await OpenDir.at(join(tmp.path, 'images-link')) });
});
afterAll(async () => {
  await store.closeAll();
  tmp.cleanup();
});

describe('files:list', () => {
  it('lists the open folder: folders first, files with sizes, qcow2 files marked, symlinks only when they stay inside', async () => {
    const l = value<DirListing>(await dispatch(table, 'files:list', ['']));
    expect(l.rootName).toBe('images');
    expect(l.dir).toBe('');
    expect(l.truncated).toBe(false);
    expect(l.entries.map((e) => e.name)).toEqual(['sub', 'a.qcow2', 'link-in.qcow2', 'notes.txt']);
    expect(l.entries.find((e) => e.name === 'sub')).toMatchObject({ kind: 'dir', qcow2: false });
    expect(l.entries.find((e) => e.name === 'notes.txt')).toMatchObject({ kind: 'file', size: 'not an image'.length, qcow2: false });
    expect(l.entries.find((e) => e.name === 'a.qcow2')).toMatchObject({ kind: 'file', qcow2: true });
    expect(value<DirListing>(await dispatch(table, 'files:list', ['sub'])).entries.map((e) => e.name)).toEqual(['b.qcow2']);
    expect(value<DirListing>(await dispatch(table, 'files:list', ['./sub/'])).dir).toBe('sub');
  });

  it("refuses '..', absolute paths, backslashes and NUL before touching the disk", async () => {
    for (const p of ['..', '../outside', 'sub/../..', 'sub/..', '/', root, outside, 'C:/Windows', '..\\outside', 'sub\0']) {
      expect(refusal(await dispatch(table, 'files:list', [p])), JSON.stringify(p)).toMatch(/inside the open folder|relative to the open folder/);
    }
  });

  it('refuses a folder reached through a symlink that leaves, in the same words as a missing one', async () => {
    const escaped = refusal(await dispatch(table, 'files:list', ['escape']));
    const missing = refusal(await dispatch(table, 'files:list', ['no-such-folder']));
    expect(escaped).toBe(missing.replace('no-such-folder', 'escape'));
    expect(escaped).not.toContain(outside);
    expect(refusal(await dispatch(table, 'files:list', ['a.qcow2']))).toMatch(/not a folder/);
  });
});

describe('session:openListed', () => {
  it('opens an image by its path under the open folder, a symlink inside it as its target', async () => {
    const a = value<SessionInfo>(await dispatch(table, 'session:openListed', ['a.qcow2']));
    expect(a).toMatchObject({ name: 'a.qcow2', degraded: null });
    const b = value<SessionInfo>(await dispatch(table, 'session:openListed', ['sub/b.qcow2']));
    const viaLink = value<SessionInfo>(await dispatch(table, 'session:openListed', ['link-in.qcow2']));
    expect(viaLink.id).toBe(b.id);
  });

  it('refuses every way out: symlinked file or folder, dangling link, .., absolute path; and folders', async () => {
    const missing = refusal(await dispatch(table, 'session:openListed', ['nothing.qcow2']));
    for (const p of ['link-out.qcow2', 'escape/secret.qcow2', 'dangling.qcow2']) {
      const why = refusal(await dispatch(table, 'session:openListed', [p]));
      expect(why, p).toBe(missing.replace('nothing.qcow2', p));
      expect(why, p).not.toContain(outside);
    }
    for (const p of ['../outside/secret.qcow2', join(outside, 'secret.qcow2'), 'sub/../../outside/secret.qcow2']) {
      expect(refusal(await dispatch(table, 'session:openListed', [p])), p).toMatch(/inside the open folder|relative to the open folder/);
    }
    expect(refusal(await dispatch(table, 'session:openListed', ['sub']))).toMatch(/not a file/);
    expect(store.list().map((e) => e.session.path).some((p) => p.startsWith(outside))).toBe(false);
  });

  it('is off without --open-dir, and app:info says so', async () => {
    const off = createHandlers(new SessionRegistry(), { transport: 'http', version: 'test' });
    expect(value<AppInfo>(await dispatch(off, 'app:info', [])).capabilities.openDir).toBe(false);
    expect(value<AppInfo>(await dispatch(table, 'app:info', [])).capabilities.openDir).toBe(true);
    expect(refusal(await dispatch(off, 'files:list', ['']))).toMatch(/--open-dir/);
    expect(refusal(await dispatch(off, 'session:openListed', ['a.qcow2']))).toMatch(/--open-dir/);
  });
});

describe('qzs serve --open-dir', () => {
  it('refuses a missing folder or a file before serving anything', () => {
    for (const dir of [join(tmp.path, 'no-such-folder'), join(root, 'a.qcow2')]) {
      // A bounded spawn: were the option not checked, serve would run until killed.
      const r = spawnSync(process.execPath, [...QZS_CMD, 'serve', '--open-dir', dir], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(`--open-dir ${dir} is not an existing folder`);
      expect(r.stdout).not.toContain('http://');
    }
  });
});
