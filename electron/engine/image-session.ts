// One open image: the one file handle, the decoded image, the zone device on that same handle, the
// zone report cache, the edit history, and THE write path every mutation goes through. Handlers, the
// CLI and the demo all use this object; nothing else opens an image for writing.
//
// The write path (mutate()) in order:
//   1. a per-image queue: mutations (and checks, which must not read a half-written image) run one at a
//      time, in the order they were asked for;
//   2. the editing gate (app sessions only: editing off refuses every mutation, at the engine, not at
//      a button); CLI sessions are explicit commands and skip the gate, never the lock;
//   3. QEMU's locks (qemu-lock.ts): a writer holds QEMU's write-permission bytes, so qzs refuses an
//      image QEMU writes and QEMU refuses one qzs writes. Editing on holds the lock until editing goes
//      off; a CLI write holds it until the session closes; read-only sessions take no lock at all;
//   4. all-or-nothing: zone operations commit at the write pointer (zoned-device.ts), header edits are
//      one write after a backup, repairs keep an undo log and put the old bytes back on failure; after
//      any failure the writer's caches are dropped and rebuilt from the disk, and the in-memory zone
//      state is kept only if the disk agrees with it;
//   5. no repair on an incomplete analysis (the plan carries the refusal, shared/qcow2/repair.ts);
//   6. re-read what changed and emit one change event (caches and views listen).
import { constants } from 'node:fs';
import { copyFile, stat, unlink, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fromHex, toHex } from '../../shared/bytes';
import type { EditRecord, HeaderEdit, ZoneReport } from '../../shared/contract/dto';
import type { ByteSource, WritableByteSource } from '../../shared/qcow2/byte-source';
import { backingProbe } from './check';
import { analyzeImage, checkImage, type CheckOptions, type CheckReport } from '../../shared/qcow2/check';
import { osErrorCode, osErrorText, Qcow2Error, toAppError, type AppError } from '../../shared/qcow2/findings';
import { buildLayout, type FileLayout, type LayoutOptions } from '../../shared/qcow2/layout';
import { openImage, type OpenedImage } from '../../shared/qcow2/image';
import { planRepair, type RepairMode, type RepairPlan as RepairPatchPlan } from '../../shared/qcow2/repair';
import { ZONE_CONDITION_CODES } from '../../shared/qcow2/zoned-types';
import type { ZoneOp, ZoneState } from '../../shared/qcow2/zone-state';
import { FileByteSource } from './file-source';
import { planHeaderEdit } from './header-edit';
import { ImageWriter } from './image-writer';
import { acquireWriteLock, releaseLocks, writerHolder, type LockHolder } from './qemu-lock';
import { freshBackupName, type ChangedRange, type RepairResult } from './repair';
import { ZonedDevice, ZoneIoError, type ZoneData, type ZoneOpResult } from './zoned-device';
import { readZoneReport } from './zone-report';

/** What a session reads and writes through: a file, or (tests) a wrapper that injects faults. */
export interface SessionFile extends WritableByteSource {
  readonly writable: boolean;
  /** The OS descriptor for QEMU's byte-range locks; null where there is none (in-memory tests). */
  readonly fd: number | null;
  close(): Promise<void>;
}

export type OpenSessionFile = (path: string, writable: boolean) => Promise<SessionFile>;

export const openFile: OpenSessionFile = (path, writable) => FileByteSource.open(path, writable ? 'r+' : 'r');

export interface ImageSessionOptions {
  /** App sessions (UI, HTTP): every mutation needs editing on. CLI sessions: explicit commands, no gate. */
  gate: boolean;
  /** How the image file is opened (tests wrap it to inject I/O errors). */
  openFile?: OpenSessionFile;
  /** fsync at every ordering point (default true). */
  durable?: boolean;
}

export type ChangeKind = 'zones' | 'header' | 'repair' | 'editing' | 'external' | 'data';

export interface SessionChange {
  kind: ChangeKind;
  generation: number;
}

/** Who holds the image for writing, as far as the OS can say; shown as a banner, never a refusal to read. */
export interface InUse {
  by: string;
  /** When the image was decoded: what the views show is the file as it was then. */
  readAt: Date;
}

