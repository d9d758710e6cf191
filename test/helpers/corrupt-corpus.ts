// A corpus of corrupt images, one per finding kind: each is a small byte patch on a fresh image made by
// qemu-img/qemu-io (or on a copy of a reference zoned sample). The layout is read here with plain
// DataView reads, independently of the engine, so the expected offsets do not come from the code under test.
import { copyFileSync, chmodSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { qemuImg, qemuIo } from './qemu';
import { sample } from './samples';

export type BaseName = 'plain' | 'small' | 'snap' | 'snap2' | 'compressed' | 'bitmap' | 'zoned' | 'v2' | 'backed' | 'datafile';

/** The backing file name of the 'backed' base: relative, and never created. */
export const MISSING_BACKING = 'missing-base.qcow2';

export const ZONED_SAMPLE = sample('sample-v8-mixed.qcow2');

/** Build the base images once into `dir`; returns their paths. */
export function buildBases(dir: string): Record<BaseName, string> {
  const p = (n: string) => join(dir, n);
  qemuImg(['create', '-q', '-f', 'qcow2', p('plain.qcow2'), '4M']);
  qemuIo(p('plain.qcow2'), ['write -P 0x11 0 64k', 'write -P 0x22 1M 64k']);
  qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', p('small.qcow2'), '1M']);
  qemuIo(p('small.qcow2'), ['write -P 0x11 0 4k']);
  qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', p('v2.qcow2'), '4M']);
  qemuIo(p('v2.qcow2'), ['write -P 0x11 0 64k']);
  copyFileSync(p('plain.qcow2'), p('snap.qcow2'));
  qemuImg(['snapshot', '-c', 's1', p('snap.qcow2')]);
  qemuIo(p('snap.qcow2'), ['write -P 0x33 0 64k', 'write -P 0x44 2M 64k']);
  copyFileSync(p('snap.qcow2'), p('snap2.qcow2'));
  qemuImg(['snapshot', '-c', 's2', p('snap2.qcow2')]);
  qemuImg(['create', '-q', '-f', 'qcow2', '-u', '-b', MISSING_BACKING, '-F', 'qcow2', p('backed.qcow2'), '4M']);
  // An external data file named by an absolute path, then removed.
  qemuImg(['create', '-q', '-f', 'qcow2', '-o', `data_file=${p('gone.raw')}`, p('datafile.qcow2'), '4M']);
  rmSync(p('gone.raw'));
  qemuImg(['convert', '-c', '-O', 'qcow2', p('plain.qcow2'), p('compressed.qcow2')]);
  qemuImg(['create', '-q', '-f', 'qcow2', p('bitmap.qcow2'), '4M']);
  qemuImg(['bitmap', '--add', p('bitmap.qcow2'), 'b0']);
  qemuIo(p('bitmap.qcow2'), ['write -P 0x55 0 64k']);
  copyFileSync(ZONED_SAMPLE, p('zoned.qcow2'));
  chmodSync(p('zoned.qcow2'), 0o644);
  return {
    plain: p('plain.qcow2'), small: p('small.qcow2'), snap: p('snap.qcow2'), snap2: p('snap2.qcow2'), compressed: p('compressed.qcow2'),
    bitmap: p('bitmap.qcow2'), zoned: p('zoned.qcow2'), v2: p('v2.qcow2'), backed: p('backed.qcow2'), datafile: p('datafile.qcow2'),
  };
}

/** Byte-level access to a copy being corrupted. */
export class Patcher {
  bytes: Uint8Array;
  constructor(readonly path: string) {
    this.bytes = new Uint8Array(readFileSync(path));
  }
  private dv(): DataView {
    return new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }
  u8(off: number): number { return this.bytes[off]; }
  u16(off: number): number { return this.dv().getUint16(off); }
  u32(off: number): number { return this.dv().getUint32(off); }
  u64(off: number): bigint { return this.dv().getBigUint64(off); }
  num64(off: number): number { return Number(this.u64(off)); }
  set8(off: number, v: number): void { this.bytes[off] = v; }
  set32(off: number, v: number): void { this.dv().setUint32(off, v); }
  set64(off: number, v: bigint | number): void { this.dv().setBigUint64(off, BigInt(v)); }
  set16(off: number, v: number): void { this.dv().setUint16(off, v); }
  save(): void { writeFileSync(this.path, this.bytes); }

  get clusterSize(): number { return 2 ** this.u32(20); }
  get l1Offset(): number { return this.num64(40); }
  get reftableOffset(): number { return this.num64(48); }
  get headerLength(): number { return this.u32(4) === 3 ? this.u32(100) : 72; }
  /** Offset of the first refcount block. */
  get refblockOffset(): number { return Number(this.u64(this.reftableOffset) & ~0x1ffn); }
  /** L2 table of L1 entry i. */
  l2Offset(i = 0): number { return Number(this.u64(this.l1Offset + 8 * i) & 0x00ff_ffff_ffff_fe00n); }
  /** File offset of the L2 entry mapping guest cluster `g` (through L1 entry 0). */
  l2EntryOffset(g = 0): number { return this.l2Offset(0) + 8 * g; }
  /** Host offset of the data of guest cluster g. */
  dataOffset(g = 0): number { return Number(this.u64(this.l2EntryOffset(g)) & 0x00ff_ffff_ffff_fe00n); }
  /** Offset of the 16-bit refcount of cluster k (refcount_bits 16, first refblock). */
  refcountOffset(k: number): number { return this.refblockOffset + 2 * k; }
  /** Offsets of the snapshot table entries and of their id strings (docs/interop/qcow2.rst "Snapshots"). */
  snapshotEntries(): { at: number; idAt: number; idLen: number }[] {
    const out: { at: number; idAt: number; idLen: number }[] = [];
    let off = this.num64(64);
    for (let i = 0; i < this.u32(60); i++) {
      const idLen = this.u16(off + 12);
      const nameLen = this.u16(off + 14);
      const extra = this.u32(off + 36);
      out.push({ at: off, idAt: off + 40 + extra, idLen });
      off = Math.ceil((off + 40 + extra + idLen + nameLen) / 8) * 8;
    }
    return out;
  }
  /** Guest cluster whose data cluster lies last in the file (through L1 entry 0). */
  lastDataCluster(): number {
    let best = 0;
    for (let g = 0; g < this.clusterSize / 8; g++) if (this.dataOffset(g) > this.dataOffset(best)) best = g;
    return best;
  }
  /** The zoned extension's data offset (0 when absent). */
  zonedExtData(): number {
    let off = this.headerLength;
    while (off + 8 <= this.clusterSize) {
      const magic = this.u32(off);
      const len = this.u32(off + 4);
      if (magic === 0) return 0;
      if (magic === 0x007a6264) return off + 8;
      off += 8 + Math.ceil(len / 8) * 8;
    }
    return 0;
  }
  /** Offset of the extension with `magic` (its 8-byte header). */
  extensionOffset(magic: number): number {
    let off = this.headerLength;
    while (off + 8 <= this.clusterSize) {
      const m = this.u32(off);
      if (m === magic) return off;
      if (m === 0) return -1;
      off += 8 + Math.ceil(this.u32(off + 4) / 8) * 8;
    }
    return -1;
  }
}

/** What stock qemu-img does with the corrupted image. */
export type QemuView =
  /** qemu-img check sees it: our corruptions and leaks must equal its counts. */
  | 'same-counts'
  /** qemu-img info refuses to open the image: we must report an error finding at the field. */
  | 'refuses'
  /** qemu-img check cannot complete (exit 1); neither can we. */
  | 'check-fails'
  /** qemu-img info opens the image but qemu-img check cannot (it opens the whole image: backing file, data file, key). */
  | 'check-refuses'
  /** Beyond qemu-img (zoned findings, warnings): only our finding is asserted. */
  | 'ours';

export interface CorruptCase {
  name: string;
  base: BaseName;
  /** Corrupt the copy; returns the offset the finding must point at. */
  patch: (p: Patcher) => number;
  id: string;
  severity: 'error' | 'warning' | 'info';
  qemu: QemuView;
  /** After our `check -r all` the image is clean for qemu-img check (and for us). */
  repairs?: boolean;
  /** Our exit code for a plain check (qemu-img check -f qcow2's unless `beyondQemu` says why not). */
  exit?: number;
  /**
   * What stock `qemu-img check -f qcow2` prints for this image (a substring of its output), asserted
   * when the test runs: the oracle's own words, next to its exit code.
   */
  qemuSays?: string;
  /** Why our exit code differs from stock qemu-img check's on this image (docs/DECISIONS.md, issue 11). */
  beyondQemu?: string;
  /** The finding's structure and field, where the case names them. */
  field?: { structure: string; field: string | RegExp };
}

/** The documented reasons our exit code differs from stock qemu-img check's (docs/DECISIONS.md, issue 11). */
export const BEYOND_QEMU = {
  corruption: 'a corruption qemu-img check does not look for: we exit 2',
  zonedmeta: 'zonedmeta clusters count as referenced (ZONED-FORMAT.md 8.8): stock qemu-img on the bit-5-cleared copy counts them as leaks',
  zonedErrors: 'only zoned findings are errors: we exit 4 where stock qemu-img on the bit-5-cleared copy sees a clean image (or only the zonedmeta leaks)',
  patchedBits: 'stock qemu-img 7.2 does not check it, so its check passes',
} as const;

const ZEXT = {
  // v8 layout offsets within the extension data (ZONED-FORMAT.md 2.1)
  capacity: 12, nrZones: 24, metaSize: 40, metaOffset: 48,
};

export const CORPUS: CorruptCase[] = [
  // ---- header: images stock qemu-img cannot open at all
  { name: 'bad-magic', base: 'plain', id: 'header.magic', severity: 'error', qemu: 'refuses', exit: 1, patch: (p) => { p.set8(3, 0xfa); return 0; } },
  { name: 'bad-version', base: 'plain', id: 'header.version', severity: 'error', qemu: 'refuses', exit: 1, patch: (p) => { p.set32(4, 4); return 4; } },
  { name: 'cluster-bits', base: 'plain', id: 'header.cluster_bits', severity: 'error', qemu: 'refuses', exit: 1, patch: (p) => { p.set32(20, 30); return 20; } },
  { name: 'header-length-short', base: 'plain', id: 'header.header_length', severity: 'error', qemu: 'refuses', exit: 1, patch: (p) => { p.set32(100, 96); return 100; } },
  { name: 'refcount-order', base: 'plain', id: 'header.refcount_order', severity: 'error', qemu: 'refuses', patch: (p) => { p.set32(96, 7); return 96; } },
  { name: 'compression-type-without-bit', base: 'plain', id: 'header.compression_type', severity: 'error', qemu: 'refuses', patch: (p) => { p.set8(104, 1); return 104; } },
  { name: 'compression-bit-without-type', base: 'plain', id: 'header.compression-bit', severity: 'error', qemu: 'refuses', patch: (p) => { p.set64(72, p.u64(72) | 8n); return 72; } },
  { name: 'l1-offset-unaligned', base: 'plain', id: 'header.l1_table_offset', severity: 'error', qemu: 'refuses', exit: 1, patch: (p) => { p.set64(40, p.l1Offset + 512); return 40; } },
  { name: 'reftable-offset-unaligned', base: 'plain', id: 'header.refcount_table_offset', severity: 'error', qemu: 'refuses', exit: 1, patch: (p) => { p.set64(48, p.reftableOffset + 512); return 48; } },
  { name: 'l1-size-too-small', base: 'plain', id: 'header.l1_size', severity: 'error', qemu: 'refuses', exit: 1, patch: (p) => { p.set32(36, 0); return 36; } },
  { name: 'backing-name-too-long', base: 'plain', id: 'header.backing_file_size', severity: 'error', qemu: 'refuses', patch: (p) => { p.set64(8, 1024); p.set32(16, 2000); return 16; } },
  { name: 'unknown-incompatible-bit', base: 'plain', id: 'features.unknown-incompatible', severity: 'error', qemu: 'refuses', patch: (p) => { p.set64(72, p.u64(72) | (1n << 10n)); return 72; } },
  { name: 'extension-overrun', base: 'plain', id: 'extension.overrun', severity: 'error', qemu: 'refuses', patch: (p) => { const o = p.headerLength; p.set32(o, 0x12345678); p.set32(o + 4, 0x100000); return o + 4; } },
  { name: 'extended-l2-small-clusters', base: 'small', id: 'header.extended-l2-cluster-size', severity: 'error', qemu: 'refuses', patch: (p) => { p.set64(72, p.u64(72) | 16n); return 20; } },
  { name: 'bitmaps-reserved', base: 'bitmap', id: 'extension.bitmaps-reserved', severity: 'error', qemu: 'refuses', patch: (p) => { const o = p.extensionOffset(0x23852875); p.set32(o + 12, 1); return o + 12; } },
  // ---- header: openable, noticed by us only
  {
    name: 'duplicate-extension', base: 'plain', id: 'extension.duplicate', severity: 'error', qemu: 'ours', exit: 2, beyondQemu: BEYOND_QEMU.corruption,
    patch: (p) => {
      const o = p.headerLength;
      p.bytes.fill(0, o, o + 512);
      for (const at of [o, o + 16]) { p.set32(at, 0x12345678); p.set32(at + 4, 8); }
      return o + 16;
    },
  },
  { name: 'unknown-autoclear-bit', base: 'plain', id: 'features.unknown-autoclear', severity: 'warning', qemu: 'ours', repairs: true, patch: (p) => { p.set64(88, p.u64(88) | (1n << 7n)); return 88; } },
  { name: 'dirty-bit', base: 'plain', id: 'features.dirty', severity: 'warning', qemu: 'same-counts', repairs: true, patch: (p) => { p.set64(72, p.u64(72) | 1n); return 72; } },
  { name: 'corrupt-bit', base: 'plain', id: 'features.corrupt', severity: 'error', qemu: 'same-counts', repairs: true, exit: 2, beyondQemu: 'the image says it is corrupt (incompatible bit 1): qemu-img check finds nothing in the tables and exits 0, we exit 2', patch: (p) => { p.set64(72, p.u64(72) | 2n); return 72; } },
  // ---- metadata: what qemu-img check counts
  {
    name: 'leaked-cluster', base: 'plain', id: 'refcount.leak', severity: 'warning', qemu: 'same-counts', repairs: true, exit: 3,
    patch: (p) => { const k = p.bytes.length / p.clusterSize; p.bytes = concat(p.bytes, new Uint8Array(p.clusterSize)); p.set16(p.refcountOffset(k), 1); return p.refcountOffset(k); },
  },
  { name: 'refcount-too-low', base: 'plain', id: 'refcount.too-low', severity: 'error', qemu: 'same-counts', repairs: true, exit: 2, patch: (p) => { const k = p.dataOffset(0) / p.clusterSize; p.set16(p.refcountOffset(k), 0); return p.refcountOffset(k); } },
  { name: 'refcount-too-high', base: 'plain', id: 'refcount.leak', severity: 'warning', qemu: 'same-counts', repairs: true, exit: 2, patch: (p) => { const k = p.dataOffset(0) / p.clusterSize; p.set16(p.refcountOffset(k), 2); return p.refcountOffset(k); } },
  { name: 'l1-reserved-bits', base: 'plain', id: 'l1.reserved-bits', severity: 'error', qemu: 'same-counts', repairs: true, exit: 2, patch: (p) => { p.set64(p.l1Offset, p.u64(p.l1Offset) | 2n); return p.l1Offset; } },
  { name: 'l2-reserved-bits', base: 'plain', id: 'l2.reserved-bits', severity: 'error', qemu: 'same-counts', repairs: true, exit: 2, patch: (p) => { const o = p.l2EntryOffset(0); p.set64(o, p.u64(o) | (1n << 57n)); return o; } },
  { name: 'l2-data-unaligned', base: 'plain', id: 'l2.unaligned', severity: 'error', qemu: 'same-counts', exit: 2, patch: (p) => { const o = p.l2EntryOffset(0); p.set64(o, p.u64(o) + 512n); return o; } },
  { name: 'l1-l2-unaligned', base: 'plain', id: 'l1.unaligned', severity: 'error', qemu: 'same-counts', exit: 2, patch: (p) => { p.set64(p.l1Offset, p.u64(p.l1Offset) + 512n); return p.l1Offset; } },
  { name: 'l2-table-past-eof', base: 'plain', id: 'refcount.past-eof', severity: 'error', qemu: 'same-counts', exit: 2, patch: (p) => { p.set64(p.l1Offset, (1n << 63n) | BigInt(p.bytes.length + 100 * p.clusterSize)); return p.l1Offset; } },
  { name: 'data-past-eof', base: 'plain', id: 'refcount.past-eof', severity: 'error', qemu: 'same-counts', exit: 2, patch: (p) => { const o = p.l2EntryOffset(0); p.set64(o, (1n << 63n) | BigInt(p.bytes.length + 10 * p.clusterSize)); return o; } },
  {
    name: 'compressed-past-eof', base: 'compressed', id: 'refcount.past-eof', severity: 'error', qemu: 'same-counts', exit: 2,
    patch: (p) => { const o = p.l2EntryOffset(0); const v = p.u64(o); const x = 62n - BigInt(p.u32(20) - 8); const mask = (1n << x) - 1n; p.set64(o, (v & ~mask) | BigInt(p.bytes.length + 4 * p.clusterSize)); return o; },
  },
  { name: 'compressed-copied', base: 'compressed', id: 'l2.compressed-copied', severity: 'error', qemu: 'same-counts', repairs: true, exit: 2, patch: (p) => { const o = p.l2EntryOffset(0); p.set64(o, p.u64(o) | (1n << 63n)); return o; } },
  { name: 'l2-copied-clear', base: 'plain', id: 'l2.copied', severity: 'error', qemu: 'same-counts', repairs: true, exit: 2, patch: (p) => { const o = p.l2EntryOffset(0); p.set64(o, p.u64(o) & ~(1n << 63n)); return o; } },
  { name: 'l1-copied-clear', base: 'plain', id: 'l1.copied', severity: 'error', qemu: 'same-counts', repairs: true, exit: 2, patch: (p) => { p.set64(p.l1Offset, p.u64(p.l1Offset) & ~(1n << 63n)); return p.l1Offset; } },
  { name: 'l2-over-refblock', base: 'plain', id: 'overlap.metadata', severity: 'error', qemu: 'same-counts', exit: 2, patch: (p) => { p.set64(p.l1Offset, (1n << 63n) | BigInt(p.refblockOffset)); return p.l1Offset; } },
  { name: 'reftable-entry-unaligned', base: 'plain', id: 'reftable.unaligned', severity: 'error', qemu: 'check-fails', exit: 1, patch: (p) => { p.set64(p.reftableOffset, p.u64(p.reftableOffset) + 512n); return p.reftableOffset; } },
  { name: 'reftable-entry-past-eof', base: 'plain', id: 'reftable.past-eof', severity: 'error', qemu: 'same-counts', exit: 2, patch: (p) => { p.set64(p.reftableOffset + 8, BigInt(p.bytes.length + 50 * p.clusterSize)); return p.reftableOffset + 8; } },
  {
    name: 'snapshot-l1-unaligned', base: 'snap', id: 'snapshot.l1-unaligned', severity: 'error', qemu: 'same-counts', exit: 2,
    patch: (p) => { const s = p.num64(64); p.set64(s, p.num64(s) + 512); return s; },
  },
  {
    name: 'snapshot-extra-too-large', base: 'snap', id: 'snapshot.extra-data-size', severity: 'error', qemu: 'check-fails', exit: 1,
    patch: (p) => { const s = p.num64(64); p.set32(s + 36, 2000); return s + 36; },
  },
  {
    name: 'bitmap-entry-reserved', base: 'bitmap', id: 'bitmaps.entry-invalid', severity: 'error', qemu: 'ours', exit: 1, qemuSays: 'Could not read bitmap_table table from image',
    patch: (p) => { const o = p.extensionOffset(0x23852875); const dir = p.num64(o + 8 + 16); const table = p.num64(dir); p.set64(table, p.u64(table) | 2n); return table; },
  },
  // ---- zoned (patched on a copy of the v8 reference sample)
  { name: 'zoned-nr-zones', base: 'zoned', id: 'zoned.nr-zones', severity: 'error', qemu: 'ours', exit: 4, beyondQemu: BEYOND_QEMU.zonedErrors, patch: (p) => { const d = p.zonedExtData(); p.set32(d + ZEXT.nrZones, 12); return d + ZEXT.nrZones; } },
  { name: 'zoned-zonedmeta-size', base: 'zoned', id: 'zoned.zonedmeta-size', severity: 'warning', qemu: 'ours', exit: 0, beyondQemu: BEYOND_QEMU.zonedmeta, patch: (p) => { const d = p.zonedExtData(); p.set64(d + ZEXT.metaSize, 88); return d + ZEXT.metaSize; } },
  { name: 'zoned-capacity', base: 'zoned', id: 'zoned.capacity-exceeds-size', severity: 'error', qemu: 'ours', exit: 4, beyondQemu: BEYOND_QEMU.zonedErrors, patch: (p) => { const d = p.zonedExtData(); p.set64(d + ZEXT.capacity, 8 << 20); return d + ZEXT.capacity; } },
  {
    name: 'zoned-wp-out-of-range', base: 'zoned', id: 'zoned.wp-out-of-range', severity: 'error', qemu: 'ours', exit: 4, beyondQemu: BEYOND_QEMU.zonedErrors,
    patch: (p) => { const m = p.num64(p.zonedExtData() + ZEXT.metaOffset); new DataView(p.bytes.buffer).setBigUint64(m + 8 * 5, 30n << 20n, true); return m + 40; },
  },
  {
    name: 'zoned-conventional-wp', base: 'zoned', id: 'zoned.conventional-wp', severity: 'warning', qemu: 'ours', exit: 0, beyondQemu: BEYOND_QEMU.zonedmeta,
    patch: (p) => { const m = p.num64(p.zonedExtData() + ZEXT.metaOffset); new DataView(p.bytes.buffer).setBigUint64(m + 8, 4n << 20n, true); return m + 8; },
  },
  {
    name: 'zoned-data-beyond-wp', base: 'zoned', id: 'zoned.data-beyond-wp', severity: 'warning', qemu: 'ours', exit: 0, beyondQemu: BEYOND_QEMU.zonedmeta,
    // zone 4 (16 MiB) holds 3 MiB of data; rewind its write pointer to the zone start
    patch: (p) => { const m = p.num64(p.zonedExtData() + ZEXT.metaOffset); new DataView(p.bytes.buffer).setBigUint64(m + 8 * 4, 16n << 20n, true); return p.l2EntryOffset((16 << 20) / p.clusterSize); },
  },
  { name: 'zoned-extension-without-bit', base: 'zoned', id: 'zoned.extension-without-bit', severity: 'warning', qemu: 'ours', exit: 0, beyondQemu: BEYOND_QEMU.zonedmeta, patch: (p) => { p.set64(72, p.u64(72) & ~32n); return 72; } },
  { name: 'zoned-bit-without-extension', base: 'plain', field: { structure: 'header', field: 'incompatible_features' },  id: 'zoned.bit-without-extension', severity: 'error', qemu: 'refuses', exit: 1, qemuSays: 'Unsupported qcow2 feature(s): Unknown incompatible feature: 20', patch: (p) => { p.set64(72, p.u64(72) | 32n); return 72; } },
  {
    name: 'zoned-zonedmeta-over-l1', base: 'zoned', id: 'overlap.metadata', severity: 'error', qemu: 'ours', exit: 2, beyondQemu: BEYOND_QEMU.zonedmeta,
    patch: (p) => { const d = p.zonedExtData(); p.set64(d + ZEXT.metaOffset, p.l1Offset); return d + ZEXT.metaOffset; },
  },
  // ---- images stock qemu-img refuses to open (issue 11): qemu-img check exits 1 and says why
  { name: 'backing-missing', base: 'backed', field: { structure: 'backing file name', field: 'name' },  id: 'backing.missing', severity: 'error', qemu: 'check-refuses', exit: 1, qemuSays: `Could not open backing file: Could not open '`, patch: (p) => p.num64(8) },
  {
    name: 'backing-format-too-long', base: 'plain', field: { structure: 'backing file format extension', field: 'length' },  id: 'extension.backing-format-too-long', severity: 'error', qemu: 'refuses', exit: 1, qemuSays: 'ERROR: ext_backing_format: len=1100 too large (>=16)',
    patch: (p) => { const o = p.headerLength; p.bytes.fill(0, o, o + 1200); p.set32(o, 0xe2792aca); p.set32(o + 4, 1100); p.bytes.fill(0x71, o + 8, o + 8 + 1100); return o + 4; },
  },
  { name: 'data-file-bit-without-name', base: 'plain', field: { structure: 'header', field: 'incompatible_features' },  id: 'header.data-file-missing', severity: 'error', qemu: 'check-refuses', exit: 1, qemuSays: "'data-file' is required for this image", patch: (p) => { p.set64(72, p.u64(72) | 4n); return 72; } },
  {
    name: 'data-file-missing', base: 'datafile', field: { structure: 'external data file name extension', field: 'name' }, id: 'data-file.missing', severity: 'error', qemu: 'check-refuses', exit: 1, qemuSays: "gone.raw': No such file or directory",
    patch: (p) => p.extensionOffset(0x44415441) + 8,
  },
  // header_length 108 reads the feature table's magic as an end marker's length: "Header extension too large"
  { name: 'header-length-108', base: 'plain', id: 'extension.overrun', severity: 'error', qemu: 'refuses', exit: 1, qemuSays: 'Header extension too large', patch: (p) => { p.set32(100, 108); return 112; } },
  // check_refblocks: reserved bits in a refcount table entry are a corruption (exit 2), not a check failure
  { name: 'reftable-entry-reserved-bits', base: 'plain', field: { structure: 'refcount table', field: 'entry 0' }, id: 'reftable.reserved-bits', severity: 'error', qemu: 'same-counts', exit: 2, qemuSays: 'ERROR refcount table entry 0 has reserved bits set', patch: (p) => { p.set64(p.reftableOffset, p.u64(p.reftableOffset) | 4n); return p.reftableOffset; } },
  { name: 'crypt-method-aes', base: 'plain', field: { structure: 'header', field: 'crypt_method' },  id: 'header.crypt-aes', severity: 'error', qemu: 'check-refuses', exit: 1, qemuSays: "Parameter 'encrypt.key-secret' is required for cipher", patch: (p) => { p.set32(32, 1); return 32; } },
  // ---- corruptions qemu-img check misses (issue 11): it exits 0, we exit 2
  {
    name: 'truncated-last-data-cluster', base: 'plain', field: { structure: 'L2 table', field: /^entry \d+ \(L1 entry 0\)$/ },  id: 'data.truncated', severity: 'error', qemu: 'same-counts', exit: 2, qemuSays: 'No errors were found on the image.', beyondQemu: BEYOND_QEMU.corruption,
    patch: (p) => { const g = p.lastDataCluster(); p.bytes = p.bytes.slice(0, p.dataOffset(g) + p.clusterSize / 2); return p.l2EntryOffset(g); },
  },
  {
    // Cut before the L1 table: QEMU reads the missing table as zeros (an empty disk) and finds nothing wrong.
    name: 'truncated-before-l1', base: 'plain', id: 'header.l1_table_offset-past-eof', severity: 'error', qemu: 'same-counts', exit: 2, qemuSays: 'No errors were found on the image.', beyondQemu: BEYOND_QEMU.corruption,
    patch: (p) => { p.bytes = p.bytes.slice(0, p.refblockOffset + p.clusterSize); return 40; },
  },
  {
    name: 'snapshot-duplicate-id', base: 'snap2', field: { structure: 'snapshot table', field: 'entry 1 id_str' },  id: 'snapshot.duplicate-id', severity: 'error', qemu: 'same-counts', exit: 2, qemuSays: 'No errors were found on the image.', beyondQemu: BEYOND_QEMU.corruption,
    patch: (p) => { const [a, b] = p.snapshotEntries(); p.bytes.copyWithin(b.idAt, a.idAt, a.idAt + a.idLen); return b.idAt; },
  },
  { name: 'v2-zero-flag', base: 'v2', field: { structure: 'L2 table', field: 'entry 0 (L1 entry 0)' },  id: 'l2.zero-flag-v2', severity: 'error', qemu: 'same-counts', exit: 2, qemuSays: 'No errors were found on the image.', beyondQemu: BEYOND_QEMU.corruption, patch: (p) => { const o = p.l2EntryOffset(0); p.set64(o, p.u64(o) | 1n); return o; } },
];

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Copy `base` to `dest` and corrupt it; returns the expected finding offset. */
export function makeCorrupt(c: CorruptCase, bases: Record<BaseName, string>, dest: string): number {
  copyFileSync(bases[c.base], dest);
  chmodSync(dest, 0o644);
  const p = new Patcher(dest);
  const at = c.patch(p);
  p.save();
  return at;
}

/** A copy of a zoned image that stock QEMU opens: incompatible bit 5 cleared (section 8 item 9). */
export function stockCopy(path: string, dest: string): void {
  copyFileSync(path, dest);
  chmodSync(dest, 0o644);
  const p = new Patcher(dest);
  p.set64(72, p.u64(72) & ~32n);
  p.save();
}

export function fileSize(path: string): number {
  return statSync(path).size;
}

