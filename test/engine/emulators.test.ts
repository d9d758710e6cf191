// The same zoned device elsewhere (shared/qcow2/emulators.ts): each emulator constraint with its text,
// from QEMU hw/nvme/ns.c nvme_ns_zoned_check_calc_geometry() and nvme_ns_check_constraints(), QEMU
// hw/nvme/ctrl.c nvme_check_params() (ZASL <= MDTS, MDTS vs IOV_MAX), Linux drivers/nvme/host/zns.c
// nvme_set_max_append() (append limit = 2^zasl pages of 4 KiB) and nvme_update_zone_info() (power-of-two
// zone size), and Linux drivers/block/null_blk/zoned.c null_init_zoned_dev().
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../electron/cli/io';
import { main } from '../../electron/cli/qzs';
import { validateCreateOptions } from '../../shared/qcow2/create-options';
import { emulatorGeometryFromCreate, nullBlk, nvmeZasl, qemuNvmeZns, virtioBlk, type EmulatorGeometry, type EmulatorTarget } from '../../shared/qcow2/emulators';
import { tmpDir } from '../helpers/qemu';

const MiB = 1 << 20;
const KiB = 1024;

const BASE: EmulatorGeometry = {
  deviceSize: 64 * MiB, zoneSize: 4 * MiB, zoneCapacity: 4 * MiB, nrZones: 16, conventionalZones: 0,
  maxOpenZones: 0, maxActiveZones: 0, maxAppendBytes: 64 * KiB, appendLimit: true, revision: 'v8',
};
const g = (o: Partial<EmulatorGeometry>): EmulatorGeometry => ({ ...BASE, ...o });
const messages = (t: EmulatorTarget, kind?: string) => t.issues.filter((i) => kind === undefined || i.kind === kind).map((i) => i.message);
const line = (t: EmulatorTarget) => t.lines[t.lines.length - 1];

describe('QEMU NVMe ZNS: zoned.zasl, a power-of-two number of 4 KiB pages', () => {
  it('64 KiB is 2^4 pages: zoned.zasl=4, nothing lost', () => {
    expect(nvmeZasl(BASE)).toEqual({ zasl: 4, mdts: 7, issues: [] });
    expect(line(qemuNvmeZns(BASE))).toContain('-device nvme,id=nvme0,serial=qzs0001,zoned.zasl=4 ');
  });
  it('a limit that is not a power-of-two multiple of the page takes the largest one below', () => {
    const r = nvmeZasl(g({ maxAppendBytes: 96 * KiB }));
    expect(r.zasl).toBe(4);
    expect(r.issues.map((i) => i.message)).toEqual(['max_append_bytes 98304 is not a power-of-two multiple of the 4 KiB page: zoned.zasl=4 allows 65536 bytes']);
  });
  it('below 8 KiB, and 0 (every append fails in the seed revision), have no ZASL', () => {
    expect(nvmeZasl(g({ maxAppendBytes: 4 * KiB })).issues[0].message).toContain('max_append_bytes 4096 is below 8 KiB, the smallest ZASL limit');
    expect(nvmeZasl(g({ maxAppendBytes: 0 })).issues[0].message).toContain('NVMe cannot forbid appends');
  });
  it('above the default MDTS (2^7 pages) the controller gets mdts too, as QEMU requires ZASL <= MDTS', () => {
    const r = nvmeZasl(g({ maxAppendBytes: MiB }));
    expect(r).toMatchObject({ zasl: 8, mdts: 8 });
    expect(r.issues[0].message).toContain('"zoned.zasl (Zone Append Size Limit) must be less than or equal to mdts (Maximum Data Transfer Size)"');
    expect(line(qemuNvmeZns(g({ maxAppendBytes: MiB })))).toContain('-device nvme,id=nvme0,serial=qzs0001,mdts=8,zoned.zasl=8 ');
  });
  it('above 2^9 pages QEMU refuses the MDTS ("mdts exceeds IOV_MAX"): the limit is cut to zoned.zasl=9', () => {
    const r = nvmeZasl(g({ maxAppendBytes: 8 * MiB, zoneSize: 16 * MiB, zoneCapacity: 16 * MiB }));
    expect(r).toMatchObject({ zasl: 9, mdts: 9 });
    expect(r.issues.map((i) => i.message).join('\n')).toContain('which QEMU refuses ("mdts exceeds IOV_MAX"): appends are limited to 2097152 bytes');
  });
  it('the respin has no append limit: zoned.zasl=0, the MDTS', () => {
    expect(nvmeZasl(g({ appendLimit: false, maxAppendBytes: 0 }))).toMatchObject({ zasl: 0, mdts: 7 });
  });
});

