// qzs zones --format and qzs create --like, on images created by the seed's (v7) and the v8 rules and
// written through the engine's zone write path. The commands run in this process (the CLI's main() with a
// captured io, as fast as a library call); one round trip runs the built CLI (`npm run build:cli` first).
// The line formats themselves are specified in test/engine/zone-formats.test.ts from the tools' sources:
// util-linux sys-utils/blkzone.c blkzone_report(), nvme-cli nvme-print-json.c json_nvme_zns_report_zones(),
// libzbd tools/cli/zbd.c zbd_print_zone(); the device model from Linux drivers/nvme/host/zns.c
// nvme_zone_parse_entry() and drivers/scsi/sd_zbc.c sd_zbc_parse_report() (a full zone reports start + len).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../electron/cli/io';
import { main } from '../../electron/cli/qzs';
import { qzs as qzsBuilt } from '../helpers/cli';
import { tmpDir } from '../helpers/qemu';
import { SAMPLES } from '../helpers/samples';

const MiB = 1 << 20;

/** `qzs ARGS` in this process, stdin from `input`. */
async function qzs(args: string[], input = ''): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { out: (t) => { stdout += t; }, err: (t) => { stderr += t; }, errIsTTY: false, stdin: Readable.from([input]) };
  const status = await main(args, io);
  return { status, stdout, stderr };
}

