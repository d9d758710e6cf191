// THE handler table: one function per contract channel, shared by both transports (Electron IPC in
// electron/main/ipc.ts, HTTP in electron/server/). Transports only move bytes; every argument check,
// every path decision and every error conversion happens here.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { CHANNELS, GUARDS, isChannel, type ArgsOf, type Channel, type ResultOf } from '../../shared/contract/channels';
import type { AppInfo, Capabilities, JobProgress, RecentFile, SessionInfo } from '../../shared/contract/dto';
import { fail, invalidArgument, ok, type Result } from '../../shared/contract/result';
import { Qcow2Error, toAppError } from '../../shared/qcow2/findings';
import { defaultEngine, type EnginePort } from './engine';
import { applyEdit, previewEdit, undoEdit } from './header-edit';
import { JobRegistry } from './jobs';
import type { SessionStore } from './sessions';
import { basename, dirname } from 'node:path';
import { summarize } from './summary';
import { l1Page, l2Page, refblockPage, refcountTablePage, snapshotPage } from './tables';
import { zoneClusters } from './zone-clusters';

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
  recent?: { list(): string[]; add(path: string): void };
  /** Where serve mode creates images (no dialog there). */
  createDirectory?: string;
}

function unsupported(what: string): never {
  throw new Qcow2Error({ code: 'unsupported-feature', message: `${what} is not available in this build of the engine yet` });
}

export function capabilities(host: HostServices, engine: EnginePort): Capabilities {
  return {
    transport: host.transport,
    zoneReport: true,
    zoneOps: !!engine.zoneOp,
    zoneWrite: !!engine.zoneWrite,
    create: !!engine.create && (!!host.saveDialog || !!host.createDirectory),
    check: true,
    repair: !!engine.repair && !!engine.planRepair,
    edit: true,
    openDialog: !!host.openDialog,
  };
}

export function createHandlers(store: SessionStore, host: HostServices, engine: EnginePort = defaultEngine, jobs = new JobRegistry()): HandlerTable {
  const opened = async (path: string): Promise<SessionInfo> => {
    const s = await store.open(path);
    try {
      await store.image(s);
    } catch (e) {
      await store.close(s.id);
      throw e;
    }
    host.recent?.add(s.path);
    return store.info(s);
  };
  const recentList = (): RecentFile[] => (host.recent?.list() ?? []).map((p, index) => ({ index, name: basename(p), location: dirname(p) }));

  return {
    'app:info': async (): Promise<AppInfo> => ({
      version: host.version,
      capabilities: capabilities(host, engine),
      sessions: await Promise.all(store.list().map((s) => store.info(s))),
      recent: recentList(),
    }),
    'session:openDialog': async () => {
      if (!host.openDialog) unsupported('an open dialog');
      const path = await host.openDialog();
      return path === null ? null : opened(path);
    },
    'session:openRecent': async (_ctx, index) => {
      const path = host.recent?.list()[index];
      if (path === undefined) throw new Qcow2Error({ code: 'invalid-argument', message: `there is no recent file number ${index + 1}` });
      return opened(path);
    },
    'session:openDropped': async (_ctx, path) => opened(path),
    'session:close': async (_ctx, id) => {
      await store.close(id);
      return null;
    },
    'image:summary': async (_ctx, id) => {
      const s = store.get(id);
      return summarize(await store.image(s), await store.info(s));
    },
    'image:read': async (_ctx, id, offset, length) => store.get(id).source.read(offset, length),
    'zones:report': async (_ctx, id) => {
      const s = store.get(id);
      return store.zoneReport(s, () => engine.zoneReport(store, s));
    },
    'zones:op': async (_ctx, id, req) => {
      if (!engine.zoneOp) unsupported('Zone operations');
      const s = store.get(id);
      const r = await engine.zoneOp(store, s, req);
      await store.rememberZoneReport(s, r);
      return r;
    },
    'zones:clusters': async (_ctx, id, zone) => zoneClusters(store, store.get(id), zone),
    'zones:write': async (_ctx, id, req) => {
      if (!engine.zoneWrite) unsupported('Appending and writing to zones');
      return engine.zoneWrite(store, store.get(id), req);
    },
    'check:run': async (ctx, id, job) => {
      const s = store.get(id);
      return jobs.run(job, 'the check', ctx.signal, ctx.progress, async (signal, progress) => {
        if (engine.check) return engine.check(store, s, signal, progress);
        store.invalidate(s);
        return { findings: (await store.image(s)).findings, complete: true };
      });
    },
    'job:cancel': async (_ctx, job) => jobs.cancel(job),
    'tables:l1': async (_ctx, id, req) => l1Page(await store.image(store.get(id)), req),
    'tables:l2': async (_ctx, id, req) => l2Page(await store.image(store.get(id)), req),
    'tables:refcounts': async (_ctx, id, req) => refcountTablePage(await store.image(store.get(id)), req),
    'tables:refblock': async (_ctx, id, req) => refblockPage(await store.image(store.get(id)), req),
    'tables:snapshots': async (_ctx, id, req) => snapshotPage(await store.image(store.get(id)), req),
    'check:planRepair': async (_ctx, id, req) => {
      if (!engine.planRepair) unsupported('Repair');
      return engine.planRepair(store, store.get(id), req);
    },
    'check:repair': async (_ctx, id, req) => {
      if (!engine.repair) unsupported('Repair');
      const s = store.get(id);
      const r = await engine.repair(store, s, req);
      store.invalidate(s);
      return r;
    },
    'edit:enable': async (_ctx, id, enabled) => {
      const s = store.get(id);
      await store.setWritable(s, enabled);
      s.editing = enabled;
      return store.info(s);
    },
    'edit:preview': async (_ctx, id, edit) => previewEdit(store, store.get(id), edit),
    'edit:apply': async (_ctx, id, edit) => applyEdit(store, store.get(id), edit),
    'edit:undo': async (_ctx, id) => undoEdit(store, store.get(id)),
    'edit:history': async (_ctx, id) => [...store.get(id).edits],
    'create:target': async () => ({ directory: host.createDirectory ?? '', dialog: !host.createDirectory && !!host.saveDialog }),
    'create:run': async (ctx, req, job) => {
      if (!engine.create) unsupported('Creating images');
      let path: string | null;
      if (host.createDirectory) path = join(host.createDirectory, req.fileName);
      else if (host.saveDialog) path = await host.saveDialog(req.fileName);
      else path = unsupported('Choosing where to create an image');
      if (path === null) throw new Qcow2Error({ code: 'invalid-argument', message: 'creation cancelled: no file chosen' });
      const exists = await access(path).then(() => true, () => false);
      if (exists) throw new Qcow2Error({ code: 'exists', message: `${basename(path)} already exists: choose another name`, file: path });
      const target = path;
      await jobs.run(job, `creating ${req.fileName}`, ctx.signal, ctx.progress, (signal, progress) => engine.create!(target, req.options, req.zonedLayout, signal, progress));
      return opened(path);
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
