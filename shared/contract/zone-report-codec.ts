// A zone report crosses HTTP as one binary body, not JSON of a million objects: a small JSON head with the
// geometry, then the conditions as bytes and the write pointers as float64. (Electron's structured clone
// carries the typed arrays as they are.) Two layouts, the encoder picks the smaller:
//   dense  "QZR1" | u32 head length | head | pad to 8 | wp: n × f64 | cond: n × u8
//   sparse "QZR2" | u32 head length | head | pad to 8 | cond: n × u8 | pad to 8 | u32 k | u32 0 |
//          k × u32 zone | pad to 8 | k × f64 wp
// Sparse lists only the zones whose write pointer is not their zone start (written zones); every other
// pointer is rebuilt as i × zone_size. A million mostly-empty zones then send 1 MiB instead of 9 MiB.
import type { ZoneReport } from './dto';

const DENSE = 0x515a5231; // "QZR1"
const SPARSE = 0x515a5232; // "QZR2"

type Head = Omit<ZoneReport, 'wp' | 'cond'>;

const pad8 = (n: number): number => Math.ceil(n / 8) * 8;

function headPart(r: ZoneReport, magic: number): Uint8Array {
  const { wp: _wp, cond: _cond, ...head } = r;
  const headBytes = new TextEncoder().encode(JSON.stringify(head));
  const first = new Uint8Array(pad8(8 + headBytes.length));
  const dv = new DataView(first.buffer);
  dv.setUint32(0, magic);
  dv.setUint32(4, headBytes.length);
  first.set(headBytes, 8);
  return first;
}

/** Zones whose write pointer is not their start (the ones a sparse body lists). */
function writtenZones(r: ZoneReport, limit: number): Uint32Array | null {
  const zs = r.zoneSize;
  let k = 0;
  for (let i = 0; i < r.nrZones; i++) if (r.wp[i] !== i * zs && ++k > limit) return null;
  const out = new Uint32Array(k);
  k = 0;
  for (let i = 0; i < r.nrZones; i++) if (r.wp[i] !== i * zs) out[k++] = i;
  return out;
}

/**
 * The encoded report as pieces to send one after the other (no copy of the report's arrays where the
 * layout allows: the dense layout sends views of them). Host byte order for the numbers, as the decoder's
 * views read them: both ends are one machine.
 */
export function encodeZoneReportParts(r: ZoneReport): Uint8Array[] {
  const n = r.nrZones;
  if (r.wp.length < n || r.cond.length < n) throw new Error('zone report arrays are shorter than its zone count');
  const cond = new Uint8Array(r.cond.buffer, r.cond.byteOffset, n);
  // Sparse costs 12 bytes per written zone against 8 per zone dense.
  const written = writtenZones(r, Math.floor((8 * n) / 12) - 2);
  if (!written) return [headPart(r, DENSE), new Uint8Array(r.wp.buffer, r.wp.byteOffset, n * 8), cond];
  const k = written.length;
  const afterCond = new Uint8Array(pad8(n) - n + 8);
  new DataView(afterCond.buffer).setUint32(afterCond.length - 8, k, true);
  const index = new Uint8Array(pad8(4 * k));
  new Uint32Array(index.buffer, 0, k).set(written);
  const wp = new Float64Array(k);
  for (let j = 0; j < k; j++) wp[j] = r.wp[written[j]];
  return [headPart(r, SPARSE), cond, afterCond, index, new Uint8Array(wp.buffer)];
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
  const magic = buf.byteLength >= 8 ? dv.getUint32(0) : 0;
  if (magic !== DENSE && magic !== SPARSE) throw new Error('not a zone report');
  const headLen = dv.getUint32(4);
  if (8 + headLen > buf.byteLength) throw new Error('zone report head is truncated');
  const head = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headLen))) as Head;
  const n = head.nrZones;
  const body = pad8(8 + headLen);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error('zone report is truncated');
  if (magic === DENSE) {
    if (body + n * 9 > buf.byteLength) throw new Error('zone report is truncated');
    const wp = new Float64Array(buf.buffer, buf.byteOffset + body, n);
    const cond = buf.subarray(body + n * 8, body + n * 9);
    return { ...head, wp, cond };
  }
  const countAt = body + pad8(n);
  if (countAt + 8 > buf.byteLength) throw new Error('zone report is truncated');
  const k = dv.getUint32(countAt, true);
  const indexAt = countAt + 8;
  const wpAt = indexAt + pad8(4 * k);
  if (wpAt + 8 * k > buf.byteLength) throw new Error('zone report is truncated');
  const cond = buf.subarray(body, body + n);
  const index = new Uint32Array(buf.buffer, buf.byteOffset + indexAt, k);
  const listed = new Float64Array(buf.buffer, buf.byteOffset + wpAt, k);
  const wp = new Float64Array(n);
  const zs = head.zoneSize;
  for (let i = 0; i < n; i++) wp[i] = i * zs;
  for (let j = 0; j < k; j++) {
    if (index[j] >= n) throw new Error(`zone report lists zone ${index[j]} of ${n}`);
    wp[index[j]] = listed[j];
  }
  return { ...head, wp, cond };
}
