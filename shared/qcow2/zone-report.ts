// The zone report of an opened image: the zoned extension, the decoded write-pointer table, the detected
// byte order, the effective limits and every zoned finding. The one entry point for the CLI, the UI
// (through IPC) and the writer's zone-state layer.
import { AsciiWriter, asciiBytes } from '../ascii-writer';
import type { ByteSource } from './byte-source';
import { Qcow2Error, finding, type Finding } from './findings';
import { conditionFromCode, getZoneCondition, zoneCapacity, zoneLength, zoneTypeName, type ZoneTable } from './zone-table';
import { normalisedWp, zoneModelJsonKeys } from './zone-model';
import { readZonedmeta } from './zonedmeta';
import { effectiveLimits, zonedLimitFindings, type EffectiveLimits } from './zoned-info';
import type { WpByteOrder, ZonedExtension } from './zoned-types';

export interface ZoneReport {
  extension: ZonedExtension;
  table: ZoneTable;
  byteOrder: WpByteOrder;
  byteOrderReason: string;
  limits: EffectiveLimits;
  /** Zoned findings beyond those of opening the image: limits, geometry, placement, write pointers. */
  findings: Finding[];
}

/** The parts of an OpenedImage a report needs (structural, so this module does not depend on image.ts). */
export interface ZonedImage {
  source: ByteSource;
  fileSize: number;
  header: { size: number; clusterSize: number };
  zoned: ZonedExtension | null;
}

/**
 * Read the zone report of an image. Throws Qcow2Error (code invalid-argument) for an image that is not
 * zoned, and (invalid-extension) when no zone can be placed. `byteOrder` forces the write-pointer order
 * (the writer passes the order it keeps); otherwise it is detected.
 */
export async function loadZoneReport(img: ZonedImage, opts: { byteOrder?: WpByteOrder } = {}): Promise<ZoneReport> {
  const z = img.zoned;
  if (!z) {
    throw new Qcow2Error({
      code: 'invalid-argument', file: img.source.name,
      message: 'not a zoned image: it has no zoned extension with mode host-managed (1)',
      finding: finding({ id: 'zoned.not-zoned', severity: 'error', structure: 'header extensions', field: 'zoned extension (0x007a6264)', offset: 0, length: 0, found: 'absent, mode 0, or of unknown layout', expected: 'a zoned extension with mode 1 (host-managed)' }),
    });
  }
  const limitFindings = zonedLimitFindings(z, img.header.clusterSize);
  const meta = await readZonedmeta(img.source, z, img.header.size, img.header.clusterSize, img.fileSize, opts);
  return {
    extension: z,
    table: meta.table,
    byteOrder: meta.byteOrder.order,
    byteOrderReason: meta.byteOrder.reason,
    limits: effectiveLimits(z),
    findings: [...limitFindings, ...meta.findings],
  };
}

/**
 * One zone of `qzs zones --json` as JSON text (bytes throughout), built without an intermediate object so
 * that a million zones stream quickly. "wp" is the stored pointer, as QEMU's own zone report gives it;
 * "wp-defined" and "wp-normalised" are the device model (zone-model.ts). RFC-v3 images add
 * "persisted-condition" (bits 60-63).
 */
export function zoneJsonText(t: ZoneTable, i: number): string {
  let s = `{"index":${i},"start":${i * t.zoneSize},"length":${zoneLength(t, i)},"capacity":${zoneCapacity(t, i)},"wp":${t.wp[i]}${zoneModelJsonKeys(t, i, t.wp[i], t.condition[i])},"type":"${zoneTypeName(t.type[i])}","condition":"${getZoneCondition(t, i)}"`;
  if (t.persisted) s += `,"persisted-condition":${t.persisted[i]}`;
  return s + '}';
}

const CONDITION_BYTES: Uint8Array[] = Array.from({ length: 16 }, (_, code) => asciiBytes(`","condition":"${conditionFromCode(code) ?? 'offline'}"`));
const TYPE_BYTES: Uint8Array[] = [0, 1, 2].map((code) => asciiBytes(`,"type":"${zoneTypeName(code)}`));
const P_INDEX = asciiBytes('{"index":');
const P_START = asciiBytes(',"start":');
const P_PERSISTED = asciiBytes(',"persisted-condition":');
const P_WP_DEFINED = asciiBytes(',"wp-defined":true,"wp-normalised":');
const P_WP_UNDEFINED = asciiBytes(',"wp-defined":false,"wp-normalised":null');

/**
 * Encodes runs of zones as JSON text (the same text as zoneJsonText, one zone per line) into one reused
 * byte buffer: a million zones produce no string per zone, and the CLI writes the bytes as they are.
 */
export class ZoneJsonEncoder {
  private readonly w: AsciiWriter;
  private readonly decoder = new TextDecoder('utf-8');

  /** `,"length":L,"capacity":C,"wp":` of the last zone: all zones but the last share it. */
  private sizesLength = -1;
  private sizesCapacity = -1;
  private sizesBytes: Uint8Array = new Uint8Array(0);

  constructor(private readonly zonesPerRun = 2048) {
    this.w = new AsciiWriter(zonesPerRun * 256);
  }

  /** Zones [from, to) (at most zonesPerRun of them) joined by ",\n". */
  encode(t: ZoneTable, from: number, to: number): string {
    return this.decoder.decode(this.encodeBytes(t, from, to));
  }

  /** What encode returns, as ASCII bytes in the encoder's buffer: valid until the next call. */
  encodeBytes(t: ZoneTable, from: number, to: number): Uint8Array {
    this.w.reset();
    this.encodeTo(this.w, t, from, to);
    return this.w.bytes();
  }

  private sizes(length: number, capacity: number): Uint8Array {
    if (length !== this.sizesLength || capacity !== this.sizesCapacity) {
      this.sizesLength = length;
      this.sizesCapacity = capacity;
      this.sizesBytes = asciiBytes(`,"length":${length},"capacity":${capacity},"wp":`);
    }
    return this.sizesBytes;
  }

  /** Append what encode returns to `w` (at most zonesPerRun zones). */
  encodeTo(w: AsciiWriter, t: ZoneTable, from: number, to: number): void {
    if (to - from > this.zonesPerRun) throw new RangeError(`at most ${this.zonesPerRun} zones per run`);
    for (let i = from; i < to; i++) {
      if (i > from) { w.byte(0x2c); w.byte(0x0a); }
      w.put(P_INDEX); w.num(i);
      w.put(P_START); w.num(i * t.zoneSize);
      w.put(this.sizes(zoneLength(t, i), zoneCapacity(t, i)));
      w.num(t.wp[i]);
      const norm = normalisedWp(t, i, t.wp[i], t.condition[i]);
      if (norm === null) w.put(P_WP_UNDEFINED);
      else { w.put(P_WP_DEFINED); w.num(norm); }
      w.put(TYPE_BYTES[t.type[i] === 1 ? 1 : 2]);
      w.put(CONDITION_BYTES[t.condition[i] & 0xf]);
      if (t.persisted) { w.put(P_PERSISTED); w.num(t.persisted[i]); }
      w.byte(0x7d);
    }
  }
}
