// How a patched QEMU's block layer refuses a zone request from qemu-io, before our engine runs it: the
// checks, their order, the error_report() texts and the errno each returns. Pure: the caller hands in the
// current zone report. Sources:
//   block/block-backend.c blk_check_byte_request() (zone_mgmt, zone_append, pread, pwrite): -EIO past the end
//   block/qcow2.c of the zoned series v9 3/4 (qemu-devel, the revision of ../shared/reference/samples):
//     qcow2_co_pwv_part()      write/append at the write pointer, open resources, capacity (-EINVAL)
//     qcow2_co_zone_append()   device capacity, zone alignment, iov alignment, max_append_sectors (-EINVAL)
//     qcow2_co_zone_mgmt()     device capacity, alignment, length, conventional zones (-EIO)
//     qcow2_open_zone() / qcow2_finish_zone()  EMPTY without an active resource -EBUSY, CLOSED without an
//                              open resource -EINVAL
//     qcow2_co_zone_report()   device capacity (-EINVAL); cap reported as the zone length
// The messages keep QEMU's spelling, the missing space of "than thedevice" included.
// Where a revision's driver differs (the respin tree, floatious State B: ZONED-REVISIONS-2026.md 4c), the
// difference is one QemuIoDialect entry, not a branch in the checks.
import type { ZoneReport } from '../contract/dto';
import type { Errno } from './qemu-io-format';
import { ZONE_CONDITION_CODES } from './zoned-types';

export interface QemuRefusal {
  errno: Errno;
  /** error_report() lines of the block layer, without the "qemu-io: " prefix. */
  reports: string[];
}

const hex = (n: number): string => Math.floor(n).toString(16);
const sectors = (n: number): number => Math.floor(n / 512);
const C = ZONE_CONDITION_CODES;

const refuse = (errno: Errno, ...reports: string[]): QemuRefusal => ({ errno, reports });

/** How one revision's driver words and numbers its refusals. */
export interface QemuIoDialect {
  /** A regular write not at the write pointer (v9 -EINVAL, the respin -EIO). */
  wpMismatchErrno: Errno;
  /** A write past start + capacity, and its message (values in sectors). */
  capacityErrno: Errno;
  capacityText(endSectors: number, endZoneSectors: number): string;
  /** The writable end of zone i: v9 start + capacity; the respin min(start + capacity, device end). */
  writableEnd(r: ZoneReport, zone: number): number;
  /** zone_append at or past the device end. */
  appendPastEnd(offset: number, deviceSize: number): QemuRefusal;
  /** The driver checks each append iovec against its write granularity (v9); the respin publishes none. */
  appendIovecCheck: boolean;
  /** The driver checks max_append_sectors (the respin stores no limit). */
  appendLimit: boolean;
  /** qcow2_co_zone_mgmt's device-capacity message. */
  mgmtPastEnd(offset: number, deviceSize: number): string;
  /** A management operation on a conventional zone. */
  conventionalText(op: 'open' | 'close' | 'finish' | 'reset'): string;
  /** qcow2_open_zone() of a FULL zone: v9 accepts it, the respin returns -EINVAL (no message). */
  openFullRefused: boolean;
}

/** BlockZoneOp (include/block/block-common.h): BLK_ZO_OPEN, BLK_ZO_CLOSE, BLK_ZO_FINISH, BLK_ZO_RESET. */
const ZONE_OP_CODE = { open: 0, close: 1, finish: 2, reset: 3 } as const;

/** Sam Li's series v3-v10 (v9 3/4 is the code read). */
export const DIALECT_V9: QemuIoDialect = {
  wpMismatchErrno: 'EINVAL',
  capacityErrno: 'EINVAL',
  capacityText: (end, endZone) => `write exceeds zone capacity with end_offset:0x${hex(end)}, end_zone: 0x${hex(endZone)}`,
  writableEnd: (r, zone) => zone * r.zoneSize + r.zoneCapacity,
  appendPastEnd: (offset, dev) => refuse('EINVAL', `*offset ${offset} is equal to or greater than thedevice capacity ${dev}`),
  appendIovecCheck: true,
  appendLimit: true,
  mgmtPastEnd: (offset, dev) => `offset ${offset} is equal to or greater than thedevice capacity ${dev}`,
  conventionalText: () => 'zone mgmt operations are not allowed for conventional zones',
  openFullRefused: false,
};

/**
 * The respin tree (qcow2.c @bb1a3580, block/io.c @69d49e8f). Texts the notes do not give for it (the
 * append alignment message) stay v9's; an append at the device end is -ENOSPC there, with no message
 * stored, and the iovec check moved to the block layer, which prints nothing.
 */
