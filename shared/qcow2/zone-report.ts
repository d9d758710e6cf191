// The zone report of an opened image: the zoned extension, the decoded write-pointer table, the detected
// byte order, the effective limits and every zoned finding. The one entry point for the CLI, the UI
// (through IPC) and the writer's zone-state layer.
import type { ByteSource } from './byte-source';
import { Qcow2Error, finding, type Finding } from './findings';
import { conditionFromCode, getZoneCondition, zoneCapacity, zoneLength, zoneTypeName, type ZoneTable } from './zone-table';
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
 * that a million zones stream quickly. RFC-v3 images add "persisted-condition" (bits 60-63).
 */
export function zoneJsonText(t: ZoneTable, i: number): string {
  let s = `{"index":${i},"start":${i * t.zoneSize},"length":${zoneLength(t, i)},"capacity":${zoneCapacity(t, i)},"wp":${t.wp[i]},"type":"${zoneTypeName(t.type[i])}","condition":"${getZoneCondition(t, i)}"`;
  if (t.persisted) s += `,"persisted-condition":${t.persisted[i]}`;
  return s + '}';
}

const ascii = new TextEncoder();
const CONDITION_BYTES: Uint8Array[] = Array.from({ length: 16 }, (_, code) => ascii.encode(`","condition":"${conditionFromCode(code) ?? 'offline'}"`));
const TYPE_BYTES: Uint8Array[] = [0, 1, 2].map((code) => ascii.encode(`,"type":"${zoneTypeName(code)}`));
const P_INDEX = ascii.encode('{"index":');
const P_START = ascii.encode(',"start":');
const P_LENGTH = ascii.encode(',"length":');
const P_CAPACITY = ascii.encode(',"capacity":');
const P_WP = ascii.encode(',"wp":');
const P_PERSISTED = ascii.encode(',"persisted-condition":');

/**
 * Encodes runs of zones as JSON text (the same text as zoneJsonText, one zone per line) into one reused
 * byte buffer: a million zones produce one string per run instead of dozens of small strings per zone, so
 * streaming a report leaves little garbage behind.
 */
export class ZoneJsonEncoder {
  private buf: Uint8Array;
  private n = 0;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly zonesPerRun = 2048) {
    this.buf = new Uint8Array(zonesPerRun * 256);
  }

  /** Zones [from, to) (at most zonesPerRun of them) joined by ",\n". */
  encode(t: ZoneTable, from: number, to: number): string {
    if (to - from > this.zonesPerRun) throw new RangeError(`at most ${this.zonesPerRun} zones per run`);
    this.n = 0;
    for (let i = from; i < to; i++) {
      if (i > from) { this.buf[this.n++] = 0x2c; this.buf[this.n++] = 0x0a; }
      this.put(P_INDEX); this.num(i);
      this.put(P_START); this.num(i * t.zoneSize);
      this.put(P_LENGTH); this.num(zoneLength(t, i));
      this.put(P_CAPACITY); this.num(zoneCapacity(t, i));
      this.put(P_WP); this.num(t.wp[i]);
      this.put(TYPE_BYTES[t.type[i] === 1 ? 1 : 2]);
      this.put(CONDITION_BYTES[t.condition[i] & 0xf]);
      if (t.persisted) { this.put(P_PERSISTED); this.num(t.persisted[i]); }
      this.buf[this.n++] = 0x7d;
    }
    return this.decoder.decode(this.buf.subarray(0, this.n));
  }

  private put(b: Uint8Array): void {
    this.buf.set(b, this.n);
    this.n += b.length;
  }

  /** A non-negative integer in decimal, as JSON.stringify prints it. */
  private num(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      this.put(ascii.encode(JSON.stringify(v)));
      return;
    }
    let len = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) len++;
    let p = this.n + len - 1;
    let x = v;
    do {
      const q = Math.floor(x / 10);
      this.buf[p--] = 48 + (x - q * 10);
      x = q;
    } while (x > 0);
    this.n += len;
  }
}
