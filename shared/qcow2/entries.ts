// Table entry codecs (docs/interop/qcow2.rst "Cluster mapping", "Refcount"): L1 entries, standard and
// extended L2 entries, compressed cluster descriptors, refcount entries of every width. Pure, shared by
// the reader, the writer and the checker.

export const L1E_OFFSET_MASK = 0x00ff_ffff_ffff_fe00n;
export const L2E_OFFSET_MASK = 0x00ff_ffff_ffff_fe00n;
export const REFT_OFFSET_MASK = 0xffff_ffff_ffff_fe00n;
export const OFLAG_COPIED = 1n << 63n;
export const OFLAG_COMPRESSED = 1n << 62n;
export const OFLAG_ZERO = 1n;
/** Reserved bits of an L1 entry: 0-8 and 56-62. */
export const L1E_RESERVED_MASK = 0x7f00_0000_0000_01ffn;
/** Reserved bits of a standard L2 entry: 1-8 and 56-61. */
export const L2E_STD_RESERVED_MASK = 0x3f00_0000_0000_01fen;

export interface L1Entry {
  raw: bigint;
  /** L2 table offset, 0 when unallocated. */
  l2Offset: number;
  copied: boolean;
  reservedBits: bigint;
}

export function decodeL1Entry(raw: bigint): L1Entry {
  return { raw, l2Offset: Number(raw & L1E_OFFSET_MASK), copied: (raw & OFLAG_COPIED) !== 0n, reservedBits: raw & L1E_RESERVED_MASK };
}

export function encodeL1Entry(l2Offset: number, copied: boolean): bigint {
  return (BigInt(l2Offset) & L1E_OFFSET_MASK) | (copied ? OFLAG_COPIED : 0n);
}

export type L2Kind = 'unallocated' | 'zero-plain' | 'zero-alloc' | 'normal' | 'compressed';

export interface L2Entry {
  raw: bigint;
  /** Second word of an extended entry (subcluster bitmap), 0n otherwise. */
  bitmap: bigint;
  kind: L2Kind;
  /** Host offset of the data cluster (normal/zero-alloc), or of the compressed data's first byte. */
  hostOffset: number;
  copied: boolean;
  compressed: boolean;
  /** Compressed: number of bytes the descriptor covers (sectors * 512, rounded as QEMU does). */
  compressedSize: number;
  reservedBits: bigint;
}

/** Bits of the compressed descriptor: x = 62 - (cluster_bits - 8) bits of offset, the rest sectors - 1. */
export function compressedLayout(clusterBits: number): { offsetBits: number; sectorBits: number } {
  const offsetBits = 62 - (clusterBits - 8);
  return { offsetBits, sectorBits: clusterBits - 8 };
}

export function decodeL2Entry(raw: bigint, clusterBits: number, extended: boolean, bitmap = 0n): L2Entry {
  const copied = (raw & OFLAG_COPIED) !== 0n;
  if ((raw & OFLAG_COMPRESSED) !== 0n) {
    const { offsetBits } = compressedLayout(clusterBits);
    const offMask = (1n << BigInt(offsetBits)) - 1n;
    const hostOffset = Number(raw & offMask);
    const sectorMask = (1n << BigInt(clusterBits - 8)) - 1n;
    const nbSectors = Number((raw >> BigInt(offsetBits)) & sectorMask) + 1;
    // QEMU: the compressed data ends at the end of the last 512-byte sector the descriptor names.
    const compressedSize = nbSectors * 512 - (hostOffset & 511);
    return { raw, bitmap, kind: 'compressed', hostOffset, copied, compressed: true, compressedSize, reservedBits: 0n };
  }
  const hostOffset = Number(raw & L2E_OFFSET_MASK);
  const zeroFlag = !extended && (raw & OFLAG_ZERO) !== 0n;
  const reservedBits = raw & (extended ? L2E_STD_RESERVED_MASK | 1n : L2E_STD_RESERVED_MASK);
  let kind: L2Kind;
  if (zeroFlag) kind = hostOffset ? 'zero-alloc' : 'zero-plain';
  else kind = hostOffset ? 'normal' : 'unallocated';
  return { raw, bitmap, kind, hostOffset, copied, compressed: false, compressedSize: 0, reservedBits };
}

