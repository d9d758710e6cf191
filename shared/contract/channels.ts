// THE contract: every channel between the renderer and the engine, its argument tuple, its result, and the
// runtime guard main applies to the arguments. Both transports (Electron IPC and `qzs serve` over HTTP)
// and both ends (renderer api.ts, electron/app/handlers.ts) take their types from this one map.
import type {
  AppInfo, CheckResult, CreateRequest, EditPreview, EditRecord, HeaderEdit, ImageSummary, L1Page, L1PageRequest, L2Page,
  L2PageRequest, PageRequest, RefblockPage, RefblockPageRequest, RefcountTablePage, RepairPlan, RepairRequest, RepairResult,
  SessionInfo, SnapshotPage, ZoneClusters, ZoneOpRequest, ZoneReport, ZoneWriteRequest, ZoneWriteResult,
} from './dto';
import type { DiffRequest, DiffResult, LayoutResult, ZoneExportResult } from './dto';
import { ZONE_REPORT_FORMATS, type ZoneReportFormat } from '../qcow2/zone-formats';
import {
  args, isBoolean, isJobId, isSafeFileName, isSessionId, literal, nonNegInt, oneOf, positiveInt, record, shape, shortString, union, type Guard,
} from './guards';
import { nullable } from './guards';
import type { AppError } from '../qcow2/findings';
import { ZONED_WRITE_LAYOUTS } from '../qcow2/zoned-types';
import { relPathProblem, type DirListing } from './browse';
import { docsUrlProblem } from './docs-links';
import type { Result } from './result';

/** Largest byte range one read returns (the hex view pages through bigger files). */
export const MAX_READ_BYTES = 1 << 20;
/** Most table entries one page carries (tables are paged, never sent whole). */
export const MAX_PAGE_ROWS = 4096;
/** Largest append or write the UI may ask for (the data is made in memory). */
export const MAX_ZONE_WRITE_BYTES = 16 << 20;

export interface Contract {
  'app:info': { args: []; result: AppInfo };
  'session:openDialog': { args: []; result: SessionInfo | null };
  'session:openRecent': { args: [index: number]; result: SessionInfo };
  'session:close': { args: [session: string]; result: null };
  'image:summary': { args: [session: string]; result: ImageSummary };
  'image:read': { args: [session: string, offset: number, length: number]; result: Uint8Array };
  'zones:report': { args: [session: string]; result: ZoneReport };
  'zones:op': { args: [session: string, request: ZoneOpRequest]; result: ZoneReport };
  'zones:clusters': { args: [session: string, zone: number]; result: ZoneClusters };
  'zones:write': { args: [session: string, request: ZoneWriteRequest]; result: ZoneWriteResult };
  /** Long work: `job` is the caller's id for progress events and job:cancel. */
  'check:run': { args: [session: string, job: string]; result: CheckResult };
  'job:cancel': { args: [job: string]; result: boolean };
  'tables:l1': { args: [session: string, request: L1PageRequest]; result: L1Page };
  'tables:l2': { args: [session: string, request: L2PageRequest]; result: L2Page };
  'tables:refcounts': { args: [session: string, request: PageRequest]; result: RefcountTablePage };
  'tables:refblock': { args: [session: string, request: RefblockPageRequest]; result: RefblockPage };
  'tables:snapshots': { args: [session: string, request: PageRequest]; result: SnapshotPage };
  'check:planRepair': { args: [session: string, request: RepairRequest]; result: RepairPlan };
  'check:repair': { args: [session: string, request: RepairRequest]; result: RepairResult };
  'edit:enable': { args: [session: string, enabled: boolean]; result: SessionInfo };
  'edit:preview': { args: [session: string, edit: HeaderEdit]; result: EditPreview };
  'edit:apply': { args: [session: string, edit: HeaderEdit]; result: EditRecord };
  'edit:undo': { args: [session: string]; result: EditRecord | null };
  'edit:history': { args: [session: string]; result: EditRecord[] };
  'create:target': { args: []; result: { directory: string; dialog: boolean } };
  'create:run': { args: [request: CreateRequest, job: string]; result: SessionInfo };
  'session:openDropped': { args: [path: string]; result: SessionInfo };
  /** Open a documentation page (shared/contract/docs-links.ts allowlist) in the user's browser. */
  'app:openDocs': { args: [url: string]; result: null };
  /** `qzs serve --open-dir`: one folder of the open folder, by its path relative to it ('' = the folder). */
  'files:list': { args: [dir: string]; result: DirListing };
  /** `qzs serve --open-dir`: open an image by its path relative to the open folder. */
  'session:openListed': { args: [path: string]; result: SessionInfo };
  /** Long work: A (this session) against B (request.other, or a snapshot); `job` as for check:run. */
  'diff:run': { args: [session: string, request: DiffRequest, job: string]; result: DiffResult };
  /** Long work, as check:run: the layout map from the check's walk. */
  'layout:run': { args: [session: string, job: string]; result: LayoutResult };
  /** Electron: ask where to save the zone report in `format`, write it there; null when the dialog is cancelled. */
  'zones:export': { args: [session: string, format: ZoneReportFormat]; result: ZoneExportResult | null };
}

