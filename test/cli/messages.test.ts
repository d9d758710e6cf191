// What the tool says when the operating system refuses: each errno named once, after the reason
// ("no such file or directory (ENOENT)"), never Node's "ENOENT ENOENT: …, open '/x/.tmp'" with its
// temporary file names; the file named once too, by the error's file.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { osErrorText, toAppError } from '../../shared/qcow2/findings';
import { qzs } from '../helpers/cli';
import { qemuImg, tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-messages-');
afterAll(() => dir.cleanup());

/** An errno name said twice in one message (ENOENT … ENOENT), or a path said twice. */
function doubled(text: string): string | null {
  const codes: string[] = text.match(/\bE[A-Z0-9]{2,}\b/g) ?? [];
  const twice = codes.find((c, i) => codes.indexOf(c) !== i);
  if (twice) return twice;
  const paths: string[] = text.match(/\/[^\s:'",()]+/g) ?? [];
  return paths.find((p, i) => paths.indexOf(p) !== i) ?? null;
}

describe('OS errors in messages', () => {
  it('osErrorText turns Node\'s message into the reason and the code, once', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x/.x.qcow2.qzs-1-2.tmp'"), { code: 'ENOENT' });
    expect(osErrorText(enoent)).toBe('no such file or directory (ENOENT)');
    const spaced = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(osErrorText(spaced)).toBe('no space left on device, write (ENOSPC)');
    // Already in our form, or not an OS error: left as it is.
    expect(osErrorText(Object.assign(new Error('no such file or directory (ENOENT)'), { code: 'ENOENT' }))).toBe('no such file or directory (ENOENT)');
    expect(osErrorText(new Error('something else'))).toBe('something else');
    expect(toAppError(enoent)).toEqual({ code: 'io', message: 'no such file or directory (ENOENT)' });
  });

  it('qzs create into a missing folder: the target named once, ENOENT once, no temporary file name', () => {
    const target = join(dir.path, 'missing-folder', 'x.qcow2');
    const r = qzs(['create', target, '1M']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`qzs: ${target}: cannot create: no such file or directory (ENOENT)\n`);
    expect(doubled(r.stderr)).toBeNull();
  });

  it('a missing backing file: the reason once, not "<path>: <path>: cannot open: …"', () => {
    const img = join(dir.path, 'overlay.qcow2');
    const back = join(dir.path, 'gone', 'base.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-u', '-b', back, '-F', 'qcow2', img, '1M']);
    const r = qzs(['map', img]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`qzs: ${img}: cannot open backing file ${back}: no such file or directory (ENOENT)\n`);
    expect(doubled(r.stderr)).toBeNull();
  });

  it('a zone script or data file that cannot be read says why in words', () => {
    mkdirSync(join(dir.path, 'z'));
    const img = join(dir.path, 'z', 'plain.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', img, '1M']);
    const r = qzs(['zone', img, '--script', join(dir.path, 'z', 'no-script')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('no such file or directory (ENOENT)');
    expect(doubled(r.stderr.split('\n')[0])).toBeNull();
  });
});