export function encodeL2Entry(hostOffset: number, copied: boolean, zero = false): bigint {
  return (BigInt(hostOffset) & L2E_OFFSET_MASK) | (copied ? OFLAG_COPIED : 0n) | (zero ? OFLAG_ZERO : 0n);
}

export function encodeCompressedL2Entry(hostOffset: number, compressedBytes: number, clusterBits: number): bigint {
  const { offsetBits } = compressedLayout(clusterBits);
  const lastSector = Math.floor((hostOffset + compressedBytes - 1) / 512);
  const nbSectorsMinus1 = lastSector - Math.floor(hostOffset / 512);
  return OFLAG_COMPRESSED | (BigInt(nbSectorsMinus1) << BigInt(offsetBits)) | BigInt(hostOffset);
}

/** Extended L2: subcluster i (0..31) allocated / reads-as-zero. */
export function subclusterAllocated(bitmap: bigint, i: number): boolean {
  return ((bitmap >> BigInt(i)) & 1n) === 1n;
}
export function subclusterZero(bitmap: bigint, i: number): boolean {
  return ((bitmap >> BigInt(32 + i)) & 1n) === 1n;
}

/** Number of refcount entries in one refcount block. */
export function refcountsPerBlock(clusterSize: number, refcountOrder: number): number {
  return (clusterSize * 8) / (1 << refcountOrder);
}

/**
 * Refcount entry `i` of a refcount block. Widths below 8 bits are packed LSB-first within each byte;
 * widths of 8 bits and more are big-endian. 64-bit refcounts beyond 2^53 are returned as Infinity
 * (no real image has them; the checker flags them).
 */
export function getRefcount(block: Uint8Array, i: number, refcountOrder: number): number {
  const bits = 1 << refcountOrder;
  if (bits < 8) {
    const perByte = 8 / bits;
    const byte = block[Math.floor(i / perByte)];
    const shift = (i % perByte) * bits;
    return (byte >> shift) & ((1 << bits) - 1);
  }
  const bytes = bits / 8;
  const off = i * bytes;
  if (bytes === 1) return block[off];
  if (bytes === 2) return (block[off] << 8) | block[off + 1];
  if (bytes === 4) return ((block[off] << 24) | (block[off + 1] << 16) | (block[off + 2] << 8) | block[off + 3]) >>> 0;
  const hi = ((block[off] << 24) | (block[off + 1] << 16) | (block[off + 2] << 8) | block[off + 3]) >>> 0;
  const lo = ((block[off + 4] << 24) | (block[off + 5] << 16) | (block[off + 6] << 8) | block[off + 7]) >>> 0;
  const v = hi * 0x1_0000_0000 + lo;
  return Number.isSafeInteger(v) ? v : Infinity;
}

export function maxRefcount(refcountOrder: number): number {
  const bits = 1 << refcountOrder;
  return bits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** bits - 1;
}

export function setRefcount(block: Uint8Array, i: number, refcountOrder: number, value: number): void {
  const bits = 1 << refcountOrder;
  if (value < 0 || value > maxRefcount(refcountOrder)) throw new RangeError(`refcount ${value} does not fit in ${bits} bits`);
  if (bits < 8) {
    const perByte = 8 / bits;
    const idx = Math.floor(i / perByte);
    const shift = (i % perByte) * bits;
    const mask = ((1 << bits) - 1) << shift;
    block[idx] = (block[idx] & ~mask) | ((value << shift) & mask);
    return;
  }
  const bytes = bits / 8;
  const off = i * bytes;
  let v = value;
  for (let k = bytes - 1; k >= 0; k--) {
    block[off + k] = v % 256;
    v = Math.floor(v / 256);
  }
}
