// The zone state machine of a host-managed zoned qcow2 image (ZONED-FORMAT.md section 4, section 8 item 6,
// section 9 "We do"). Pure: a ZoneState is immutable; plan(op) either throws a typed zone error (and
// nothing changes) or returns the next state plus the effects the device must carry out. The device
// orders them so that the write pointer is the commit point (electron/engine/zoned-device.ts): data
// before the pointer moves forward, frees after it moves back.
//
// Only write pointers are persisted. Empty, closed and full derive from them; implicit and explicit open
// exist only in memory while an image is open, so ZoneState.fromWritePointers() starts with every
// partially written zone closed, as QEMU does after a reopen.
import { Qcow2Error } from './findings';
import { modelZoneCapacity } from './zone-model';
import type { ZoneCondition, ZoneInfo } from './zoned-types';

export interface ZoneGeometry {
  /** Virtual disk size in bytes. */
  deviceSize: number;
  zoneSize: number;
  zoneCapacity: number;
  nrZones: number;
  conventionalZones: number;
  /** Effective limits (after the clamps of section 5.1); 0 = no limit. */
  maxOpenZones: number;
  maxActiveZones: number;
  /** 0 means every append fails (as in the seed revision), unless the semantics have no append limit. */
  maxAppendBytes: number;
  /** Where the image's revision behaves differently (default: CLASSIC_ZONE_SEMANTICS). */
  semantics?: ZoneSemantics;
}

/**
 * The points where revisions differ in zone semantics, as data (ZONED-REVISIONS-2026.md section 4c; for v11
 * the notes say State A is as State B where not noted, docs/DECISIONS.md 5). The state machine reads these
 * instead of branching on revisions; refusals that come from one of them name the revision.
 */
export interface ZoneSemantics {
  /** How refusals name the revision whose rule applied. */
  label: string;
  /** finish sets the write pointer to the zone end (v9, section 8 item 6) or to start + capacity capped at the device end (respin). */
  finishTo: 'zone-end' | 'writable-end';
  /** Opening a full zone: a no-op (our v9 fix, section 9 item 1) or refused with EINVAL (respin). */
  openFull: 'no-op' | 'refuse';
  /** Whether appends are limited by max_append_bytes (the respin has no limit). */
  appendLimit: boolean;
}

export const CLASSIC_ZONE_SEMANTICS: ZoneSemantics = { label: 'RFC..v10', finishTo: 'zone-end', openFull: 'no-op', appendLimit: true };
export const V11_ZONE_SEMANTICS: ZoneSemantics = { label: 'the v11 family', finishTo: 'writable-end', openFull: 'refuse', appendLimit: true };
export const RESPIN_ZONE_SEMANTICS: ZoneSemantics = { label: 'the Cassel respin', finishTo: 'writable-end', openFull: 'refuse', appendLimit: false };

/** The semantics of a decoded extension's revision. */
export function zoneSemanticsFor(revision: string): ZoneSemantics {
  return revision === 'respin' ? RESPIN_ZONE_SEMANTICS : revision === 'v11' ? V11_ZONE_SEMANTICS : CLASSIC_ZONE_SEMANTICS;
}

export type ZoneOp =
  | { op: 'open' | 'close' | 'finish' | 'reset'; zone: number }
  | { op: 'reset-all' }
  | { op: 'append'; zone: number; length: number }
  | { op: 'write'; offset: number; length: number };

export interface ZoneEffects {
  /** Write pointers to persist, before any data I/O. */
  wpUpdates: { zone: number; wp: number }[];
  /** Guest range that receives the data of a write or append. */
  data: { offset: number; length: number } | null;
  /** Guest ranges whose clusters are freed (reset). */
  free: { offset: number; length: number }[];
  /** Zones closed implicitly to make room for this operation (least recently written first). */
  implicitlyClosed: number[];
}

export interface ZonePlan {
  next: ZoneState;
  effects: ZoneEffects;
  /** Where the data landed (write/append: the write pointer before the operation), else null. */
  offset: number | null;
}

