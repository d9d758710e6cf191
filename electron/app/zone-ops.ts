// Zone operations as the UI asks for them, carried out by the image's session (one device on the
// session's handle; open states live there, as in QEMU, while the image is open here).
import type { ZoneOpRequest, ZoneReport, ZoneWriteRequest, ZoneWriteResult } from '../../shared/contract/dto';
import { Qcow2Error } from '../../shared/qcow2/findings';
import type { ImageSession } from '../engine/image-session';

/** Open, close, finish, reset, reset-all: answers with the new report, so the map needs no second call. */
export async function zoneManagement(s: ImageSession, req: ZoneOpRequest): Promise<ZoneReport> {
  const { report } = await s.zoneOp(req.op === 'reset-all' ? { op: 'reset-all' } : { op: req.op, zone: req.zone });
  return report;
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

/**
 * Append to a zone, or write at its write pointer. The write pointer is read inside the session's queue,
 * so two writes asked for at once land one after the other instead of both at the old pointer.
 */
export async function zoneWrite(s: ImageSession, req: ZoneWriteRequest): Promise<ZoneWriteResult> {
  const data = (offset: number, length: number): Uint8Array => zoneWritePattern(req.op, req.zone, offset, length);
  const { result, report } = await s.zoneOp((st) => {
    const nrZones = st.geometry.nrZones;
    if (req.zone >= nrZones) {
      throw new Qcow2Error({ code: 'zone-error', message: `${req.op}: zone ${req.zone} does not exist (the device has ${nrZones} zones)`, details: { kind: 'out-of-range', op: req.op, zone: req.zone, nrZones } });
    }
    return req.op === 'append' ? { op: 'append', zone: req.zone, length: req.length } : { op: 'write', offset: st.writePointer(req.zone), length: req.length };
  }, data);
  return {
    op: req.op, zone: req.zone, offset: result.offset ?? 0, length: req.length,
    wp: report.wp[req.zone] ?? 0, implicitlyClosed: result.implicitlyClosed,
  };
}
