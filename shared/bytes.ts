// Pure big/little-endian accessors over Uint8Array. 64-bit values come back as bigint (exact) or as a
// number when the caller has bounded them; qcow2 stores offsets in u64 but real files stay below 2^53.

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function u8(b: Uint8Array, off: number): number {
  return b[off];
}

export function u16be(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

export function u32be(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

export function u32le(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

export function u64be(b: Uint8Array, off: number): bigint {
  return (BigInt(u32be(b, off)) << 32n) | BigInt(u32be(b, off + 4));
}

export function u64le(b: Uint8Array, off: number): bigint {
  return (BigInt(u32le(b, off + 4)) << 32n) | BigInt(u32le(b, off));
}

/** u64 big-endian as a number; exact only below 2^53 (callers check with {@link isSafeU64}). */
export function u64beNum(b: Uint8Array, off: number): number {
  return u32be(b, off) * 0x1_0000_0000 + u32be(b, off + 4);
}

export function u64leNum(b: Uint8Array, off: number): number {
  return u32le(b, off + 4) * 0x1_0000_0000 + u32le(b, off);
}

export function isSafeU64(v: bigint): boolean {
  return v <= BigInt(Number.MAX_SAFE_INTEGER);
}

export function putU16be(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

export function putU32be(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

export function putU32le(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = (v >>> 24) & 0xff;
}

export function putU64be(b: Uint8Array, off: number, v: bigint | number): void {
  const x = BigInt(v);
  putU32be(b, off, Number((x >> 32n) & 0xffff_ffffn));
  putU32be(b, off + 4, Number(x & 0xffff_ffffn));
}

export function putU64le(b: Uint8Array, off: number, v: bigint | number): void {
  const x = BigInt(v);
  putU32le(b, off, Number(x & 0xffff_ffffn));
  putU32le(b, off + 4, Number((x >> 32n) & 0xffff_ffffn));
}

export function toHex(b: Uint8Array, off = 0, len = b.length - off): string {
  let s = '';
  for (let i = off; i < off + len; i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}

/** The inverse of toHex (edit records carry bytes as hex text). */
export function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function hex(v: number | bigint, width = 0): string {
  return '0x' + v.toString(16).padStart(width, '0');
}

const utf8 = new TextDecoder('utf-8');
export function utf8Decode(b: Uint8Array): string {
  return utf8.decode(b);
}

export function utf8Encode(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function isPowerOfTwo(v: number): boolean {
  return v > 0 && Number.isSafeInteger(v) && 2 ** Math.round(Math.log2(v)) === v;
}

export function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

export function divCeil(a: number, b: number): number {
  return Math.ceil(a / b);
}