export type ZoneErrorKind =
  | 'out-of-range'
  | 'conventional'
  | 'crosses-zone'
  | 'not-at-write-pointer'
  | 'zone-full'
  | 'past-capacity'
  | 'unaligned'
  | 'append-too-large'
  | 'open-limit'
  | 'active-limit'
  | 'invalid-length';

export const ZONE_BLOCK = 512;

/**
 * The tables of the newest state of a chain of states: write pointers, the explicitly open zones, and the
 * implicitly open zones with the tick of their last write (the least recent is closed first).
 */
interface Tables {
  wps: Float64Array;
  explicit: Set<number>;
  mru: Map<number, number>;
  /** Ticks only go up, in whichever state the next write happens: an order, not a count. */
  clock: number;
}

/** One entry of a change list: table t (0 write pointer, 1 explicit, 2 implicit tick) at zone i gets v (undefined: not a member). */
interface Change { t: 0 | 1 | 2; i: number; v: number | undefined }

/** A state that is not the newest: its tables are those of `base` with `changes` applied in order. */
interface Diff { changes: Change[]; base: ZoneState }

/**
 * A state's view of the tables: the operations of plan() as edits, each recorded with what it replaced so
 * that a refused operation leaves the tables exactly as they were, and so that the state planned from
 * keeps its own view (it becomes a list of those inverse edits on the new state). An operation costs the
 * zones it touches, not a copy of the table per operation (a long sequence of writes on a million-zone
 * image was quadratic).
 */
class Draft {
  readonly undo: Change[] = [];
  readonly closedImplicitly: number[] = [];

  constructor(private readonly g: ZoneGeometry, readonly t: Tables, public active: number) {}

  get wps(): Float64Array { return this.t.wps; }
  get explicit(): ReadonlySet<number> { return this.t.explicit; }
  get mru(): ReadonlyMap<number, number> { return this.t.mru; }
  get openCount(): number { return this.t.explicit.size + this.t.mru.size; }

  setWp(i: number, wp: number): void { this.edit(i, 0, wp); }
  addExplicit(i: number): void { this.edit(i, 1, 1); }
  /** Zone i becomes the most recently written implicitly open zone. */
  touchImplicit(i: number): void { this.edit(i, 2, ++this.t.clock); }

  /** Take zone i out of the open zones (keepExplicit: an explicitly open zone that stays open). */
  removeOpen(i: number, keepExplicit: boolean): void {
    if (!keepExplicit && this.t.explicit.has(i)) this.edit(i, 1, undefined);
    if (this.t.mru.has(i)) this.edit(i, 2, undefined);
  }

  /** The least recently written implicitly open zone (scans the open zones only, which a limit bounds). */
  leastRecentImplicit(): number | undefined {
    let victim: number | undefined;
    let oldest = Infinity;
    for (const [z, tick] of this.t.mru) if (tick < oldest) { oldest = tick; victim = z; }
    return victim;
  }

  /** Put back what this draft changed, newest first. */
  rollback(): void {
    for (let k = this.undo.length - 1; k >= 0; k--) applyChange(this.t, this.undo[k]);
    this.undo.length = 0;
  }

  private edit(i: number, table: 0 | 1 | 2, v: number | undefined): void {
    const before = isActive(this.g, this.t, i);
    this.undo.push({ t: table, i, v: readChange(this.t, table, i) });
    applyChange(this.t, { t: table, i, v });
    this.active += (isActive(this.g, this.t, i) ? 1 : 0) - (before ? 1 : 0);
  }
}

export class ZoneState {
  /** The operation being planned on this state, while plan() runs. */
  private drafting: Draft | null = null;

  private constructor(
    readonly geometry: ZoneGeometry,
    /** The tables when this is the newest state of its chain, else how to get them from a newer one. */
    private node: Tables | Diff,
    /** Active zones (section 9 item 7), kept per state so that no operation counts them over the table. */
    private readonly active: number,
  ) {}

