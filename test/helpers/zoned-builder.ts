// Builds zoned qcow2 images byte by byte from ZONED-FORMAT.md (sections 1-3), independent of the engine:
// no engine encoder is used, so the images are an oracle for the reader. The result is a minimal valid
// qcow2 v3 image: header + zoned extension in cluster 0, refcount table, refcount block(s), the zonedmeta
// clusters (refcounted, referenced by nothing QEMU knows: leaks for stock qemu-img), then an empty L1 table.
// The 2026 layouts come from ZONED-REVISIONS-2026.md: v11 family (section 2a, 48 bytes) and the respin
// (section 4a, 44 bytes padded to 48); both write big-endian entries with bit 63 for conventional zones.

export type BuilderLayout = 'rfc' | 'v2' | 'v3-v4' | 'v5-v7' | 'v8' | 'v11' | 'respin';
export type Order = 'little-endian' | 'big-endian';

export interface ZonedImageSpec {
  layout: BuilderLayout;
  virtualSize: number;
  zoneSize: number;
  zoneCapacity?: number;
  conventionalZones?: number;
  /** Stored nr_zones (default ceil(virtualSize / zoneSize)). */
  nrZones?: number;
  maxOpenZones?: number;
  maxActiveZones?: number;
  /** In bytes; sector layouts (RFC, v2, v3/v4) store bytes / 512. */
  maxAppendBytes?: number;
  mode?: number;
  /** RFC/v2 profile (1 zbc, 2 zns). */
  profile?: number;
  /** Byte order of the RFC's host-endian enums. */
  rfcEnumOrder?: Order;
  clusterBits?: number;
  /** Entry byte order (default: little-endian, big-endian for v11 and the respin). */
  wpOrder?: Order;
  /** Raw 64-bit entry per zone (full value incl. bits 59-63); default: what that revision writes at create. */
  entry?: (i: number, start: number) => bigint | undefined;
  /** Number of entries to write (default nr_zones). */
  entriesWritten?: number;
  zonedmetaSize?: number;
  zonedmetaOffset?: number;
  /** Bytes appended to the extension data (its length grows accordingly). */
  extTail?: Uint8Array;
  /** Replace the extension data completely (for unknown lengths). */
  extData?: Uint8Array;
  reserved?: [number, number, number];
  /** Incompatible bit 5 (default true). */
  bit5?: boolean;
}

export interface BuiltImage {
  bytes: Uint8Array;
  clusterSize: number;
  zonedmetaOffset: number;
  zonedmetaClusters: number;
  l1Offset: number;
  extDataOffset: number;
  nrZones: number;
}

const BIT59 = 1n << 59n;
const BIT63 = 1n << 63n;

/** The 2026 layouts: big-endian entries with the conventional flag in bit 63. */
export function isNewLayout(layout: BuilderLayout): boolean {
  return layout === 'v11' || layout === 'respin';
}

function be32(b: Uint8Array, off: number, v: number): void {
  new DataView(b.buffer, b.byteOffset).setUint32(off, v >>> 0, false);
}
function le32(b: Uint8Array, off: number, v: number): void {
  new DataView(b.buffer, b.byteOffset).setUint32(off, v >>> 0, true);
}
function be64(b: Uint8Array, off: number, v: number | bigint): void {
  new DataView(b.buffer, b.byteOffset).setBigUint64(off, BigInt(v), false);
}
function be16(b: Uint8Array, off: number, v: number): void {
  new DataView(b.buffer, b.byteOffset).setUint16(off, v, false);
}

/** A write-pointer entry value: absolute byte offset, optional bit 59 and condition nibble (bits 60-63). */
export function wpValue(address: number, opts: { conventional?: boolean; nibble?: number } = {}): bigint {
  return BigInt(address) | (opts.conventional ? BIT59 : 0n) | (BigInt(opts.nibble ?? 0) << 60n);
}

/** An entry of the 2026 layouts: absolute byte offset, bit 63 for a conventional zone. */
export function wpValue63(address: number, conventional = false): bigint {
  return BigInt(address) | (conventional ? BIT63 : 0n);
}