export const DIALECT_RESPIN: QemuIoDialect = {
  wpMismatchErrno: 'EIO',
  capacityErrno: 'EIO',
  capacityText: (end, endZone) => `write exceeds zone capacity with end_offset: 0x${hex(end)}, end_zone: 0x${hex(endZone)}`,
  writableEnd: (r, zone) => Math.min(zone * r.zoneSize + r.zoneCapacity, r.deviceSize),
  appendPastEnd: () => refuse('ENOSPC'),
  appendIovecCheck: false,
  appendLimit: false,
  mgmtPastEnd: (offset, dev) => `offset ${offset} is equal to or greater than the device capacity ${dev}`,
  conventionalText: (op) => `zone mgmt operation 0x${ZONE_OP_CODE[op].toString(16)} is not allowed on a conventional zone`,
  openFullRefused: true,
};

/**
 * The dialect of a decoded revision. The v11 family keeps v9's texts, as its zone report keeps v9's cap
 * column (reportedCap): State A's driver messages are not stored, and no texts of State B are assumed for it.
 */
export function qemuIoDialect(revision: string): QemuIoDialect {
  return revision === 'respin' ? DIALECT_RESPIN : DIALECT_V9;
}

/** blk_check_byte_request(): a request that runs past the device end is -EIO, silently. */
export function checkByteRange(deviceSize: number, offset: number, bytes: number): QemuRefusal | null {
  if (offset < 0 || bytes < 0 || offset > deviceSize || deviceSize - offset < bytes) return refuse('EIO');
  return null;
}

function counts(r: ZoneReport): { open: number; active: number } {
  let open = 0;
  let closed = 0;
  for (let i = r.conventionalZones; i < r.nrZones; i++) {
    const c = r.cond[i];
    if (c === C['implicit-open'] || c === C['explicit-open']) open++;
    else if (c === C.closed) closed++;
  }
  return { open, active: open + closed };
}

/** qcow2_can_open_zone(): room below max_open, or room to close an implicitly open zone (max_active). */
function canOpen(r: ZoneReport): boolean {
  if (!r.maxOpenZones) return true;
  const { open, active } = counts(r);
  if (open < r.maxOpenZones) return true;
  return !r.maxActiveZones || active < r.maxActiveZones;
}

/** The part of qcow2_co_pwv_part() that checks a sequential zone: resources, then capacity. */
function checkSequential(r: ZoneReport, zone: number, start: number, bytes: number, d: QemuIoDialect): QemuRefusal | null {
  const cond = r.cond[zone];
  if ((cond === C.closed || cond === C.empty) && !canOpen(r)) return refuse('EINVAL', 'no more open zones available');
  const end = start + bytes;
  const endZone = d.writableEnd(r, zone);
  if (end > endZone) return refuse(d.capacityErrno, d.capacityText(sectors(end), sectors(endZone)));
  return null;
}

/** write/aio_write of `bytes` at `offset` (blk_pwrite -> qcow2_co_pwritev_part). */
export function checkWrite(r: ZoneReport, offset: number, bytes: number, d: QemuIoDialect = DIALECT_V9): QemuRefusal | null {
  const range = checkByteRange(r.deviceSize, offset, bytes);
  if (range) return range;
  const zone = Math.floor(offset / r.zoneSize);
  if (bytes === 0 || zone < r.conventionalZones) return null;
  const wp = r.wp[zone];
  if (offset !== wp) return refuse(d.wpMismatchErrno, `Offset 0x${hex(offset)} of regular writes must be equal to the zone write pointer 0x${hex(wp)}`);
  return checkSequential(r, zone, offset, bytes, d);
}

/**
 * Block size the driver checks every append iovec against: qcow2_refresh_limits() of the series (v8/v9
 * 2/4) sets bs->bl.write_granularity = BDRV_SECTOR_SIZE, and max_append_sectors = max_append_bytes >> 9.
 */
export const APPEND_GRANULARITY = 512;