  /** The state of a freshly opened image: only write pointers, no open zones. */
  static fromWritePointers(geometry: ZoneGeometry, wps: readonly number[]): ZoneState {
    if (wps.length !== geometry.nrZones) {
      throw new Qcow2Error({ code: 'invalid-argument', message: `${wps.length} write pointers for ${geometry.nrZones} zones` });
    }
    const t: Tables = { wps: Float64Array.from(wps), explicit: new Set(), mru: new Map(), clock: 0 };
    let active = 0;
    for (let i = geometry.conventionalZones; i < geometry.nrZones; i++) if (isActive(geometry, t, i)) active++;
    return new ZoneState(geometry, t, active);
  }

  zoneStart(i: number): number { return i * this.geometry.zoneSize; }
  zoneLength(i: number): number { return Math.min(this.geometry.zoneSize, this.geometry.deviceSize - this.zoneStart(i)); }
  /** Writable bytes: the capacity, cut to the zone's length for a short last zone; a conventional zone's length. */
  zoneCapacity(i: number): number { return modelZoneCapacity(this.geometry, i); }
  isConventional(i: number): boolean { return i < this.geometry.conventionalZones; }
  writePointer(i: number): number { return this.tables().wps[i]; }
  get semantics(): ZoneSemantics { return this.geometry.semantics ?? CLASSIC_ZONE_SEMANTICS; }

  condition(i: number): ZoneCondition {
    return conditionOf(this.geometry, this.tables(), i);
  }

  /** The zone report: capacity is the real one (section 9 item 9); conventional write pointers = start. */
  zones(): ZoneInfo[] {
    const t = this.tables();
    const out: ZoneInfo[] = [];
    for (let i = 0; i < this.geometry.nrZones; i++) {
      const conv = this.isConventional(i);
      out.push({
        index: i, start: this.zoneStart(i), length: this.zoneLength(i), capacity: this.zoneCapacity(i),
        wp: conv ? this.zoneStart(i) : t.wps[i], type: conv ? 'conventional' : 'sequential', condition: conditionOf(this.geometry, t, i),
      });
    }
    return out;
  }

  counts(): { open: number; explicitOpen: number; implicitOpen: number; closed: number; active: number } {
    const t = this.tables();
    const open = t.explicit.size + t.mru.size;
    return { open, explicitOpen: t.explicit.size, implicitOpen: t.mru.size, closed: this.active - open, active: this.active };
  }

  /** Plan an operation. Throws a Qcow2Error with code 'zone-error' when it is illegal; nothing changes then. */
  plan(op: ZoneOp): ZonePlan {
    const d = new Draft(this.geometry, this.tables(), this.active);
    let effects: ZoneEffects;
    let offset: number | null;
    this.drafting = d;
    try {
      ({ effects, offset } = this.planIn(d, op));
    } catch (e) {
      d.rollback();
      throw e;
    } finally {
      this.drafting = null;
    }
    // The new state takes the tables; this one keeps its view as the edits that undo the operation.
    const next = new ZoneState(this.geometry, d.t, d.active);
    this.node = { changes: d.undo.reverse(), base: next };
    return { next, effects, offset };
  }

  private planIn(d: Draft, op: ZoneOp): { effects: ZoneEffects; offset: number | null } {
    const effects: ZoneEffects = { wpUpdates: [], data: null, free: [], implicitlyClosed: d.closedImplicitly };
    let offset: number | null = null;
    switch (op.op) {
      case 'write':
        offset = this.planWrite(d, op.offset, op.length, effects, 'write');
        break;
      case 'append': {
        const i = this.zoneIndex(op.zone, 'append');
        if (this.isConventional(i)) throw this.err('conventional', 'append', i, `zone append needs a sequential zone; zone ${i} is conventional`);
        if (!Number.isSafeInteger(op.length) || op.length <= 0) throw this.err('invalid-length', 'append', i, `append length ${op.length} is not a positive number of bytes`, { length: op.length });
        if (op.length % ZONE_BLOCK !== 0) throw this.err('unaligned', 'append', i, `append length ${op.length} is not a multiple of ${ZONE_BLOCK} bytes`, { length: op.length });
        const max = this.geometry.maxAppendBytes;
        if (this.semantics.appendLimit && op.length > max) {
          throw this.err('append-too-large', 'append', i, `append of ${op.length} bytes exceeds max_append_bytes ${max}${max === 0 ? ' (0: every append fails)' : ''}`, { length: op.length, limit: max });
        }
        // The zone is named, not derived from the write pointer: a finished zone's pointer sits at its end,
        // which is the next zone's start.
        offset = this.planWrite(d, d.wps[i], op.length, effects, 'append', i);
        break;
      }
      case 'open': this.planOpen(d, this.zoneIndex(op.zone, 'open')); break;
      case 'close': this.planClose(d, this.zoneIndex(op.zone, 'close')); break;
      case 'finish': this.planFinish(d, this.zoneIndex(op.zone, 'finish'), effects); break;
      case 'reset': this.planReset(d, this.zoneIndex(op.zone, 'reset'), effects, 'reset'); break;
      case 'reset-all':
        for (let i = this.geometry.conventionalZones; i < this.geometry.nrZones; i++) this.planReset(d, i, effects, 'reset-all');
        break;
    }
    return { effects, offset };
  }

