// The zone device model a guest sees, as Linux reports it, over a zone report's geometry and stored write
// pointers. The stored pointer (what QEMU's own zone report prints) is never replaced: these functions say
// what a kernel-side tool (blkzone, libzbd, fio) would show beside it.
//
// Sources (Linux, read through the project's search tool):
//   drivers/nvme/host/zns.c nvme_zone_parse_entry(): `if (zone.cond == BLK_ZONE_COND_FULL)
//     zone.wp = zone.start + zone.len;` — a full zone's pointer is its end, whatever the device stored.
//   drivers/scsi/sd_zbc.c sd_zbc_parse_report(): the same rule for ZBC disks (start + len when FULL).
//   drivers/block/virtio_blk.c virtblk_parse_zone() (how a guest sees a zoned qcow2 through virtio-blk):
//     FULL -> start + len; READONLY and OFFLINE -> wp = ULONG_MAX (no pointer).
//   drivers/block/null_blk/zoned.c null_init_zoned_dev(): a conventional zone has capacity = len (and no
//     usable pointer; util-linux blkzone.c blkzone_report() prints its wptr as 0 for type 1).
// A conventional zone therefore has no write pointer (undefined, shown as "—") and a capacity equal to its
// length, whatever zone_capacity says: zone_capacity limits sequential writes only.
import { ZONE_CONDITION_CODES } from './zoned-types';

/** The geometry the model needs; the engine's ZoneTable and the contract's ZoneReport both have it. */
export interface ZoneModelGeometry {
  zoneSize: number;
  /** Zone capacity as stored (bytes). */
  zoneCapacity: number;
  /** Virtual disk size in bytes: the last zone may be short. */
  deviceSize: number;
  conventionalZones: number;
}

const C = ZONE_CONDITION_CODES;

export function isConventionalZone(g: ZoneModelGeometry, i: number): boolean {
  return i < g.conventionalZones;
}

/** Length of zone i: zone_size, or what is left of the device for a short last zone. */
export function modelZoneLength(g: ZoneModelGeometry, i: number): number {
  return Math.max(0, Math.min(g.zoneSize, g.deviceSize - i * g.zoneSize));
}

/**
 * Capacity of zone i as Linux reports it: the zone length for a conventional zone (null_blk, and what a
 * write there may use), min(zone_capacity, length) for a sequential one.
 */
export function modelZoneCapacity(g: ZoneModelGeometry, i: number): number {
  const len = modelZoneLength(g, i);
  return isConventionalZone(g, i) ? len : Math.min(g.zoneCapacity, len);
}

/**
 * Whether zone i has a write pointer at all: not for a conventional zone, nor for a read-only or offline
 * one (virtio_blk.c sets ULONG_MAX there). `cond` is the BLK_ZS_* code of the report.
 */
export function wpDefined(g: ZoneModelGeometry, i: number, cond: number): boolean {
  if (isConventionalZone(g, i)) return false;
  return cond !== C['read-only'] && cond !== C.offline && cond !== C['not-wp'];
}

/**
 * The write pointer the kernel reports for zone i: null where none is defined, start + length for a full
 * zone (QEMU stores start + capacity after writes, start + zone_size after a finish), the stored value
 * otherwise.
 */
export function normalisedWp(g: ZoneModelGeometry, i: number, wp: number, cond: number): number | null {
  if (!wpDefined(g, i, cond)) return null;
  if (cond === C.full) return i * g.zoneSize + modelZoneLength(g, i);
  return wp;
}

/** The model of one zone, for reports that list it beside the stored values. */
export interface ZoneModelFacts {
  wpDefined: boolean;
  /** Null where the write pointer is undefined. */
  wpNormalised: number | null;
  capacity: number;
}

export function zoneModel(g: ZoneModelGeometry, i: number, wp: number, cond: number): ZoneModelFacts {
  return { wpDefined: wpDefined(g, i, cond), wpNormalised: normalisedWp(g, i, wp, cond), capacity: modelZoneCapacity(g, i) };
}

/** `,"wp-defined":…,"wp-normalised":…` — the model's keys in a zone's JSON (one spelling for every JSON writer). */
export function zoneModelJsonKeys(g: ZoneModelGeometry, i: number, wp: number, cond: number): string {
  const defined = wpDefined(g, i, cond);
  return `,"wp-defined":${defined},"wp-normalised":${defined ? String(normalisedWp(g, i, wp, cond)) : 'null'}`;
}
