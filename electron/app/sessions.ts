// The open images of the app: one ImageSession per file, behind an opaque id. The renderer holds ids,
// never paths or file handles. Paths enter only from trusted places (open dialog, drag and drop through
// the preload, recent files, the command line, serve's arguments and create directory).
import { randomBytes } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { SessionInfo } from '../../shared/contract/dto';
import { Qcow2Error } from '../../shared/qcow2/findings';
import { ImageSession, type ImageSessionOptions } from '../engine/image-session';

export interface SessionEntry {
  id: string;
  session: ImageSession;
}

function clock(d: Date): string {
  return d.toTimeString().slice(0, 8);
}

export class SessionRegistry {
  private readonly entries = new Map<string, SessionEntry>();

  /** Options for every session this registry opens (tests inject a faulty file opener here). */
  constructor(private readonly options: Omit<ImageSessionOptions, 'gate'> = {}) {}

  /**
   * Open a path from a trusted origin; the same file twice (by its real path) is the same session. An
   * image that cannot be decoded still opens (degraded); only a file that cannot be opened throws.
   */
  async open(path: string): Promise<SessionEntry> {
    const full = await realpath(resolve(path)).catch(() => resolve(path));
    for (const e of this.entries.values()) if (e.session.path === full) return e;
    const session = await ImageSession.open(full, { ...this.options, gate: true });
    const entry = { id: 's' + randomBytes(9).toString('hex'), session };
    this.entries.set(entry.id, entry);
    return entry;
  }

  get(id: string): ImageSession {
    const e = this.entries.get(id);
    if (!e) throw new Qcow2Error({ code: 'invalid-argument', message: 'no such image session (it was closed, or the app restarted)' });
    return e.session;
  }

  list(): SessionEntry[] {
    return [...this.entries.values()];
  }

  async close(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    await e.session.close();
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.entries.keys()]) await this.close(id);
  }

  async info(id: string): Promise<SessionInfo> {
    const s = this.get(id);
    const inUse = s.inUse();
    return {
      id,
      name: basename(s.path),
      location: dirname(s.path),
      size: await s.source.size(),
      writable: s.writable,
      editing: s.editing,
      degraded: s.degraded,
      inUse: inUse ? `in use by ${inUse.by}; shown as read at ${clock(inUse.readAt)}` : null,
      lockWarning: s.lockWarning,
      generation: s.generation,
    };
  }
}