async function qzsJson<T>(args: string[]): Promise<T> {
  const r = await qzs(args);
  if (r.status !== 0) throw new Error(`qzs ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
const dir = tmpDir();
afterAll(() => dir.cleanup());

interface ZoneJson { index: number; start: number; length: number; capacity: number; wp: number; 'wp-defined': boolean; 'wp-normalised': number | null; type: string; condition: string }
interface ZonesJson { zones: ZoneJson[]; findings: unknown[] }

/**
 * 10 zones of 4 MiB, capacity 3 MiB, 2 conventional, a short last zone of 2 MiB. Zone 0 is written at
 * 3.5 MiB (past zone_capacity, which binds sequential zones only); zone 2 closed, zone 3 full by writes,
 * zone 4 finished, zone 5 closed at 512 B, zone 6 opened and written, zone 9 full by writes.
 */
const SCRIPT = ['write 3670016 512', 'write 8M 128k', 'write 12M 3M', 'finish 4', 'write 20M 512', 'open 6', 'write 24M 4k', 'write 36M 2M'];

async function makeImage(layout: 'v7' | 'v8', name = `drive-${layout}.qcow2`): Promise<string> {
  const f = dir.file(name);
  const c = await qzs(['create', '--zoned-layout', layout, '-o', 'zone.mode=host-managed,zone.size=4M,zone.capacity=3M,zone.conventional_zones=2,zone.max_append_bytes=65536', f, '38M']);
  expect(c.status, c.stderr).toBe(0);
  const w = await qzs(['zone', f, '--script', '-'], SCRIPT.join('\n') + '\n');
  expect(w.status, w.stdout + w.stderr).toBe(0);
  return f;
}

describe.each(['v7', 'v8'] as const)('an image written by the %s rules', (layout) => {
  let img = '';
  beforeAll(async () => { img = await makeImage(layout); });

  it('the conventional write at 3.5 MiB landed: a conventional zone\'s capacity is its length', async () => {
    const out = await qzsJson<ZonesJson>(['zones', '--json', img]);
    expect(out.zones[0]).toEqual({ index: 0, start: 0, length: 4 * MiB, capacity: 4 * MiB, wp: 0, 'wp-defined': false, 'wp-normalised': null, type: 'conventional', condition: 'not-wp' });
  });

  it('json: "wp" stays the stored value, the model keys carry what Linux reports', async () => {
    const z = (await qzsJson<ZonesJson>(['zones', '--json', img])).zones;
    // Full by writes: stored start + capacity, reported start + length.
    expect(z[3]).toMatchObject({ wp: 15 * MiB, 'wp-defined': true, 'wp-normalised': 16 * MiB, capacity: 3 * MiB, condition: 'full' });
    // Finished: stored start + zone size (the classic finish), the same as reported.
    expect(z[4]).toMatchObject({ wp: 20 * MiB, 'wp-normalised': 20 * MiB, condition: 'full' });
    expect(z[2]).toMatchObject({ wp: 8 * MiB + 128 * 1024, 'wp-normalised': 8 * MiB + 128 * 1024, condition: 'closed' });
    // The open state of zone 6 is not stored: at rest it is closed.
    expect(z[6]).toMatchObject({ wp: 24 * MiB + 4096, condition: 'closed' });
    expect(z[9]).toMatchObject({ length: 2 * MiB, capacity: 2 * MiB, wp: 38 * MiB, 'wp-normalised': 38 * MiB, condition: 'full' });
  });

  it('human: "—" for a conventional zone, stored and kernel pointer for a zone full by writes', async () => {
    const lines = (await qzs(['zones', img])).stdout.split('\n');
    const row = (i: number) => lines[4 + i].trim().split(/\s{2,}/);
    expect(row(0)).toEqual(['0', '0 B', '4 MiB', '4 MiB', '—', 'not-wp', 'conventional']);
    expect(row(3)).toEqual(['3', '12 MiB', '4 MiB', '3 MiB', '15 MiB (kernel: 16 MiB)', 'full', 'sequential']);
    expect(row(4)).toEqual(['4', '16 MiB', '4 MiB', '3 MiB', '20 MiB', 'full', 'sequential']);
    const hex = (await qzs(['zones', '--units', 'hex', img])).stdout.split('\n');
    expect(hex[4 + 3].trim().split(/\s{2,}/)).toEqual(['3', '0x6000', '0x2000', '0x1800', '0x7800 (kernel: 0x8000)', 'full', 'sequential']);
  });

  it('blkzone, nvme-json and zbd print one zone per line (or entry), from --from for --count zones', async () => {
    const b = await qzs(['zones', '--format', 'blkzone', '--from', '3', '--count', '2', img]);
    expect(b.status).toBe(0);
    expect(b.stdout).toBe(
      '  start: 0x000006000, len 0x002000, cap 0x001800, wptr 0x002000 reset:0 non-seq:0, zcond:14(fu) [type: 2(SEQ_WRITE_REQUIRED)]\n' +
      '  start: 0x000008000, len 0x002000, cap 0x001800, wptr 0x002000 reset:0 non-seq:0, zcond:14(fu) [type: 2(SEQ_WRITE_REQUIRED)]\n');
    const n = JSON.parse((await qzs(['zones', '--format', 'nvme-json', img])).stdout) as { nr_zones: number; zone_list: { slba: number; wp: number; state: string }[] };
    expect(n.nr_zones).toBe(10);
    expect(n.zone_list[5]).toMatchObject({ slba: 20 * 2048, wp: 20 * 2048 + 1, state: 'CLOSED' });
    const z = (await qzs(['zones', '--format', 'zbd', img])).stdout.split('\n');
    expect(z[0]).toBe('Zone 00000: cnv, ofst 00000000000000, len 00000004194304, cap 00000004194304');
    expect(z[5]).toBe('Zone 00005: swr, ofst 00000020971520, len 00000004194304, cap 00000003145728, wp 00000020972032, cl, non_seq 0, reset 0');
  });

  it.each(['blkzone', 'nvme-json', 'zbd'])('round trip: zones --format %s, then create --like gives the same geometry and, with --with-write-pointers, the same report', async (format) => {
    const saved = dir.file(`${layout}.${format}`);
    const original = (await qzs(['zones', '--format', format, img])).stdout;
    writeFileSync(saved, original);
    const copy = dir.file(`${layout}-like-${format}.qcow2`);
    const c = await qzs(['create', '--zoned-layout', layout, '--like', saved, '--with-write-pointers', copy]);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toContain(`write pointers: 6 zone(s) restored from ${format}`);
    expect((await qzs(['zones', '--format', format, copy])).stdout).toBe(original);
    const a = (await qzsJson<ZonesJson>(['zones', '--json', img])).zones;
    const b = (await qzsJson<ZonesJson>(['zones', '--json', copy])).zones;
    const geometry = (zs: ZoneJson[]) => zs.map(({ start, length, capacity, type }) => ({ start, length, capacity, type }));
    expect(geometry(b)).toEqual(geometry(a));
    // Conditions and the pointer Linux reports agree; the stored pointer of the finished zone 4 differs
    // (written to capacity here, finished to the zone end there), which no guest can tell apart.
    expect(b.map((z) => [z.condition, z['wp-normalised']])).toEqual(a.map((z) => [z.condition, z['wp-normalised']]));
    // Without --with-write-pointers: the geometry only, every zone empty.
    const bare = dir.file(`${layout}-bare-${format}.qcow2`);
    expect((await qzs(['create', '--zoned-layout', layout, '--like', saved, bare])).status).toBe(0);
    const e = (await qzsJson<ZonesJson>(['zones', '--json', bare])).zones;
    expect(geometry(e)).toEqual(geometry(a));
    expect(e.slice(2).every((z) => z.condition === 'empty')).toBe(true);
  });
});

describe('qzs create --like refuses what qcow2 cannot represent, with the reason', async () => {
  const line = (startSect: number, lenSect: number, capSect: number, wptr: number, cond: string, type: string) =>
    `  start: 0x${startSect.toString(16).padStart(9, '0')}, len 0x${lenSect.toString(16).padStart(6, '0')}, cap 0x${capSect.toString(16).padStart(6, '0')}, wptr 0x${wptr.toString(16).padStart(6, '0')} reset:0 non-seq:0, zcond:${cond} [type: ${type}]`;
  const CONV = ['0(nw)', '1(CONVENTIONAL)'] as const;
  const SEQ = [' 1(em)', '2(SEQ_WRITE_REQUIRED)'] as const;
  const refusal = async (name: string, text: string) => {
    const f = dir.file(name);
    writeFileSync(f, text);
    const r = await qzs(['create', '--like', f, dir.file(`${name}.qcow2`)]);
    expect(r.status).toBe(2);
    return r.stderr;
  };

  it('non-uniform zone sizes', async () => {
    const text = [line(0, 0x2000, 0x2000, 0, ...CONV), line(0x2000, 0x1000, 0x1000, 0, ...SEQ), line(0x3000, 0x2000, 0x2000, 0, ...SEQ)].join('\n');
    expect(await refusal('sizes.txt', text)).toContain('non-uniform zone sizes: zone 1 is 2097152 bytes, zone 0 is 4194304: a qcow2 zoned image has one zone size (only the last zone may be shorter)');
  });

  it('a conventional zone after a sequential one', async () => {
    const text = [line(0, 0x2000, 0x2000, 0, ...SEQ), line(0x2000, 0x2000, 0x2000, 0, ...CONV)].join('\n');
    expect(await refusal('order.txt', text)).toContain('zone 1 is conventional after sequential zone 0: qcow2 keeps conventional zones first');
  });

  it('non-uniform capacities, and host-aware zones', async () => {
    const caps = [line(0, 0x2000, 0x1800, 0, ...SEQ), line(0x2000, 0x2000, 0x1000, 0, ...SEQ)].join('\n');
    expect(await refusal('caps.txt', caps)).toContain('non-uniform zone capacities: zone 1 has 2097152 bytes, zone 0 has 3145728');
    const swp = line(0, 0x2000, 0x2000, 0, ' 1(em)', '3(SEQ_WRITE_PREFERRED)');
    expect(await refusal('swp.txt', swp)).toContain('zone 0 is sequential-write-preferred (host-aware): qcow2\'s zoned extension is host-managed only');
  });

  it('an nvme report of one zone (no zone length in it), a file that is no report, SIZE beside --like', async () => {
    expect(await refusal('one.json', JSON.stringify({ nr_zones: 1, zone_list: [{ slba: 0, wp: 0, cap: 8192, state: 'EMPTY', type: 'SEQWRITE_REQ', attrs: 0, attrs_info: 0 }] })))
      .toContain('a report of one zone does not give the zone size');
    expect(await refusal('junk.txt', 'hello\n')).toContain('not a zone report we read');
    const f = dir.file('ok.txt');
    writeFileSync(f, [line(0, 0x2000, 0x2000, 0, ...SEQ), line(0x2000, 0x2000, 0x2000, 0, ...SEQ)].join('\n'));
    const r = await qzs(['create', '--like', f, dir.file('sized.qcow2'), '64M']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--like sets the size from the report (8388608 bytes): drop SIZE');
  });
});

describe('qzs create --like reads qemu-io zone reports and zbd -i headers', async () => {
  it('the reference sample\'s qemu-io zone_report: its geometry and write pointers (capacity as qemu-io prints it)', async () => {
    const copy = dir.file('mixed-like.qcow2');
    const r = await qzs(['create', '--zoned-layout', 'v8', '--like', join(SAMPLES, 'sample-v8-mixed.zone-report.txt'), '--with-write-pointers', copy]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("qemu-io's cap column is the zone length");
    const lines = readFileSync(join(SAMPLES, 'sample-v8-mixed.zone-report.txt'), 'utf8').trim().split('\n');
    const z = (await qzsJson<ZonesJson>(['zones', '--json', copy])).zones;
    expect(z).toHaveLength(lines.length);
    for (const [i, l] of lines.entries()) {
      const m = /start: (0x[0-9a-f]+), len (0x[0-9a-f]+), cap 0x[0-9a-f]+, wptr (0x[0-9a-f]+), zcond:(\d+)/.exec(l);
      expect(m).not.toBeNull();
      const [start, len, wptr, cond] = [Number(m?.[1]) * 512, Number(m?.[2]) * 512, Number(m?.[3]) * 512, Number(m?.[4])];
      expect(z[i]).toMatchObject({ start, length: len });
      // Full zones of the sample are written to the (reported) capacity, the zone length: start + len.
      if (cond === 14) expect(z[i]).toMatchObject({ wp: start + len, condition: 'full' });
      else if (z[i].type === 'sequential') expect(z[i].wp).toBe(wptr);
    }
  });

  it('zbd report -i: the device header\'s open and active limits are taken', async () => {
    const f = dir.file('zbd-i.txt');
    writeFileSync(f, [
      'Device /dev/nullb0:', '    Vendor ID: nullb', '    Zone model: host-managed', '    Capacity: 0.017 GB (32768 512-bytes sectors)',
      '    Logical blocks: 32768 blocks of 512 B', '    Physical blocks: 32768 blocks of 512 B', '    Zones: 4 zones of 4.0 MB',
      '    Maximum number of open zones: 2', '    Maximum number of active zones: 3',
      'Zone 00000: cnv, ofst 00000000000000, len 00000004194304, cap 00000004194304',
      ...[1, 2, 3].map((i) => `Zone 0000${i}: swr, ofst ${String(i * 4 * MiB).padStart(14, '0')}, len 00000004194304, cap 00000004194304, wp ${String(i * 4 * MiB).padStart(14, '0')}, em, non_seq 0, reset 0`),
    ].join('\n') + '\n');
    const r = await qzs(['create', '--zoned-layout', 'v8', '--like', f, '--dry-run', '--json', dir.file('nullb.qcow2')]);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { options: { zoned: Record<string, number> } }).options.zoned).toMatchObject({ zoneSize: 4 * MiB, conventionalZones: 1, maxOpenZones: 2, maxActiveZones: 3 });
  });
});

describe('the built CLI', () => {
  it('bin/qzs.js: zones --format blkzone, then create --like --with-write-pointers, reports the same zones', async () => {
    const img = await makeImage('v8', 'built.qcow2');
    const saved = dir.file('built.blkzone');
    const original = qzsBuilt(['zones', '--format', 'blkzone', img]);
    expect(original.status, original.stderr).toBe(0);
    writeFileSync(saved, original.stdout);
    const copy = dir.file('built-like.qcow2');
    expect(qzsBuilt(['create', '--zoned-layout', 'v8', '--like', saved, '--with-write-pointers', copy]).status).toBe(0);
    expect(qzsBuilt(['zones', '--format', 'blkzone', copy]).stdout).toBe(original.stdout);
  });
});
