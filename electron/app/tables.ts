// Pages of the image's tables for the Tables view, decoded with the engine's own table modules
// (shared/qcow2/l1l2.ts, refcount.ts, snapshots.ts). Only the requested entries are read: an L1 or L2 page
// is one bounded read of that page's bytes; the refcount and snapshot tables (bounded by QEMU's limits)
// are read once per opened image and kept while it stays unchanged.
import { toHex } from '../../shared/bytes';
import { MAX_PAGE_ROWS } from '../../shared/contract/channels';
import type {
  L1Page, L1PageRequest, L2Page, L2PageRequest, L2Row, L2RowKind, PageRequest, RefblockPage, RefblockPageRequest,
  RefcountTablePage, SnapshotPage,
} from '../../shared/contract/dto';
import { getRefcount } from '../../shared/qcow2/entries';
import { Qcow2Error } from '../../shared/qcow2/findings';
import type { OpenedImage } from '../../shared/qcow2/image';
import {
  l1Entry, l1L2Offset, l2Entry, rawHostOffset, rawL2, readZeroPadded, subclusterType, tableGeometry,
  type L1Table, type SubclusterType, type TableGeometry,
} from '../../shared/qcow2/l1l2';
import { MAX_L1_BYTES } from '../../shared/qcow2/header';
import { refblockOffset, RefcountReader } from '../../shared/qcow2/refcount';
import { readSnapshotTable, type SnapshotTable } from '../../shared/qcow2/snapshots';

const refcounts = new WeakMap<OpenedImage, Promise<RefcountReader>>();
const snapshots = new WeakMap<OpenedImage, Promise<SnapshotTable>>();

function refcountReader(img: OpenedImage): Promise<RefcountReader> {
  let r = refcounts.get(img);
  if (!r) {
    r = RefcountReader.open(img, 8);
    refcounts.set(img, r);
    r.catch(() => refcounts.delete(img));
  }
  return r;
}

function snapshotTable(img: OpenedImage): Promise<SnapshotTable> {
  let t = snapshots.get(img);
  if (!t) {
    t = readSnapshotTable(img);
    snapshots.set(img, t);
    t.catch(() => snapshots.delete(img));
  }
  return t;
}

/** Clamp a page to the table: [start, start + count) ∩ [0, size). */
function span(size: number, start: number, count: number): { start: number; count: number } {
  const s = Math.min(start, size);
  return { start: s, count: Math.max(0, Math.min(count, MAX_PAGE_ROWS, size - s)) };
}

/** Where the chosen L1 table is: the header's, or a snapshot's. */
async function l1Location(img: OpenedImage, snapshot: number | undefined): Promise<L1Location> {
  if (snapshot === undefined) return { offset: img.header.l1TableOffset, size: img.header.l1Size, label: 'active L1 table' };
  const t = await snapshotTable(img);
  const sn = t.snapshots[snapshot];
  if (!sn) throw new Qcow2Error({ code: 'invalid-argument', message: `there is no snapshot number ${snapshot} (the image has ${t.snapshots.length})` });
  return { offset: sn.l1TableOffset, size: sn.l1Size, label: `L1 table of snapshot ${sn.id} (${sn.name})` };
}

interface L1Location { offset: number; size: number; label: string }

/** Entries [start, start + count) of an L1 table, after the checks readL1Table makes on the whole table. */
async function readL1Slice(img: OpenedImage, loc: L1Location, start: number, count: number): Promise<L1Table> {
  const cs = img.header.clusterSize;
  if (loc.size * 8 > MAX_L1_BYTES) throw new Qcow2Error({ code: 'invalid-table', message: `${loc.label} has ${loc.size} entries, more than QEMU's limit of ${MAX_L1_BYTES / 8}` });
  if (loc.size > 0 && loc.offset % cs !== 0) throw new Qcow2Error({ code: 'invalid-table', message: `${loc.label} offset 0x${loc.offset.toString(16)} is not cluster aligned` });
  const { bytes } = await readZeroPadded(img.source, loc.offset + start * 8, count * 8);
  return { label: loc.label, offset: loc.offset + start * 8, size: count, bytes, findings: [] };
}

export async function l1Page(img: OpenedImage, req: L1PageRequest): Promise<L1Page> {
  const g = tableGeometry(img);
  const loc = await l1Location(img, req.snapshot);
  const { start, count } = span(loc.size, req.start, req.count);
  const t = await readL1Slice(img, loc, start, count);
  const guestPerL1 = g.l2Entries * g.clusterSize;
  const rows = [];
  for (let k = 0; k < count; k++) {
    const e = l1Entry(t, k);
    rows.push({
      index: start + k, raw: toHex(t.bytes, k * 8, 8), l2Offset: l1L2Offset(t, k), copied: e.copied,
      reservedBits: e.reservedBits !== 0n, guestOffset: (start + k) * guestPerL1,
    });
  }
  return { label: loc.label, offset: loc.offset, size: loc.size, start, rows, clusterSize: g.clusterSize, l2Entries: g.l2Entries, guestPerL1, extended: g.extended };
}

const KIND: Record<SubclusterType, L2RowKind> = {
  normal: 'normal', compressed: 'compressed', 'zero-plain': 'zero', 'zero-alloc': 'zero',
  'unallocated-plain': 'unallocated', 'unallocated-alloc': 'unallocated', invalid: 'invalid',
};
const SUB_CHAR: Record<L2RowKind, string> = { normal: 'N', compressed: 'C', zero: 'Z', unallocated: '-', invalid: '!' };