/** What each revision writes at create (section 3): conventional start|bit59 (bit 63 from v11); RFC-v3 sequential start|EMPTY<<60. */
export function createEntry(layout: BuilderLayout, i: number, start: number, conventionalZones: number): bigint {
  if (isNewLayout(layout)) return wpValue63(start, i < conventionalZones);
  if (i < conventionalZones) return wpValue(start, { conventional: true });
  return wpValue(start, { nibble: layout === 'rfc' || layout === 'v2' || layout === 'v3-v4' ? 1 : 0 });
}

function extensionData(s: Required<Pick<ZonedImageSpec, 'layout'>> & ZonedImageSpec, nr: number, zmOffset: number, zmSize: number): Uint8Array {
  const cap = s.zoneCapacity ?? s.zoneSize;
  const conv = s.conventionalZones ?? 0;
  const active = s.maxActiveZones ?? 0;
  const open = s.maxOpenZones ?? 0;
  const append = s.maxAppendBytes ?? 0;
  const mode = s.mode ?? 1;
  const res = s.reserved ?? [0, 0, 0];
  let d: Uint8Array;
  switch (s.layout) {
    case 'v11':
      d = new Uint8Array(48);
      d[0] = mode; d.set(res, 1);
      be32(d, 4, nr); be64(d, 8, s.zoneSize); be64(d, 16, cap);
      be32(d, 24, conv); be32(d, 28, active); be32(d, 32, open); be32(d, 36, append);
      be64(d, 40, zmOffset);
      break;
    case 'respin':
      d = new Uint8Array(44);
      d[0] = mode; d.set(res, 1);
      be32(d, 4, nr); be64(d, 8, s.zoneSize); be64(d, 16, cap); be64(d, 24, zmOffset);
      be32(d, 32, conv); be32(d, 36, active); be32(d, 40, open);
      break;
    case 'v8':
      d = new Uint8Array(56);
      d[0] = mode; d.set(res, 1);
      be64(d, 4, s.zoneSize); be64(d, 12, cap);
      be32(d, 20, conv); be32(d, 24, nr); be32(d, 28, active); be32(d, 32, open); be32(d, 36, append);
      be64(d, 40, zmSize); be64(d, 48, zmOffset);
      break;
    case 'v5-v7':
      d = new Uint8Array(48);
      d[0] = mode; d.set(res, 1);
      be32(d, 4, s.zoneSize); be32(d, 8, cap); be32(d, 12, conv); be32(d, 16, nr);
      be32(d, 20, active); be32(d, 24, open); be32(d, 28, append);
      be64(d, 32, zmSize); be64(d, 40, zmOffset);
      break;
    case 'v3-v4':
      d = new Uint8Array(48);
      d[0] = mode; d.set(res, 1);
      be32(d, 4, s.zoneSize); be32(d, 8, cap); be32(d, 12, conv); be32(d, 16, nr);
      be32(d, 20, active); be32(d, 24, open); be32(d, 28, append / 512);
      be64(d, 32, zmOffset); be64(d, 40, zmSize);
      break;
    case 'v2':
      d = new Uint8Array(48);
      d[0] = s.profile ?? 1; d[1] = mode;
      be32(d, 4, s.zoneSize); be32(d, 8, cap); be32(d, 12, nr); be32(d, 16, conv);
      be32(d, 20, active); be32(d, 24, open); be32(d, 28, append / 512);
      be64(d, 32, zmOffset); be64(d, 40, zmSize);
      break;
    case 'rfc': {
      d = new Uint8Array(55);
      const put = (s.rfcEnumOrder ?? 'little-endian') === 'little-endian' ? le32 : be32;
      put(d, 0, s.profile ?? 1); put(d, 4, mode);
      be32(d, 8, s.zoneSize); be32(d, 12, cap); be32(d, 16, nr); be32(d, 20, conv);
      be32(d, 24, active); be32(d, 28, open); be32(d, 32, append / 512);
      be64(d, 36, zmOffset); be64(d, 44, zmSize);
      break;
    }
  }
  if (s.extTail) {
    const out = new Uint8Array(d.length + s.extTail.length);
    out.set(d); out.set(s.extTail, d.length);
    d = out;
  }
  return s.extData ?? d;
}

