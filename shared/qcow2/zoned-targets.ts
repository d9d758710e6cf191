// The zoned layouts we create, as people choose between them: what each one is and which QEMU builds read
// it (ZONED-FORMAT.md sections 1-2 and 10, ZONED-REVISIONS-2026.md sections 1-5). One table for the wizard
// and anything else that offers the choice.
import type { ZonedWriteLayout } from './zoned-types';

export interface ZonedTarget {
  layout: ZonedWriteLayout;
  /** Short name for a menu. */
  name: string;
  /** One line on what the layout is. */
  what: string;
  /** One line on which QEMU builds read it. */
  readBy: string;
}

export const ZONED_TARGETS: readonly ZonedTarget[] = [
  {
    layout: 'v7', name: 'seed v7 (v5-v7)',
    what: '48-byte extension, 32-bit zone size and capacity, no defaults: zone size required, append limit 0',
    readBy: 'QEMU built with Sam Li\'s v5-v7 series (2023-10 to 2024-01); later revisions do not read it',
  },
  {
    layout: 'v8', name: 'v8/v9/v10',
    what: '56-byte extension, 64-bit zone size and capacity, defaults 256 MiB zones and a 64 KiB append limit',
    readBy: 'QEMU built with the v8 or v9 series (2024-09) or v10 (2026-05): one layout, byte for byte',
  },
  {
    layout: 'v11', name: 'v11 family (State A)',
    what: '48 bytes in a new field order, big-endian write pointers, power-of-two zones, at most 2^20 zones',
    readBy: 'QEMU built with the v11 series (2026-06) or its later postings (floatious/qemu State A); not v10 or older',
  },
  {
    layout: 'respin', name: 'Cassel respin (State B)',
    what: '44-byte extension without an append limit, big-endian write pointers, zones of whole clusters',
    readBy: 'QEMU built from Niklas Cassel\'s respin (floatious/qemu State B); no earlier build reads it',
  },
];

export function zonedTarget(layout: ZonedWriteLayout): ZonedTarget {
  const t = ZONED_TARGETS.find((x) => x.layout === layout);
  if (!t) throw new Error(`no zoned target ${layout}`);
  return t;
}
