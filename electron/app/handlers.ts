// THE handler table: one function per contract channel, shared by both transports (Electron IPC in
// electron/main/ipc.ts, HTTP in electron/server/). Transports only move bytes; every argument check,
// every path decision and every error conversion happens here. Each handler is one call on the image's
// ImageSession (electron/engine/image-session.ts), which owns the file and the one write path.
import { access } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CHANNELS, GUARDS, isChannel, type ArgsOf, type Channel, type ResultOf } from '../../shared/contract/channels';
import type { AppInfo, Capabilities, JobProgress, RecentFile, SessionInfo } from '../../shared/contract/dto';
import { fail, invalidArgument, ok, type Result } from '../../shared/contract/result';
import { Qcow2Error, toAppError } from '../../shared/qcow2/findings';
import { previewHeaderEdit } from '../engine/header-edit';
import type { ByteSource } from '../../shared/qcow2/byte-source';
import { confineCreateOptions, createImageFile } from './create-ops';
import { JobRegistry } from './jobs';
import type { OpenDir } from './open-dir';
import { planSessionRepair, repairSession } from './repair-ops';
import type { SessionRegistry } from './sessions';
import { summarize, summarizeDegraded } from './summary';
import { l1Page, l2Page, refblockPage, refcountTablePage, snapshotPage } from './tables';
import { heldSource } from './test-hold';
import { zoneClusters } from './zone-clusters';
import { zoneManagement, zoneWrite } from './zone-ops';
import { checkCounts } from './check-counts';
import { diffRun } from './diff-ops';
import { writeZoneReport } from './zone-export';
import { zoneExportFileName } from '../../shared/contract/zone-export';
import { ZONE_FORMAT_FILES } from '../../shared/qcow2/zone-formats';

export interface CallContext {
  /** Aborted when the caller goes away or cancels (HTTP client disconnect, renderer cancel). */
  signal?: AbortSignal;
  /** Where a job's progress goes (Electron: an event to the calling window; HTTP: lines of the answer). */
  progress?: (p: JobProgress) => void;
}

export type Handler<C extends Channel> = (ctx: CallContext, ...args: ArgsOf<C>) => Promise<ResultOf<C>>;
export type HandlerTable = { [C in Channel]: Handler<C> };

/** What the transport's host provides: dialogs and recent files in Electron, a create directory in serve. */
export interface HostServices {
  transport: 'electron' | 'http';
  version: string;
  openDialog?: () => Promise<string | null>;
  saveDialog?: (defaultName: string) => Promise<string | null>;
  /** Where to write an exported file (Electron's save dialog); null when cancelled. */
  exportDialog?: (defaultName: string, extension: string) => Promise<string | null>;
  recent?: { list(): string[]; add(path: string): void };
  /** Where serve mode creates images (no dialog there). */
  createDirectory?: string;
  /** `qzs serve --open-dir`: the folder the browser may list and open images from. */
  openDirectory?: OpenDir;
  /** Electron: open an allowlisted documentation link (shared/contract/docs-links.ts) in the user's browser. */
  openExternal?: (url: string) => Promise<void>;
  /** Test hook (electron/app/test-hold.ts): the check of the image with this file name pauses mid-walk until cancelled. */
  holdCheckOf?: string;
}

export function capabilities(host: HostServices): Capabilities {
  return {
    transport: host.transport,
    zoneReport: true,
    zoneOps: true,
    zoneWrite: true,
    create: !!host.saveDialog || !!host.createDirectory,
    check: true,
    repair: true,
    edit: true,
    openDialog: !!host.openDialog,
    openDir: !!host.openDirectory,
  };
}

