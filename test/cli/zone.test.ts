// `qzs zone` as users run it (the built CLI): single operations, scripts from a file and from stdin,
// --json step objects, the data pattern, exit codes; the written image judged by qemu-io/qemu-img.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternBytes } from '../../shared/qcow2/zone-script';
import { buildZonedImage, withoutBit5 } from '../helpers/zoned-builder';
import { fileBytes, qemuCheck } from '../helpers/image-oracle';
import { qzs } from '../helpers/cli';
import { qemuImg, qemuIo, tmpDir } from '../helpers/qemu';

const tmp = tmpDir('qzs-cli-zone-');
afterAll(() => tmp.cleanup());
beforeAll(() => {
  // The tests run the built CLI; build it when it is missing (the suite runner builds it first).
  if (qzs(['--version']).status !== 0) throw new Error('build the CLI first: npm run build:cli');
});

const MiB = 1024 * 1024;
let n = 0;
let zmClusters = 0;

function image(): string {
  const b = buildZonedImage({ layout: 'v8', virtualSize: 8 * MiB, zoneSize: MiB, zoneCapacity: 512 * 1024, conventionalZones: 1, maxOpenZones: 2, maxActiveZones: 3, maxAppendBytes: 64 * 1024, clusterBits: 16 });
  zmClusters = b.zonedmetaClusters;
  const p = tmp.file(`z${n++}.qcow2`);
  writeFileSync(p, b.bytes);
  return p;
}

interface StepJson { step: number; op: string; ok: boolean; error: { code: string; message: string; details?: Record<string, unknown> } | null; offset: number | null; zones?: { index: number; condition: string; wp: number }[] }
const lines = (out: string): StepJson[] => out.trim().split('\n').map((l) => JSON.parse(l) as StepJson);

