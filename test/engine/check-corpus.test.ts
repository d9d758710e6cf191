// The checker against the corrupt-image corpus and against stock qemu-img (the oracle).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFile } from '../../electron/engine/check';
import { type CheckReport } from '../../shared/qcow2/check';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { repairFile } from '../../electron/engine/repair';
import { checkExitCode, run as qzsCheck } from '../../electron/cli/commands/check';
import { BEYOND_QEMU, buildBases, CORPUS, makeCorrupt, stockCopy, type BaseName } from '../helpers/corrupt-corpus';
import { qemuImg, qemuImgStatus, qemuIo, tmpDir, type TmpDir } from '../helpers/qemu';

let dir: TmpDir;
let bases: Record<BaseName, string>;

beforeAll(() => {
  dir = tmpDir('qzs-check-');
  bases = buildBases(dir.path);
});
afterAll(() => dir.cleanup());

/** The engine's check of a file, with the backing file probe the CLI uses. */
function check(path: string): Promise<CheckReport> {
  return checkFile(path);
}

/** `qzs check ARGS` in this process (the CLI command itself, without a node start per image). */
async function qzs(args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await qzsCheck(args, { out: (t) => { out += t; }, err: (t) => { err += t; }, errIsTTY: false, stdin: process.stdin });
  return { status, out, err };
}

interface QemuCheck { corruptions?: number; leaks?: number; 'check-errors': number }

