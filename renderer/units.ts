// Zone sizes and offsets in the unit the user picked, one setting for the whole app (the store's
// sizeUnit): bytes, 512-byte sectors (what `blkzone report` and `qemu-io zone_report` count in), the same
// sectors in hex (their style), or human units. The formatting itself is the one the CLI's
// `qzs zones --units` uses (shared/qcow2/zone-formats.ts): one definition for both.
import { formatSize, type SizeUnit } from '../shared/qcow2/zone-formats';

export { formatSize, type SizeUnit };

/** The switch's buttons, in the order they show. */
export const SIZE_UNIT_CHOICES: readonly { unit: SizeUnit; label: string; title: string }[] = [
  { unit: 'bytes', label: 'bytes', title: 'decimal bytes' },
  { unit: 'sectors', label: 'sectors', title: '512-byte sectors, decimal' },
  { unit: 'hex', label: 'hex', title: '512-byte sectors in hex, as blkzone report and qemu-io zone_report print them' },
  { unit: 'human', label: 'human', title: 'KiB, MiB, GiB… exact ("12 MiB + 64 KiB")' },
];

/** The unit's name for column heads ("sectors", "bytes", …; nothing for human units, which name themselves). */
export function unitSuffix(unit: SizeUnit): string {
  return unit === 'hex' ? 'sectors, hex' : unit === 'human' ? '' : unit;
}