describe('qzs zone: one operation', () => {
  it('append returns where the data landed; the pattern is what QEMU reads there', () => {
    const img = image();
    const r = qzs(['zone', img, 'append', '2', '--bytes', '8k', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([{ step: 1, op: 'append 2 8k', ok: true, error: null, offset: 2 * MiB }]);
    const copy = tmp.file(`c${n++}.qcow2`);
    writeFileSync(copy, withoutBit5(fileBytes(img)));
    const raw = tmp.file(`c${n++}.raw`);
    qemuImg(['convert', '-f', 'qcow2', '-O', 'raw', copy, raw]);
    expect(Buffer.from(fileBytes(raw).subarray(2 * MiB, 2 * MiB + 8192)).equals(Buffer.from(patternBytes(2 * MiB, 8192)))).toBe(true);
    const v = qemuCheck(copy);
    expect(v.corruptions).toBe(0);
    expect(v.leaks).toBe(zmClusters);
  });

  it('--data FILE writes the file\'s bytes; human output names the offset', () => {
    const img = image();
    const data = tmp.file(`d${n++}.bin`);
    writeFileSync(data, Buffer.alloc(4096, 0x7e));
    const r = qzs(['zone', img, 'write', '3M', '--data', data]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`1: write 3M 4096: ok, data at ${3 * MiB} (0x300000)\n`);
    const copy = tmp.file(`c${n++}.qcow2`);
    writeFileSync(copy, withoutBit5(fileBytes(img)));
    expect(qemuIo(copy, ['read -P 0x7e 3M 4k'])).not.toMatch(/Pattern verification failed/);
  });

  it('an illegal operation exits 1 with a typed error and leaves the file unchanged', () => {
    const img = image();
    const before = fileBytes(img);
    const r = qzs(['zone', img, 'write', '2M', '--bytes', '4k', '--json']);
    expect(r.status).toBe(0);
    const bad = qzs(['zone', img, 'write', '2M', '--bytes', '4k', '--json']);
    expect(bad.status).toBe(1);
    const [step] = lines(bad.stdout);
    expect(step).toMatchObject({ ok: false, offset: null, error: { code: 'zone-error', details: { kind: 'not-at-write-pointer', zone: 2, condition: 'closed', wp: 2 * MiB + 4096 } } });
    const after = fileBytes(img);
    const again = qzs(['zone', img, 'finish', '0']);
    expect(again.status).toBe(1);
    expect(again.stdout).toMatch(/zone 0 is conventional/);
    expect(fileBytes(img).equals(after)).toBe(true);
    expect(before.equals(after)).toBe(false);
  });

  it('usage errors exit 2: unknown op, missing length, both --bytes and --data', () => {
    const img = image();
    expect(qzs(['zone', img, 'explode', '1']).status).toBe(2);
    expect(qzs(['zone', img, 'append', '2']).status).toBe(2);
    expect(qzs(['zone', img, 'append', '2', '--bytes', '1k', '--data', img]).status).toBe(2);
    expect(qzs(['zone', img, 'open']).status).toBe(2);
  });

  it('a non-zoned image exits 1 with a readable error', () => {
    const p = tmp.file(`plain${n++}.qcow2`);
    qemuImg(['create', '-f', 'qcow2', p, '1M']);
    const r = qzs(['zone', p, 'open', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not a zoned image/);
  });
});

describe('qzs zone --script', () => {
  const script = [
    '# limits carry from step to step',
    'open 2',
    'open 3',
    'append 4 4k      # third open zone: over max_open, both others explicit',
    'close 3',
    'append 4 4k',
    'append 4 512',
    'write 1M 8k',
    'write 100 1000   # conventional: anywhere',
    'finish 5',
    'report',
    'reset-all',
    'report',
    '',
  ].join('\n');

  it('runs every step, a failed one does not stop it, report shows open states', () => {
    const img = image();
    const sf = tmp.file(`s${n++}.txt`);
    writeFileSync(sf, script);
    const r = qzs(['zone', img, '--script', sf, '--json']);
    expect(r.status).toBe(1);
    const out = lines(r.stdout);
    expect(out.map((s) => [s.op, s.ok])).toEqual([
      ['open 2', true], ['open 3', true], ['append 4 4k', false], ['close 3', true], ['append 4 4k', true],
      ['append 4 512', true], ['write 1M 8k', true], ['write 100 1000', true], ['finish 5', false], ['report', true], ['reset-all', true], ['report', true],
    ]);
    expect(out[2].error).toMatchObject({ code: 'zone-error', details: { kind: 'open-limit', zone: 4, limit: 2 } });
    expect(out[4].offset).toBe(4 * MiB);
    expect(out[5].offset).toBe(4 * MiB + 4096);
    expect(out[8].error).toMatchObject({ details: { kind: 'active-limit', limit: 3 } });
    // write 1M needed an open slot: zone 4, the least recently written implicit zone, was closed.
    expect((out[9].zones ?? []).map((z) => z.condition)).toEqual(['not-wp', 'implicit-open', 'explicit-open', 'empty', 'closed', 'empty', 'empty', 'empty']);
    expect(out[9]).toMatchObject({ step: 10, ok: true, error: null, offset: null });
    expect((out[11].zones ?? []).map((z) => z.condition)).toEqual(['not-wp', ...Array(7).fill('empty')]);
    expect((out[11].zones ?? []).map((z) => z.wp)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => i * MiB));
  });

  it('reads the script from stdin; syntax errors exit 2 before anything runs', () => {
    const img = image();
    const r = qzs(['zone', img, '--script', '-'], 'append 3 1k\nreport\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^1: append 3 1k: ok, data at 3145728/);
    expect(r.stdout).toMatch(/3\s+3145728\s+1048576\s+524288\s+3146752\s+implicit-open/);
    const before = fileBytes(img);
    const bad = qzs(['zone', img, '--script', '-'], 'append 3 1k\nfrobnicate 2\n');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/line 2: "frobnicate 2": unknown operation/);
    expect(fileBytes(img).equals(before)).toBe(true);
  });
});
