// Zone sizes and offsets in the unit the user picked, one setting for the whole app (the store's
// sizeUnit): bytes, 512-byte sectors (what `blkzone report` and `qemu-io zone_report` count in), the same
// sectors in hex (their style: "0x" and lower-case digits), or human units (KiB, MiB, … with exact bytes
// when the value is not a round number of them).
import { human } from './format';

export type SizeUnit = 'bytes' | 'sectors' | 'hex' | 'human';

export const SIZE_UNITS: readonly { unit: SizeUnit; label: string; title: string }[] = [
  { unit: 'bytes', label: 'bytes', title: 'decimal bytes' },
  { unit: 'sectors', label: 'sectors', title: '512-byte sectors, decimal' },
  { unit: 'hex', label: 'hex', title: '512-byte sectors in hex, as blkzone report and qemu-io zone_report print them' },
  { unit: 'human', label: 'human', title: 'KiB, MiB, GiB…' },
];

export const SECTOR = 512;

/** A byte count or offset in `unit`. Sector units show a remainder in bytes when the value is not sector-aligned. */
export function formatSize(bytes: number, unit: SizeUnit): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  switch (unit) {
    case 'bytes': return String(bytes);
    case 'sectors':
    case 'hex': {
      const s = Math.floor(bytes / SECTOR);
      const rest = bytes - s * SECTOR;
      const text = unit === 'hex' ? '0x' + s.toString(16) : String(s);
      return rest ? `${text} + ${rest} B` : text;
    }
    case 'human': {
      const h = human(bytes);
      // "64 MiB" is exact; "8.13 MiB" is not: then the bytes go beside it.
      return bytes < 1024 || exactHuman(bytes) ? h : `${h} (${bytes} B)`;
    }
  }
}

/** The unit's name for column heads ("sectors", "bytes", …). */
export function unitSuffix(unit: SizeUnit): string {
  return unit === 'hex' ? 'sectors, hex' : unit === 'human' ? '' : unit;
}

function exactHuman(bytes: number): boolean {
  let v = bytes;
  while (v >= 1024 && v % 1024 === 0) v /= 1024;
  return v < 1024;
}
