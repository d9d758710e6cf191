// Randomized (seeded, reproducible) run of thousands of guest writes, discards and zone operations against
// an independent reference model of the zone rules (ZONED-FORMAT.md sections 4, 8, 9) and of the guest
// bytes. Afterwards: reopen; the read engine's zone report and every byte equal the model; stock
// qemu-img check (bit-5-cleared copy) reports only the zonedmeta leaks; qemu-img compare against a raw
// file of the model's bytes says identical.
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { openImage } from '../../shared/qcow2/image';
import { loadZoneReport } from '../../shared/qcow2/zone-report';
import { getZoneCondition } from '../../shared/qcow2/zone-table';
import type { ZoneOp } from '../../shared/qcow2/zone-state';
import { FileByteSource } from '../../electron/engine/file-source';
import { ZonedDevice } from '../../electron/engine/zoned-device';
import { buildZonedImage, withoutBit5 } from '../helpers/zoned-builder';
import { fileBytes, noise, qemuCheck } from '../helpers/image-oracle';
import { qemuImgStatus, tmpDir } from '../helpers/qemu';

const tmp = tmpDir('qzs-model-');
afterAll(() => tmp.cleanup());

const KiB = 1024;
const MiB = 1024 * KiB;
const ZONE = MiB;
const CAP = 768 * KiB;
const NR = 16;
const CONV = 2;
const SIZE = NR * ZONE - 256 * KiB; // short last zone
const MAX_OPEN = 3;
const MAX_ACTIVE = 5;
const MAX_APPEND = 32 * KiB;

type Cond = 'not-wp' | 'empty' | 'implicit-open' | 'explicit-open' | 'closed' | 'full';

/** The reference: the rules restated plainly, sharing no code with shared/qcow2/zone-state.ts. */
class Model {
  wp: number[] = [];
  explicit = new Set<number>();
  lru: number[] = []; // implicitly open zones, least recently written first
  bytes = new Uint8Array(SIZE);

  constructor() {
    for (let i = 0; i < NR; i++) this.wp.push(i * ZONE);
  }
  start(i: number): number { return i * ZONE; }
  cap(i: number): number { return Math.min(CAP, SIZE - i * ZONE); }
  cond(i: number): Cond {
    if (i < CONV) return 'not-wp';
    if (this.explicit.has(i)) return 'explicit-open';
    if (this.lru.includes(i)) return 'implicit-open';
    if (this.wp[i] === this.start(i)) return 'empty';
    if (this.wp[i] >= this.start(i) + this.cap(i)) return 'full';
    return 'closed';
  }
  active(): number {
    let n = 0;
    for (let i = CONV; i < NR; i++) if (['implicit-open', 'explicit-open', 'closed'].includes(this.cond(i))) n++;
    return n;
  }
  open(): number { return this.explicit.size + this.lru.length; }
  canActivate(): boolean { return this.active() < MAX_ACTIVE; }
  /** Returns an error kind, or null after making room (closing the LRU implicit zone). */
  openSlot(): string | null {
    if (this.open() < MAX_OPEN) return null;
    if (this.lru.length > 0 && this.canActivate()) {
      this.lru.shift();
      return null;
    }
    return 'open-limit';
  }
  snapshot(): string { return JSON.stringify([this.wp, [...this.explicit].sort(), this.lru]); }
  restore(s: string): void {
    const [wp, ex, lru] = JSON.parse(s) as [number[], number[], number[]];
    this.wp = wp;
    this.explicit = new Set(ex);
    this.lru = lru;
  }

  /** Apply a zone op; returns the error kind or null. On error the state is restored. */
  apply(op: ZoneOp, data?: Uint8Array): { error: string | null; offset: number | null } {
    const saved = this.snapshot();
    const r = this.applyInner(op, data);
    if (r.error) this.restore(saved);
    return r;
  }

  private applyInner(op: ZoneOp, data?: Uint8Array): { error: string | null; offset: number | null } {
    const fail = (error: string) => ({ error, offset: null });
    if (op.op === 'reset-all') {
      for (let i = CONV; i < NR; i++) this.reset(i);
      return { error: null, offset: null };
    }
    if (op.op === 'write') return this.write(op.offset, op.length, data as Uint8Array);
    const i = op.zone;
    if (i < 0 || i >= NR) return fail('out-of-range');
    if (i < CONV) return fail('conventional');
    const c = this.cond(i);
    switch (op.op) {
      case 'append':
        if (op.length % 512 !== 0) return fail('unaligned');
        if (op.length > MAX_APPEND) return fail('append-too-large');
        // A finished zone's write pointer is its end (the next zone's start): the append is refused as full.
        if (c === 'full') return fail('zone-full');
        return this.write(this.wp[i], op.length, data as Uint8Array);
      case 'open':
        if (c === 'empty') {
          if (!this.canActivate()) return fail('active-limit');
          const e = this.openSlot();
          if (e) return fail(e);
          this.explicit.add(i);
        } else if (c === 'closed') {
          const e = this.openSlot();
          if (e) return fail(e);
          this.explicit.add(i);
        } else if (c === 'implicit-open') {
          this.lru = this.lru.filter((z) => z !== i);
          this.explicit.add(i);
        }
        return { error: null, offset: null };
      case 'close':
        this.explicit.delete(i);
        this.lru = this.lru.filter((z) => z !== i);
        return { error: null, offset: null };
      case 'finish':
        if (c === 'full') return { error: null, offset: null };
        if (c === 'empty' && !this.canActivate()) return fail('active-limit');
        if (c === 'closed') {
          const e = this.openSlot();
          if (e) return fail(e);
        }
        this.explicit.delete(i);
        this.lru = this.lru.filter((z) => z !== i);
        this.wp[i] = this.start(i) + ZONE;
        return { error: null, offset: null };
      case 'reset':
        this.reset(i);
        return { error: null, offset: null };
    }
  }

