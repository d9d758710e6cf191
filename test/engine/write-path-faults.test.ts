// All-or-nothing, shown by fault injection through the session's file: every write of an append, a
// reset, a header edit and a repair fails in turn (ENOSPC from that write on, or a single EIO), and
// afterwards the image and the session agree with each other and with the image before the operation
// (or, for an operation that passed its commit point, with the image after it): the zone report is one
// of those two, never in between; data below the write pointer is intact; our check and stock qemu-img
// check (bit 5 cleared) find no corruption; and the same session carries on with the next operation.
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { ZoneReport } from '../../shared/contract/dto';
import { checkImage } from '../../shared/qcow2/check';
import { FileByteSource } from '../../electron/engine/file-source';
import { ImageSession, type SessionFile } from '../../electron/engine/image-session';
import { ImageWriter } from '../../electron/engine/image-writer';
import { noise, qemuCheck } from '../helpers/image-oracle';
import { qemuImg, tmpDir } from '../helpers/qemu';
import { buildZonedImage, withoutBit5, wpValue } from '../helpers/zoned-builder';

const KIB = 1024;
const MIB = 1 << 20;
const ZONE = 4 * MIB;
const dir = tmpDir('qzs-faults-');
afterAll(() => dir.cleanup());

type Mode = 'enospc-from' | 'eio-once';

/** A file whose writes fail from the armed index on (ENOSPC) or only at it (EIO); reads always work. */
function faultyOpener(plan: { armed: boolean; at: number; mode: Mode; writes: number }) {
  return async (path: string, writable: boolean): Promise<SessionFile> => {
    const f = await FileByteSource.open(path, writable ? 'r+' : 'r');
    return {
      name: f.name, writable: f.writable, fd: f.fd,
      size: () => f.size(), read: (o, n) => f.read(o, n), truncate: (n) => f.truncate(n), flush: () => f.flush(), close: () => f.close(),
      write: async (o, b) => {
        if (plan.armed) {
          const k = plan.writes++;
          const hit = plan.mode === 'enospc-from' ? k >= plan.at : k === plan.at;
          if (hit) throw Object.assign(new Error(plan.mode === 'eio-once' ? 'EIO: i/o error, write' : 'ENOSPC: no space left on device, write'), { code: plan.mode === 'eio-once' ? 'EIO' : 'ENOSPC' });
        }
        return f.write(o, b);
      },
    };
  };
}

/** 8 zones of 4 MiB, one conventional; zone 1 written to 1 MiB + 3 KiB (a partial cluster), zone 2 to 2 MiB. */
function zonedImage(name: string): string {
  const file = dir.file(name);
  writeFileSync(file, buildZonedImage({
    layout: 'v8', virtualSize: 8 * ZONE, zoneSize: ZONE, zoneCapacity: ZONE, conventionalZones: 1, maxOpenZones: 3, maxActiveZones: 4, maxAppendBytes: 256 * KIB,
    entry: (i, start) => (i === 0 ? wpValue(start, { conventional: true }) : wpValue(start)),
  }).bytes);
  return file;
}

async function withData(file: string): Promise<void> {
  const s = await ImageSession.open(file, { gate: false });
  await s.zoneOp({ op: 'write', offset: ZONE, length: MIB + 3 * KIB }, noise(MIB + 3 * KIB, 1));
  await s.zoneOp({ op: 'write', offset: 2 * ZONE, length: 2 * MIB }, noise(2 * MIB, 2));
  await s.close();
}

async function guest(file: string, offset: number, length: number): Promise<Uint8Array> {
  const w = await ImageWriter.open(file, { readOnly: true });
  try { return await w.read(offset, length); } finally { await w.close(); }
}

const wps = (r: ZoneReport): number[] => [...r.wp];

async function noCorruption(file: string): Promise<void> {
  const src = await FileByteSource.open(file, 'r');
  try {
    const r = await checkImage(src);
    expect(r.corruptions, JSON.stringify(r.findings.filter((f) => f.severity === 'error').slice(0, 3))).toBe(0);
  } finally { await src.close(); }
  const copy = `${file}.nobit5`;
  writeFileSync(copy, withoutBit5(readFileSync(file)));
  expect(qemuCheck(copy).corruptions).toBe(0);
}

/** How many writes the operation makes when nothing fails. */
async function countWrites(file: string, op: (s: ImageSession) => Promise<unknown>): Promise<number> {
  const plan = { armed: false, at: 0, mode: 'eio-once' as Mode, writes: 0 };
  const s = await ImageSession.open(file, { gate: false, openFile: faultyOpener(plan), durable: false });
  await s.zoneReport().catch(() => null);
  plan.armed = true;
  plan.at = Number.MAX_SAFE_INTEGER;
  await op(s);
  await s.close();
  return plan.writes;
}

