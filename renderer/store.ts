// One zustand store: the open image, its zone report, what is selected, what is running. Actions live
// beside the state they change; views read slices through selectors.
import { create } from 'zustand';
import type { AppInfo, CheckResult, EditRecord, ImageSummary, SessionInfo, ZoneReport, ZoneWriteResult } from '../shared/contract/dto';
import type { AppError, Finding } from '../shared/qcow2/findings';
import type { Result } from '../shared/contract/result';
import { api, newJobId, onProgress } from './api';
import { isCancelled, type QzsApi } from '../shared/contract/channels';
import { errorSentence, viewOffReason } from './gate';
import type { SizeUnit } from './units';

export type ViewName = 'overview' | 'header' | 'extensions' | 'features' | 'zones' | 'tables' | 'check' | 'hex' | 'create' | 'compare' | 'layout';

export type Selection =
  | { kind: 'field'; name: string; offset: number; size: number; label: string }
  | { kind: 'zone'; index: number }
  | { kind: 'finding'; finding: Finding }
  | { kind: 'bytes'; offset: number; length: number }
  /** A table entry (Tables view): where it sits in the file, what it decodes to, where its data is. */
  | { kind: 'entry'; title: string; offset: number; size: number; facts: [label: string, value: string][]; data: { offset: number; length: number } | null };

export interface Busy {
  label: string;
  /** Determinate progress once the engine reports it (phase, done of total). */
  progress: { phase: string; done: number; total: number } | null;
  cancel?: () => void;
  /** Cancel was asked; waiting for the engine to confirm it stopped. */
  cancelling: boolean;
}

/** Where the Tables view is (kept while other views are shown, reset with the image). */
export interface TablesNav {
  tab: 'l1' | 'refcounts' | 'snapshots';
  /** Snapshot whose L1 table is shown, null for the active one. */
  snapshot: number | null;
  l1Index: number | null;
  l2Index: number | null;
  refIndex: number | null;
  blockIndex: number | null;
}

export const TABLES_START: TablesNav = { tab: 'l1', snapshot: null, l1Index: null, l2Index: null, refIndex: null, blockIndex: null };

export interface AppState {
  info: AppInfo | null;
  sessions: SessionInfo[];
  current: string | null;
  summary: ImageSummary | null;
  zones: ZoneReport | null;
  zonesError: AppError | null;
  check: CheckResult | null;
  edits: EditRecord[];
  view: ViewName;
  selection: Selection | null;
  /** Where the hex view should show (set by "jump to bytes"). */
  hexTarget: { offset: number; length: number; seq: number } | null;
  error: AppError | null;
  busy: Busy | null;
  status: string;
  dataVersion: number;
  tables: TablesNav;
  setTables(t: Partial<TablesNav>): void;
  /** What the last zone operation did, or why it was refused, for the zone it concerned. */
  zoneOutcome: { zone: number; error?: AppError; write?: ZoneWriteResult; text?: string } | null;
  /** The last long call stopped by Cancel (what it was), until the next one starts. */
  cancelled: string | null;
  /** What the zone inspector's length box holds (as typed): kept here so it survives the inspector re-rendering. */
  zoneWriteLength: string;
  setZoneWriteLength(text: string): void;
  /** The unit of zone sizes and offsets everywhere they show (zone table, map tooltip, inspector). */
  sizeUnit: SizeUnit;
  setSizeUnit(unit: SizeUnit): void;