/** Size, modification time and inode: changes when anything (another program too) writes or replaces the file. */
async function fileStamp(path: string): Promise<string> {
  const st = await stat(path, { bigint: true }).catch(() => null);
  return st ? `${st.size}:${st.mtimeNs}:${st.ino}` : 'gone';
}

function backupStamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
}

function holderText(h: LockHolder | null): string {
  return h ? `${h.command} (pid ${h.pid})` : 'another process';
}

export class ImageSession {
  private file: SessionFile;
  private decoded: OpenedImage | null = null;
  private failure: AppError | null = null;
  private decodedAt = new Date();
  private stamp = '';
  /** The zone device on the session's handle, while the session is a writer. */
  private device: ZonedDevice | null = null;
  /** Zone states (open zones live only here, as in QEMU) kept across device re-opens. */
  private zones: ZoneState | null = null;
  /** The zone report of `generation`, shared by every caller while it is being read (see readAhead). */
  private report: { value: Promise<ZoneReport>; generation: number } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private lockHeld = false;
  /** The handle is read-write and the lock (where the OS has one) is ours. */
  private isWriter = false;
  private wpByteOrder = 'little-endian';
  private closed = false;
  /** Inside prepare(): the app's own set-up writes, which the user's gate does not cover. */
  private setupDepth = 0;
  private readonly listeners = new Set<(c: SessionChange) => void>();
  private readonly open: OpenSessionFile;
  editing = false;
  readonly edits: EditRecord[] = [];
  /** Bumped by every change, ours or another program's. */
  generation = 0;

  private constructor(readonly path: string, file: SessionFile, private readonly opts: ImageSessionOptions) {
    this.file = file;
    this.open = opts.openFile ?? openFile;
  }

  /**
   * Open an image read-only. A file that cannot be opened at all (missing, not a regular file) throws;
   * one that cannot be decoded still opens, degraded: its bytes and the findings that say why.
   */
  static async open(path: string, opts: ImageSessionOptions): Promise<ImageSession> {
    const o = opts.openFile ?? openFile;
    const s = new ImageSession(path, await o(path, false), opts);
    await s.decode();
    return s;
  }

  // ------------------------------------------------------------------ reading

  get source(): SessionFile { return this.file; }
  get writable(): boolean { return this.file.writable; }
  get degraded(): AppError | null { return this.failure; }
  get readAt(): Date { return this.decodedAt; }

  /** The decoded image, re-read when the file changed under us; a degraded session throws why. */
  async image(): Promise<OpenedImage> {
    await this.noticeExternalChange();
    if (this.failure) throw new Qcow2Error(this.failure);
    if (!this.decoded) await this.decode();
    if (!this.decoded) throw new Qcow2Error(this.failure ?? { code: 'internal', message: 'the image could not be decoded', file: this.path });
    return this.decoded;
  }

  /** Raw bytes of the file: works for every session, degraded or not (the hex view). */
  read(offset: number, length: number): Promise<Uint8Array> {
    return this.file.read(offset, length);
  }

  /** Why this session writes without QEMU's locks (none on this platform), or null when it has them. */
  lockWarning: string | null = null;

  /** Another process holding the image for writing (QEMU running a VM on it, say), or null. */
  inUse(): InUse | null {
    if (this.lockHeld || this.file.fd === null) return null;
    const h = writerHolder(this.file.fd, this.path);
    return h ? { by: holderText(h.holder), readAt: this.decodedAt } : null;
  }

  /** The zone report with the session's open states; cached until the next change. */
  async zoneReport(): Promise<ZoneReport> {
    await this.noticeExternalChange();
    const c = this.report;
    if (c && c.generation === this.generation) return c.value;
    const generation = this.generation;
    const value = this.zones ? Promise.resolve(stateReport(this.zones, this.wpByteOrder)) : this.image().then(readZoneReport);
    // Cached at once, so that a caller arriving while it is read shares it; a change in between drops it
    // (changed()), and a failure is not kept: the next caller reads again and gets the error itself.
    this.report = { value, generation };
    value.catch(() => { if (this.report?.value === value) this.report = null; });
    return value;
  }