  private reset(i: number): void {
    if (this.cond(i) === 'empty') return;
    this.explicit.delete(i);
    this.lru = this.lru.filter((z) => z !== i);
    this.wp[i] = this.start(i);
    this.bytes.fill(0, this.start(i), Math.min(SIZE, this.start(i) + ZONE));
  }

  private write(off: number, len: number, data: Uint8Array): { error: string | null; offset: number | null } {
    const fail = (error: string) => ({ error, offset: null });
    if (off < 0 || len <= 0 || off + len > SIZE) return fail(len <= 0 ? 'invalid-length' : 'out-of-range');
    const i = Math.floor(off / ZONE);
    if (i < CONV) {
      if (off + len > CONV * ZONE) return fail('crosses-zone');
      this.bytes.set(data, off);
      return { error: null, offset: off };
    }
    const c = this.cond(i);
    if (c === 'full') return fail('zone-full');
    if (off !== this.wp[i]) return fail('not-at-write-pointer');
    if (off + len > this.start(i) + this.cap(i)) return fail('past-capacity');
    if (len % 512 !== 0) return fail('unaligned');
    if (c === 'empty') {
      if (!this.canActivate()) return fail('active-limit');
      const e = this.openSlot();
      if (e) return fail(e);
    } else if (c === 'closed') {
      const e = this.openSlot();
      if (e) return fail(e);
    }
    this.wp[i] = off + len;
    this.lru = this.lru.filter((z) => z !== i);
    const full = this.wp[i] >= this.start(i) + this.cap(i);
    if (full) this.explicit.delete(i);
    else if (c !== 'explicit-open') this.lru.push(i);
    this.bytes.set(data, off);
    return { error: null, offset: off };
  }
}

type Step =
  | { t: 'guest-write'; off: number; len: number; seed: number }
  | { t: 'guest-discard'; off: number; len: number }
  | { t: 'zone-write'; zone: number; skew: number; sectors: number; seed: number }
  | { t: 'append'; zone: number; sectors: number; seed: number }
  | { t: 'mgmt'; op: 'open' | 'close' | 'finish' | 'reset'; zone: number }
  | { t: 'reset-all' };

