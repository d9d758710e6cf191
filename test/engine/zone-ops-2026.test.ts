// Zone operations on v11-family and respin images (ZONED-REVISIONS-2026.md section 4c): write pointers
// persisted big-endian with bit 63 left to the conventional entries, and the semantic differences taken from
// the revision's ZoneSemantics (finish to the writable end, open of a full zone refused, no append limit on
// the respin), each refusal naming the revision. The classic revisions keep their behaviour.
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { ZonedDevice } from '../../electron/engine/zoned-device';
import { buildZonedImage, withoutBit5, type ZonedImageSpec } from '../helpers/zoned-builder';
import { fileBytes, fill, qemuCheck } from '../helpers/image-oracle';
import { tmpDir } from '../helpers/qemu';

const tmp = tmpDir('qzs-zoneops26-');
afterAll(() => tmp.cleanup());
const MiB = 1024 * 1024;
const KiB = 1024;
let n = 0;

/** 10 zones of 1 MiB (capacity 768 KiB), the last one 512 KiB, 2 conventional. */
function spec(layout: 'v11' | 'respin' | 'v8'): ZonedImageSpec {
  return {
    layout, virtualSize: 9 * MiB + 512 * KiB, zoneSize: MiB, zoneCapacity: 768 * KiB, conventionalZones: 2,
    maxOpenZones: 2, maxActiveZones: 3, maxAppendBytes: layout === 'respin' ? undefined : 64 * KiB, clusterBits: 16,
  };
}

async function device(layout: 'v11' | 'respin' | 'v8') {
  const b = buildZonedImage(spec(layout));
  const path = tmp.file(`z${n++}.qcow2`);
  writeFileSync(path, b.bytes);
  return { dev: await ZonedDevice.open(path, { durable: false }), path, zm: b.zonedmetaOffset, zmClusters: b.zonedmetaClusters };
}

const raw = (path: string, zm: number, i: number, be: boolean): bigint => {
  const b = fileBytes(path);
  return be ? b.readBigUInt64BE(zm + 8 * i) : b.readBigUInt64LE(zm + 8 * i);
};

async function zoneError(p: Promise<unknown>): Promise<Qcow2Error> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(Qcow2Error);
  return e as Qcow2Error;
}

describe.each(['v11', 'respin'] as const)('%s images', (layout) => {
  it('writes persist big-endian write pointers; conventional entries keep bit 63; qemu-img sees no corruption', async () => {
    const { dev, path, zm, zmClusters } = await device(layout);
    expect(dev.wpByteOrder).toBe('big-endian');
    await dev.write(2 * MiB, fill(64 * KiB, 0x11));
    expect(raw(path, zm, 2, true)).toBe(BigInt(2 * MiB + 64 * KiB));
    expect(raw(path, zm, 1, true)).toBe(BigInt(MiB) | (1n << 63n));
    expect(Array.from(await dev.read(2 * MiB, 4))).toEqual([0x11, 0x11, 0x11, 0x11]);
    await dev.close();
    const reopened = await ZonedDevice.open(path, { durable: false });
    expect(reopened.report()[2]).toMatchObject({ condition: 'closed', wp: 2 * MiB + 64 * KiB });
    await reopened.close();
    const copy = tmp.file(`oracle${n++}.qcow2`);
    writeFileSync(copy, withoutBit5(fileBytes(path)));
    const v = qemuCheck(copy);
    expect(v.corruptions, v.raw).toBe(0);
    expect(v.leaks, v.raw).toBe(zmClusters);
  });

  it('finish sets start + capacity, capped at the device end for the short last zone', async () => {
    const { dev, path, zm } = await device(layout);
    await dev.finishZone(3);
    expect(dev.report()[3]).toMatchObject({ condition: 'full', wp: 3 * MiB + 768 * KiB });
    expect(raw(path, zm, 3, true)).toBe(BigInt(3 * MiB + 768 * KiB));
    await dev.finishZone(9);
    expect(dev.report()[9]).toMatchObject({ condition: 'full', wp: 9 * MiB + 512 * KiB, length: 512 * KiB, capacity: 512 * KiB });
    await dev.close();
  });

  it('opening a full zone is refused, naming the revision', async () => {
    const { dev } = await device(layout);
    await dev.finishZone(4);
    const e = await zoneError(dev.openZone(4));
    expect(e.message).toMatch(layout === 'v11' ? /the v11 family refuses to open a full zone/ : /the Cassel respin refuses to open a full zone/);
    expect(dev.report()[4].condition).toBe('full');
    await dev.close();
  });

  it('the short last zone resets on its own', async () => {
    const { dev } = await device(layout);
    await dev.write(9 * MiB, fill(4 * KiB, 1));
    await dev.resetZone(9);
    expect(dev.report()[9]).toMatchObject({ condition: 'empty', wp: 9 * MiB });
    await dev.close();
  });
});

describe('append limits', () => {
  it('the respin has no append limit; v11 keeps max_append_bytes', async () => {
    const r = await device('respin');
    expect(await r.dev.append(5, fill(128 * KiB, 7))).toBe(5 * MiB);
    expect(r.dev.report()[5].wp).toBe(5 * MiB + 128 * KiB);
    await r.dev.close();
    const v = await device('v11');
    const e = await zoneError(v.dev.append(5, fill(128 * KiB, 7)));
    expect(e.message).toMatch(/exceeds max_append_bytes 65536/);
    await v.dev.close();
  });
});

describe('classic revisions are unchanged', () => {
  it('v8: finish goes to the zone end, opening a full zone is a no-op, entries little-endian', async () => {
    const { dev, path, zm } = await device('v8');
    expect(dev.wpByteOrder).toBe('little-endian');
    await dev.finishZone(3);
    expect(dev.report()[3].wp).toBe(4 * MiB);
    expect(raw(path, zm, 3, false)).toBe(BigInt(4 * MiB));
    await dev.openZone(3);
    expect(dev.report()[3].condition).toBe('full');
    await dev.close();
  });
});