describe.each<Mode>(['enospc-from', 'eio-once'])('a failing write (%s) at every index', (mode) => {
  it('append: the zone is as it was, data below the write pointer intact, the session goes on', async () => {
    const base = zonedImage(`append-${mode}.qcow2`);
    await withData(base);
    const op = (s: ImageSession) => s.zoneOp({ op: 'append', zone: 1, length: 200 * KIB }, noise(200 * KIB, 9));
    const scratch = dir.file(`append-${mode}-count.qcow2`);
    copyFileSync(base, scratch);
    const n = await countWrites(scratch, op);
    expect(n).toBeGreaterThan(3);
    const below = await guest(base, ZONE, MIB + 3 * KIB);
    for (let k = 0; k < n; k++) {
      const file = dir.file(`append-${mode}-${k}.qcow2`);
      copyFileSync(base, file);
      const plan = { armed: false, at: k, mode, writes: 0 };
      const s = await ImageSession.open(file, { gate: false, openFile: faultyOpener(plan), durable: false });
      const before = await s.zoneReport();
      plan.armed = true;
      await expect(op(s), `write ${k}`).rejects.toMatchObject({ code: 'io', details: { committed: false } });
      plan.armed = false;
      const after = await s.zoneReport();
      expect(wps(after), `write ${k}: session report`).toEqual(wps(before));
      const fresh = await ImageSession.open(file, { gate: false });
      expect(wps(await fresh.zoneReport()), `write ${k}: the file says the same`).toEqual(wps(before));
      await fresh.close();
      // The same session carries on: its caches were rebuilt from the disk.
      const next = await s.zoneOp({ op: 'append', zone: 1, length: 4 * KIB }, noise(4 * KIB, 7));
      expect(next.result.offset).toBe(before.wp[1]);
      await s.close();
      expect(Buffer.from(await guest(file, ZONE, MIB + 3 * KIB)).equals(Buffer.from(below)), `write ${k}: data below the write pointer`).toBe(true);
      await noCorruption(file);
    }
  });

  it('reset: before the commit nothing changed, after it the zone is empty; never in between', async () => {
    const base = zonedImage(`reset-${mode}.qcow2`);
    await withData(base);
    const op = (s: ImageSession) => s.zoneOp({ op: 'reset', zone: 2 });
    const scratch = dir.file(`reset-${mode}-count.qcow2`);
    copyFileSync(base, scratch);
    const n = await countWrites(scratch, op);
    expect(n).toBeGreaterThan(1);
    const data2 = await guest(base, 2 * ZONE, 2 * MIB);
    for (let k = 0; k < n; k++) {
      const file = dir.file(`reset-${mode}-${k}.qcow2`);
      copyFileSync(base, file);
      const plan = { armed: false, at: k, mode, writes: 0 };
      const s = await ImageSession.open(file, { gate: false, openFile: faultyOpener(plan), durable: false });
      const before = await s.zoneReport();
      plan.armed = true;
      const err = await op(s).then(() => null, (e: unknown) => e as { details?: { committed?: boolean } });
      plan.armed = false;
      expect(err, `write ${k}`).not.toBeNull();
      const committed = err?.details?.committed === true;
      const after = await s.zoneReport();
      const expected = wps(before);
      if (committed) expected[2] = 2 * ZONE;
      expect(wps(after), `write ${k}`).toEqual(expected);
      const fresh = await ImageSession.open(file, { gate: false });
      expect(wps(await fresh.zoneReport())).toEqual(expected);
      await fresh.close();
      if (!committed) expect(Buffer.from(await guest(file, 2 * ZONE, 2 * MIB)).equals(Buffer.from(data2)), `write ${k}: zone 2 data kept`).toBe(true);
      await s.zoneOp({ op: 'reset', zone: 2 });
      await s.close();
      await noCorruption(file);
    }
  });

  it('header edit: the header and the edit history are as before, and no backup is left', async () => {
    const file = dir.file(`edit-${mode}.qcow2`);
    qemuImg(['create', '-q', '-f', 'qcow2', file, '64M']);
    const original = readFileSync(file);
    const plan = { armed: false, at: 0, mode, writes: 0 };
    const s = await ImageSession.open(file, { gate: false, openFile: faultyOpener(plan), durable: false });
    plan.armed = true;
    await expect(s.applyEdit({ kind: 'feature-bit', mask: 'compatible', bit: 0, set: true })).rejects.toMatchObject({ code: 'io' });
    plan.armed = false;
    expect(s.edits).toHaveLength(0);
    expect(readFileSync(file).equals(original)).toBe(true);
    expect(readdirSync(dir.path).filter((n) => n.startsWith(`edit-${mode}.qcow2.qzs-backup`))).toEqual([]);
    // And it works once the disk does.
    await s.applyEdit({ kind: 'feature-bit', mask: 'compatible', bit: 0, set: true });
    expect(s.edits).toHaveLength(1);
    await s.close();
  });

  it('repair: the old bytes go back (or only leaks remain), the backup is removed, no corruption', async () => {
    const base = dir.file(`repair-${mode}.qcow2`);
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', base, '16M']);
    const b = readFileSync(base);
    // Three leaks: refcounts of the L1 table's and two unused clusters raised (refblock at 0x2000).
    for (const c of [3, 9, 10]) b.writeUInt16BE(c === 3 ? 2 : 1, 0x2000 + c * 2);
    writeFileSync(base, b.length < 11 * 4096 ? Buffer.concat([b, Buffer.alloc(11 * 4096 - b.length)]) : b);
    const original = readFileSync(base);
    const scratch = dir.file(`repair-${mode}-count.qcow2`);
    copyFileSync(base, scratch);
    const n = await countWrites(scratch, (s) => s.repair('leaks'));
    expect(n).toBeGreaterThan(0);
    for (let k = 0; k < n; k++) {
      const file = dir.file(`repair-${mode}-${k}.qcow2`);
      copyFileSync(base, file);
      const plan = { armed: false, at: k, mode, writes: 0 };
      const s = await ImageSession.open(file, { gate: false, openFile: faultyOpener(plan), durable: false });
      plan.armed = true;
      await expect(s.repair('leaks'), `write ${k}`).rejects.toMatchObject({ code: 'io' });
      plan.armed = false;
      await s.close();
      if (mode === 'eio-once') expect(readFileSync(file).equals(original), `write ${k}: old bytes back`).toBe(true);
      expect(readdirSync(dir.path).filter((x) => x.startsWith(`repair-${mode}-${k}.qcow2.backup`)), 'no stray backup').toEqual([]);
      const q = qemuCheck(file);
      expect(q.corruptions).toBe(0);
      expect(q.leaks).toBeLessThanOrEqual(3);
    }
  });
});
