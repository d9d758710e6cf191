// A zoned image open for zone operations: the pure state machine (shared/qcow2/zone-state.ts) drives,
// this module carries out its effects through the data path. Write pointers are persisted in the
// image's own byte order (ZONED-FORMAT.md section 7 item 3, section 8 item 3).
//
// Order (docs/DECISIONS.md, "write pointer is the commit point"): a write pointer never claims bytes that
// are not on disk. Writes and appends put the data first and move the write pointer after it; finish and
// reset move the write pointer first and free data after. The one 8-byte write-pointer write is the
// commit point: a failure before it leaves the zone as it was (data past the write pointer is rolled
// back where possible, and is unreadable through the zone either way), a failure after it leaves the
// operation done with, at worst, clusters still allocated past the write pointer. QEMU v8+ persists the
// pointer before the data, so an ENOSPC there leaves a pointer over zeros nobody wrote.
import { putU64be, putU64le, u64be, u64le } from '../../shared/bytes';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { effectiveLimits } from '../../shared/qcow2/zoned-info';
import { detectWpByteOrderIn, wpEncodingOf } from '../../shared/qcow2/zonedmeta';
import type { WpByteOrder, ZonedExtension, ZoneInfo } from '../../shared/qcow2/zoned-types';
import { ZoneState, zoneSemanticsFor, type ZoneGeometry, type ZoneOp } from '../../shared/qcow2/zone-state';
import { ImageWriter, type WriterOptions } from './image-writer';

/** 4 M zones = 32 MiB of write pointers: far beyond any real image, small enough to hold in memory. */
const MAX_ZONES = 1 << 22;
const WRITABLE_REVISIONS = new Set(['v3-v4', 'v5-v7', 'v8', 'v11', 'respin']);

/** Data for a write or append: bytes, or a function of where they land (the offset is known only then). */
export type ZoneData = Uint8Array | ((offset: number, length: number) => Uint8Array);

export interface ZoneOpResult {
  op: ZoneOp;
  /** write/append: guest offset where the data landed (for append: the write pointer before it). */
  offset: number | null;
  /** Zones closed implicitly to make room. */
  implicitlyClosed: number[];
}

export class ZonedDevice {
  private current: ZoneState;

  private constructor(
    readonly writer: ImageWriter,
    readonly extension: ZonedExtension,
    readonly geometry: ZoneGeometry,
    readonly wpByteOrder: WpByteOrder,
    /** Raw zonedmeta entries as read (top bits kept, for conventional zones). */
    private readonly rawEntries: bigint[],
    wps: number[],
    private readonly ownsWriter: boolean,
  ) {
    this.current = ZoneState.fromWritePointers(geometry, wps);
  }

  /** Open a zoned image file for zone operations (read-only with opts.readOnly: every op fails then). */
  static async open(path: string, opts: WriterOptions = {}): Promise<ZonedDevice> {
    const writer = await ImageWriter.open(path, opts);
    try {
      return await ZonedDevice.attach(writer, true);
    } catch (e) {
      await writer.close();
      throw e;
    }
  }