function l2Row(bytes: Uint8Array, k: number, g: TableGeometry, index: number, guestOffset: number): L2Row {
  const t = { offset: 0, bytes };
  const r = rawL2(t, k, g);
  const e = l2Entry(t, k, g);
  const types: L2RowKind[] = [];
  for (let sc = 0; sc < g.subclustersPerCluster; sc++) types.push(KIND[subclusterType(r, sc, g)]);
  // The entry's kind: what its data is, whichever subcluster holds it.
  const kind: L2RowKind = types.includes('invalid') ? 'invalid' : types.includes('compressed') ? 'compressed'
    : types.includes('normal') ? 'normal' : types.includes('zero') ? 'zero' : 'unallocated';
  const host = e.compressed ? e.hostOffset : rawHostOffset(r);
  const hasHost = host !== 0 || (g.externalData && e.copied);
  return {
    index, guestOffset, raw: toHex(bytes, k * g.l2EntrySize, 8),
    bitmap: g.extended ? toHex(bytes, k * g.l2EntrySize + 8, 8) : null,
    subclusters: g.extended && !e.compressed ? types.map((x) => SUB_CHAR[x]).join('') : null,
    kind, hostOffset: hasHost ? host : null, compressedSize: e.compressed ? e.compressedSize : null, copied: e.copied,
  };
}

export async function l2Page(img: OpenedImage, req: L2PageRequest): Promise<L2Page> {
  const g = tableGeometry(img);
  const loc = await l1Location(img, req.snapshot);
  if (req.l1Index >= loc.size) throw new Qcow2Error({ code: 'invalid-argument', message: `${loc.label} has ${loc.size} entries; there is no entry ${req.l1Index}` });
  const l1 = await readL1Slice(img, loc, req.l1Index, 1);
  const tableOffset = l1L2Offset(l1, 0);
  const base = { l1Index: req.l1Index, tableOffset, size: g.l2Entries, extended: g.extended, clusterSize: g.clusterSize };
  if (tableOffset === 0) return { ...base, start: 0, rows: [] };
  if (tableOffset % g.clusterSize !== 0) {
    throw new Qcow2Error({ code: 'invalid-table', message: `${loc.label} entry ${req.l1Index} points to an L2 table at 0x${tableOffset.toString(16)}, not cluster aligned`, details: { l1Index: req.l1Index, l2Offset: tableOffset } });
  }
  const { start, count } = span(g.l2Entries, req.start, req.count);
  const { bytes } = await readZeroPadded(img.source, tableOffset + start * g.l2EntrySize, count * g.l2EntrySize);
  const rows: L2Row[] = [];
  for (let k = 0; k < count; k++) {
    const index = start + k;
    rows.push(l2Row(bytes, k, g, index, (req.l1Index * g.l2Entries + index) * g.clusterSize));
  }
  return { ...base, start, rows };
}

export async function refcountTablePage(img: OpenedImage, req: PageRequest): Promise<RefcountTablePage> {
  const r = await refcountReader(img);
  const t = r.table;
  const { start, count } = span(t.entries, req.start, req.count);
  const rows = [];
  for (let i = start; i < start + count; i++) {
    rows.push({ index: i, raw: toHex(t.bytes, i * 8, 8), blockOffset: refblockOffset(t, i), firstCluster: i * t.perBlock });
  }
  return { offset: t.offset, size: t.entries, start, rows, refcountBits: t.refcountBits, perBlock: t.perBlock, clusterSize: img.header.clusterSize };
}

export async function refblockPage(img: OpenedImage, req: RefblockPageRequest): Promise<RefblockPage> {
  const r = await refcountReader(img);
  const t = r.table;
  if (req.tableIndex >= t.entries) throw new Qcow2Error({ code: 'invalid-argument', message: `the refcount table has ${t.entries} entries; there is no entry ${req.tableIndex}` });
  const blockOffset = refblockOffset(t, req.tableIndex);
  const block = await r.block(req.tableIndex);
  if (!block) return { tableIndex: req.tableIndex, blockOffset: 0, size: t.perBlock, start: 0, rows: [] };
  const { start, count } = span(t.perBlock, req.start, req.count);
  const cs = img.header.clusterSize;
  const rows = [];
  for (let i = start; i < start + count; i++) {
    const cluster = req.tableIndex * t.perBlock + i;
    rows.push({ cluster, hostOffset: cluster * cs, refcount: getRefcount(block, i, t.refcountOrder) });
  }
  return { tableIndex: req.tableIndex, blockOffset, size: t.perBlock, start, rows };
}

export async function snapshotPage(img: OpenedImage, req: PageRequest): Promise<SnapshotPage> {
  const t = await snapshotTable(img);
  const { start, count } = span(t.snapshots.length, req.start, req.count);
  return {
    size: t.snapshots.length, start, problems: t.findings.map((f) => f.message),
    rows: t.snapshots.slice(start, start + count).map((s) => ({
      index: s.index, id: s.id, name: s.name, offset: s.offset, l1TableOffset: s.l1TableOffset, l1Size: s.l1Size,
      dateSec: s.dateSec, vmStateSize: s.vmStateSize, diskSize: s.diskSize,
    })),
  };
}