  boot(): Promise<void>;
  setView(v: ViewName): void;
  select(s: Selection | null): void;
  showBytes(offset: number, length: number): void;
  openSession(s: SessionInfo): Promise<void>;
  switchSession(id: string): Promise<void>;
  closeCurrent(): Promise<void>;
  reload(): Promise<void>;
  runCheck(): Promise<void>;
  setEditing(on: boolean): Promise<void>;
  afterWrite(message: string): Promise<void>;
  /**
   * After a zone operation: the new zone report (the one zones:op answered with, else asked for), and
   * views that cache file bytes re-read them.
   */
  afterZoneWrite(message: string, report?: ZoneReport): Promise<void>;
  /** Re-read the session's facts (in use by another program, lock warning, editing) without re-reading views. */
  refreshSession(): Promise<void>;
  fail(e: AppError): void;
  clearError(): void;
  /**
   * Run a long call with a progress bar and a Cancel button. `job` is the id the call passes to a job
   * channel: its progress events fill the bar, and Cancel sends job:cancel with it.
   */
  long<T>(label: string, fn: (a: QzsApi, job: string) => Promise<Result<T>>): Promise<Result<T>>;
}

function unwrap<T>(r: Result<T>, set: (e: AppError) => void): T | null {
  if (r.ok) return r.value;
  set(r.error);
  return null;
}