/** zone_append of the iovecs `lens` to the zone starting at `offset` (blk_aio_zone_append). */
export function checkAppend(r: ZoneReport, offset: number, lens: number[], d: QemuIoDialect = DIALECT_V9): QemuRefusal | null {
  const total = lens.reduce((a, b) => a + b, 0);
  const range = checkByteRange(r.deviceSize, offset, total);
  if (range) return range;
  if (offset >= r.deviceSize) return d.appendPastEnd(offset, r.deviceSize);
  if (offset % r.zoneSize !== 0) return refuse('EINVAL', `sector offset ${sectors(offset)} is not aligned to zone size ${sectors(r.zoneSize)}`);
  for (const [k, len] of lens.entries()) {
    if (len % APPEND_GRANULARITY !== 0) return d.appendIovecCheck ? refuse('EINVAL', `len of IOVector[${k}] 0x${hex(len)} is not aligned to block size 0x${hex(APPEND_GRANULARITY)}`) : refuse('EINVAL');
  }
  const maxSectors = sectors(r.maxAppendBytes);
  if (d.appendLimit && sectors(total) > maxSectors) return refuse('EINVAL', `len 0x${hex(sectors(total))} in sectors is greater than max_append_sectors 0x${hex(maxSectors)}`);
  const zone = Math.floor(offset / r.zoneSize);
  if (zone < r.conventionalZones) return null;
  return checkSequential(r, zone, r.wp[zone], total, d);
}

/** zone_open/close/finish/reset of [offset, offset + len) (blk_zone_mgmt -> qcow2_co_zone_mgmt). */
export function checkMgmt(r: ZoneReport, offset: number, len: number, d: QemuIoDialect = DIALECT_V9, op: 'open' | 'close' | 'finish' | 'reset' = 'open'): QemuRefusal | null {
  const range = checkByteRange(r.deviceSize, offset, len);
  if (range) return range;
  const cap = r.deviceSize;
  if (offset >= cap) return refuse('EINVAL', d.mgmtPastEnd(offset, cap));
  if (offset % r.zoneSize !== 0) return refuse('EINVAL', `sector offset ${sectors(offset)} is not aligned to zone size ${sectors(r.zoneSize)}`);
  if ((offset + len < cap && len % r.zoneSize !== 0) || offset + len > cap) {
    return refuse('EINVAL', `number of sectors ${sectors(len)} is not aligned to zone size ${sectors(r.zoneSize)}`);
  }
  if (Math.floor(offset / r.zoneSize) < r.conventionalZones && len !== cap) {
    return refuse('EIO', d.conventionalText(op));
  }
  return null;
}

/**
 * qcow2_open_zone() / qcow2_finish_zone(): the resource refusals, which QEMU returns without a message.
 * (QEMU's can_open closes an implicitly open zone to make room; the engine does the same.)
 */
export function checkMgmtResources(r: ZoneReport, op: 'open' | 'close' | 'finish' | 'reset', zone: number, d: QemuIoDialect = DIALECT_V9): QemuRefusal | null {
  if (op !== 'open' && op !== 'finish') return null;
  const cond = r.cond[zone];
  if (op === 'open' && cond === C.full && d.openFullRefused) return refuse('EINVAL');
  const { active } = counts(r);
  if (cond === C.empty && r.maxActiveZones && active >= r.maxActiveZones) return refuse('EBUSY');
  if (cond === C.closed && !canOpen(r)) return refuse('EINVAL');
  return null;
}

/**
 * The zones a zone_reset covers: every zone when len is the device size (QEMU's reset-all), else from the
 * zone at offset on. QEMU v9 takes floor(len / zone_size) zones, so a short last zone cannot be reset on
 * its own (ZONED-FORMAT.md section 9 item 11); we round up, as the respin does.
 */
export function resetZones(r: ZoneReport, offset: number, len: number): 'all' | number[] {
  if (len === r.deviceSize) return 'all';
  const first = Math.floor(offset / r.zoneSize);
  const n = Math.ceil(len / r.zoneSize);
  const out: number[] = [];
  for (let i = first; i < Math.min(r.nrZones, first + n); i++) if (i >= r.conventionalZones) out.push(i);
  return out;
}

/** zone_report: the offset check of qcow2_co_zone_report(). */
export function checkReport(r: ZoneReport, offset: number): QemuRefusal | null {
  if (offset >= r.deviceSize) return refuse('EINVAL', `offset ${offset} is equal to or greater than the device capacity ${r.deviceSize}`);
  return null;
}

/**
 * The errno QEMU gives when our engine refuses a zone operation after the checks above passed (the
 * engine's `details.kind`): resource refusals as qcow2_open_zone/finish_zone/pwv_part return them; the
 * rest (conventional zone, unaligned length, a write across a zone boundary: things the v9 driver lets
 * through, ZONED-FORMAT.md section 9) as -EINVAL.
 */
export function engineErrno(kind: unknown, op: 'mgmt' | 'write'): Errno {
  if (kind === 'active-limit' && op === 'mgmt') return 'EBUSY';
  return 'EINVAL';
}

/** The report's cap column as the revision's QEMU prints it: v3-v10 (Sam Li's code) the zone length. */
export function reportedCap(revision: string, length: number, capacity: number): number {
  return /respin/i.test(revision) ? capacity : length;
}