/** Build the image in memory. */
export function buildZonedImage(spec: ZonedImageSpec): BuiltImage {
  const clusterBits = spec.clusterBits ?? 16;
  const cs = 2 ** clusterBits;
  const nr = spec.nrZones ?? Math.ceil(spec.virtualSize / spec.zoneSize);
  const written = spec.entriesWritten ?? nr;
  const zmClusters = Math.max(1, Math.ceil((8 * written) / cs));
  const l2Entries = cs / 8;
  const l1Size = Math.max(1, Math.ceil(spec.virtualSize / (cs * l2Entries)));
  const l1Clusters = Math.ceil((8 * l1Size) / cs);
  const refsPerBlock = cs / 2; // refcount_order 4: 16-bit refcounts

  // Refcount structures cover every cluster including themselves: grow until it fits.
  let rtClusters = 1;
  let rbCount = 1;
  let total = 0;
  for (;;) {
    total = 1 + rtClusters + rbCount + zmClusters + l1Clusters;
    const needRb = Math.ceil(total / refsPerBlock);
    const needRt = Math.ceil((needRb * 8) / cs);
    if (needRb <= rbCount && needRt <= rtClusters) break;
    rbCount = Math.max(rbCount, needRb);
    rtClusters = Math.max(rtClusters, needRt);
  }
  const rtCluster = 1;
  const rbCluster = rtCluster + rtClusters;
  const zmCluster = rbCluster + rbCount;
  const l1Cluster = zmCluster + zmClusters;
  const zmOffset = spec.zonedmetaOffset ?? zmCluster * cs;
  const zmSize = spec.zonedmetaSize ?? 8 * nr;

  const b = new Uint8Array(total * cs);
  // Header (docs/interop/qcow2.rst, ZONED-FORMAT.md 1.1).
  b.set([0x51, 0x46, 0x49, 0xfb]);
  be32(b, 4, 3);
  be32(b, 20, clusterBits);
  be64(b, 24, spec.virtualSize);
  be32(b, 36, l1Size);
  be64(b, 40, l1Cluster * cs);
  be64(b, 48, rtCluster * cs);
  be32(b, 56, rtClusters);
  be64(b, 72, spec.bit5 === false ? 0n : 1n << 5n);
  be32(b, 96, 4);
  be32(b, 100, 112);
  // Extensions from header_length: zoned, then the end marker.
  const data = extensionData(spec, nr, zmOffset, zmSize);
  let off = 112;
  be32(b, off, 0x007a6264);
  be32(b, off + 4, data.length);
  const extDataOffset = off + 8;
  b.set(data, extDataOffset);
  off = extDataOffset + Math.ceil(data.length / 8) * 8;
  be32(b, off, 0); be32(b, off + 4, 0);
  if (off + 8 > cs) throw new Error('extension does not fit in cluster 0');

  // Refcount table and blocks: every cluster of the file has refcount 1.
  for (let k = 0; k < rbCount; k++) be64(b, rtCluster * cs + 8 * k, (rbCluster + k) * cs);
  for (let c = 0; c < total; c++) be16(b, rbCluster * cs + 2 * c, 1);

  // zonedmeta at its cluster (only when the caller did not move the offset elsewhere).
  const wpAt = zmCluster * cs;
  const conv = spec.conventionalZones ?? 0;
  const view = new DataView(b.buffer);
  const le = (spec.wpOrder ?? (isNewLayout(spec.layout) ? 'big-endian' : 'little-endian')) === 'little-endian';
  for (let i = 0; i < written; i++) {
    const start = i * spec.zoneSize;
    const v = spec.entry?.(i, start) ?? createEntry(spec.layout, i, start, conv);
    view.setBigUint64(wpAt + 8 * i, v, le);
  }
  return { bytes: b, clusterSize: cs, zonedmetaOffset: zmOffset, zonedmetaClusters: zmClusters, l1Offset: l1Cluster * cs, extDataOffset, nrZones: nr };
}

/** A copy with incompatible bit 5 cleared, for stock qemu-img check (section 8 item 9). */
export function withoutBit5(bytes: Uint8Array): Uint8Array {
  const c = bytes.slice();
  c[79] &= ~(1 << 5);
  return c;
}