describe('QEMU NVMe ZNS: geometry and limits', () => {
  it('prints the namespace with zoned.zone_size, zoned.zone_capacity, zoned.max_open and zoned.max_active in bytes and counts', () => {
    const t = qemuNvmeZns(g({ zoneCapacity: 3 * MiB, maxOpenZones: 4, maxActiveZones: 6 }));
    expect(t.accepted).toBe(true);
    expect(line(t)).toContain('-device nvme-ns,drive=zns0,bus=nvme0,nsid=1,logical_block_size=512,physical_block_size=512,zoned=true,zoned.zone_size=4194304,zoned.zone_capacity=3145728,zoned.max_open=4,zoned.max_active=6');
    expect(t.lines[0]).toBe(`qemu-img create -f raw zns.raw ${64 * MiB}`);
  });
  it('refusals with QEMU\'s texts: capacity over size, max_open over max_active, a device smaller than a zone', () => {
    expect(messages(qemuNvmeZns(g({ zoneCapacity: 8 * MiB })), 'refused')).toEqual(['zone capacity 8388608B exceeds zone size 4194304B']);
    expect(messages(qemuNvmeZns(g({ maxOpenZones: 5, maxActiveZones: 3 })), 'refused')).toEqual(['max_open_zones (5) exceeds max_active_zones (3)']);
    const small = qemuNvmeZns(g({ deviceSize: 2 * MiB, nrZones: 1 }));
    expect(small.accepted).toBe(false);
    expect(messages(small, 'refused')).toContain('insufficient drive capacity, must be at least the size of one zone (4194304B)');
  });
  it('what does not carry over: the short last zone, conventional zones, a zone size Linux refuses, the data', () => {
    const t = qemuNvmeZns(g({ deviceSize: 62 * MiB, conventionalZones: 2, zoneSize: 3 * MiB, zoneCapacity: 3 * MiB, nrZones: 21 }));
    expect(messages(t, 'differs').join('\n')).toContain('the short last zone (2097152 bytes) is dropped');
    expect(messages(t, 'differs').join('\n')).toContain('2 conventional zone(s) become sequential: NVMe ZNS has no conventional zones');
    expect(messages(t, 'guest')).toEqual(['a Linux guest refuses the namespace: the zone size 3145728 is not a power of two (drivers/nvme/host/zns.c: "invalid zone size")']);
    expect(line(t)).toContain(' -device nvme-ns,');
    expect(t.lines[0]).toBe(`qemu-img create -f raw zns.raw ${20 * 3 * MiB}`);
  });
});

describe('null_blk configfs: sizes in MB', () => {
  it('the attributes: size, zoned, zone_size and zone_capacity in MB, zone_nr_conv, zone_max_open, zone_max_active', () => {
    const t = nullBlk(g({ zoneCapacity: 3 * MiB, conventionalZones: 2, maxOpenZones: 4, maxActiveZones: 6 }));
    expect(t.accepted).toBe(true);
    for (const l of ['echo 64 > /sys/kernel/config/nullb/qzs0/size', 'echo 1 > /sys/kernel/config/nullb/qzs0/zoned', 'echo 4 > /sys/kernel/config/nullb/qzs0/zone_size',
      'echo 3 > /sys/kernel/config/nullb/qzs0/zone_capacity', 'echo 2 > /sys/kernel/config/nullb/qzs0/zone_nr_conv', 'echo 4 > /sys/kernel/config/nullb/qzs0/zone_max_open',
      'echo 6 > /sys/kernel/config/nullb/qzs0/zone_max_active']) expect(t.lines).toContain(l);
  });
  it('refusals: a zone size that is not whole MB, one that is not a power of two, one larger than the device', () => {
    expect(messages(nullBlk(g({ zoneSize: 1536 * KiB, zoneCapacity: 1536 * KiB })), 'refused')).toEqual(['zone_size is in MB: 1572864 bytes is not a whole number of MB']);
    expect(messages(nullBlk(g({ zoneSize: 3 * MiB, zoneCapacity: 3 * MiB })), 'refused')).toEqual(['zone_size must be power-of-two']);
    expect(messages(nullBlk(g({ deviceSize: 2 * MiB, nrZones: 1 })), 'refused')).toEqual(['Zone size larger than device capacity']);
  });
  it('capacity and size in MB: rounded where that is possible, refused below 1 MB', () => {
    expect(messages(nullBlk(g({ zoneCapacity: 2560 * KiB })), 'differs')).toContain('zone_capacity is in MB: 2621440 bytes becomes 2 MB');
    expect(messages(nullBlk(g({ zoneCapacity: 512 * KiB })), 'refused')).toEqual(['zone_capacity is in MB: 524288 bytes is less than 1 MB (0 means the zone size)']);
    expect(messages(nullBlk(g({ deviceSize: 64 * MiB + 512 })), 'differs')).toContain('size is in MB: the device is 64 MB, 512 bytes shorter than the image');
  });
  it('limits as null_init_zoned_dev() adjusts them, with its messages', () => {
    expect(messages(nullBlk(g({ maxActiveZones: 16 })), 'differs')).toContain('zone_max_active limit disabled, limit >= zone count');
    expect(messages(nullBlk(g({ maxOpenZones: 16 })), 'differs')).toContain('zone_max_open limit disabled, limit >= zone count');
    expect(messages(nullBlk(g({ conventionalZones: 16 })), 'differs')).toContain('changed the number of conventional zones to 15');
    expect(messages(nullBlk(BASE), 'differs').join('\n')).toContain('null_blk has no append limit attribute: appends may be up to a zone (4194304 bytes), not 65536');
  });
});

