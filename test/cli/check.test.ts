// qzs check as users run it (the built CLI: npm run build:cli first).
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBases, CORPUS, makeCorrupt, type BaseName } from '../helpers/corrupt-corpus';
import { qzs } from '../helpers/cli';
import { qemuImgStatus, tmpDir, type TmpDir } from '../helpers/qemu';

let dir: TmpDir;
let bases: Record<BaseName, string>;

beforeAll(() => {
  dir = tmpDir('qzs-cli-check-');
  bases = buildBases(dir.path);
});
afterAll(() => dir.cleanup());

function corrupt(name: string): { path: string; at: number } {
  const c = CORPUS.find((x) => x.name === name);
  if (!c) throw new Error(`no corpus case ${name}`);
  const path = dir.file(`${name}.qcow2`);
  return { path, at: makeCorrupt(c, bases, path) };
}

describe('qzs check', () => {
  it('exit 0 and qemu-img ImageCheck keys with qemu-img values on a clean image', () => {
    const r = qzs(['check', '--json', bases.plain]);
    expect(r.status).toBe(0);
    const ours = JSON.parse(r.stdout) as Record<string, unknown>;
    const q = JSON.parse(qemuImgStatus(['check', '--output=json', bases.plain]).stdout) as Record<string, unknown>;
    for (const [k, v] of Object.entries(q)) if (k !== 'filename') expect([k, ours[k]]).toEqual([k, v]);
    expect(ours.findings).toEqual([]);
    expect(ours.leaks).toBe(0);
  });

  // 63 is qemu-img's "format does not support checks", never a qcow2 file's: a file that cannot be opened
  // as qcow2 exits 1, as `qemu-img check -f qcow2` does (it used to exit 63 here).
  it('exit 2 for corruptions, 3 for leaks only, 1 when the check cannot complete or the file cannot be opened as qcow2', () => {
    expect(qzs(['check', corrupt('refcount-too-low').path]).status).toBe(2);
    expect(qzs(['check', corrupt('leaked-cluster').path]).status).toBe(3);
    expect(qzs(['check', corrupt('reftable-entry-unaligned').path]).status).toBe(1);
    const bad = corrupt('bad-magic');
    const r = qzs(['check', '--json', bad.path]);
    expect(r.status).toBe(1);
    expect(qemuImgStatus(['check', '-f', 'qcow2', bad.path]).status).toBe(1);
    const j = JSON.parse(r.stdout) as { openable: boolean; findings: { id: string; offset: number }[] };
    expect(j.openable).toBe(false);
    expect(j.findings[0]).toMatchObject({ id: 'header.magic', offset: 0 });
  });

  it('human output names the finding, its offset and the fix; no progress when stderr is not a terminal', () => {
    const { path, at } = corrupt('l2-reserved-bits');
    const r = qzs(['check', path]);
    expect(r.stdout).toContain(`l2.reserved-bits at offset ${at}`);
    expect(r.stdout).toContain('fix: clear the reserved bits');
    expect(r.stderr).toBe('');
  });

  it('-r all --output writes a repaired copy, leaves the image alone, and the copy passes qemu-img check', () => {
    const { path } = corrupt('refcount-too-low');
    const before = readFileSync(path);
    const out = dir.file('fixed.qcow2');
    const r = qzs(['check', '--json', '-r', 'all', '--output', out, path]);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { 'corruptions-fixed': number; repair: { target: string; backup: null; changes: unknown[] } };
    expect(j['corruptions-fixed']).toBe(2);
    expect(j.repair.target).toBe(out);
    expect(j.repair.backup).toBeNull();
    expect(j.repair.changes.length).toBeGreaterThan(0);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(qemuImgStatus(['check', out]).status).toBe(0);
    expect(qzs(['check', '-r', 'all', '--output', out, path]).status).toBe(1);
  });

  it('-r leaks --in-place writes a backup first, says where, and repairs the image', () => {
    const { path } = corrupt('leaked-cluster');
    const before = readFileSync(path);
    const r = qzs(['check', '-r', 'leaks', '--in-place', path]);
    expect(r.status).toBe(0);
    const m = /Backup of the original written to (\S+)/.exec(r.stdout);
    expect(m).not.toBeNull();
    const backup = m?.[1] ?? '';
    expect(existsSync(backup)).toBe(true);
    expect(readFileSync(backup).equals(before)).toBe(true);
    expect(readdirSync(dir.path).some((n) => n.startsWith('leaked-cluster.qcow2.backup-'))).toBe(true);
    expect(qemuImgStatus(['check', path]).status).toBe(0);
    expect(r.stdout).toContain('1 leaked clusters');
  });

  it('a file that cannot be opened as qcow2 exits 1, as qemu-img check -f qcow2: empty, truncated header, bad magic, version 1 and 4, cluster_bits 40', () => {
    const good = new Uint8Array(readFileSync(bases.plain));
    const patched = (f: (b: Uint8Array, v: DataView) => void) => { const b = good.slice(); f(b, new DataView(b.buffer)); return b; };
    const cases: Record<string, Uint8Array> = {
      empty: new Uint8Array(0),
      'truncated-header': good.slice(0, 50),
      'bad-magic': patched((b) => { b[3] = 0xfa; }),
      'version-1': patched((_b, v) => v.setUint32(4, 1)),
      'version-4': patched((_b, v) => v.setUint32(4, 4)),
      'cluster-bits-40': patched((_b, v) => v.setUint32(20, 40)),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const p = dir.file(`unopenable-${name}.qcow2`);
      writeFileSync(p, bytes);
      expect([name, qemuImgStatus(['check', '-f', 'qcow2', p]).status]).toEqual([name, 1]);
      expect([name, qzs(['check', p]).status]).toEqual([name, 1]);
      const j = qzs(['check', '--json', p]);
      expect([name, j.status]).toEqual([name, 1]);
      expect((JSON.parse(j.stdout) as { openable: boolean }).openable).toBe(false);
      expect([name, qzs(['check', '-r', 'all', '--output', dir.file(`unopenable-${name}.out.qcow2`), p]).status]).toEqual([name, 1]);
    }
  });

  it('-r --in-place on a file that cannot be written: an error, exit 1, and no new file beside it, however often it is tried', (ctx) => {
    const { path } = corrupt('leaked-cluster');
    const sub = dir.file('read-only');
    mkdirSync(sub);
    const p = join(sub, 'image.qcow2');
    copyFileSync(path, p);
    chmodSync(p, 0o444);
    let undo = () => chmodSync(p, 0o644);
    let writable = true;
    try { accessSync(p, constants.W_OK); } catch { writable = false; }
    // root writes a mode 0444 file anyway: make it immutable instead (chattr +i), or skip.
    if (writable) {
      if (spawnSync('chattr', ['+i', p]).status !== 0) ctx.skip();
      undo = () => { spawnSync('chattr', ['-i', p]); chmodSync(p, 0o644); };
    }
    try {
      const before = readFileSync(p);
      for (let i = 0; i < 2; i++) {
        const r = qzs(['check', '-r', 'leaks', '--in-place', p]);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/cannot open:.*\b(EACCES|EPERM)\b/);
        expect(readdirSync(sub)).toEqual(['image.qcow2']);
      }
      expect(readFileSync(p).equals(before)).toBe(true);
    } finally {
      undo();
    }
  });

  it('usage errors exit 2 with a message', () => {
    expect(qzs(['check', '-r', 'some', bases.plain]).status).toBe(2);
    expect(qzs(['check', '--in-place', bases.plain]).status).toBe(2);
    expect(qzs(['check']).status).toBe(2);
  });
});
