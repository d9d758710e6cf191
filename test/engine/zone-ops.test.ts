// Zone operations on real files: every transition of ZONED-FORMAT.md section 4 (with the section 9 "We do"
// corrections), every illegal operation as a typed error that leaves the file byte-for-byte unchanged.
import { copyFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Qcow2Error } from '../../shared/qcow2/findings';
import type { ZoneCondition } from '../../shared/qcow2/zoned-types';
import type { ZoneOp } from '../../shared/qcow2/zone-state';
import { ZonedDevice } from '../../electron/engine/zoned-device';
import { buildZonedImage, withoutBit5, type ZonedImageSpec } from '../helpers/zoned-builder';
import { fileBytes, fill, qemuCheck } from '../helpers/image-oracle';
import { qemuIo, tmpDir } from '../helpers/qemu';
import { sample } from '../helpers/samples';

const tmp = tmpDir('qzs-zoneops-');
afterAll(() => tmp.cleanup());

const MiB = 1024 * 1024;
const KiB = 1024;
let n = 0;

/** 10 zones of 1 MiB (capacity 768 KiB), 2 conventional, max open 2, max active 3, max append 64 KiB. */
const BASE: ZonedImageSpec = {
  layout: 'v5-v7', virtualSize: 10 * MiB, zoneSize: MiB, zoneCapacity: 768 * KiB, conventionalZones: 2,
  maxOpenZones: 2, maxActiveZones: 3, maxAppendBytes: 64 * KiB, clusterBits: 16,
};

function image(spec: Partial<ZonedImageSpec> = {}): { path: string; zonedmetaOffset: number; zonedmetaClusters: number } {
  const b = buildZonedImage({ ...BASE, ...spec });
  const path = tmp.file(`z${n++}.qcow2`);
  writeFileSync(path, b.bytes);
  return { path, zonedmetaOffset: b.zonedmetaOffset, zonedmetaClusters: b.zonedmetaClusters };
}

async function device(spec: Partial<ZonedImageSpec> = {}): Promise<{ dev: ZonedDevice; path: string; zm: number; zmClusters: number }> {
  const img = image(spec);
  return { dev: await ZonedDevice.open(img.path, { durable: false }), path: img.path, zm: img.zonedmetaOffset, zmClusters: img.zonedmetaClusters };
}

const conds = (dev: ZonedDevice): ZoneCondition[] => dev.report().map((z) => z.condition);
const data = (len: number, b = 0x5a): Uint8Array => fill(len, b);

/** qemu-img check on a copy with bit 5 cleared: no corruption, only the zonedmeta clusters leaked. */
function expectOracleClean(path: string, zmClusters: number): void {
  const copy = tmp.file(`oracle${n++}.qcow2`);
  writeFileSync(copy, withoutBit5(fileBytes(path)));
  const v = qemuCheck(copy);
  expect(v.corruptions, v.raw).toBe(0);
  expect(v.leaks, v.raw).toBe(zmClusters);
}

function wpOnDisk(path: string, zm: number, i: number, le = true): number {
  const b = fileBytes(path);
  return Number(le ? b.readBigUInt64LE(zm + 8 * i) : b.readBigUInt64BE(zm + 8 * i));
}

