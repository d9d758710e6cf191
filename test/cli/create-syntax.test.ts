// qzs create takes qemu-img's create syntax unchanged (issue 10): `-f qcow2`, several `-o` (a later value
// wins), comma-joined options with qemu's ",," escaping, the size in `-o size=` or as the operand after
// FILE, options after the operands (getopt permutes), -b/-F/-u and -q. Each command line runs through real
// `qemu-img create` and through qzs in sibling folders; the two files must be the same bytes. Then the
// messages the zoned revisions print (issue 11): the seed's clamp lines and its "Could not create image:
// Invalid argument" line verbatim beside ours, and the v8 create that QEMU reports as failed
// (--strict). Needs `npm run build:cli` first.
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QZS_CMD, qzs } from '../helpers/cli';
import { qemuImg, tmpDir, type TmpDir } from '../helpers/qemu';

let tmp: TmpDir;
let seq = 0;
beforeAll(() => { tmp = tmpDir('qzs-create-syntax-'); });
afterAll(() => tmp.cleanup());

function run(cmd: string, args: string[], cwd: string): { status: number; stdout: string; stderr: string } {
  const r = cmd === 'qzs'
    ? spawnSync(process.execPath, [...QZS_CMD, ...args], { cwd, encoding: 'utf8' })
    : spawnSync('qemu-img', args, { cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Sibling folders with the same base image, so relative names stored in headers match. */
function pair(): { ours: string; ref: string } {
  const base = join(tmp.path, `case${seq++}`);
  const dirs = { ours: join(base, 'ours'), ref: join(base, 'ref') };
  for (const d of Object.values(dirs)) {
    mkdirSync(d, { recursive: true });
    qemuImg(['create', '-q', '-f', 'qcow2', join(d, 'base.qcow2'), '7M']);
  }
  return dirs;
}

/** Every file of a folder, name → bytes. */
function files(dir: string): Record<string, Buffer> {
  return Object.fromEntries(readdirSync(dir).sort().map((n) => [n, readFileSync(join(dir, n))]));
}

const SAME_AS_QEMU_IMG: [string, string[]][] = [
  ['-f qcow2 FILE -o size=768M -o cluster_size=4k,lazy_refcounts=on', ['-f', 'qcow2', 'img.qcow2', '-o', 'size=768M', '-o', 'cluster_size=4k,lazy_refcounts=on']],
  ['size as the operand, -o after it', ['-f', 'qcow2', 'img.qcow2', '1G', '-o', 'cluster_size=8k']],
  ['a later -o value wins', ['-f', 'qcow2', '-o', 'cluster_size=4k', '-o', 'cluster_size=16k,refcount_bits=8', 'img.qcow2', '100M']],
  ['",," is a literal comma in a value', ['-f', 'qcow2', '-o', 'data_file=d,,x.raw,compat=v3', 'img.qcow2', '64M']],
  ['-b and -F, size taken from the backing file', ['-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', 'img.qcow2']],
  ['-b wins over -o backing_file', ['-f', 'qcow2', '-o', 'backing_file=nothere.qcow2,backing_fmt=qcow2', '-b', 'base.qcow2', 'img.qcow2', '3M']],
  ['-u: the backing file is not opened', ['-f', 'qcow2', '-u', '-b', 'missing.qcow2', '-F', 'qcow2', 'img.qcow2', '5M']],
  ['-q: quiet', ['-q', '-f', 'qcow2', 'img.qcow2', '2G']],
  ['compat=0.10 between the operands', ['-f', 'qcow2', 'img.qcow2', '-o', 'compat=0.10', '10M']],
];

describe('qemu-img create command lines run unchanged and write the same bytes', () => {
  it.each(SAME_AS_QEMU_IMG)('%s', (_name, args) => {
    const { ours, ref } = pair();
    const theirs = run('qemu-img', ['create', ...args], ref);
    expect(theirs.status, theirs.stderr).toBe(0);
    const mine = run('qzs', ['create', ...args], ours);
    expect(mine.stderr.replace(/^qzs create: warning:.*\n/gm, '')).toBe('');
    expect(mine.status).toBe(0);
    if (args.includes('-q')) {
      expect(theirs.stdout).toBe('');
      expect(mine.stdout).toBe('');
    }
    const a = files(ours);
    const b = files(ref);
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const name of Object.keys(b)) expect(a[name].equals(b[name]), `${name} differs from qemu-img's`).toBe(true);
  });
});

describe('what qemu-img refuses, qzs refuses in its words', () => {
  it.each([
    ['an unknown format', ['-f', 'foo', 'x.img', '1M'], "x.img: Unknown file format 'foo'"],
    ['the size twice', ['-f', 'qcow2', '-o', 'size=1M', 'x.img', '2M'], 'The image size must be specified only once'],
  ])('%s', (_name, args, text) => {
    const { ours, ref } = pair();
    const theirs = run('qemu-img', ['create', ...args], ref);
    expect(theirs.status).toBe(1);
    expect(theirs.stderr).toContain(text);
    const mine = run('qzs', ['create', ...args], ours);
    expect(mine.status).toBe(2);
    expect(mine.stderr).toContain(text);
    expect(existsSync(join(ours, 'x.img'))).toBe(false);
  });

  it('a format qemu-img creates but qzs does not (raw) is refused and points to qemu-img', () => {
    const { ours } = pair();
    const r = run('qzs', ['create', '-f', 'raw', 'x.img', '1M'], ours);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("x.img: Unknown file format 'raw' (qemu-img creates raw images; qzs creates qcow2 only: use -f qcow2)");
    expect(existsSync(join(ours, 'x.img'))).toBe(false);
  });

  it('-u without a size cannot take it from the backing file', () => {
    const { ours } = pair();
    const r = run('qzs', ['create', '-f', 'qcow2', '-u', '-b', 'base.qcow2', '-F', 'qcow2', 'x.img'], ours);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Image creation needs a size parameter');
  });
});

const Z = 'zone.mode=host-managed,zone.size=8M';

describe('the seed\'s messages beside ours (v7 target, zoned-format-patch.txt qcow2_check_zone_options)', () => {
  it('each clamp line is quoted verbatim and the create succeeds, as in the seed', () => {
    const f = join(tmp.path, `seed-clamp${seq++}.qcow2`);
    const r = qzs(['create', '-f', 'qcow2', f, '-o', `${Z},zone.max_active_zones=20,zone.max_open_zones=30,zone.max_append_bytes=4k`, '-o', 'size=64M']);
    expect(r.status, r.stderr).toBe(0);
    const quoted = r.stderr.split('\n').filter((l) => l.startsWith('  the seed\'s qemu-img (v7) prints: '));
    expect(quoted.map((l) => l.slice(l.indexOf('prints: ') + 8))).toEqual([
      'qemu-img: Max_active_zones 20 exceeds nr_zones 8. Set it to nr_zones.',
      'qemu-img: Max_open_zones 30 exceeds max_active_zones 8. Set it to max_active_zones.',
    ]);
    const seq1 = qzs(['create', f + '.2', '-o', `${Z},zone.conventional_zones=6,zone.max_active_zones=4,zone.max_open_zones=3,zone.max_append_bytes=4k`, '64M']);
    expect(seq1.stderr).toContain('prints: qemu-img: Max_open_zones field can not be larger than the number of SWR zones. Set it to number of SWR zones 2.\n');
  });

  it('a refusal quotes the seed\'s line and its second line "FILE: Could not create image: Invalid argument"; the swapped numbers are named', () => {
    const f = join(tmp.path, `seed-refuse${seq++}.qcow2`);
    const r = qzs(['create', f, '-o', `${Z},zone.max_append_bytes=8M`, '64M']);
    expect(r.status).toBe(2);
    expect(existsSync(f)).toBe(false);
    const lines = r.stderr.split('\n');
    expect(lines).toContain(`  the seed's qemu-img (v7) prints: qemu-img: max append bytes ${8 << 20}B exceeds zone capacity ${8 << 20}B by more than block size`);
    expect(lines).toContain(`  the seed's qemu-img (v7) prints: qemu-img: ${f}: Could not create image: Invalid argument`);
    expect(r.stderr).toContain('prints the two numbers swapped');
    // Swapped for real: with distinct numbers the seed's text names the capacity as the append size.
    const r2 = qzs(['create', f, '-o', `${Z},zone.capacity=4M,zone.max_append_bytes=6M`, '64M']);
    expect(r2.stderr).toContain(`prints: qemu-img: max append bytes ${4 << 20}B exceeds zone capacity ${6 << 20}B by more than block size\n`);
  });

  it('a rule the seed does not have (more conventional zones than zones) quotes nothing and adds no "Could not create image" line', () => {
    const r = qzs(['create', join(tmp.path, 'conv.qcow2'), '-o', `${Z},zone.conventional_zones=9`, '64M']);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toContain('prints:');
    expect(r.stderr).not.toContain('Could not create image');
  });
});

describe('a v8-target create that QEMU v8 reports as failed (issue 11)', () => {
  const oneClamp = `${Z},zone.max_active_zones=20,zone.max_open_zones=4`;

  it('keeps the bytes, warns that v8 exits 1 although it leaves this image, exits 0; --strict exits 1 with the same image kept', () => {
    const a = join(tmp.path, `v8-clamp${seq++}.qcow2`);
    const b = join(tmp.path, `v8-strict${seq++}.qcow2`);
    const r = qzs(['create', '--zoned-layout', 'v8', a, '-o', oneClamp, '64M']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('QEMU v8 prints this clamp as an error and exits 1, although it leaves this very image behind');
    // Through errp: qemu-img names the file.
    expect(r.stderr).toContain(`prints: qemu-img: ${a}: Max_active_zones 20 exceeds nr_zones 8. Set it to nr_zones.`);
    const s = qzs(['create', '--zoned-layout', 'v8', '--strict', b, '-o', oneClamp, '64M']);
    expect(s.status).toBe(1);
    expect(s.stderr).toContain('was written and is kept');
    expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
    const j = JSON.parse(qzs(['create', '--zoned-layout', 'v8', '--json', '--dry-run', join(tmp.path, 'j.qcow2'), '-o', oneClamp, '64M']).stdout) as { qemuExitsNonZero: boolean; warnings: { code: string; qemuErrp?: boolean }[] };
    expect(j.qemuExitsNonZero).toBe(true);
    expect(j.warnings.find((w) => w.code === 'zone-clamp')?.qemuErrp).toBe(true);
  });

  it('without a clamp --strict changes nothing; the seed (v7) clamps never fail the create', () => {
    expect(qzs(['create', '--zoned-layout', 'v8', '--strict', join(tmp.path, `v8-ok${seq++}.qcow2`), '-o', Z, '64M']).status).toBe(0);
    const v7 = qzs(['create', '--strict', join(tmp.path, `v7-ok${seq++}.qcow2`), '-o', `${oneClamp},zone.max_append_bytes=4k`, '64M']);
    expect(v7.status).toBe(0);
    expect(v7.stderr).not.toContain('exits 1');
  });
});