export const useStore = create<AppState>()((set, get) => ({
  info: null,
  sessions: [],
  current: null,
  summary: null,
  zones: null,
  zonesError: null,
  check: null,
  edits: [],
  view: 'overview',
  selection: null,
  hexTarget: null,
  error: null,
  busy: null,
  status: 'ready',
  dataVersion: 0,
  cancelled: null,
  zoneOutcome: null,
  zoneWriteLength: '4K',
  setZoneWriteLength(zoneWriteLength) { set({ zoneWriteLength }); },
  sizeUnit: 'human',
  setSizeUnit(sizeUnit) { set({ sizeUnit }); },
  tables: TABLES_START,
  setTables(t) { set((st) => ({ tables: { ...st.tables, ...t } })); },

  async boot() {
    const info = unwrap(await api['app:info'](), get().fail);
    if (!info) return;
    set({ info, sessions: info.sessions });
    const first = info.sessions[0];
    if (first) await get().switchSession(first.id);
  },
  setView(view) {
    // A degraded session has no zones, tables, features or extensions to show.
    if (viewOffReason(get().summary, view)) return;
    // The inspector shows what this view selected: another view's selection would be stale there.
    set((st) => (st.view === view ? { view } : { view, selection: null }));
  },
  select(selection) { set({ selection }); },
  showBytes(offset, length) {
    set((s) => {
      const keep = s.selection?.kind === 'finding' || s.selection?.kind === 'field' || (s.selection?.kind === 'entry' && s.selection.offset === offset);
      return { view: 'hex', hexTarget: { offset, length, seq: (s.hexTarget?.seq ?? 0) + 1 }, selection: keep ? s.selection : { kind: 'bytes', offset, length } };
    });
  },
  async openSession(s) {
    set((st) => ({ sessions: st.sessions.some((x) => x.id === s.id) ? st.sessions : [...st.sessions, s] }));
    await get().switchSession(s.id);
  },
  async switchSession(id) {
    set((st) => ({ current: id, summary: null, zones: null, zonesError: null, check: null, selection: null, hexTarget: null, status: 'opening…', zoneOutcome: st.current === id ? st.zoneOutcome : null, tables: st.current === id ? st.tables : TABLES_START }));
    const summary = unwrap(await api['image:summary'](id), get().fail);
    if (!summary || get().current !== id) return;
    set((st) => ({
      summary, sessions: st.sessions.map((x) => (x.id === id ? summary.session : x)), dataVersion: st.dataVersion + 1,
      status: summary.degraded ? `opened ${summary.session.name}: it cannot be read as qcow2 (${errorSentence(summary.degraded)})` : `opened ${summary.session.name}`,
      // The views a degraded session lacks fall back to its overview.
      view: viewOffReason(summary, st.view) ? 'overview' : st.view,
    }));
    // The zone report (the big one) is asked for at once, not after the edit history (issue 14).
    const zonesAsked = summary.zoned ? api['zones:report'](id) : null;
    const edits = await api['edit:history'](id);
    if (edits.ok) set({ edits: edits.value });
    if (zonesAsked) {
      const z = await zonesAsked;
      if (get().current !== id) return;
      if (z.ok) set({ zones: z.value, zonesError: null });
      else set({ zonesError: z.error });
    }
  },
  async closeCurrent() {
    const id = get().current;
    if (!id) return;
    await api['session:close'](id);
    const rest = get().sessions.filter((s) => s.id !== id);
    set({ sessions: rest, current: null, summary: null, zones: null, check: null, selection: null, view: 'overview', status: 'closed' });
    if (rest[0]) await get().switchSession(rest[0].id);
  },
  async reload() {
    const id = get().current;
    if (id) await get().switchSession(id);
  },
  async runCheck() {
    const id = get().current;
    if (!id) return;
    set((st) => (st.view === 'check' ? {} : { view: 'check', selection: null }));
    // An image that cannot be decoded has nothing to walk: the Check view shows its findings from opening.
    if (get().summary?.degraded) return;
    const r = await get().long('checking the image', (a, job) => a['check:run'](id, job));
    if (r.ok) set({ check: r.value, status: `check: ${r.value.findings.length} finding(s)` });
  },
  async setEditing(on) {
    const id = get().current;
    if (!id) return;
    const r = await api['edit:enable'](id, on);
    const s = unwrap(r, get().fail);
    if (!s) return;
    set((st) => ({ sessions: st.sessions.map((x) => (x.id === id ? s : x)), summary: st.summary ? { ...st.summary, session: s } : null, status: on ? 'editing on: changes are written with a backup' : 'editing off: read-only' }));
  },
  async afterWrite(message) {
    const id = get().current;
    if (!id) return;
    const keepView = get().view;
    const selection = get().selection;
    await get().switchSession(id);
    set({ view: keepView, selection, status: message });
  },
  async afterZoneWrite(message, report) {
    const id = get().current;
    if (!id) return;
    if (report) {
      set((st) => ({ zones: report, zonesError: null, dataVersion: st.dataVersion + 1, status: message }));
      return;
    }
    const z = await api['zones:report'](id);
    if (get().current !== id) return;
    if (z.ok) set((st) => ({ zones: z.value, zonesError: null, dataVersion: st.dataVersion + 1, status: message }));
    else set({ zonesError: z.error, status: message });
  },
  async refreshSession() {
    const id = get().current;
    if (!id) return;
    const r = await api['image:summary'](id);
    if (!r.ok || get().current !== id) return;
    const session = r.value.session;
    set((st) => ({ sessions: st.sessions.map((x) => (x.id === id ? session : x)), summary: st.summary ? { ...st.summary, session } : null }));
  },
  fail(error) {
    set({ error, status: error.file ? `${error.file.split('/').pop()}: ${errorSentence(error)}` : error.message });
    // Another program holds the image (QEMU): show who, in the in-use banner.
    if (error.code === 'locked') void get().refreshSession();
  },
  clearError() { set({ error: null }); },
  async long(label, fn) {
    const job = newJobId();
    const cancel = (): void => {
      const b = get().busy;
      if (!b || b.cancelling) return;
      set({ busy: { ...b, cancelling: true }, status: `${label}: cancelling…` });
      void api['job:cancel'](job);
    };
    const off = onProgress((p) => {
      const b = get().busy;
      if (p.job === job && b) set({ busy: { ...b, progress: { phase: p.phase, done: p.done, total: p.total } } });
    });
    set({ busy: { label, progress: null, cancel, cancelling: false }, status: label + '…', cancelled: null });
    try {
      const r = await fn(api, job);
      if (!r.ok && isCancelled(r.error)) set({ status: `${label}: cancelled`, cancelled: label });
      else if (!r.ok) get().fail(r.error);
      return r;
    } finally {
      off();
      set({ busy: null });
    }
  },
}));

/** Reset between component tests (zustand testing guide). */
export const initialState = useStore.getState();