describe('transitions', () => {
  it('write at the write pointer: empty -> implicit-open -> full; WP persisted little-endian; data readable', async () => {
    const { dev, path, zm, zmClusters } = await device();
    await dev.write(2 * MiB, data(64 * KiB, 0x11));
    expect(conds(dev)[2]).toBe('implicit-open');
    expect(wpOnDisk(path, zm, 2)).toBe(2 * MiB + 64 * KiB);
    await dev.write(2 * MiB + 64 * KiB, data(704 * KiB, 0x22));
    expect(conds(dev)[2]).toBe('full');
    expect(dev.state.counts()).toMatchObject({ open: 0, active: 0 });
    expect(await dev.read(2 * MiB, 64 * KiB)).toEqual(data(64 * KiB, 0x11));
    await dev.close();
    const copy = tmp.file(`read${n++}.qcow2`);
    writeFileSync(copy, withoutBit5(fileBytes(path)));
    expect(qemuIo(copy, ['read -P 0x11 2M 64k', 'read -P 0x22 2112k 704k', 'read -P 0 2880k 256k'])).not.toMatch(/Pattern verification failed/);
    expectOracleClean(path, zmClusters);
  });

  it('explicit open, write keeps it explicit, close re-derives closed or empty', async () => {
    const { dev } = await device();
    await dev.openZone(3);
    await dev.openZone(4);
    expect(conds(dev).slice(3, 5)).toEqual(['explicit-open', 'explicit-open']);
    await dev.write(3 * MiB, data(4096));
    expect(conds(dev)[3]).toBe('explicit-open');
    await dev.closeZone(3);
    await dev.closeZone(4);
    expect(conds(dev).slice(3, 5)).toEqual(['closed', 'empty']);
    expect(dev.state.counts()).toMatchObject({ open: 0, active: 1, closed: 1 });
    await dev.close();
  });

  it('open of an implicitly open zone makes it explicit; close of an implicit zone closes it; no-ops', async () => {
    const { dev } = await device();
    await dev.write(5 * MiB, data(512));
    await dev.openZone(5);
    expect(conds(dev)[5]).toBe('explicit-open');
    await dev.openZone(5); // explicit-open: no-op (section 9 item 2)
    await dev.write(6 * MiB, data(512));
    await dev.closeZone(6);
    expect(conds(dev)[6]).toBe('closed');
    await dev.closeZone(6);
    await dev.closeZone(7); // empty: no-op
    await dev.finishZone(6);
    await dev.openZone(6); // full: no-op, stays full (section 9 item 1)
    expect(conds(dev).slice(5, 8)).toEqual(['explicit-open', 'full', 'empty']);
    await dev.close();
  });

  it('finish sets the WP to start + zone size from empty, closed and open; full is a no-op', async () => {
    const { dev, path, zm } = await device();
    await dev.finishZone(2); // empty
    await dev.write(3 * MiB, data(512));
    await dev.closeZone(3);
    await dev.finishZone(3); // closed
    await dev.write(4 * MiB, data(512));
    await dev.finishZone(4); // implicit-open
    await dev.finishZone(4); // full: no-op
    expect(conds(dev).slice(2, 5)).toEqual(['full', 'full', 'full']);
    for (const i of [2, 3, 4]) expect(wpOnDisk(path, zm, i)).toBe((i + 1) * MiB);
    await dev.close();
  });

  it('reset rewinds the WP and frees the clusters; reset-all does every sequential zone', async () => {
    const { dev, path, zm, zmClusters } = await device();
    await dev.write(2 * MiB, data(768 * KiB, 1));
    await dev.write(3 * MiB, data(128 * KiB, 2));
    await dev.write(0, data(64 * KiB, 3)); // conventional
    const grown = fileBytes(path).length;
    await dev.resetZone(2);
    expect(conds(dev)[2]).toBe('empty');
    expect(wpOnDisk(path, zm, 2)).toBe(2 * MiB);
    expect(await dev.read(2 * MiB, 768 * KiB)).toEqual(new Uint8Array(768 * KiB));
    // The 12 freed clusters are reused: the file does not grow.
    await dev.write(4 * MiB, data(768 * KiB, 4));
    expect(fileBytes(path).length).toBe(grown);
    await dev.resetAll();
    expect(conds(dev)).toEqual(['not-wp', 'not-wp', ...Array<ZoneCondition>(8).fill('empty')]);
    expect(await dev.read(0, 64 * KiB)).toEqual(data(64 * KiB, 3)); // conventional untouched
    await dev.resetZone(5); // empty: no-op
    await dev.close();
    expectOracleClean(path, zmClusters);
  });

  it('append lands at the write pointer and returns it (section 9 item 12)', async () => {
    const { dev } = await device();
    expect(await dev.append(4, data(8 * KiB, 0xa1))).toBe(4 * MiB);
    expect(await dev.append(4, data(4 * KiB, 0xa2))).toBe(4 * MiB + 8 * KiB);
    expect(await dev.read(4 * MiB + 8 * KiB, 4 * KiB)).toEqual(data(4 * KiB, 0xa2));
    expect(dev.report()[4]).toMatchObject({ wp: 4 * MiB + 12 * KiB, condition: 'implicit-open' });
    await dev.close();
  });

  it('at max_open the least recently written implicit zone is closed (writes and explicit open)', async () => {
    const { dev } = await device({ maxActiveZones: 8, maxOpenZones: 2 });
    await dev.write(2 * MiB, data(512));
    await dev.write(3 * MiB, data(512));
    await dev.write(2 * MiB + 512, data(512)); // zone 2 is now the most recent
    const r = await dev.run({ op: 'write', offset: 4 * MiB, length: 512 }, data(512));
    expect(r.implicitlyClosed).toEqual([3]);
    expect(conds(dev).slice(2, 5)).toEqual(['implicit-open', 'closed', 'implicit-open']);
    const o = await dev.run({ op: 'open', zone: 5 });
    expect(o.implicitlyClosed).toEqual([2]);
    expect(conds(dev).slice(2, 6)).toEqual(['closed', 'closed', 'implicit-open', 'explicit-open']);
    await dev.close();
  });

  it('conventional zones take writes anywhere and never move a write pointer', async () => {
    const { dev, path, zm } = await device();
    const before = [wpOnDisk(path, zm, 0), wpOnDisk(path, zm, 1)];
    await dev.write(MiB + 12345, data(1000));
    await dev.write(100, data(MiB)); // across the two conventional zones
    expect([wpOnDisk(path, zm, 0), wpOnDisk(path, zm, 1)]).toEqual(before);
    expect(conds(dev).slice(0, 2)).toEqual(['not-wp', 'not-wp']);
    await dev.close();
  });

  it('a short last zone has capacity min(capacity, length), fills, finishes and resets', async () => {
    const { dev, path, zm } = await device({ virtualSize: 9 * MiB + 512 * KiB, maxOpenZones: 0, maxActiveZones: 0 });
    expect(dev.report()[9]).toMatchObject({ length: 512 * KiB, capacity: 512 * KiB });
    await dev.write(9 * MiB, data(512 * KiB));
    expect(conds(dev)[9]).toBe('full');
    await dev.resetZone(9);
    expect(conds(dev)[9]).toBe('empty');
    await dev.finishZone(9);
    expect(wpOnDisk(path, zm, 9)).toBe(10 * MiB); // start + zone_size, as QEMU
    expect(conds(dev)[9]).toBe('full');
    await dev.close();
  });

  it('closing the image drops open states: reopened, written zones are closed', async () => {
    const { dev, path } = await device();
    await dev.openZone(2);
    await dev.write(3 * MiB, data(512));
    await dev.close();
    const again = await ZonedDevice.open(path, { durable: false });
    expect(conds(again).slice(2, 4)).toEqual(['empty', 'closed']);
    await again.close();
  });

  it('big-endian write pointers are detected and kept', async () => {
    const { dev, path, zm } = await device({ wpOrder: 'big-endian' });
    expect(dev.wpByteOrder).toBe('big-endian');
    await dev.write(2 * MiB, data(4096));
    await dev.close();
    expect(wpOnDisk(path, zm, 2, false)).toBe(2 * MiB + 4096);
  });

  it('limits are the effective ones: max_open without max_active is clamped to 0 (no limit), as v8 does', async () => {
    const { dev } = await device({ maxActiveZones: 0, maxOpenZones: 2 });
    for (const z of [2, 3, 4, 5]) await dev.write(z * MiB, data(512));
    expect(dev.state.counts()).toMatchObject({ open: 4, implicitOpen: 4 });
    await dev.close();
  });

  it('the v8 sample written by patched QEMU: ops continue from its state', async () => {
    const path = tmp.file(`sample${n++}.qcow2`);
    copyFileSync(sample('sample-v8-mixed.qcow2'), path);
    const dev = await ZonedDevice.open(path, { durable: false });
    expect(conds(dev)).toEqual(['not-wp', 'not-wp', 'closed', 'closed', 'full', 'full', 'closed', 'empty', 'empty', 'empty']);
    // Zone 2 (4 MiB zones) holds 128 KiB of 0x33 from its start; append after it.
    expect(await dev.append(2, data(4096, 0x66))).toBe(8 * MiB + 128 * KiB);
    expect(await dev.read(8 * MiB, 128 * KiB)).toEqual(data(128 * KiB, 0x33));
    expect(await dev.read(8 * MiB + 128 * KiB, 4096)).toEqual(data(4096, 0x66));
    await dev.resetZone(4);
    await dev.close();
    expectOracleClean(path, 1);
  });
});