  /**
   * Start reading the zone report of a zoned image now, in the background: the first thing a viewer asks
   * for, and a million zones take ~100 ms to read (`qzs serve` does this for the images it is given, so
   * that the page finds the report ready; issue 14). Errors wait for the caller who asks.
   */
  readAhead(): void {
    if (this.degraded || !this.decoded?.zoned) return;
    this.zoneReport().catch(() => { /* the caller who asks gets it */ });
  }

  /** A full check, serialised with writes so it never reads a half-written image. */
  check(options: CheckOptions & { wrap?: (src: ByteSource) => ByteSource } = {}): Promise<CheckReport> {
    return this.serial(async () => {
      await this.noticeExternalChange();
      return checkImage(options.wrap ? options.wrap(this.file) : this.file, { probeBacking: backingProbe(this.path), ...options });
    });
  }

  /** Read-only work serialised with writes (a diff), so that it never reads a half-written image. */
  inspect<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      await this.noticeExternalChange();
      return fn();
    });
  }

  /** The layout map: the check's walk with the map's visitor, serialised with writes as check is. */
  layout(options: LayoutOptions = {}): Promise<FileLayout> {
    return this.serial(async () => {
      await this.noticeExternalChange();
      return buildLayout(this.file, { probeBacking: backingProbe(this.path), ...options });
    });
  }

  onChange(listener: (c: SessionChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ------------------------------------------------------------------ editing and locks

  /** Editing on: the session becomes a writer (read-write handle, QEMU's write lock) until it goes off. */
  setEditing(on: boolean): Promise<void> {
    return this.serial(async () => {
      if (on === this.editing) return;
      if (on) {
        if (this.failure) throw new Qcow2Error({ code: 'read-only', file: this.path, message: `the image cannot be decoded (${this.failure.message}): it can be inspected, not edited` });
        await this.becomeWriter();
        this.editing = true;
      } else {
        this.editing = false;
        await this.becomeReader();
      }
      this.changed('editing');
    });
  }

  /**
   * Become a writer and open the zone device now (the CLI, before a script: a refused lock or an image
   * the device cannot drive is reported before the first step, not as every step's failure).
   */
  openForZoneOps(): Promise<void> {
    return this.serial(async () => {
      if (this.failure) throw new Qcow2Error(this.failure);
      await this.becomeWriter();
      await this.zoneDevice();
    });
  }

  // ------------------------------------------------------------------ mutations (all through mutate)

  /** Zone management and data operations; the result carries the new report (no second round trip). */
  zoneOp(op: ZoneOp | ((current: ZoneState) => ZoneOp), data?: ZoneData): Promise<{ result: ZoneOpResult; report: ZoneReport }> {
    return this.mutate('zones', typeof op === 'function' ? 'zone operation' : describe(op), async () => {
      const dev = await this.zoneDevice();
      try {
        // An operation that depends on the state (write at the write pointer) is resolved here, in the
        // queue, against the state it will run on.
        const result = await dev.run(typeof op === 'function' ? op(dev.state) : op, data);
        this.zones = dev.state;
        return result;
      } catch (e) {
        if (e instanceof ZoneIoError) {
          // The writer's caches may be ahead of the disk: re-open from the file, and keep the zone
          // states (the old ones, or the new ones when the operation committed) only where the disk
          // still says what they say.
          const keep = dev.state;
          await this.dropDevice();
          await this.reloadDevice(keep).catch(() => { this.zones = null; });
        }
        throw e;
      }
    }).then(async (result) => ({ result, report: await this.zoneReport() }));
  }

  /**
   * A guest write to an image that is not zoned (qzs io's write on a plain image, as qemu-io writes it):
   * through the data path (allocation, copy-on-write, refcounts), under the same queue, gate and lock as
   * every mutation. Zoned images go through zoneOp, which keeps the write pointers.
   */
  guestWrite(offset: number, bytes: Uint8Array): Promise<void> {
    return this.mutate('data', 'guest write', async () => {
      const img = await this.image();
      if (img.zoned) throw new Qcow2Error({ code: 'invalid-argument', file: this.path, message: 'guest write: the image is zoned: write through a zone operation, which keeps the write pointer' });
      const writer = await ImageWriter.fromSource(this.file, { durable: this.opts.durable });
      // close() flushes and clears the dirty bit a lazy-refcount write set; the session's file stays open.
      try {
        await writer.write(offset, bytes);
      } finally {
        await writer.close();
      }
    });
  }

  /** A header field or feature bit, after a copy of the first cluster is written beside the image. */
  applyEdit(edit: HeaderEdit): Promise<EditRecord> {
    return this.mutate('header', 'header edit', async () => {
      const img = await this.image();
      const p = await planHeaderEdit(img, this.file, edit);
      const cluster0 = await this.file.read(0, Math.max(4096, img.header.clusterSize));
      const id = this.edits.length + 1;
      const backupPath = `${this.path}.qzs-backup-${backupStamp()}-${id}.bin`;
      await writeFile(backupPath, cluster0, { flag: 'wx' });
      try {
        await this.file.write(p.offset, p.after);
        await this.file.flush();
      } catch (e) {
        await this.restore([{ offset: p.offset, bytes: p.before }]);
        await unlink(backupPath).catch(() => {});
        throw e;
      }
      const rec: EditRecord = { id, description: p.description, offset: p.offset, before: toHex(p.before), after: toHex(p.after), backupName: basename(backupPath) };
      this.edits.push(rec);
      return rec;
    });
  }

  /** Undo the last edit, only if the bytes on disk are still what it wrote. */
  undoEdit(): Promise<EditRecord | null> {
    return this.mutate('header', 'undo', async () => {
      const rec = this.edits.at(-1);
      if (!rec) return null;
      const after = fromHex(rec.after);
      const now = await this.file.read(rec.offset, after.length);
      if (toHex(now) !== rec.after) {
        throw new Qcow2Error({ code: 'invalid-argument', message: `the bytes at offset ${rec.offset} changed since the edit (now ${toHex(now)}); restore from ${rec.backupName} by hand`, file: this.path });
      }
      try {
        await this.file.write(rec.offset, fromHex(rec.before));
        await this.file.flush();
      } catch (e) {
        await this.restore([{ offset: rec.offset, bytes: after }]);
        throw e;
      }
      this.edits.pop();
      return rec;
    });
  }

  /** What a repair would write (or why it is refused), from an analysis serialised with writes. */
  planRepair(mode: RepairMode, options: CheckOptions = {}): Promise<RepairPatchPlan> {
    return this.serial(async () => {
      await this.noticeExternalChange();
      return planRepair(await analyzeImage(this.file, options), mode);
    });
  }

  /**
   * Repair in place: analysis, refusal when it is incomplete, backup copy, patches with an undo log
   * (the old bytes go back on any failure, and the file is cut back to its old length), re-check.
   */
  repair(mode: RepairMode, options: CheckOptions = {}): Promise<RepairResult> {
    return this.mutate('repair', `repair (-r ${mode})`, async () => {
      const analysis = await analyzeImage(this.file, { probeBacking: backingProbe(this.path), ...options });
      // An incomplete analysis lowers no refcount: the plan then holds only repairs that cannot lose data,
      // and says what it refused (shared/qcow2/repair.ts).
      const plan = await planRepair(analysis, mode);
      let backup: string | null = null;
      const changes: ChangedRange[] = plan.patches.map((p) => ({ offset: p.offset, length: p.bytes.length, why: p.why }));
      if (plan.patches.length > 0) {
        backup = await freshBackupName(this.path);
        await copyFile(this.path, backup, constants.COPYFILE_EXCL);
        const oldSize = await this.file.size();
        const undo: { offset: number; bytes: Uint8Array }[] = [];
        try {
          for (const p of plan.patches) {
            undo.push({ offset: p.offset, bytes: await this.file.read(p.offset, p.bytes.length) });
            await this.file.write(p.offset, p.bytes);
          }
          await this.file.flush();
        } catch (e) {
          await this.restore(undo.reverse(), oldSize);
          await unlink(backup).catch(() => {});
          throw e;
        }
      }
      const after = await checkImage(this.file, { signal: options.signal, maxClusters: options.maxClusters, probeBacking: backingProbe(this.path) });
      after.filename = this.path;
      after['corruptions-fixed'] = Math.max(0, analysis.report.corruptions - after.corruptions);
      after['leaks-fixed'] = Math.max(0, analysis.report.leaks - after.leaks);
      return { target: this.path, backup, before: analysis.report, after, changes, notes: plan.notes, refused: plan.refused, checkFailed: plan.checkFailed };
    });
  }

  /** Demo set-up: zone states the app itself asks for on its own image, outside the user's gate. */
  async prepare(fn: (s: ImageSession) => Promise<void>): Promise<void> {
    this.setupDepth++;
    try {
      await fn(this);
    } finally {
      this.setupDepth--;
    }
    if (!this.editing && this.opts.gate) await this.serial(() => this.becomeReader());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.serial(async () => {
      this.closed = true;
      await this.dropDevice();
      if (this.lockHeld && this.file.fd !== null) releaseLocks(this.file.fd);
      this.lockHeld = false;
      this.isWriter = false;
      await this.file.close();
    });
  }

  // ------------------------------------------------------------------ the write path

  private mutate<T>(kind: ChangeKind, what: string, fn: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      if (this.closed) throw new Qcow2Error({ code: 'invalid-argument', file: this.path, message: `${what}: the image is closed` });
      if (this.opts.gate && !this.editing && this.setupDepth === 0) {
        throw new Qcow2Error({ code: 'read-only', file: this.path, message: `${what}: editing is off for this image: switch it on first; nothing was written`, details: { gate: true } });
      }
      if (this.failure) throw new Qcow2Error({ code: 'read-only', file: this.path, message: `${what}: the image cannot be decoded (${this.failure.message}); nothing was written` });
      await this.becomeWriter();
      try {
        return await fn();
      } catch (e) {
        throw typedWriteError(what, e, this.path);
      } finally {
        await this.afterWrite(kind);
      }
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Read-write handle plus QEMU's write lock; refuses (code 'locked') while another writer holds it. */
  private async becomeWriter(): Promise<void> {
    if (this.isWriter) return;
    const next = await this.open(this.path, true);
    let locked = false;
    if (next.fd !== null) {
      try {
        const r = acquireWriteLock(next.fd, this.path);
        locked = r.locked;
        this.lockWarning = r.locked ? null : `written without QEMU's locks: ${r.reason ?? 'byte-range locks are not available'}`;
      } catch (e) {
        await next.close();
        throw e;
      }
    }
    await this.dropDevice();
    await this.file.close();
    this.file = next;
    this.lockHeld = locked;
    this.isWriter = true;
    await this.decode();
  }

  /** Back to a read-only handle without locks (editing off); open zone states stay in memory. */
  private async becomeReader(): Promise<void> {
    if (!this.isWriter) return;
    await this.dropDevice();
    const next = await this.open(this.path, false);
    if (this.lockHeld && this.file.fd !== null) releaseLocks(this.file.fd);
    this.lockHeld = false;
    this.isWriter = false;
    await this.file.close();
    this.file = next;
    await this.decode();
  }

  private async afterWrite(kind: ChangeKind): Promise<void> {
    await this.file.flush().catch(() => {});
    this.decoded = null;
    await this.decode();
    // A header edit or a repair changes what the writer decoded at its start: re-open it now, and keep
    // the zone states only if the image is still zoned with the same geometry and write pointers.
    if (kind !== 'zones') {
      const keep = this.zones;
      await this.dropDevice();
      this.zones = null;
      const img = this.decoded as OpenedImage | null;
      if (keep && img?.zoned) await this.reloadDevice(keep).catch(() => { this.zones = null; });
    }
    this.changed(kind);
    // A CLI session stays a writer until it closes; an app session with editing off (demo set-up) hands
    // the lock back at once.
    if (this.opts.gate && !this.editing && this.setupDepth === 0) await this.becomeReader();
  }

  private changed(kind: ChangeKind): void {
    this.generation++;
    this.report = null;
    for (const l of this.listeners) {
      try { l({ kind, generation: this.generation }); } catch { /* a listener's failure is its own */ }
    }
  }

  private async decode(): Promise<void> {
    this.decodedAt = new Date();
    this.stamp = await fileStamp(this.path);
    try {
      this.decoded = await openImage(this.file);
      this.failure = null;
    } catch (e) {
      this.decoded = null;
      this.failure = toAppError(e, this.path);
    }
  }

  /** Another program wrote or replaced the file: what we decoded is stale; open states go with it. */
  private async noticeExternalChange(): Promise<void> {
    if (this.lockHeld) return;
    const now = await fileStamp(this.path);
    if (now === this.stamp) return;
    this.zones = null;
    await this.dropDevice();
    await this.decode();
    this.changed('external');
  }

  private async zoneDevice(): Promise<ZonedDevice> {
    if (this.device) return this.device;
    await this.reloadDevice(this.zones);
    if (!this.device) throw new Qcow2Error({ code: 'internal', file: this.path, message: 'the zone device did not open' });
    return this.device;
  }

  private async reloadDevice(keep: ZoneState | null): Promise<void> {
    const writer = await ImageWriter.fromSource(this.file, { durable: this.opts.durable });
    const dev = await ZonedDevice.attach(writer, false);
    if (keep) dev.adoptState(keep);
    this.device = dev;
    this.zones = dev.state;
    this.wpByteOrder = dev.wpByteOrder;
  }

  private async dropDevice(): Promise<void> {
    const d = this.device;
    this.device = null;
    // Closing the writer flushes and clears a dirty bit it set; after an I/O error that may fail too,
    // and then the bit stays set (refcounts may be stale: the next writer must rebuild them).
    if (d) await d.writer.close().catch(() => {});
  }

  /** Put bytes back after a failed write (best effort: the same fault may refuse this too). */
  private async restore(undo: { offset: number; bytes: Uint8Array }[], size?: number): Promise<void> {
    for (const u of undo) await this.file.write(u.offset, u.bytes).catch(() => {});
    if (size !== undefined) {
      const now = await this.file.size().catch(() => size);
      if (now > size) await this.file.truncate(size).catch(() => {});
    }
    await this.file.flush().catch(() => {});
  }
}

/** An OS error (ENOSPC, EIO, EACCES…) of a write as a typed error naming the operation and the file. */
function typedWriteError(what: string, e: unknown, file: string): unknown {
  if (e instanceof Qcow2Error) return e;
  const errno = osErrorCode(e) ?? null;
  return new Qcow2Error({ code: errno ? 'io' : 'internal', file, message: `${what} failed: ${osErrorText(e)}; the image was left as it was`, details: { errno } });
}

function describe(op: ZoneOp): string {
  switch (op.op) {
    case 'write': return `zone write at ${op.offset}`;
    case 'append': return `zone append to zone ${op.zone}`;
    case 'reset-all': return 'reset-all';
    default: return `zone ${op.op} ${op.zone}`;
  }
}

/** The report of an in-memory zone state (open states included), columnar like the file's. */
export function stateReport(st: ZoneState, wpByteOrder: string): ZoneReport {
  const g = st.geometry;
  const wp = new Float64Array(g.nrZones);
  const cond = new Uint8Array(g.nrZones);
  for (let i = 0; i < g.nrZones; i++) {
    wp[i] = st.isConventional(i) ? st.zoneStart(i) : st.writePointer(i);
    cond[i] = ZONE_CONDITION_CODES[st.condition(i)];
  }
  return {
    nrZones: g.nrZones, zoneSize: g.zoneSize, zoneCapacity: g.zoneCapacity, conventionalZones: g.conventionalZones,
    deviceSize: g.deviceSize, maxOpenZones: g.maxOpenZones, maxActiveZones: g.maxActiveZones, maxAppendBytes: g.maxAppendBytes,
    wpByteOrder, wp, cond,
  };
}