  // ---- operations ----

  private planWrite(d: Draft, off: number, len: number, effects: ZoneEffects, op: 'write' | 'append', zone?: number): number {
    const g = this.geometry;
    if (zone !== undefined && conditionOf(g, d, zone) === 'full') {
      const cap = this.zoneCapacity(zone);
      throw this.err('zone-full', op, zone, `zone ${zone} is full (write pointer ${d.wps[zone]}, capacity ${cap})`, { length: len, wp: d.wps[zone], capacity: cap });
    }
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len <= 0 || off + len > g.deviceSize) {
      throw new Qcow2Error({ code: 'zone-error', message: `${op} of ${len} bytes at ${off} is outside the device (${g.deviceSize} bytes) or empty`, details: { kind: len <= 0 ? 'invalid-length' : 'out-of-range', op, offset: off, length: len, deviceSize: g.deviceSize } });
    }
    const i = zone ?? Math.floor(off / g.zoneSize);
    if (this.isConventional(i)) {
      const convEnd = g.conventionalZones * g.zoneSize;
      if (off + len > convEnd) {
        throw this.err('crosses-zone', op, i, `write of ${len} bytes at ${off} starts in conventional zone ${i} and runs into sequential zone ${g.conventionalZones} at ${convEnd}`, { offset: off, length: len, boundary: convEnd });
      }
      effects.data = { offset: off, length: len };
      return off;
    }
    const start = this.zoneStart(i);
    const cap = this.zoneCapacity(i);
    const cond = conditionOf(g, d, i);
    const wp = d.wps[i];
    if (cond === 'full') throw this.err('zone-full', op, i, `zone ${i} is full (write pointer ${wp}, capacity ${cap})`, { offset: off, length: len, wp, capacity: cap });
    if (off !== wp) throw this.err('not-at-write-pointer', op, i, `write at ${off} is not at the write pointer ${wp} of zone ${i}`, { offset: off, length: len, wp });
    if (off + len > start + cap) {
      throw this.err('past-capacity', op, i, `${op} of ${len} bytes at ${off} ends at ${off + len}, past the capacity of zone ${i} (${cap} bytes from ${start}: ${start + cap - off} bytes left)`, { offset: off, length: len, wp, capacity: cap, remaining: start + cap - off });
    }
    if (len % ZONE_BLOCK !== 0) throw this.err('unaligned', op, i, `${op} length ${len} is not a multiple of ${ZONE_BLOCK} bytes`, { offset: off, length: len });
    if (cond === 'empty') {
      this.needActive(d, i, op);
      this.needOpenSlot(d, i, op);
    } else if (cond === 'closed') {
      this.needOpenSlot(d, i, op);
    }
    const newWp = off + len;
    d.setWp(i, newWp);
    d.removeOpen(i, cond === 'explicit-open' && newWp < start + cap);
    if (newWp < start + cap && cond !== 'explicit-open') d.touchImplicit(i);
    effects.wpUpdates.push({ zone: i, wp: newWp });
    effects.data = { offset: off, length: len };
    return off;
  }

  private planOpen(d: Draft, i: number): void {
    if (this.isConventional(i)) throw this.err('conventional', 'open', i, `zone ${i} is conventional: it cannot be opened`);
    const cond = conditionOf(this.geometry, d, i);
    switch (cond) {
      case 'empty':
        this.needActive(d, i, 'open');
        this.needOpenSlot(d, i, 'open');
        d.addExplicit(i);
        return;
      case 'closed':
        this.needOpenSlot(d, i, 'open');
        d.addExplicit(i);
        return;
      case 'implicit-open':
        d.removeOpen(i, false);
        d.addExplicit(i);
        return;
      case 'full':
        if (this.semantics.openFull === 'refuse') {
          throw this.err('zone-full', 'open', i, `zone ${i} is full: ${this.semantics.label} refuses to open a full zone (EINVAL)`, { wp: d.wps[i], capacity: this.zoneCapacity(i) });
        }
        // No-op (section 9 item 1).
        return;
      default:
        // explicit-open: no-op (section 9 item 2).
        return;
    }
  }

  private planClose(d: Draft, i: number): void {
    if (this.isConventional(i)) throw this.err('conventional', 'close', i, `zone ${i} is conventional: it cannot be closed`);
    d.removeOpen(i, false);
  }

  private planFinish(d: Draft, i: number, effects: ZoneEffects): void {
    if (this.isConventional(i)) throw this.err('conventional', 'finish', i, `zone ${i} is conventional: it cannot be finished`);
    const cond = conditionOf(this.geometry, d, i);
    if (cond === 'full') return;
    if (cond === 'empty') this.needActive(d, i, 'finish');
    else if (cond === 'closed') this.needOpenSlot(d, i, 'finish');
    d.removeOpen(i, false);
    // v9: start + zone_size, so that QEMU reads the zone as full (section 8 item 6); the respin (and v11):
    // the writable end, start + capacity capped at the device end.
    const wp = this.zoneStart(i) + (this.semantics.finishTo === 'zone-end' ? this.geometry.zoneSize : this.zoneCapacity(i));
    d.setWp(i, wp);
    effects.wpUpdates.push({ zone: i, wp });
  }

  private planReset(d: Draft, i: number, effects: ZoneEffects, op: 'reset' | 'reset-all'): void {
    if (this.isConventional(i)) throw this.err('conventional', op, i, `zone ${i} is conventional: it has no write pointer to reset`);
    if (conditionOf(this.geometry, d, i) === 'empty') return;
    d.removeOpen(i, false);
    d.setWp(i, this.zoneStart(i));
    effects.wpUpdates.push({ zone: i, wp: d.wps[i] });
    effects.free.push({ offset: this.zoneStart(i), length: this.zoneLength(i) });
  }

  // ---- resources (section 4; section 9 items 3-5) ----

  private needActive(d: Draft, i: number, op: string): void {
    const max = this.geometry.maxActiveZones;
    const active = d.active;
    if (max !== 0 && active >= max) {
      throw this.err('active-limit', op, i, `zone ${i} needs an active zone resource: ${active} of max_active_zones ${max} zones are active (open or closed)`, { limit: max, active });
    }
  }

  /** Room for one more open zone, closing the least recently written implicitly open zone if need be. */
  private needOpenSlot(d: Draft, i: number, op: string): void {
    const max = this.geometry.maxOpenZones;
    const open = d.openCount;
    if (max === 0 || open < max) return;
    const maxActive = this.geometry.maxActiveZones;
    const active = d.active;
    const canActivate = maxActive === 0 || active < maxActive;
    const victim = canActivate ? d.leastRecentImplicit() : undefined;
    if (victim !== undefined) {
      d.removeOpen(victim, false);
      d.closedImplicitly.push(victim);
      return;
    }
    const why = d.mru.size === 0
      ? `every open zone is explicitly open (${d.explicit.size})`
      : `closing an implicitly open zone would leave ${active} of max_active_zones ${maxActive} zones active`;
    throw this.err('open-limit', op, i, `zone ${i} needs an open zone resource: ${open} of max_open_zones ${max} zones are open and ${why}`, { limit: max, open, active, maxActiveZones: maxActive });
  }

  // ---- helpers ----

  private zoneIndex(z: number, op: string): number {
    if (!Number.isSafeInteger(z) || z < 0 || z >= this.geometry.nrZones) {
      throw new Qcow2Error({ code: 'zone-error', message: `${op}: zone ${z} does not exist (the device has ${this.geometry.nrZones} zones, 0-${this.geometry.nrZones - 1})`, details: { kind: 'out-of-range', op, zone: z, nrZones: this.geometry.nrZones } });
    }
    return z;
  }

  /** The tables as this state sees them. */
  private tables(): Tables {
    const n = this.node;
    return isDiff(n) ? ZoneState.reroot(this) : n;
  }

  /** Make `target` the newest state of its chain (the others keep their views as edits). */
  private static reroot(target: ZoneState): Tables {
    const path: ZoneState[] = [];
    let v = target;
    for (let n = v.node; isDiff(n); n = v.node) {
      path.push(v);
      v = n.base;
    }
    let t = v.node as Tables;
    // From the newest state back to the target: apply each state's edits, and leave on the state passed
    // the edits that take the tables back to it.
    for (let k = path.length - 1; k >= 0; k--) {
      const s = path[k];
      const { changes, base } = s.node as Diff;
      t = base.node as Tables;
      const inverse: Change[] = [];
      for (const c of changes) {
        inverse.push({ t: c.t, i: c.i, v: readChange(t, c.t, c.i) });
        applyChange(t, c);
      }
      base.node = { changes: inverse.reverse(), base: s };
      s.node = t;
    }
    return t;
  }

  /** A zone error naming the zone, its state, the counts, and the numbers in `extra`. */
  private err(kind: ZoneErrorKind, op: string, i: number, message: string, extra: Record<string, number> = {}): Qcow2Error {
    // The state as it was before this operation began: a refusal ends the operation, so put back any
    // tentative change of its draft first.
    this.drafting?.rollback();
    const t = this.tables();
    const cond = conditionOf(this.geometry, t, i);
    return new Qcow2Error({
      code: 'zone-error',
      message: `${op} zone ${i} (${cond}): ${message}`,
      details: {
        kind, op, zone: i, condition: cond, start: this.zoneStart(i), wp: t.wps[i],
        openZones: t.explicit.size + t.mru.size, activeZones: this.active,
        maxOpenZones: this.geometry.maxOpenZones, maxActiveZones: this.geometry.maxActiveZones, ...extra,
      },
    });
  }
}