  /** Zone operations on an image already open for writing. */
  static async attach(writer: ImageWriter, ownsWriter = false): Promise<ZonedDevice> {
    const file = writer.source.name;
    const z = writer.image.zoned;
    const bad = (message: string, details: Record<string, string | number> = {}): never => {
      throw new Qcow2Error({ code: 'unsupported-feature', file, message, details });
    };
    if (!z) return bad('not a zoned image: there is no zoned extension with zoned = 1 (host-managed)');
    if (!WRITABLE_REVISIONS.has(z.revision)) bad(`zone operations are not supported on the ${z.revision} revision of the zoned extension`, { revision: z.revision });
    const size = writer.virtualSize;
    if (z.zoneSize <= 0) bad('zone_size is 0', { zoneSize: z.zoneSize });
    const nr = Math.ceil(size / z.zoneSize);
    if (z.nrZones !== nr) bad(`nr_zones is ${z.nrZones}, the virtual size ${size} with zone_size ${z.zoneSize} needs ${nr}`, { nrZones: z.nrZones, expected: nr });
    if (nr > MAX_ZONES) bad(`${nr} zones are more than this engine handles (${MAX_ZONES})`, { nrZones: nr });
    if (z.zoneCapacity <= 0 || z.zoneCapacity > z.zoneSize) bad(`zone_capacity ${z.zoneCapacity} must be in 1..zone_size ${z.zoneSize}`, { zoneCapacity: z.zoneCapacity });
    if (z.conventionalZones > nr) bad(`conventional_zones ${z.conventionalZones} exceeds nr_zones ${nr}`, { conventionalZones: z.conventionalZones });
    const bytes = 8 * nr;
    if (z.zonedmetaSize < bytes) bad(`zonedmeta_size ${z.zonedmetaSize} is smaller than 8 x nr_zones = ${bytes}`, { zonedmetaSize: z.zonedmetaSize });
    const cs = writer.clusterSize;
    if (z.zonedmetaOffset < cs || z.zonedmetaOffset % cs !== 0) bad(`zonedmeta_offset ${z.zonedmetaOffset} is not a cluster-aligned offset past the header`, { zonedmetaOffset: z.zonedmetaOffset });
    const raw = await writer.source.read(z.zonedmetaOffset, bytes);
    if (raw.length !== bytes) {
      throw new Qcow2Error({ code: 'truncated', file, message: `the write pointer array at ${z.zonedmetaOffset} (${bytes} bytes) runs past the end of the file`, details: { zonedmetaOffset: z.zonedmetaOffset, bytes } });
    }
    // The one shared detector (revision's flag bit and declared order, pre-v8 32-bit wrap).
    const order = detectWpByteOrderIn(raw, z, nr).order;
    const enc = wpEncodingOf(z);
    const addrMask = (1n << BigInt(enc.flagBit)) - 1n;
    const entries: bigint[] = [];
    const wps: number[] = [];
    for (let i = 0; i < nr; i++) {
      const e = order === 'little-endian' ? u64le(raw, i * 8) : u64be(raw, i * 8);
      entries.push(e);
      const start = i * z.zoneSize;
      if (i < z.conventionalZones) {
        wps.push(start);
        continue;
      }
      if (enc.flagBit === 59 && e >> 60n) bad(`write pointer of zone ${i} carries a persisted zone condition (bits 60-63): an RFC-v3 image, not writable here`, { zone: i });
      let wp = Number(e & addrMask);
      // Seed-revision images past 4 GiB hold 32-bit wrapped initial pointers (section 10): unwrap.
      while (wp < start && wp + 2 ** 32 <= start + z.zoneSize) wp += 2 ** 32;
      if (wp < start || wp > start + z.zoneSize) {
        throw new Qcow2Error({ code: 'invalid-table', file, message: `write pointer of zone ${i} is ${wp}, outside the zone [${start}, ${start + z.zoneSize}]: the image needs a check`, details: { zone: i, wp, start, zoneSize: z.zoneSize } });
      }
      wps.push(wp);
    }
    const lim = effectiveLimits(z);
    const geometry: ZoneGeometry = {
      deviceSize: size, zoneSize: z.zoneSize, zoneCapacity: z.zoneCapacity, nrZones: nr, conventionalZones: z.conventionalZones,
      maxOpenZones: lim.maxOpenZones, maxActiveZones: lim.maxActiveZones, maxAppendBytes: lim.maxAppendBytes,
      semantics: zoneSemanticsFor(z.revision),
    };
    return new ZonedDevice(writer, z, geometry, order, entries, wps, ownsWriter);
  }

  get state(): ZoneState { return this.current; }

  /** The zone report, with the in-memory open states. */
  report(): ZoneInfo[] { return this.current.zones(); }

  async read(offset: number, length: number): Promise<Uint8Array> { return this.writer.read(offset, length); }

  /**
   * Run one zone operation. Illegal operations throw a 'zone-error' (or 'read-only') Qcow2Error and
   * change nothing, on disk or in memory. write/append need `data` of the operation's length.
   *
   * An I/O error throws a ZoneIoError carrying `committed`: false when the write pointers on disk and the
   * in-memory state are as before the call, true when the operation took effect and only the freeing of
   * clusters afterwards failed. Either way the writer's caches may disagree with the disk after an I/O
   * error, so the caller must re-open the device from the file (ImageSession does).
   */
  async run(op: ZoneOp, data?: ZoneData): Promise<ZoneOpResult> {
    if (this.writer.readOnly) {
      throw new Qcow2Error({ code: 'read-only', file: this.writer.source.name, message: `${describeOp(op)}: the image is open read-only: nothing was changed`, details: { op: op.op } });
    }
    const plan = this.current.plan(op);
    let bytes: Uint8Array | null = null;
    if (plan.effects.data) {
      const { offset, length } = plan.effects.data;
      bytes = typeof data === 'function' ? data(offset, length) : data ?? null;
      if (!bytes || bytes.length !== length) {
        throw new Qcow2Error({ code: 'invalid-argument', message: `${describeOp(op)}: ${length} bytes of data needed, ${bytes ? bytes.length : 'none'} given`, details: { length, given: bytes ? bytes.length : 0 } });
      }
    }
    const dataRange = plan.effects.data;
    // Only data past a sequential zone's write pointer can be taken back: a conventional zone's old
    // bytes under a failed write are gone, as on any disk.
    const rollback = async (): Promise<void> => {
      if (dataRange && plan.effects.wpUpdates.length > 0) await this.writer.discard(dataRange.offset, dataRange.length, 'unmap').catch(() => {});
    };
    if (bytes && dataRange) {
      try {
        await this.writer.write(dataRange.offset, bytes);
      } catch (e) {
        // Not committed: the write pointer still says the zone ends before these bytes. Take back what
        // did land (best effort: the same fault may refuse this too; the bytes stay past the pointer).
        await rollback();
        throw new ZoneIoError(describeOp(op), e, false);
      }
    }
    try {
      await this.persistWritePointers(plan.effects.wpUpdates);
    } catch (e) {
      await rollback();
      throw new ZoneIoError(describeOp(op), e, false);
    }
    this.current = plan.next;
    try {
      for (const f of plan.effects.free) await this.writer.discard(f.offset, f.length, 'unmap');
    } catch (e) {
      throw new ZoneIoError(describeOp(op), e, true);
    }
    return { op, offset: plan.offset, implicitlyClosed: plan.effects.implicitlyClosed };
  }