describe('virtio-blk with the image itself, and the wizard\'s entry point', () => {
  it('everything carries over, given a QEMU with the zoned series of the image\'s revision', () => {
    const t = virtioBlk(g({ revision: 'v5-v7' }), 'drive.qcow2');
    expect(t.lines[0]).toBe('-blockdev driver=file,filename=drive.qcow2,node-name=zfile0 -blockdev driver=qcow2,file=zfile0,node-name=zqcow0 -device virtio-blk-pci,drive=zqcow0');
    expect(messages(t, 'requires')[0]).toContain('stock QEMU refuses the image (incompatible feature bit 5, "zoned")');
    expect(messages(t, 'requires')[0]).toContain('(v5-v7)');
  });
  it('emulatorGeometryFromCreate gives the Review step the geometry of the options it validated', () => {
    const v = validateCreateOptions({ options: { size: '64M', 'zone.mode': 'host-managed', 'zone.size': '4M', 'zone.capacity': '3M', 'zone.conventional_zones': '1', 'zone.max_open_zones': '20', 'zone.max_active_zones': '6', 'zone.max_append_bytes': '131072' }, zonedLayout: 'v8' });
    expect(v.normalized).not.toBeNull();
    const geo = v.normalized ? emulatorGeometryFromCreate(v.normalized) : null;
    // max_open is clamped to the sequential zones (15), then to max_active (6), as the v8 rules do.
    expect(geo).toMatchObject({ deviceSize: 64 * MiB, zoneSize: 4 * MiB, zoneCapacity: 3 * MiB, nrZones: 16, conventionalZones: 1, maxOpenZones: 6, maxActiveZones: 6, maxAppendBytes: 128 * KiB });
  });
});

describe('qzs info --emulators', () => {
  const dir = tmpDir();
  const run = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = { out: (t) => { stdout += t; }, err: (t) => { stderr += t; }, errIsTTY: false, stdin: Readable.from(['']) };
    return { status: await main(args, io), stdout, stderr };
  };
  it('prints the three targets of a zoned image (text and JSON); a plain image is an error', async () => {
    const f = dir.file('z.qcow2');
    expect((await run(['create', '--zoned-layout', 'v8', '-o', 'zone.mode=host-managed,zone.size=4M,zone.capacity=3M', f, '64M'])).status).toBe(0);
    const text = await run(['info', '--emulators', f]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('zoned.zone_size=4194304,zoned.zone_capacity=3145728');
    expect(text.stdout).toContain('echo 3 > /sys/kernel/config/nullb/qzs0/zone_capacity');
    const json = JSON.parse((await run(['info', '--emulators', '--json', f])).stdout) as { emulators: EmulatorTarget[] };
    expect(json.emulators.map((t) => t.id)).toEqual(['qemu-nvme-zns', 'null_blk', 'virtio-blk']);
    const plain = dir.file('plain.qcow2');
    expect((await run(['create', plain, '64M'])).status).toBe(0);
    const bad = await run(['info', '--emulators', plain]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('not a zoned image');
    dir.cleanup();
  });
});