const zoneArb = fc.integer({ min: 0, max: NR - 1 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ t: fc.constant('guest-write' as const), off: fc.integer({ min: 0, max: CONV * ZONE - 1 }), len: fc.integer({ min: 1, max: 24 * KiB }), seed: fc.nat() }) },
  { weight: 10, arbitrary: fc.record({ t: fc.constant('guest-discard' as const), off: fc.integer({ min: 0, max: CONV * ZONE - 1 }), len: fc.integer({ min: 1, max: 200 * KiB }) }) },
  { weight: 60, arbitrary: fc.record({ t: fc.constant('zone-write' as const), zone: zoneArb, skew: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -4, max: 4 }) }), sectors: fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 160 }) }, { weight: 1, arbitrary: fc.integer({ min: 1000, max: 1700 }) }), seed: fc.nat() }) },
  { weight: 40, arbitrary: fc.record({ t: fc.constant('append' as const), zone: zoneArb, sectors: fc.integer({ min: 1, max: 72 }), seed: fc.nat() }) },
  { weight: 30, arbitrary: fc.record({ t: fc.constant('mgmt' as const), op: fc.constantFrom('open' as const, 'close' as const, 'finish' as const, 'reset' as const), zone: zoneArb }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reset-all' as const }) },
);

/** What the runs exercised, so that a generator that stopped reaching a rule shows up as a failure. */
const seen = { ok: new Map<string, number>(), errors: new Map<string, number>(), implicitCloses: 0 };
const bump = (m: Map<string, number>, k: string): void => { m.set(k, (m.get(k) ?? 0) + 1); };

async function runScenario(steps: Step[], layout: 'v5-v7' | 'v8', clusterBits: number): Promise<void> {
  const built = buildZonedImage({ layout, virtualSize: SIZE, zoneSize: ZONE, zoneCapacity: CAP, conventionalZones: CONV, maxOpenZones: MAX_OPEN, maxActiveZones: MAX_ACTIVE, maxAppendBytes: MAX_APPEND, clusterBits });
  const path = tmp.file(`m-${layout}-${clusterBits}.qcow2`);
  writeFileSync(path, built.bytes);
  const model = new Model();
  const dev = await ZonedDevice.open(path, { durable: false });
  try {
    for (const [k, s] of steps.entries()) {
      const where = `step ${k} ${JSON.stringify(s)}`;
      if (s.t === 'guest-discard') {
        const len = Math.min(s.len, CONV * ZONE - s.off);
        await dev.writer.discard(s.off, len);
        model.bytes.fill(0, s.off, s.off + len);
        continue;
      }
      let op: ZoneOp;
      let data: Uint8Array | undefined;
      if (s.t === 'guest-write') {
        op = { op: 'write', offset: s.off, length: s.len };
        data = noise(s.len, s.seed);
      } else if (s.t === 'zone-write') {
        const off = Math.max(0, model.wp[s.zone] + s.skew * 512);
        op = { op: 'write', offset: s.zone < CONV ? s.zone * ZONE : off, length: s.sectors * 512 };
        data = noise(s.sectors * 512, s.seed);
      } else if (s.t === 'append') {
        op = { op: 'append', zone: s.zone, length: s.sectors * 512 };
        data = noise(s.sectors * 512, s.seed);
      } else if (s.t === 'mgmt') {
        op = { op: s.op, zone: s.zone };
      } else {
        op = { op: 'reset-all' };
      }
      const want = model.apply(op, data);
      let got: { error: string | null; offset: number | null };
      try {
        const r = await dev.run(op, data);
        got = { error: null, offset: r.offset };
        bump(seen.ok, op.op);
        seen.implicitCloses += r.implicitlyClosed.length;
      } catch (e) {
        if (!(e instanceof Qcow2Error) || e.code !== 'zone-error') throw e;
        const kind = String(e.details?.kind);
        got = { error: kind, offset: null };
        bump(seen.errors, kind);
      }
      expect(got, where).toEqual(want);
      const conds = dev.report().map((z) => z.condition);
      expect(conds, where).toEqual(Array.from({ length: NR }, (_, i) => model.cond(i)));
    }
    expect(dev.report().map((z) => z.wp).slice(CONV), 'write pointers').toEqual(model.wp.slice(CONV));
  } finally {
    await dev.close();
  }

  // Reopen: open states are gone; the read engine's report equals the model at rest.
  const src = await FileByteSource.open(path, 'r');
  try {
    const report = await loadZoneReport(await openImage(src));
    for (let i = 0; i < NR; i++) {
      const atRest = model.cond(i).endsWith('open') ? (model.wp[i] === i * ZONE ? 'empty' : 'closed') : model.cond(i);
      expect(getZoneCondition(report.table, i), `zone ${i}`).toBe(atRest);
      if (i >= CONV) expect(report.table.wp[i], `wp ${i}`).toBe(model.wp[i]);
    }
  } finally {
    await src.close();
  }
  const again = await ZonedDevice.open(path, { readOnly: true });
  try {
    const all = await again.read(0, SIZE);
    expect(Buffer.from(all).equals(Buffer.from(model.bytes)), 'guest bytes after reopen').toBe(true);
  } finally {
    await again.close();
  }
  const copy = tmp.file(`m-${layout}-${clusterBits}.nobit5.qcow2`);
  writeFileSync(copy, withoutBit5(fileBytes(path)));
  const v = qemuCheck(copy);
  expect(v.corruptions, v.raw).toBe(0);
  expect(v.leaks, v.raw).toBe(built.zonedmetaClusters);
  const raw = tmp.file(`m-${layout}-${clusterBits}.raw`);
  writeFileSync(raw, model.bytes);
  const cmp = qemuImgStatus(['compare', '-f', 'qcow2', '-F', 'raw', copy, raw]);
  expect(cmp.stdout + cmp.stderr).toContain('Images are identical');
}

describe('randomized model', () => {
  it('thousands of mixed operations match the reference model (seeded)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 900, maxLength: 900 }), async (steps) => {
        const layout = run % 2 === 0 ? 'v5-v7' : 'v8';
        const clusterBits = run % 2 === 0 ? 12 : 16;
        run++;
        await runScenario(steps, layout, clusterBits);
      }),
      { seed: 20260524, numRuns: 4, endOnFailure: true },
    );
    for (const op of ['write', 'append', 'open', 'close', 'finish', 'reset', 'reset-all']) expect(seen.ok.get(op) ?? 0, op).toBeGreaterThan(0);
    for (const k of ['not-at-write-pointer', 'zone-full', 'past-capacity', 'crosses-zone', 'conventional', 'active-limit']) expect(seen.errors.get(k) ?? 0, k).toBeGreaterThan(0);
    expect(seen.implicitCloses).toBeGreaterThan(0);
  });
});