export function createHandlers(sessions: SessionRegistry, host: HostServices, jobs = new JobRegistry()): HandlerTable {
  const opened = async (path: string): Promise<SessionInfo> => {
    const e = await sessions.open(path);
    host.recent?.add(e.session.path);
    return sessions.info(e.id);
  };
  const recentList = (): RecentFile[] => (host.recent?.list() ?? []).map((p, index) => ({ index, name: basename(p), location: dirname(p) }));
  const unavailable = (what: string): never => {
    throw new Qcow2Error({ code: 'unsupported-feature', message: `${what} is not available here` });
  };
  const image = (id: string) => sessions.get(id).image();

  return {
    'app:info': async (): Promise<AppInfo> => ({
      version: host.version,
      capabilities: capabilities(host),
      sessions: await Promise.all(sessions.list().map((e) => sessions.info(e.id))),
      recent: recentList(),
    }),
    'session:openDialog': async () => {
      const path = host.openDialog ? await host.openDialog() : unavailable('An open dialog');
      return path === null ? null : opened(path);
    },
    'session:openRecent': async (_ctx, index) => {
      const path = host.recent?.list()[index];
      if (path === undefined) throw new Qcow2Error({ code: 'invalid-argument', message: `there is no recent file number ${index + 1}` });
      return opened(path);
    },
    'session:openDropped': async (_ctx, path) => opened(path),
    'session:close': async (_ctx, id) => {
      await sessions.close(id);
      return null;
    },
    'image:summary': async (_ctx, id) => {
      const s = sessions.get(id);
      const img = await s.image().catch(() => null);
      const info = await sessions.info(id);
      return img ? summarize(img, info) : summarizeDegraded(s.source, s.degraded ?? toAppError(new Error('the image cannot be decoded')), info);
    },
    'image:read': async (_ctx, id, offset, length) => sessions.get(id).read(offset, length),
    'zones:report': async (_ctx, id) => sessions.get(id).zoneReport(),
    'zones:op': async (_ctx, id, req) => zoneManagement(sessions.get(id), req),
    'zones:clusters': async (_ctx, id, zone) => zoneClusters(await image(id), zone),
    'zones:write': async (_ctx, id, req) => zoneWrite(sessions.get(id), req),
    'check:run': async (ctx, id, job) => {
      const s = sessions.get(id);
      return jobs.run(job, 'the check', ctx.signal, ctx.progress, async (signal, progress) => {
        let walking = false;
        const wrap = host.holdCheckOf !== undefined && basename(s.path) === host.holdCheckOf
          ? (src: ByteSource): ByteSource => heldSource(src, () => walking, signal)
          : undefined;
        const r = await s.check({
          signal, wrap,
          onProgress: (p) => { if ((p.phase === 'active tables' || p.phase === 'refcounts') && p.done > 0) walking = true; progress(p); },
        });
        return { findings: r.findings, complete: r.complete, counts: checkCounts(r) };
      });
    },
    'job:cancel': async (_ctx, job) => jobs.cancel(job),
    'layout:run': async (ctx, id, job) => {
      const s = sessions.get(id);
      return jobs.run(job, 'the layout map', ctx.signal, ctx.progress, (signal, progress) => s.layout({ signal, onProgress: progress }));
    },
    'tables:l1': async (_ctx, id, req) => l1Page(await image(id), req),
    'tables:l2': async (_ctx, id, req) => l2Page(await image(id), req),
    'tables:refcounts': async (_ctx, id, req) => refcountTablePage(await image(id), req),
    'tables:refblock': async (_ctx, id, req) => refblockPage(await image(id), req),
    'tables:snapshots': async (_ctx, id, req) => snapshotPage(await image(id), req),
    'check:planRepair': async (_ctx, id, req) => planSessionRepair(sessions.get(id), req),
    'check:repair': async (_ctx, id, req) => repairSession(sessions.get(id), req),
    'edit:enable': async (_ctx, id, enabled) => {
      await sessions.get(id).setEditing(enabled);
      return sessions.info(id);
    },
    'edit:preview': async (_ctx, id, edit) => previewHeaderEdit(await image(id), sessions.get(id).source, edit),
    'edit:apply': async (_ctx, id, edit) => sessions.get(id).applyEdit(edit),
    'edit:undo': async (_ctx, id) => sessions.get(id).undoEdit(),
    'edit:history': async (_ctx, id) => [...sessions.get(id).edits],
    'create:target': async () => ({ directory: host.createDirectory ?? '', dialog: !host.createDirectory && !!host.saveDialog }),
    'create:run': async (ctx, req, job) => {
      let path: string | null;
      if (host.createDirectory) path = join(host.createDirectory, req.fileName);
      else if (host.saveDialog) path = await host.saveDialog(req.fileName);
      else path = unavailable('Choosing where to create an image');
      if (path === null) throw new Qcow2Error({ code: 'invalid-argument', message: 'creation cancelled: no file chosen' });
      const exists = await access(path).then(() => true, () => false);
      if (exists) throw new Qcow2Error({ code: 'exists', message: `${basename(path)} already exists: choose another name`, file: path });
      const target = path;
      // Served over HTTP, every path-valued option stays inside the create directory (no existence oracle).
      const options = host.createDirectory ? confineCreateOptions(host.createDirectory, req.options) : req.options;
      await jobs.run(job, `creating ${req.fileName}`, ctx.signal, ctx.progress, (signal, progress) => createImageFile(target, options, req.zonedLayout, signal, progress));
      return opened(path);
    },
    'app:openDocs': async (_ctx, url) => {
      await (host.openExternal ?? unavailable('Opening a browser from the engine'))(url);
      return null;
    },
    'files:list': async (_ctx, dir) => (host.openDirectory ?? unavailable('Browsing a folder (start qzs serve with --open-dir DIR)')).list(dir),
    'session:openListed': async (_ctx, path) => opened(await (host.openDirectory ?? unavailable('Opening by name (start qzs serve with --open-dir DIR)')).file(path)),
    'diff:run': async (ctx, id, req, job) => diffRun(sessions, jobs, ctx, id, req, job),
    'zones:export': async (_ctx, id, format) => {
      const info = await sessions.info(id);
      const path = host.exportDialog ? await host.exportDialog(zoneExportFileName(info.name, format), ZONE_FORMAT_FILES[format].extension) : unavailable('A save dialog');
      if (path === null) return null;
      return writeZoneReport(await sessions.get(id).zoneReport(), format, path, { name: info.name });
    },
  };
}

/**
 * The one entry both transports call: checks the channel name and the arguments against the contract's
 * guards, runs the handler, and turns anything thrown into an AppError. Never throws.
 */
export async function dispatch(
  table: HandlerTable,
  channel: unknown,
  args: unknown,
  ctx: CallContext = {},
  refused: ReadonlySet<Channel> = new Set(),
): Promise<Result<unknown>> {
  if (!isChannel(channel)) return invalidArgument(`unknown channel "${String(channel).slice(0, 60)}"`);
  if (refused.has(channel)) return invalidArgument(`${channel} is not available over this transport`);
  if (!Array.isArray(args)) return invalidArgument(`${channel}: expected an argument list`);
  const why = GUARDS[channel](args);
  if (why) return invalidArgument(`${channel}: ${why}`);
  try {
    const fn = table[channel] as (ctx: CallContext, ...a: unknown[]) => Promise<unknown>;
    return ok(await fn(ctx, ...args));
  } catch (e) {
    return fail(toAppError(e));
  }
}

export { CHANNELS };