function qemuCheck(path: string): QemuCheck {
  const r = qemuImgStatus(['check', '--output=json', path]);
  if (![0, 2, 3].includes(r.status)) throw new Error(`qemu-img check exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as QemuCheck;
}

describe('corrupt corpus', () => {
  for (const c of CORPUS) {
    it(`${c.name}: ${c.id} (${c.severity})`, async () => {
      const path = dir.file(`${c.name}.qcow2`);
      const at = makeCorrupt(c, bases, path);
      const report = await check(path);
      const hit = report.findings.find((f) => f.id === c.id && f.offset === at);
      expect(hit, JSON.stringify(report.findings.map((f) => [f.id, f.offset, f.severity]))).toBeDefined();
      expect(hit?.severity).toBe(c.severity);
      if (c.field) {
        expect(hit?.structure).toBe(c.field.structure);
        if (typeof c.field.field === 'string') expect(hit?.field).toBe(c.field.field);
        else expect(hit?.field).toMatch(c.field.field);
      }
      if (c.exit !== undefined) expect(checkExitCode(report)).toBe(c.exit);
      // A walk that missed a table proves no leak: what qemu-img counts as leaks we count as unverified.
      if (!report.complete) expect(report.leaks).toBe(0);
      if (c.qemu === 'same-counts') {
        const q = qemuCheck(path);
        expect({ corruptions: report.corruptions, leaks: report.leaks + report.unverified }).toEqual({ corruptions: q.corruptions ?? 0, leaks: q.leaks ?? 0 });
      }
      if (c.qemu === 'check-fails') {
        const r = qemuImgStatus(['check', '--output=json', path]);
        expect(r.status).toBe(1);
        expect(report['check-errors']).toBeGreaterThan(0);
        if (r.stdout.trim().startsWith('{')) {
          const q = JSON.parse(r.stdout) as QemuCheck;
          expect({ corruptions: report.corruptions, leaks: report.leaks + report.unverified, errors: report['check-errors'] }).toEqual({ corruptions: q.corruptions ?? 0, leaks: q.leaks ?? 0, errors: q['check-errors'] });
        }
      }
      if (c.qemu === 'refuses' || c.qemu === 'check-refuses') {
        // 'check-refuses': qemu-img info opens the image without its backing file, data file or key; check does not.
        expect(qemuImgStatus(['info', '-f', 'qcow2', path]).status === 0).toBe(c.qemu === 'check-refuses');
        if (c.exit !== undefined) expect(qemuImgStatus(['check', '-f', 'qcow2', path]).status).toBe(c.exit);
        expect(report.findings.some((f) => f.severity === 'error' && f.offset === at)).toBe(true);
      }
      if (c.qemuSays !== undefined) {
        // The oracle's verdict, from this run: its words and its exit code.
        const q = qemuImgStatus(['check', '-f', 'qcow2', path]);
        expect(q.stderr + q.stdout).toContain(c.qemuSays);
        expect(q.status).toBe(c.beyondQemu ? 0 : c.exit);
      }
    });
  }
});

describe('exit codes: qzs check exits as stock qemu-img check -f qcow2 on every corpus image', () => {
  // Zoned images: stock QEMU refuses bit 5 ("Unsupported qcow2 feature(s): zoned format"), so the oracle
  // checks a copy with the bit cleared (ZONED-FORMAT.md 8.9); differences are the documented BEYOND_QEMU cases.
  for (const c of CORPUS) {
    it(`${c.name}${c.beyondQemu ? ' (beyond qemu-img)' : ''}`, async () => {
      const path = dir.file(`x-${c.name}.qcow2`);
      makeCorrupt(c, bases, path);
      let oracle = path;
      if (c.base === 'zoned') {
        oracle = dir.file(`x-${c.name}.stock.qcow2`);
        stockCopy(path, oracle);
      }
      const q = qemuImgStatus(['check', '-f', 'qcow2', oracle]);
      const ours = await qzs([path]);
      expect([0, 1, 2, 3]).toContain(q.status);
      if (c.beyondQemu) {
        expect(ours.status).toBe(c.exit);
        expect(ours.status, `documented as beyond qemu-img (${c.beyondQemu}) but stock agrees`).not.toBe(q.status);
      } else {
        expect(ours.status, ours.out).toBe(q.status);
        if (c.exit !== undefined) expect(ours.status).toBe(c.exit);
      }
      if (c.beyondQemu === BEYOND_QEMU.zonedmeta || c.beyondQemu === BEYOND_QEMU.zonedErrors) {
        // What stock qemu-img sees beyond us is exactly the zonedmeta clusters as leaks.
        const j = JSON.parse(qemuImgStatus(['check', '--output=json', oracle]).stdout) as QemuCheck;
        expect(j.corruptions ?? 0).toBe(0);
        expect(j.leaks).toBe(1);
      }
    });
  }

  it('a relative backing file name resolves against the image\'s directory, not the working directory', async () => {
    const sub = dir.file('sub');
    mkdirSync(sub, { recursive: true });
    qemuImg(['create', '-q', '-f', 'qcow2', `${sub}/base.qcow2`, '4M']);
    qemuImg(['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', `${sub}/top.qcow2`, '4M']);
    expect(process.cwd()).not.toBe(sub);
    expect(qemuImgStatus(['check', '-f', 'qcow2', `${sub}/top.qcow2`]).status).toBe(0);
    const r = await qzs([`${sub}/top.qcow2`]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).not.toContain('backing.missing');
  });

  it('the v3 zero flag in a v2 image: qemu-img check passes, but a read through QEMU fails and marks the image corrupt', () => {
    const c = CORPUS.find((x) => x.name === 'v2-zero-flag');
    if (!c) throw new Error('corpus lost its case');
    const path = dir.file('v2-zero-read.qcow2');
    makeCorrupt(c, bases, path);
    expect(qemuImgStatus(['check', '-f', 'qcow2', path]).status).toBe(0);
    let said = '';
    try {
      qemuIo(path, ['read 0 4k']);
    } catch (e) {
      said = String((e as { stderr?: string }).stderr ?? '') + String((e as { stdout?: string }).stdout ?? '');
    }
    expect(said).toContain('Zero cluster entry found in pre-v3 image');
  });

  it('-r leaks on refcounts that need a rebuild: qemu-img\'s "Check failed", exit 1, and ours', async () => {
    const c = CORPUS.find((x) => x.name === 'refcount-too-low');
    if (!c) throw new Error('corpus lost its case');
    const path = dir.file('leaks-rebuild.qcow2');
    makeCorrupt(c, bases, path);
    const ours = await qzs(['-r', 'leaks', '--output', dir.file('leaks-rebuild.fixed.qcow2'), path]);
    const q = qemuImgStatus(['check', '-f', 'qcow2', '-r', 'leaks', path]);
    expect(q.stderr).toContain('Check failed');
    expect(q.status).toBe(1);
    expect(ours.status).toBe(q.status);
    expect(ours.err).toContain('need to rebuild refcount structures');
  });
});

describe('clean images: every ImageCheck key equals qemu-img check', () => {
  const KEYS = ['image-end-offset', 'check-errors', 'corruptions', 'leaks', 'total-clusters', 'allocated-clusters', 'fragmented-clusters', 'compressed-clusters'] as const;
  const matrix: Record<string, (p: string) => void> = {
    plain: () => {},
    snapshots: (p) => { qemuImg(['snapshot', '-c', 's2', p]); qemuIo(p, ['write -P 0x66 512k 192k', 'write -P 0x67 3M 64k']); },
    compressed: (p) => { qemuImg(['convert', '-c', '-O', 'qcow2', bases.plain, p + '.c']); qemuImg(['convert', '-O', 'qcow2', '-c', p + '.c', p]); },
    'extended_l2': (p) => { qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on,cluster_size=32k', p, '8M']); qemuIo(p, ['write -P 1 0 4k', 'write -P 2 1M 64k', 'write -z 2M 32k', 'write -P 3 5M 1k']); },
    'refcount_bits=1': (p) => { qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'refcount_bits=1', p, '8M']); qemuIo(p, ['write -P 1 0 128k', 'write -P 2 7M 64k']); },
    'refcount_bits=64': (p) => { qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'refcount_bits=64,cluster_size=4k', p, '8M']); qemuIo(p, ['write -P 1 0 128k', 'write -P 2 3M 4k', 'write -P 3 1M 4k']); qemuImg(['snapshot', '-c', 's', p]); qemuIo(p, ['write -P 4 0 8k']); },
    bitmaps: (p) => { qemuImg(['bitmap', '--add', p, 'b1']); qemuIo(p, ['write -P 0x77 2M 128k']); },
    'compat=0.10': (p) => { qemuImg(['convert', '-O', 'qcow2', '-o', 'compat=0.10', bases.snap, p]); },
  };
  for (const [name, make] of Object.entries(matrix)) {
    it(name, async () => {
      const p = dir.file(`clean-${name}.qcow2`);
      if (['plain', 'snapshots', 'bitmaps'].includes(name)) copyFileSync(name === 'bitmaps' ? bases.bitmap : name === 'snapshots' ? bases.snap : bases.plain, p);
      make(p);
      const q = qemuCheck(p) as unknown as Record<string, number>;
      const ours = await check(p);
      for (const k of KEYS) expect([k, ours[k]]).toEqual([k, q[k] ?? 0]);
      expect(ours.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    });
  }

  it('zoned sample: zonedmeta counts as referenced; stock qemu-img (bit 5 cleared) sees exactly those clusters as leaks', async () => {
    const stock = dir.file('zoned-stock.qcow2');
    stockCopy(bases.zoned, stock);
    const q = qemuCheck(stock);
    const ours = await check(bases.zoned);
    expect(ours.corruptions).toBe(0);
    expect(ours.leaks).toBe(0);
    expect(q.corruptions ?? 0).toBe(0);
    // 10 zones x 8 bytes fit in one 64 KiB cluster (ZONED-FORMAT.md section 8 item 9)
    expect(q.leaks).toBe(Math.ceil((8 * 10) / 65536));
    expect(ours['image-end-offset']).toBe((q as unknown as Record<string, number>)['image-end-offset']);
  });
});

describe('repair: after our -r all, stock qemu-img check is clean', () => {
  for (const c of CORPUS.filter((x) => x.repairs)) {
    it(c.name, async () => {
      const path = dir.file(`r-${c.name}.qcow2`);
      makeCorrupt(c, bases, path);
      const original = readFileSync(path);
      const out = dir.file(`r-${c.name}.fixed.qcow2`);
      const res = await repairFile(path, { mode: 'all', output: out });
      expect(readFileSync(path).equals(original)).toBe(true);
      expect(res.target).toBe(out);
      expect(qemuImgStatus(['check', out]).status).toBe(0);
      expect(res.after.corruptions + res.after.leaks).toBe(0);
      expect(res.after.findings.filter((f) => f.severity === 'error')).toEqual([]);
      expect(res.changes.length).toBeGreaterThan(0);
      expect(res.after['corruptions-fixed'] + res.after['leaks-fixed']).toBe(res.before.corruptions + res.before.leaks);
    });
  }

  it('-r leaks frees a leaked cluster in place of the refcount and touches nothing else', async () => {
    const c = CORPUS.find((x) => x.name === 'leaked-cluster');
    if (!c) throw new Error('corpus lost its leak case');
    const path = dir.file('leaks.qcow2');
    const at = makeCorrupt(c, bases, path);
    const res = await repairFile(path, { mode: 'leaks', output: dir.file('leaks.fixed.qcow2') });
    // a 16-bit refcount 1 -> 0: only its low byte changes
    expect(res.changes).toEqual([{ offset: at + 1, length: 1, why: expect.stringContaining('refcount block 0') }]);
    expect(res.after['leaks-fixed']).toBe(1);
    expect(qemuImgStatus(['check', res.target]).status).toBe(0);
  });

  it('-r leaks leaves a refcount that is too low (it needs a rebuild), as qemu-img does', async () => {
    const c = CORPUS.find((x) => x.name === 'refcount-too-low');
    if (!c) throw new Error('corpus lost its case');
    const path = dir.file('low.qcow2');
    makeCorrupt(c, bases, path);
    const res = await repairFile(path, { mode: 'leaks', output: dir.file('low.fixed.qcow2') });
    expect(res.after.corruptions).toBe(res.before.corruptions);
    expect(res.notes.join('\n')).toContain('rebuild');
    const q = qemuImgStatus(['check', '-r', 'leaks', path]);
    expect(q.stderr).toContain('need to rebuild refcount structures');
  });

  it('zoned: a wrong nr_zones is rewritten and zonedmeta stays referenced', async () => {
    const c = CORPUS.find((x) => x.name === 'zoned-nr-zones');
    if (!c) throw new Error('corpus lost its case');
    const path = dir.file('znr.qcow2');
    makeCorrupt(c, bases, path);
    const res = await repairFile(path, { mode: 'all', output: dir.file('znr.fixed.qcow2') });
    expect(res.after.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(res.after.leaks).toBe(0);
  });
});
