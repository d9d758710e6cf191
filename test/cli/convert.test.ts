// qzs convert --zoned-layout TARGET IN OUT (issue 10). The round trip v7 → v8 → v11 → respin → v7 keeps
// the zone report and the guest bytes at every step (stock `qemu-img compare` on bit-5-cleared copies),
// each result passes stock `qemu-img check` on a bit-5-cleared copy with exactly the zonedmeta clusters
// as leaks (ZONED-FORMAT.md section 8 item 9), reads as the target's revision, and IN is never written.
// Each refusal names its reason and leaves no OUT. Needs `npm run build:cli` first.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qzs } from '../helpers/cli';
import { qemuImgStatus, tmpDir, type TmpDir } from '../helpers/qemu';

let tmp: TmpDir;
let seq = 0;
beforeAll(() => { tmp = tmpDir('qzs-convert-'); });
afterAll(() => tmp.cleanup());

const path = (name: string): string => join(tmp.path, `${seq++}-${name}`);

function ok(args: string[]): string {
  const r = qzs(args);
  expect(r.status, `qzs ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

interface Zone { index: number; start: number; length: number; capacity: number; wp: number; type: string; condition: string }
const zones = (f: string): Zone[] => (JSON.parse(ok(['zones', '--json', f])) as { zones: Zone[] }).zones;
const revision = (f: string): string => (JSON.parse(ok(['info', '--json', f])) as { zoned: { revision: string } }).zoned.revision;

/** A copy with incompatible bit 5 cleared (byte 79, 0x20), which stock qemu-img opens. */
function bit5Cleared(file: string): string {
  const copy = `${file}.nobit5`;
  copyFileSync(file, copy);
  const b = readFileSync(copy);
  expect(b[79] & 0x20).toBe(0x20);
  b[79] &= ~0x20;
  writeFileSync(copy, b);
  return copy;
}

/** v7 (seed) image with conventional zones, capacity < size, a short last zone, limits, data in every kind of zone. */
function sourceImage(): string {
  const f = path('src.qcow2');
  ok(['create', '-q', '-f', 'qcow2', f, '38M', '-o', 'zone.mode=host-managed,zone.size=4M,zone.capacity=3M,zone.conventional_zones=2',
    '-o', 'zone.max_active_zones=4,zone.max_open_zones=3,zone.max_append_bytes=64k']);
  ok(['io', '-c', 'write -P 0xab 0x100000 64k', '-c', 'write -P 0xcd 0x800000 128k', '-c', 'zap -p 0xc00000 4096',
    '-c', 'zf 0x1000000 0x400000', '-c', 'write -P 0x5a 0x2400000 512', f]);
  return f;
}

describe('round trip v7 → v8 → v11 → respin → v7', () => {
  it('keeps zone report and guest bytes at every step; each step checks clean and reads as its target; IN is untouched', () => {
    const src = sourceImage();
    const report = zones(src);
    // The source has every kind of zone the report can show at rest.
    expect(new Set(report.map((z) => z.condition))).toEqual(new Set(['not-wp', 'closed', 'empty', 'full']));
    const srcPlain = bit5Cleared(src);
    const steps: [string, string, string[]][] = [['v8', 'v8', []], ['v11', 'v11', []], ['respin', 'respin', ['--force']], ['v7', 'v5-v7', ['--max-append-bytes', '64k']]];
    let from = src;
    for (const [target, rev, extra] of steps) {
      const before = readFileSync(from);
      const out = path(`${target}.qcow2`);
      ok(['convert', '--zoned-layout', target, ...extra, from, out]);
      expect(readFileSync(from).equals(before), `convert wrote ${from}`).toBe(true);
      expect(revision(out)).toBe(rev);
      expect(zones(out)).toEqual(report);
      const plain = bit5Cleared(out);
      expect(qemuImgStatus(['compare', '-f', 'qcow2', '-F', 'qcow2', srcPlain, plain]).status, `guest bytes of ${target}`).toBe(0);
      const check = JSON.parse(qemuImgStatus(['check', '--output=json', plain]).stdout) as { corruptions?: number; leaks?: number; 'check-errors': number };
      expect(check['check-errors']).toBe(0);
      expect(check.corruptions ?? 0).toBe(0);
      expect(check.leaks ?? 0).toBe(1); // the one zonedmeta cluster (10 zones x 8 bytes)
      from = out;
    }
    // Back at v7 with the append limit restored: the same zoned extension as the source, field for field,
    // and the same cluster 0 byte for byte.
    const a = JSON.parse(ok(['info', '--json', src])) as { zoned: Record<string, unknown> };
    const b = JSON.parse(ok(['info', '--json', from])) as { zoned: Record<string, unknown> };
    expect(b.zoned['max-append-bytes']).toBe(65536);
    expect(b.zoned).toEqual(a.zoned);
    expect(readFileSync(from).subarray(0, 65536).equals(readFileSync(src).subarray(0, 65536))).toBe(true);
  });
});

describe('what sits beside the zoned extension in cluster 0 moves with it', () => {
  it('a backing file name after the extensions is moved and its offset updated (56-byte extension, 8 bytes more)', () => {
    const base = path('base.qcow2');
    ok(['create', '-q', base, '16M']);
    const f = path('with-backing.qcow2');
    ok(['create', '-q', f, '-b', base, '-F', 'qcow2', '-o', 'zone.mode=host-managed,zone.size=4M,zone.max_append_bytes=4k']);
    const out = path('with-backing-v8.qcow2');
    ok(['convert', '--zoned-layout', 'v8', f, out]);
    const j = (file: string): { 'backing-filename': string; 'backing-filename-format': string } =>
      JSON.parse(qemuImgStatus(['info', '--output=json', bit5Cleared(file)]).stdout) as { 'backing-filename': string; 'backing-filename-format': string };
    expect(j(out)['backing-filename']).toBe(base);
    expect(j(out)['backing-filename-format']).toBe('qcow2');
    const before = readFileSync(f).readBigUInt64BE(8);
    expect(readFileSync(out).readBigUInt64BE(8)).toBe(before + 8n);
    expect(zones(out)).toEqual(zones(f));
  });
});

describe('refusals: the exact reason, nothing written', () => {
  function refused(args: string[], text: string): void {
    const out = args[args.length - 1];
    const r = qzs(['convert', ...args]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(text);
    expect(existsSync(out)).toBe(false);
  }

  it('a zone size that is not a power of two into v11 and into the respin', () => {
    const f = path('48m.qcow2');
    ok(['create', '-q', '--zoned-layout', 'v8', f, '-o', 'zone.mode=host-managed,zone.size=48M', '192M']);
    refused(['--zoned-layout', 'v11', f, path('o.qcow2')], 'the v11 family cannot represent the source: Zoned extension header zone_size 50331648B is not a power of 2');
    refused(['--zoned-layout', 'respin', f, path('o.qcow2')], 'the Cassel respin cannot represent the source: Zoned extension header zone_size 50331648B is not a power of 2');
    // v7 takes it (the seed does not require a power of two).
    ok(['convert', '--zoned-layout', 'v7', f, path('ok.qcow2')]);
  });

  it('an append limit into the respin: said to be dropped, --force required', () => {
    const f = path('v11.qcow2');
    ok(['create', '-q', '--zoned-layout', 'v11', f, '-o', 'zone.mode=host-managed,zone.size=4M,zone.max_append_bytes=32k', '16M']);
    refused(['--zoned-layout', 'respin', f, path('o.qcow2')], 'the respin stores no append limit: max_append_bytes 32768 is dropped');
    const r = qzs(['convert', '--zoned-layout', 'respin', '--force', f, path('forced.qcow2')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('warning: max_append_bytes: the respin stores no append limit: max_append_bytes 32768 is dropped');
  });

  it('a 64-bit zone size into v7', () => {
    const f = path('8g.qcow2');
    ok(['create', '-q', '--zoned-layout', 'v8', f, '-o', 'zone.mode=host-managed,zone.size=8G', '32G']);
    refused(['--zoned-layout', 'v7', f, path('o.qcow2')], 'zone_size 8589934592 does not fit the 32-bit field of the v7 layout');
  });

  it('zones smaller than a cluster into the respin; more than 2^20 zones into v11', () => {
    const small = path('32k.qcow2');
    ok(['create', '-q', '--zoned-layout', 'v8', small, '-o', 'zone.mode=host-managed,zone.size=32k,zone.max_append_bytes=4k', '1M']);
    refused(['--zoned-layout', 'respin', small, path('o.qcow2')], 'zone size 32768B is not a multiple of the cluster size 65536B');
    const many = path('many.qcow2');
    ok(['create', '-q', '--zoned-layout', 'v8', many, '-o', 'zone.mode=host-managed,zone.size=4k,zone.max_append_bytes=0,cluster_size=4k', '4100M']);
    refused(['--zoned-layout', 'v11', many, path('o.qcow2')], 'Zoned extension header nr_zones 1049600 exceeds maximum 1048576');
  });

  it('an all-conventional v7 image into v8 (v8 needs a sequential zone)', () => {
    const f = path('allconv.qcow2');
    ok(['create', '-q', f, '-o', 'zone.mode=host-managed,zone.size=4M,zone.conventional_zones=4,zone.max_append_bytes=4k', '16M']);
    refused(['--zoned-layout', 'v8', f, path('o.qcow2')], 'conventional_zones 4 must be smaller than nr_zones 4');
  });

  it('a write pointer the respin refuses at open, in the respin\'s words', () => {
    const f = path('unaligned.qcow2');
    ok(['create', '-q', '--zoned-layout', 'v11', f, '-o', 'zone.mode=host-managed,zone.size=4M', '16M']);
    // Zone 1's pointer 0x400201 (not sector aligned), big-endian, at the zonedmeta offset.
    const info = JSON.parse(ok(['info', '--json', f])) as { zoned: { 'zonedmeta-offset': number } };
    const b = readFileSync(f);
    b.writeBigUInt64BE(0x400201n, info.zoned['zonedmeta-offset'] + 8);
    writeFileSync(f, b);
    refused(['--zoned-layout', 'respin', f, path('o.qcow2')], '"Zone 1 has write pointer 0x400201 that is not sector aligned"');
  });

  it('the same layout, a plain image, an existing OUT (left as it was)', () => {
    const f = path('v7.qcow2');
    ok(['create', '-q', f, '-o', 'zone.mode=host-managed,zone.size=4M', '16M']);
    refused(['--zoned-layout', 'v7', f, path('o.qcow2')], 'already in the v7 layout');
    const plain = path('plain.qcow2');
    ok(['create', '-q', plain, '16M']);
    refused(['--zoned-layout', 'v8', plain, path('o.qcow2')], 'the image is not zoned');
    const existing = path('exists.qcow2');
    writeFileSync(existing, 'keep me');
    const r = qzs(['convert', '--zoned-layout', 'v8', f, existing]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the output file exists: convert never replaces a file');
    expect(readFileSync(existing, 'utf8')).toBe('keep me');
  });
});