  /**
   * Carry open states over from a device on the same file that had to be re-opened (after an I/O error,
   * or when editing was switched off and on): kept only where every write pointer still agrees.
   */
  adoptState(prev: ZoneState): boolean {
    const g = this.geometry;
    const same = (Object.keys(g) as (keyof ZoneGeometry)[]).every((k) => prev.geometry[k] === g[k]);
    if (!same) return false;
    for (let i = 0; i < g.nrZones; i++) if (prev.writePointer(i) !== this.current.writePointer(i)) return false;
    this.current = prev;
    return true;
  }

  openZone(zone: number): Promise<ZoneOpResult> { return this.run({ op: 'open', zone }); }
  closeZone(zone: number): Promise<ZoneOpResult> { return this.run({ op: 'close', zone }); }
  finishZone(zone: number): Promise<ZoneOpResult> { return this.run({ op: 'finish', zone }); }
  resetZone(zone: number): Promise<ZoneOpResult> { return this.run({ op: 'reset', zone }); }
  resetAll(): Promise<ZoneOpResult> { return this.run({ op: 'reset-all' }); }

  /** Append to a sequential zone; returns the guest offset where the data landed (the old write pointer). */
  async append(zone: number, data: ZoneData, length?: number): Promise<number> {
    const len = length ?? (typeof data === 'function' ? NaN : data.length);
    const r = await this.run({ op: 'append', zone, length: len }, data);
    return r.offset as number;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    await this.run({ op: 'write', offset, length: data.length }, data);
  }

  /** Close the image: open states are dropped (only write pointers persist). */
  async close(): Promise<void> {
    if (this.ownsWriter) await this.writer.close();
  }

  private async persistWritePointers(updates: { zone: number; wp: number }[]): Promise<void> {
    if (updates.length === 0) return;
    const sorted = [...updates].sort((a, b) => a.zone - b.zone);
    // Runs of consecutive zones go out as one write.
    let k = 0;
    while (k < sorted.length) {
      let j = k;
      while (j + 1 < sorted.length && sorted[j + 1].zone === sorted[j].zone + 1) j++;
      const buf = new Uint8Array(8 * (j - k + 1));
      for (let m = k; m <= j; m++) {
        const v = BigInt(sorted[m].wp);
        if (this.wpByteOrder === 'little-endian') putU64le(buf, (m - k) * 8, v);
        else putU64be(buf, (m - k) * 8, v);
        this.rawEntries[sorted[m].zone] = v;
      }
      await this.writer.writeRaw(this.extension.zonedmetaOffset + 8 * sorted[k].zone, buf);
      k = j + 1;
    }
  }
}

/** An I/O failure during a zone operation; `committed` says whether the operation took effect. */
export class ZoneIoError extends Qcow2Error {
  constructor(what: string, cause: unknown, readonly committed: boolean) {
    const err = cause as { code?: unknown; message?: unknown } | null;
    const why = err && typeof err.message === 'string' ? err.message : String(cause);
    const code = err && typeof err.code === 'string' ? err.code : 'EIO';
    super({
      code: cause instanceof Qcow2Error ? cause.code : 'io',
      file: cause instanceof Qcow2Error ? cause.file : undefined,
      message: committed
        ? `${what}: done, but freeing the zone's clusters failed (${why}): they stay allocated past the write pointer until the next reset`
        : `${what}: the write failed (${why}): the zone is as it was`,
      details: { committed, errno: code },
    });
  }
}

export function describeOp(op: ZoneOp): string {
  switch (op.op) {
    case 'write': return `write ${op.offset} ${op.length}`;
    case 'append': return `append ${op.zone} ${op.length}`;
    case 'reset-all': return 'reset-all';
    default: return `${op.op} ${op.zone}`;
  }
}

