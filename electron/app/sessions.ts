// Main keeps every path behind a session id: the renderer holds ids, never paths or file handles. Paths
// enter only from trusted places (open dialog, drag and drop through the preload, recent files, the command
// line, serve's arguments and create directory) and are re-validated here.
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { SessionInfo, ZoneReport } from '../../shared/contract/dto';
import { openImage, type OpenedImage } from '../../shared/qcow2/image';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { FileByteSource } from '../engine/file-source';
import type { EditRecord } from '../../shared/contract/dto';

export interface Session {
  id: string;
  path: string;
  source: FileByteSource;
  /** Re-read after every write; null until first needed or after invalidate(). */
  image: OpenedImage | null;
  editing: boolean;
  edits: EditRecord[];
  /** Engine objects that live as long as the session (zoned device with its open-zone lists…). */
  state: Map<string, unknown>;
  /** The last zone report, valid while `generation` and the file's stamp are unchanged (see zoneReport()). */
  report: { value: ZoneReport; stamp: string; generation: number } | null;
  /** Bumped by every invalidate(): a report read that overlapped a write is never kept. */
  generation: number;
}

/** Size, modification time and inode: changes when anything (another program too) writes or replaces the file. */
async function fileStamp(path: string): Promise<string> {
  const st = await stat(path, { bigint: true }).catch(() => null);
  return st ? `${st.size}:${st.mtimeNs}:${st.ino}` : 'gone';
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  /** Open a path from a trusted origin. Refuses anything but a regular file. */
  async open(path: string): Promise<Session> {
    const full = resolve(path);
    const st = await stat(full).catch(() => null);
    if (!st || !st.isFile()) throw new Qcow2Error({ code: 'io', message: 'not a regular file', file: full });
    for (const s of this.sessions.values()) if (s.path === full) return s;
    const source = await FileByteSource.open(full, 'r');
    const id = 's' + randomBytes(9).toString('hex');
    const session: Session = { id, path: full, source, image: null, editing: false, edits: [], state: new Map(), report: null, generation: 0 };
    this.sessions.set(id, session);
    return session;
  }

  get(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw new Qcow2Error({ code: 'invalid-argument', message: 'no such image session (it was closed, or the app restarted)' });
    return s;
  }

  list(): Session[] {
    return [...this.sessions.values()];
  }

  async close(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    // Engine objects kept per session (a zoned device holding its own file handle) close with it.
    for (const v of s.state.values()) {
      const c = (v as { close?: () => Promise<void> } | null)?.close;
      if (typeof c === 'function') await c.call(v).catch(() => {});
    }
    s.state.clear();
    await s.source.close();
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.sessions.keys()]) await this.close(id);
  }

  /** The decoded image, re-read when a write made the cached one stale. */
  async image(s: Session): Promise<OpenedImage> {
    s.image ??= await openImage(s.source);
    return s.image;
  }

  invalidate(s: Session): void {
    s.image = null;
    s.report = null;
    s.generation++;
  }

  /**
   * The session's zone report, read by `read` only when the cached one is stale: a million zones cost an
   * 8 MiB read and decode, while the UI asks again after every switch of image. Our own writes invalidate()
   * (zone operations, edits, repair); a write by another program changes the file's stamp.
   */
  async zoneReport(s: Session, read: () => Promise<ZoneReport>): Promise<ZoneReport> {
    const stamp = await fileStamp(s.path);
    const c = s.report;
    if (c && c.generation === s.generation && c.stamp === stamp) return c.value;
    const generation = s.generation;
    const value = await read();
    if (s.generation === generation) s.report = { value, stamp, generation };
    return value;
  }

  /** Keep a report the engine just made after a write (a zone operation answers with the new report). */
  async rememberZoneReport(s: Session, value: ZoneReport): Promise<void> {
    const generation = s.generation;
    const stamp = await fileStamp(s.path);
    if (s.generation === generation) s.report = { value, stamp, generation };
  }

  /** Switch between read-only and read-write handles (editing on/off). */
  async setWritable(s: Session, writable: boolean): Promise<void> {
    if (s.source.writable === writable) return;
    const next = await FileByteSource.open(s.path, writable ? 'r+' : 'r');
    await s.source.close();
    s.source = next;
    this.invalidate(s);
  }

  async info(s: Session): Promise<SessionInfo> {
    return {
      id: s.id,
      name: basename(s.path),
      location: dirname(s.path),
      size: await s.source.size(),
      writable: s.source.writable,
      editing: s.editing,
    };
  }
}
