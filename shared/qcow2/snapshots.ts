// Internal snapshot table (docs/interop/qcow2.rst "Snapshots"), v2 and v3 extra data, with the offset of
// every field; and the "snapshots" array of qemu-img info. Limits and checks follow QEMU's
// qcow2_read_snapshots, so an image QEMU refuses is refused here too.
import { hex, toHex, u16be, u32be, u64be, utf8Decode } from '../bytes';
import type { Field } from './field';
import { finding, Qcow2Error, type Finding } from './findings';
import { SAFE_LIMIT } from './header';
import type { OpenedImage } from './image';
import { READ_CHUNK } from './l1l2';

/** QEMU's QCOW_MAX_SNAPSHOTS (the header decoder reports nb_snapshots beyond it too). */
export const QCOW_MAX_SNAPSHOTS = 65536;
/** QEMU's QCOW_MAX_SNAPSHOT_EXTRA_DATA. */
export const MAX_SNAPSHOT_EXTRA_DATA = 1024;
/** QEMU's QCOW_MAX_SNAPSHOTS_SIZE: the whole table stays below 64 MiB. */
export const MAX_SNAPSHOTS_SIZE = 1024 * QCOW_MAX_SNAPSHOTS;
const ENTRY_HEADER = 40;

export interface Snapshot {
  index: number;
  /** Offset of the entry in the file. */
  offset: number;
  /** Entry length including padding. */
  length: number;
  /** Exact below 2^53; beyond, a snapshots.l1-offset-too-large finding says so and readL1Table refuses it. */
  l1TableOffset: number;
  l1Size: number;
  id: string;
  name: string;
  dateSec: number;
  dateNsec: number;
  /**
   * The guest clock in nanoseconds, exact below 2^53 (104 days): a real guest can run longer, so beyond it
   * this is the nearest number, and vmClockSec / vmClockSubNsec carry the exact value.
   */
  vmClockNsec: number;
  /** The guest clock: whole seconds and the nanoseconds beyond them, exact (qemu-img's vm-clock-sec/-nsec). */
  vmClockSec: number;
  vmClockSubNsec: number;
  /** The effective VM state size (64-bit extra field when present, else the 32-bit header field). */
  vmStateSize: number;
  extraDataSize: number;
  /** Disk size at snapshot time; from extra data, else the current virtual size (as QEMU). */
  diskSize: number;
  /** Instruction count, null when absent or -1 (icount off). */
  icount: number | null;
  fields: Field[];
}

export interface SnapshotTable {
  snapshots: Snapshot[];
  findings: Finding[];
}

/** The snapshots array exactly as qemu-img info --output=json prints it. */
export interface SnapshotInfoJson {
  id: string;
  name: string;
  'vm-state-size': number;
  'date-sec': number;
  'date-nsec': number;
  'vm-clock-sec': number;
  'vm-clock-nsec': number;
  icount?: number;
}

/** A u64 field for display: a number when exact, else its decimal string. */
function u64(b: Uint8Array, off: number): number | string {
  const v = u64be(b, off);
  return v < SAFE_LIMIT ? Number(v) : v.toString();
}

