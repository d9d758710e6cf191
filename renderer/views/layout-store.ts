// The Layout view's state: the map of the image shown (built once per session and data version, as a job
// with progress), the selected cluster, the kinds the legend hides, and a pending focus from a check
// finding ("on the map"). Kept apart from the main store: only this view and its links use it.
import { create } from 'zustand';
import type { CheckCounts, LayoutKind, LayoutResult } from '../../shared/contract/dto';
import type { Finding } from '../../shared/qcow2/findings';
import { findingCluster } from '../../shared/qcow2/layout-runs';
import { useStore } from '../store';

export interface LayoutState {
  /** Session id and data version the map was built for. */
  key: string | null;
  layout: LayoutResult | null;
  selected: number;
  /** Bumped when `selected` should be brought into view. */
  focusSeq: number;
  hidden: ReadonlySet<LayoutKind>;
  /** A finding to show on the map once it is built. */
  pendingFinding: Finding | null;
  build(): Promise<void>;
  select(k: number, focus?: boolean): void;
  toggle(kind: LayoutKind): void;
  showFinding(f: Finding): void;
}

/** The key of the map the current image needs. */
export function currentKey(): string | null {
  const s = useStore.getState();
  return s.current ? `${s.current}:${s.dataVersion}` : null;
}

export const useLayout = create<LayoutState>()((set, get) => ({
  key: null,
  layout: null,
  selected: -1,
  focusSeq: 0,
  hidden: new Set(),
  pendingFinding: null,
  async build() {
    const main = useStore.getState();
    const id = main.current;
    const key = currentKey();
    if (!id || !key) return;
    const r = await main.long('mapping the file', (a, job) => a['layout:run'](id, job));
    if (!r.ok || currentKey() !== key) return;
    const layout = r.value;
    set({ key, layout, selected: -1 });
    // The map's walk is a full check: its findings are the Check view's too.
    if (!useStore.getState().check) useStore.setState({ check: { findings: layout.findings, complete: layout.check.complete, counts: countsOf(layout.check) } });
    useStore.setState({ status: `layout: ${layout.runs.length} runs over ${layout.clusters} clusters, ${layout.totals.conflict.clusters} conflict(s)` });
    const f = get().pendingFinding;
    if (f) get().showFinding(f);
  },
  select(k, focus = false) {
    set((s) => ({ selected: k, focusSeq: focus ? s.focusSeq + 1 : s.focusSeq }));
  },
  toggle(kind) {
    set((s) => {
      const hidden = new Set(s.hidden);
      if (hidden.has(kind)) hidden.delete(kind);
      else hidden.add(kind);
      return { hidden };
    });
  },
  showFinding(f) {
    const { layout, key } = get();
    useStore.getState().setView('layout');
    if (!layout || key !== currentKey()) {
      set({ pendingFinding: f });
      return;
    }
    const k = findingCluster(layout, f);
    set((s) => ({ pendingFinding: null, selected: k ?? s.selected, focusSeq: k === null ? s.focusSeq : s.focusSeq + 1 }));
  },
}));

/** The check counts of the layout's walk as the Check view takes them (its CheckCounts: no file name or format). */
function countsOf(c: LayoutResult['check']): CheckCounts {
  const counts: Partial<LayoutResult['check']> = { ...c };
  delete counts.filename;
  delete counts.format;
  delete counts.openable;
  delete counts.complete;
  return counts as CheckCounts;
}
