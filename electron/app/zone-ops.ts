// Zone operations for a session: one ZonedDevice per session, kept open so that open states (session-only,
// as in QEMU) survive between operations; its report carries them to the map.
import type { ZoneOpRequest, ZoneReport, ZoneWriteRequest, ZoneWriteResult } from '../../shared/contract/dto';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { ZONE_CONDITION_CODES } from '../../shared/qcow2/zoned-types';
import { ZonedDevice } from '../engine/zoned-device';
import type { Session, SessionStore } from './sessions';
import { readZoneReport } from './zone-report';

const KEY = 'zoned-device';

export async function sessionDevice(s: Session): Promise<ZonedDevice> {
  let d = s.state.get(KEY) as ZonedDevice | undefined;
  if (!d) {
    d = await ZonedDevice.open(s.path);
    s.state.set(KEY, d);
  }
  return d;
}

/** Close the session's device (before a repair rewrites the file, or when the session closes). */
export async function dropDevice(s: Session): Promise<void> {
  const d = s.state.get(KEY) as ZonedDevice | undefined;
  s.state.delete(KEY);
  if (d) await d.close();
}

export function deviceReport(d: ZonedDevice, wpByteOrder: string): ZoneReport {
  const g = d.geometry;
  const wp = new Float64Array(g.nrZones);
  const cond = new Uint8Array(g.nrZones);
  const zones = d.report();
  for (let i = 0; i < zones.length; i++) {
    wp[i] = zones[i].wp;
    cond[i] = ZONE_CONDITION_CODES[zones[i].condition];
  }
  return {
    nrZones: g.nrZones, zoneSize: g.zoneSize, zoneCapacity: g.zoneCapacity, conventionalZones: g.conventionalZones,
    deviceSize: g.deviceSize, maxOpenZones: g.maxOpenZones, maxActiveZones: g.maxActiveZones, maxAppendBytes: g.maxAppendBytes,
    wpByteOrder, wp, cond,
  };
}

/** The report with open states when a device is open, else straight from the file. */
export async function sessionZoneReport(store: SessionStore, s: Session): Promise<ZoneReport> {
  const d = s.state.get(KEY) as ZonedDevice | undefined;
  return d ? deviceReport(d, d.wpByteOrder) : readZoneReport(await store.image(s));
}

export async function runZoneOp(store: SessionStore, s: Session, req: ZoneOpRequest): Promise<ZoneReport> {
  const d = await sessionDevice(s);
  await d.run(req.op === 'reset-all' ? { op: 'reset-all' } : { op: req.op, zone: req.zone });
  store.invalidate(s);
  return deviceReport(d, d.wpByteOrder);
}

/**
 * The data the UI writes: every 512-byte block names itself ("qzs append zone 7 @0x1c00000"), so the hex
 * view shows at a glance which operation put which block where.
 */
export function zoneWritePattern(op: string, zone: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length).fill(0x2e);
  for (let at = 0; at < length; at += 512) {
    const text = `qzs ${op} zone ${zone} @0x${(offset + at).toString(16)}\n`;
    for (let k = 0; k < text.length && at + k < length; k++) out[at + k] = text.charCodeAt(k);
  }
  return out;
}

/** Append to a zone, or write at its write pointer; illegal requests fail with the state machine's zone-error. */
export async function runZoneWrite(store: SessionStore, s: Session, req: ZoneWriteRequest): Promise<ZoneWriteResult> {
  const d = await sessionDevice(s);
  if (req.zone >= d.geometry.nrZones) {
    throw new Qcow2Error({ code: 'zone-error', message: `${req.op}: zone ${req.zone} does not exist (the device has ${d.geometry.nrZones} zones)`, details: { kind: 'out-of-range', op: req.op, zone: req.zone, nrZones: d.geometry.nrZones } });
  }
  const data = (offset: number, length: number): Uint8Array => zoneWritePattern(req.op, req.zone, offset, length);
  const r = req.op === 'append'
    ? await d.run({ op: 'append', zone: req.zone, length: req.length }, data)
    : await d.run({ op: 'write', offset: d.state.writePointer(req.zone), length: req.length }, data);
  store.invalidate(s);
  return {
    op: req.op, zone: req.zone, offset: r.offset ?? 0, length: req.length,
    wp: d.state.writePointer(req.zone), implicitlyClosed: r.implicitlyClosed,
  };
}