function conditionOf(g: ZoneGeometry, d: { readonly wps: Float64Array; readonly explicit: ReadonlySet<number>; readonly mru: ReadonlyMap<number, number> }, i: number): ZoneCondition {
  if (i < g.conventionalZones) return 'not-wp';
  if (d.explicit.has(i)) return 'explicit-open';
  if (d.mru.has(i)) return 'implicit-open';
  const start = i * g.zoneSize;
  const cap = Math.min(g.zoneCapacity, Math.min(g.zoneSize, g.deviceSize - start));
  const wp = d.wps[i];
  if (wp === start) return 'empty';
  if (wp >= start + cap) return 'full';
  if (wp > start) return 'closed';
  return 'not-wp';
}

/** Open (explicit or implicit) and closed zones are active; full and empty zones never are (section 9 item 7). */
function isActive(g: ZoneGeometry, t: Tables, i: number): boolean {
  const c = conditionOf(g, t, i);
  return c === 'explicit-open' || c === 'implicit-open' || c === 'closed';
}

function isDiff(n: Tables | Diff): n is Diff { return 'changes' in n; }

function readChange(t: Tables, table: 0 | 1 | 2, i: number): number | undefined {
  if (table === 0) return t.wps[i];
  if (table === 1) return t.explicit.has(i) ? 1 : undefined;
  return t.mru.get(i);
}

function applyChange(t: Tables, c: Change): void {
  if (c.t === 0) t.wps[c.i] = c.v as number;
  else if (c.t === 1) {
    if (c.v === undefined) t.explicit.delete(c.i);
    else t.explicit.add(c.i);
  } else if (c.v === undefined) t.mru.delete(c.i);
  else t.mru.set(c.i, c.v);
}
