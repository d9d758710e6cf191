// One zustand store: the open image, its zone report, what is selected, what is running. Actions live
// beside the state they change; views read slices through selectors.
import { create } from 'zustand';
import type { AppInfo, CheckResult, EditRecord, ImageSummary, SessionInfo, ZoneReport } from '../shared/contract/dto';
import type { AppError, Finding } from '../shared/qcow2/findings';
import type { Result } from '../shared/contract/result';
import { api, cancellableApi } from './api';
import type { QzsApi } from '../shared/contract/channels';

export type ViewName = 'overview' | 'header' | 'extensions' | 'features' | 'zones' | 'check' | 'hex' | 'create';

export type Selection =
  | { kind: 'field'; name: string; offset: number; size: number; label: string }
  | { kind: 'zone'; index: number }
  | { kind: 'finding'; finding: Finding }
  | { kind: 'bytes'; offset: number; length: number };

export interface Busy {
  label: string;
  cancel?: () => void;
}

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
  fail(e: AppError): void;
  clearError(): void;
  /** Run a long call with a progress indicator and a Cancel button. */
  long<T>(label: string, fn: (a: QzsApi) => Promise<Result<T>>): Promise<Result<T>>;
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

  async boot() {
    const info = unwrap(await api['app:info'](), get().fail);
    if (!info) return;
    set({ info, sessions: info.sessions });
    const first = info.sessions[0];
    if (first) await get().switchSession(first.id);
  },
  setView(view) { set({ view }); },
  select(selection) { set({ selection }); },
  showBytes(offset, length) {
    set((s) => ({ view: 'hex', hexTarget: { offset, length, seq: (s.hexTarget?.seq ?? 0) + 1 }, selection: s.selection?.kind === 'finding' || s.selection?.kind === 'field' ? s.selection : { kind: 'bytes', offset, length } }));
  },
  async openSession(s) {
    set((st) => ({ sessions: st.sessions.some((x) => x.id === s.id) ? st.sessions : [...st.sessions, s] }));
    await get().switchSession(s.id);
  },
  async switchSession(id) {
    set({ current: id, summary: null, zones: null, zonesError: null, check: null, selection: null, hexTarget: null, status: 'opening…' });
    const summary = unwrap(await api['image:summary'](id), get().fail);
    if (!summary || get().current !== id) return;
    set((st) => ({ summary, sessions: st.sessions.map((x) => (x.id === id ? summary.session : x)), status: `opened ${summary.session.name}`, dataVersion: st.dataVersion + 1 }));
    const edits = await api['edit:history'](id);
    if (edits.ok) set({ edits: edits.value });
    if (summary.zoned) {
      const z = await api['zones:report'](id);
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
    set({ view: 'check' });
    const r = await get().long('checking the image', (a) => a['check:run'](id));
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
  fail(error) { set({ error, status: error.message }); },
  clearError() { set({ error: null }); },
  async long(label, fn) {
    const ctl = new AbortController();
    set({ busy: { label, cancel: () => ctl.abort() }, status: label + '…' });
    try {
      const r = await Promise.race([
        fn(cancellableApi(ctl.signal)),
        new Promise<never>((_, reject) => ctl.signal.addEventListener('abort', () => reject(new Error('cancelled')))),
      ]);
      if (!r.ok) get().fail(r.error);
      return r;
    } catch {
      set({ status: `${label}: cancelled` });
      return { ok: false, error: { code: 'internal', message: 'cancelled' } };
    } finally {
      set({ busy: null });
    }
  },
}));

/** Reset between component tests (zustand testing guide). */
export const initialState = useStore.getState();
