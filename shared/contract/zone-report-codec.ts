// A zone report crosses HTTP as one binary body, not JSON of a million objects: a small JSON head with the
// geometry, then the write pointers as float64 and the conditions as bytes. (Electron's structured clone
// carries the typed arrays as they are.) Layout: "QZR1" | u32 head length | head | pad to 8 | wp | cond.
import type { ZoneReport } from './dto';

const MAGIC = 0x515a5231; // "QZR1"

type Head = Omit<ZoneReport, 'wp' | 'cond'>;

/**
 * The encoded report as three pieces to send one after the other: the head (magic, length, JSON, padding)
 * and views of the report's own write pointer and condition arrays — no copy of the 9 MiB a million zones
 * take. (Host byte order for the float64s, as the decoder's view reads them: both ends are one machine.)
 */
export function encodeZoneReportParts(r: ZoneReport): [Uint8Array, Uint8Array, Uint8Array] {
  const { wp: _wp, cond: _cond, ...head } = r;
  const headBytes = new TextEncoder().encode(JSON.stringify(head));
  const wpOffset = Math.ceil((8 + headBytes.length) / 8) * 8;
  const first = new Uint8Array(wpOffset);
  const dv = new DataView(first.buffer);
  dv.setUint32(0, MAGIC);
  dv.setUint32(4, headBytes.length);
  first.set(headBytes, 8);
  const n = r.nrZones;
  if (r.wp.length < n || r.cond.length < n) throw new Error('zone report arrays are shorter than its zone count');
  return [first, new Uint8Array(r.wp.buffer, r.wp.byteOffset, n * 8), new Uint8Array(r.cond.buffer, r.cond.byteOffset, n)];
}

/** The report as one buffer (the pieces of encodeZoneReportParts joined). */
export function encodeZoneReport(r: ZoneReport): Uint8Array {
  const parts = encodeZoneReportParts(r);
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export function decodeZoneReport(bytes: Uint8Array): ZoneReport {
  // Copy into a fresh, 8-aligned buffer so the float64 view is legal whatever the source offset.
  const buf = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 8 || dv.getUint32(0) !== MAGIC) throw new Error('not a zone report');
  const headLen = dv.getUint32(4);
  if (8 + headLen > buf.byteLength) throw new Error('zone report head is truncated');
  const head = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headLen))) as Head;
  const n = head.nrZones;
  const wpOffset = Math.ceil((8 + headLen) / 8) * 8;
  if (!Number.isSafeInteger(n) || n < 0 || wpOffset + n * 9 > buf.byteLength) throw new Error('zone report is truncated');
  const wp = new Float64Array(buf.buffer, buf.byteOffset + wpOffset, n);
  const cond = buf.subarray(wpOffset + n * 8, wpOffset + n * 9);
  return { ...head, wp, cond };
}