export async function readSnapshotTable(img: OpenedImage): Promise<SnapshotTable> {
  const h = img.header;
  const file = img.source.name;
  const findings: Finding[] = [];
  if (h.nbSnapshots === 0) return { snapshots: [], findings };
  const fail = (field: string, offset: number, length: number, found: string, expected: string, message: string): never => {
    throw Qcow2Error.fromFinding('invalid-table', finding({ id: `snapshots.${field}`, severity: 'error', structure: 'snapshot table', field, offset, length, found, expected, message, fix: 'none: QEMU refuses the image' }), file);
  };
  if (h.nbSnapshots > QCOW_MAX_SNAPSHOTS) fail('nb_snapshots', 60, 4, String(h.nbSnapshots), `<= ${QCOW_MAX_SNAPSHOTS}`, `nb_snapshots ${h.nbSnapshots} exceeds QEMU's limit of ${QCOW_MAX_SNAPSHOTS}`);
  if (h.snapshotsOffset % h.clusterSize !== 0) fail('snapshots_offset', 64, 8, hex(h.snapshotsOffset), `a multiple of the cluster size ${h.clusterSize}`, `snapshot table offset ${hex(h.snapshotsOffset)} is not cluster aligned`);

  // Entries are variable-sized: read a window and extend it when an entry crosses its end.
  let buf: Uint8Array = new Uint8Array(0);
  let bufStart = h.snapshotsOffset;
  const ensure = async (off: number, len: number): Promise<Uint8Array> => {
    if (off + len > Number.MAX_SAFE_INTEGER) fail('snapshots_offset', 64, 8, `${off} + ${len} bytes`, `a table that ends below 2^53 (${SAFE_LIMIT})`, 'the snapshot table lies at or beyond 2^53 bytes');
    if (off - h.snapshotsOffset + len > MAX_SNAPSHOTS_SIZE) fail('snapshots_offset', 64, 8, `table longer than ${MAX_SNAPSHOTS_SIZE} bytes`, `<= ${MAX_SNAPSHOTS_SIZE} bytes`, 'the snapshot table is too large');
    if (off < bufStart || off + len > bufStart + buf.length) {
      bufStart = off;
      buf = await img.source.read(off, Math.max(len, Math.min(READ_CHUNK, MAX_SNAPSHOTS_SIZE)));
      if (buf.length < len) fail('entries', off, len, `file ends at ${img.fileSize}`, `${len} bytes of snapshot entry at ${off}`, `snapshot table entry at ${hex(off)} runs past the end of the file`);
    }
    return buf.subarray(off - bufStart, off - bufStart + len);
  };

  const snapshots: Snapshot[] = [];
  let off = h.snapshotsOffset;
  for (let i = 0; i < h.nbSnapshots; i++) {
    const start = off;
    const e = await ensure(off, ENTRY_HEADER);
    const idLen = u16be(e, 12);
    const nameLen = u16be(e, 14);
    const extraLen = u32be(e, 36);
    if (extraLen > MAX_SNAPSHOT_EXTRA_DATA) fail('extra_data_size', off + 36, 4, String(extraLen), `<= ${MAX_SNAPSHOT_EXTRA_DATA}`, `snapshot ${i}: too much extra metadata (${extraLen} bytes)`);
    const fields: Field[] = [];
    const field = (name: string, rel: number, size: number, value: number | string, description: string, b = e): void => {
      fields.push({ name, offset: off + rel, size, raw: toHex(b, rel, size), value, present: true, description });
    };
    field('l1_table_offset', 0, 8, u64(e, 0), 'offset of the snapshot\'s L1 table');
    field('l1_size', 8, 4, u32be(e, 8), 'entries in the snapshot\'s L1 table');
    field('id_str_size', 12, 2, idLen, 'length of the ID string');
    field('name_size', 14, 2, nameLen, 'length of the name');
    field('date_sec', 16, 4, u32be(e, 16), 'creation time, seconds since the epoch');
    field('date_nsec', 20, 4, u32be(e, 20), 'creation time, nanoseconds');
    field('vm_clock_nsec', 24, 8, u64(e, 24), 'guest clock at creation, nanoseconds');
    field('vm_state_size', 32, 4, u32be(e, 32), 'VM state size (32-bit; the extra field supersedes it)');
    field('extra_data_size', 36, 4, extraLen, 'bytes of extra data after this header');
    // 64-bit values are never clamped: beyond 2^53 an offset or a size is refused with a finding (the
    // entry keeps the nearest number, which nothing reads from: readL1Table refuses it too).
    const tooLarge = (field: string, at: number, v: bigint, severity: 'error' | 'warning', what: string): void => {
      findings.push(finding({ id: `snapshots.${field.replace(/_/g, '-')}-too-large`, severity, structure: `snapshot ${i}`, field, offset: at, length: 8, found: `${v} (${hex(v)})`, expected: `< 2^53 (${SAFE_LIMIT})`, message: `snapshot ${i} ${field} ${v} is at or beyond 2^53: ${what}`, fix: 'none: the value is implausible' }));
    };
    const l1Raw = u64be(e, 0);
    if (l1Raw >= SAFE_LIMIT) tooLarge('l1_table_offset', start, l1Raw, 'error', 'no file is that large, and this reader cannot address it exactly');
    const l1TableOffset = Number(l1Raw);
    const l1Size = u32be(e, 8);
    const dateSec = u32be(e, 16);
    const dateNsec = u32be(e, 20);
    const clock = u64be(e, 24);
    const vmClockNsec = Number(clock);
    const vmClockSec = Number(clock / 1_000_000_000n);
    const vmClockSubNsec = Number(clock % 1_000_000_000n);
    let vmStateSize = u32be(e, 32);
    off += ENTRY_HEADER;

    let diskSize = h.size;
    let icount: number | null = null;
    if (extraLen > 0) {
      const x = await ensure(off, extraLen);
      const xf = (name: string, rel: number, value: number | string, description: string): void => {
        fields.push({ name, offset: off + rel, size: 8, raw: toHex(x, rel, 8), value, present: true, description });
      };
      if (extraLen >= 8) {
        const v = u64be(x, 0);
        if (v >= SAFE_LIMIT) tooLarge('vm_state_size_large', off, v, 'error', 'no VM state is that large');
        vmStateSize = Number(v);
        xf('vm_state_size_large', 0, u64(x, 0), 'VM state size (64-bit)');
      }
      if (extraLen >= 16) {
        const v = u64be(x, 8);
        if (v >= SAFE_LIMIT) tooLarge('disk_size', off + 8, v, 'error', 'no disk is that large, and this reader cannot address it exactly');
        diskSize = Number(v);
        xf('disk_size', 8, u64(x, 8), 'virtual disk size at snapshot time');
      }
      if (extraLen >= 24) {
        const ic = u64be(x, 16);
        // An instruction count can pass 2^53 (a long-running guest): then it is left out of the info
        // JSON rather than printed rounded, and the finding carries the exact count.
        if (ic !== 0xffff_ffff_ffff_ffffn && ic >= SAFE_LIMIT) tooLarge('icount', off + 16, ic, 'warning', 'not exact as a number, left out of the snapshot list');
        icount = ic === 0xffff_ffff_ffff_ffffn || ic >= SAFE_LIMIT ? null : Number(ic);
        xf('icount', 16, ic === 0xffff_ffff_ffff_ffffn ? -1 : u64(x, 16), 'instruction count (-1 = icount off)');
      }
      if (extraLen > 24) fields.push({ name: 'extra_data (unknown)', offset: off + 24, size: extraLen - 24, raw: toHex(x, 24, extraLen - 24), value: null, present: true, description: 'extra data this reader does not know; preserved' });
    }
    if (h.version >= 3 && extraLen < 16) {
      findings.push(finding({ id: 'snapshots.extra-too-small', severity: 'error', structure: `snapshot ${i}`, field: 'extra_data_size', offset: start + 36, length: 4, found: String(extraLen), expected: '>= 16 in a version 3 image', message: `snapshot ${i} has ${extraLen} bytes of extra data; version 3 requires at least 16 (VM state size and disk size)`, fix: 'rewrite the entry with the disk size' }));
    }
    off += extraLen;
    const idBytes = await ensure(off, idLen);
    const id = utf8Decode(idBytes);
    fields.push({ name: 'id_str', offset: off, size: idLen, raw: toHex(idBytes), value: id, present: true, description: 'unique ID string' });
    off += idLen;
    const nameBytes = await ensure(off, nameLen);
    const name = utf8Decode(nameBytes);
    fields.push({ name: 'name', offset: off, size: nameLen, raw: toHex(nameBytes), value: name, present: true, description: 'snapshot name' });
    off += nameLen;
    off = Math.ceil(off / 8) * 8;

    if (l1Raw >= SAFE_LIMIT) {
      // reported above
    } else if (l1TableOffset % h.clusterSize !== 0) {
      findings.push(finding({ id: 'snapshots.l1-unaligned', severity: 'error', structure: `snapshot ${i}`, field: 'l1_table_offset', offset: start, length: 8, found: hex(l1TableOffset), expected: `a multiple of the cluster size ${h.clusterSize}`, message: `snapshot ${i} ("${name}") has an unaligned L1 table offset`, fix: 'none: the snapshot cannot be read' }));
    } else if (l1TableOffset + l1Size * 8 > img.fileSize) {
      findings.push(finding({ id: 'snapshots.l1-past-eof', severity: 'error', structure: `snapshot ${i}`, field: 'l1_table_offset', offset: start, length: 8, found: `${hex(l1TableOffset)} + ${l1Size * 8}`, expected: `inside the file (${img.fileSize} bytes)`, message: `snapshot ${i} ("${name}") has an L1 table past the end of the file`, fix: 'none' }));
    }
    snapshots.push({ index: i, offset: start, length: off - start, l1TableOffset, l1Size, id, name, dateSec, dateNsec, vmClockNsec, vmClockSec, vmClockSubNsec, vmStateSize, extraDataSize: extraLen, diskSize, icount, fields });
  }
  return { snapshots, findings };
}

export function snapshotsInfoJson(snapshots: readonly Snapshot[]): SnapshotInfoJson[] {
  return snapshots.map((s) => {
    const out: SnapshotInfoJson = {
      id: s.id, name: s.name, 'vm-state-size': s.vmStateSize, 'date-sec': s.dateSec, 'date-nsec': s.dateNsec,
      'vm-clock-sec': s.vmClockSec, 'vm-clock-nsec': s.vmClockSubNsec,
    };
    if (s.icount !== null) out.icount = s.icount;
    return out;
  });
}