export type Channel = keyof Contract;
export type ArgsOf<C extends Channel> = Contract[C]['args'];
export type ResultOf<C extends Channel> = Contract[C]['result'];

/** The engine API as the renderer sees it: one async method per channel, always answering a Result. */
export type QzsApi = { [C in Channel]: (...a: ArgsOf<C>) => Promise<Result<ResultOf<C>>> };

const sid = isSessionId;
const FILE_LIMIT = Number.MAX_SAFE_INTEGER;
const U32 = 0xffff_ffff;
const page = { start: nonNegInt(U32 * 64), count: positiveInt(MAX_PAGE_ROWS) };

const headerEdit = union({
  field: shape({ kind: literal('field'), name: shortString(64), value: shortString(64) }),
  'feature-bit': shape({ kind: literal('feature-bit'), mask: oneOf(['incompatible', 'compatible', 'autoclear'] as const), bit: nonNegInt(63), set: isBoolean }),
});

export const GUARDS: { [C in Channel]: Guard } = {
  'app:info': args(),
  'session:openDialog': args(),
  'session:openRecent': args(nonNegInt(99)),
  'session:close': args(sid),
  'image:summary': args(sid),
  'image:read': args(sid, nonNegInt(FILE_LIMIT), nonNegInt(MAX_READ_BYTES)),
  'zones:report': args(sid),
  'zones:op': args(sid, shape({ op: oneOf(['open', 'close', 'finish', 'reset', 'reset-all'] as const), zone: nonNegInt(0xffff_ffff) })),
  'zones:clusters': args(sid, nonNegInt(0xffff_ffff)),
  'zones:write': args(sid, shape({ op: oneOf(['append', 'write'] as const), zone: nonNegInt(U32), length: positiveInt(MAX_ZONE_WRITE_BYTES) })),
  'check:run': args(sid, isJobId),
  'job:cancel': args(isJobId),
  'tables:l1': args(sid, shape({ snapshot: nonNegInt(65535), ...page }, ['snapshot'])),
  'tables:l2': args(sid, shape({ snapshot: nonNegInt(65535), l1Index: nonNegInt(U32), ...page }, ['snapshot'])),
  'tables:refcounts': args(sid, shape(page)),
  'tables:refblock': args(sid, shape({ tableIndex: nonNegInt(U32), ...page })),
  'tables:snapshots': args(sid, shape(page)),
  'check:planRepair': args(sid, shape({ mode: oneOf(['leaks', 'all'] as const) })),
  'check:repair': args(sid, shape({ mode: oneOf(['leaks', 'all'] as const) })),
  'edit:enable': args(sid, isBoolean),
  'edit:preview': args(sid, headerEdit),
  'edit:apply': args(sid, headerEdit),
  'edit:undo': args(sid),
  'edit:history': args(sid),
  'create:target': args(),
  'create:run': args(shape({ fileName: isSafeFileName, options: record(/^[a-z][a-z0-9_.]{0,40}$/, shortString(200)), zonedLayout: oneOf(ZONED_WRITE_LAYOUTS) }, ['zonedLayout']), isJobId),
  'session:openDropped': args(shortString(4096)),
  'app:openDocs': args(docsUrlProblem),
  'files:list': args(relPathProblem),
  'session:openListed': args(relPathProblem),
  'diff:run': args(sid, shape({ other: sid, snapshotA: nullable(shortString(256)), snapshotB: nullable(shortString(256)) }, ['snapshotA', 'snapshotB']), isJobId),
  'layout:run': args(sid, isJobId),
  'zones:export': args(sid, oneOf(ZONE_REPORT_FORMATS)),
};

export const CHANNELS = Object.keys(GUARDS) as Channel[];

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(GUARDS, name);
}

/**
 * Channels that only make sense in Electron (native dialog, recent list, a dropped file's path that the
 * preload obtained from webUtils.getPathForFile); the HTTP transport refuses them.
 */
export const ELECTRON_ONLY: ReadonlySet<Channel> = new Set<Channel>(['session:openDialog', 'session:openRecent', 'session:openDropped', 'zones:export']);

/**
 * Channels that run as jobs: which argument carries the job id. Their progress reaches the renderer as
 * JobProgress events (Electron: PROGRESS_EVENT; HTTP: lines of the streamed answer), and job:cancel with
 * that id aborts the work in the engine.
 */
export const JOB_ARG: Partial<Record<Channel, number>> = { 'check:run': 1, 'create:run': 1, 'diff:run': 2, 'layout:run': 1 };

/** The Result error of a job stopped by job:cancel (or by its caller going away). */
export function cancelledError(what: string): AppError {
  return { code: 'internal', message: `${what} cancelled: stopped before it finished`, details: { cancelled: true } };
}

export function isCancelled(e: AppError): boolean {
  return e.details?.cancelled === true;
}