describe('illegal operations: typed error, nothing changes on disk or in memory', () => {
  async function expectRefused(dev: ZonedDevice, path: string, op: ZoneOp, match: Record<string, unknown>, bytes?: Uint8Array): Promise<Qcow2Error> {
    const before = fileBytes(path);
    const report = JSON.stringify(dev.report());
    const err = await dev.run(op, bytes ?? ('length' in op ? data(op.length) : undefined)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Qcow2Error);
    expect(err).toMatchObject(match);
    expect(fileBytes(path).equals(before)).toBe(true);
    expect(JSON.stringify(dev.report())).toBe(report);
    return err as Qcow2Error;
  }

  it('write off the write pointer', async () => {
    const { dev, path } = await device();
    await dev.write(2 * MiB, data(4096));
    const e = await expectRefused(dev, path, { op: 'write', offset: 2 * MiB + 8192, length: 512 }, { code: 'zone-error', details: { kind: 'not-at-write-pointer', zone: 2, condition: 'implicit-open', wp: 2 * MiB + 4096 } });
    expect(e.message).toContain('zone 2');
    await dev.close();
  });

  it('write past the capacity, and a write to a full zone', async () => {
    const { dev, path } = await device();
    await expectRefused(dev, path, { op: 'write', offset: 2 * MiB, length: 768 * KiB + 512 }, { details: { kind: 'past-capacity', zone: 2, condition: 'empty', capacity: 768 * KiB } });
    await dev.finishZone(3);
    await expectRefused(dev, path, { op: 'write', offset: 3 * MiB, length: 512 }, { details: { kind: 'zone-full', zone: 3, condition: 'full' } });
    // A finished zone's write pointer is its end, which is the next zone's start: an append to the finished
    // zone must be refused as full, not land in (or be blamed on) the next zone.
    await expectRefused(dev, path, { op: 'append', zone: 3, length: 512 }, { details: { kind: 'zone-full', zone: 3, condition: 'full' } });
    await dev.close();
  });

  it('append over max_append_bytes, append unaligned, append with max_append_bytes 0', async () => {
    const { dev, path } = await device();
    await expectRefused(dev, path, { op: 'append', zone: 2, length: 64 * KiB + 512 }, { details: { kind: 'append-too-large', limit: 64 * KiB, length: 64 * KiB + 512 } });
    await expectRefused(dev, path, { op: 'append', zone: 2, length: 1000 }, { details: { kind: 'unaligned' } });
    await dev.close();
    const z = await device({ maxAppendBytes: 0 });
    await expectRefused(z.dev, z.path, { op: 'append', zone: 2, length: 512 }, { details: { kind: 'append-too-large', limit: 0 } });
    await z.dev.close();
  });

  it('management ops and append on a conventional zone; a write crossing into a sequential zone', async () => {
    const { dev, path } = await device();
    for (const op of ['open', 'close', 'finish', 'reset'] as const) {
      await expectRefused(dev, path, { op, zone: 1 }, { details: { kind: 'conventional', zone: 1, condition: 'not-wp' } });
    }
    await expectRefused(dev, path, { op: 'append', zone: 0, length: 512 }, { details: { kind: 'conventional' } });
    await expectRefused(dev, path, { op: 'write', offset: 2 * MiB - 512, length: 1024 }, { details: { kind: 'crosses-zone', zone: 1, boundary: 2 * MiB } });
    await expectRefused(dev, path, { op: 'open', zone: 10 }, { details: { kind: 'out-of-range', nrZones: 10 } });
    await dev.close();
  });

  it('over max_open when every open zone is explicitly open (section 9 item 3)', async () => {
    const { dev, path } = await device({ maxActiveZones: 8 });
    await dev.openZone(2);
    await dev.openZone(3);
    await expectRefused(dev, path, { op: 'write', offset: 4 * MiB, length: 512 }, { details: { kind: 'open-limit', zone: 4, limit: 2, open: 2 } });
    await expectRefused(dev, path, { op: 'open', zone: 4 }, { details: { kind: 'open-limit', zone: 4, limit: 2 } }); // section 9 item 4
    await dev.close();
  });

  it('over max_active: write, open and finish of an empty zone (section 9 item 5)', async () => {
    const { dev, path } = await device({ maxOpenZones: 0, maxActiveZones: 3 });
    for (const z of [2, 3, 4]) await dev.write(z * MiB, data(512));
    for (const z of [2, 3]) await dev.closeZone(z);
    const match = { details: { kind: 'active-limit', zone: 5, condition: 'empty', limit: 3, active: 3 } };
    await expectRefused(dev, path, { op: 'write', offset: 5 * MiB, length: 512 }, match);
    await expectRefused(dev, path, { op: 'open', zone: 5 }, match);
    await expectRefused(dev, path, { op: 'finish', zone: 5 }, match);
    // A full zone is not active (section 9 item 7): finishing one frees a resource.
    await dev.finishZone(2);
    await dev.write(5 * MiB, data(512));
    await dev.close();
  });

  it('a refused write has no side effect: the LRU zone stays open (section 9 item 6)', async () => {
    const { dev, path } = await device({ maxActiveZones: 8 });
    await dev.write(2 * MiB, data(512));
    await dev.write(3 * MiB, data(512));
    await expectRefused(dev, path, { op: 'write', offset: 4 * MiB, length: MiB }, { details: { kind: 'past-capacity' } });
    expect(conds(dev).slice(2, 4)).toEqual(['implicit-open', 'implicit-open']);
    await dev.close();
  });

  it('unaligned sequential writes and wrong data length', async () => {
    const { dev, path } = await device();
    await expectRefused(dev, path, { op: 'write', offset: 2 * MiB, length: 100 }, { details: { kind: 'unaligned' } });
    await expectRefused(dev, path, { op: 'write', offset: 2 * MiB, length: 512 }, { code: 'invalid-argument' }, data(100));
    await dev.close();
  });

  it('read-only image: every op refused with a read-only error', async () => {
    const img = image();
    const dev = await ZonedDevice.open(img.path, { readOnly: true });
    await expectRefused(dev, img.path, { op: 'open', zone: 2 }, { code: 'read-only' });
    await expectRefused(dev, img.path, { op: 'append', zone: 2, length: 512 }, { code: 'read-only' });
    await dev.close();
  });

  it('corrupt bit set: the device does not open, the file is unchanged', async () => {
    const img = image();
    const b = fileBytes(img.path);
    b[79] |= 2;
    writeFileSync(img.path, b);
    await expect(ZonedDevice.open(img.path)).rejects.toMatchObject({ code: 'read-only', details: { bit: 1 } });
    expect(fileBytes(img.path).equals(b)).toBe(true);
  });

  it('a plain image is not a zoned device', async () => {
    const img = image({ mode: 0 });
    await expect(ZonedDevice.open(img.path)).rejects.toMatchObject({ code: 'unsupported-feature' });
  });
});
