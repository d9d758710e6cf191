// Layout: the file drawn as a canvas of clusters, by owner. A summary bar and a legend that filters, the
// map, and beside it the selected cluster (its owner, the table entry that references it, its bytes, the
// check findings about it) and a breakdown by kind. Built by layout:run, the check's own walk.
import { lazy, Suspense, useEffect } from 'react';
import type { ImageSummary, LayoutKind, LayoutResult, LayoutRun } from '../../shared/contract/dto';
import type { Finding } from '../../shared/qcow2/findings';
import { findingsOfRun, LAYOUT_KIND_NAMES, runAt } from '../../shared/qcow2/layout-runs';
import { human } from '../format';
import { clusterOwner, LayoutMap } from '../layout-map/layout-map';
import { KIND_ORDER, KIND_STYLE } from '../layout-map/palette';
import { useStore, type TablesNav } from '../store';
import { currentKey, useLayout } from './layout-store';

// recharts (and d3, redux, immer under it) is half of the app's script: loaded with the chart, not with the app (issue 14).
const KindChart = lazy(() => import('./layout-charts').then((m) => ({ default: m.KindChart })));

function hex(n: number): string {
  return '0x' + n.toString(16);
}

function headerNumber(s: ImageSummary, name: string): number {
  return Number(s.headerFields.find((f) => f.name === name)?.value ?? 0);
}

/** Where the Tables view shows the entry that references cluster k of `run`, or null. */
export function tableEntryOf(s: ImageSummary, l: LayoutResult, run: LayoutRun, k: number): Partial<TablesNav> | null {
  const cs = l.clusterSize;
  if (run.kind === 'data' && run.guest !== undefined && run.snapshot === undefined && l.l2Entries > 0) {
    const g = (run.guest + (k - run.start) * cs) / cs;
    return { tab: 'l1', snapshot: null, l1Index: Math.floor(g / l.l2Entries), l2Index: g % l.l2Entries };
  }
  if (run.kind === 'l2' && run.pointer !== undefined) return { tab: 'l1', snapshot: null, l1Index: (run.pointer - headerNumber(s, 'l1_table_offset')) / 8, l2Index: null };
  if (run.kind === 'refcount-block' && run.pointer !== undefined) return { tab: 'refcounts', refIndex: (run.pointer - headerNumber(s, 'refcount_table_offset')) / 8, blockIndex: null };
  if (run.kind === 'l1') return { tab: 'l1', snapshot: null, l1Index: null, l2Index: null };
  if (run.kind === 'snapshot-table' || run.kind === 'snapshot-l1' || run.kind === 'snapshot-l2') return { tab: 'snapshots' };
  return null;
}

/** The refcount table and block entries that count cluster k. */
export function refcountEntryOf(l: LayoutResult, k: number): Partial<TablesNav> {
  const per = (l.clusterSize * 8) / 2 ** l.refcountOrder;
  return { tab: 'refcounts', refIndex: Math.floor(k / per), blockIndex: k % per };
}

export function LayoutView({ s }: { s: ImageSummary }) {
  const { layout, key, selected, focusSeq, hidden, build, select, toggle } = useLayout();
  const current = useStore((st) => st.current);
  const dataVersion = useStore((st) => st.dataVersion);
  const busy = useStore((st) => st.busy);
  const cancelled = useStore((st) => st.cancelled);
  const fresh = layout !== null && key === `${current}:${dataVersion}`;
  useEffect(() => {
    // Build on first visit (and after the image changed); a cancelled build waits for the button.
    if (!fresh && !useStore.getState().busy && cancelled !== 'mapping the file' && currentKey()) void build();
  }, [fresh, current, dataVersion]);
  if (!fresh || !layout) {
    return (
      <section className="view" aria-label="Layout">
        <h2>Layout</h2>
        <p className="note">{busy ? 'Walking every table of the image to classify each cluster…' : cancelled === 'mapping the file' ? 'The map was cancelled before it finished.' : 'No map yet.'}</p>
        {!busy && <button className="primary" onClick={() => void build()}>Map the file</button>}
      </section>
    );
  }
  const run = selected >= 0 ? runAt(layout.runs, selected) : null;
  return (
    <section className="view layout-view" aria-label="Layout">
      <div className="zones-head">
        <h2>Layout <span className="muted">{layout.clusters} clusters of {human(layout.clusterSize)} · {layout.runs.length} runs · {human(layout.fileSize)}</span></h2>
        <button onClick={() => void build()} title="walk the image again">Map again</button>
      </div>
      {!layout.check.complete && <p className="note" data-testid="layout-incomplete">The walk could not follow every table: clusters it could not prove unreferenced are shown as unknown, not leaked (see Check).</p>}
      <SummaryBar layout={layout} />
      <div className="legend" role="group" aria-label="legend and filter">
        {KIND_ORDER.filter((k) => layout.totals[k].clusters > 0).map((k) => (
          <button key={k} className={'legend-item' + (hidden.has(k) ? ' off' : '') + (k === 'conflict' ? ' legend-conflict' : '')} aria-pressed={!hidden.has(k)} data-kind={k}
            onClick={() => toggle(k)} title={`${hidden.has(k) ? 'show' : 'hide'} ${LAYOUT_KIND_NAMES[k]}`}>
            <span className="swatch" style={{ background: KIND_STYLE[k].color }} />{KIND_STYLE[k].label} <span className="muted">{layout.totals[k].clusters}</span>
          </button>
        ))}
      </div>
      <div className="layout-body">
        <LayoutMap layout={layout} hidden={hidden} selected={selected} focusSeq={focusSeq} onSelect={(k) => select(k)} />
        <aside className="layout-side">
          {run ? <ClusterDetail s={s} layout={layout} run={run} k={selected} /> : <p className="muted" data-testid="layout-hint">Hover a cell to name it; click one to see its owner, its table entry, its bytes and the findings about it.</p>}
          <Suspense fallback={<div className="chart" />}><KindChart layout={layout} /></Suspense>
        </aside>
      </div>
    </section>
  );
}

function SummaryBar({ layout }: { layout: LayoutResult }) {
  const present = KIND_ORDER.filter((k) => layout.totals[k].clusters > 0);
  const t = layout.totals;
  return (
    <div className="layout-summary" data-testid="layout-summary">
      <div className="layout-bar" aria-hidden="true">
        {present.map((k) => (
          <div key={k} style={{ flexGrow: t[k].clusters, flexBasis: 0, minWidth: k === 'conflict' || k === 'leaked' ? 6 : 2, background: KIND_STYLE[k].color }}
            title={`${KIND_STYLE[k].label}: ${t[k].clusters} clusters (${((100 * t[k].clusters) / Math.max(1, layout.clusters)).toFixed(2)} %)`} />
        ))}
      </div>
      <div className="small">
        data {human((t.data.clusters + t.compressed.clusters) * layout.clusterSize)} · metadata {human(metadataClusters(layout) * layout.clusterSize)} · free {t.free.clusters}
        {' · '}<span className={t.leaked.clusters ? 'warn-text' : ''} data-testid="layout-leaked">leaked {t.leaked.clusters}</span>
        {' · '}<span className={t.conflict.clusters ? 'conflict-text' : ''} data-testid="layout-conflicts">conflicts {t.conflict.clusters}</span>
      </div>
    </div>
  );
}

function metadataClusters(l: LayoutResult): number {
  let n = 0;
  for (const k of Object.keys(l.totals) as LayoutKind[]) if (!['data', 'compressed', 'free', 'leaked', 'conflict', 'unknown'].includes(k)) n += l.totals[k].clusters;
  return n;
}

function ClusterDetail({ s, layout, run, k }: { s: ImageSummary; layout: LayoutResult; run: LayoutRun; k: number }) {
  const showBytes = useStore((st) => st.showBytes);
  const setTables = useStore((st) => st.setTables);
  const setView = useStore((st) => st.setView);
  const selectMain = useStore((st) => st.select);
  const check = useStore((st) => st.check);
  const cs = layout.clusterSize;
  const findings = findingsOfRun(layout, run, check?.findings ?? layout.findings);
  const entry = tableEntryOf(s, layout, run, k);
  const openTables = (nav: Partial<TablesNav>): void => { setTables(nav); setView('tables'); };
  // A finding selected earlier would keep the hex view on its bytes: these bytes become the selection.
  const bytes = (offset: number, length: number): void => { selectMain(null); showBytes(offset, length); };
  const openFinding = (f: Finding): void => { selectMain({ kind: 'finding', finding: f }); setView('check'); };
  const guest = run.guest !== undefined && run.kind === 'data' ? run.guest + (k - run.start) * cs : run.guest;
  return (
    <div className={`cluster-detail kind-${run.kind}`} data-testid="cluster-detail" data-kind={run.kind} data-cluster={k}>
      <h3><span className="swatch" style={{ background: KIND_STYLE[run.kind].color }} /> cluster {k} · {KIND_STYLE[run.kind].label}</h3>
      <p className="cluster-owner" data-testid="cluster-owner">{clusterOwner(run, k, cs)}</p>
      <dl className="facts">
        <dt>host offset</dt><dd>{hex(k * cs)}</dd>
        <dt>run</dt><dd>clusters {run.start}–{run.start + run.clusters - 1} ({run.clusters})</dd>
        {guest !== undefined && <><dt>guest offset</dt><dd>{hex(guest)}</dd></>}
        {run.zone !== undefined && <><dt>zone</dt><dd>{run.zone}</dd></>}
        {run.snapshot && <><dt>snapshot</dt><dd>{run.snapshot}</dd></>}
        {run.bytes && <><dt>compressed bytes</dt><dd>{hex(run.bytes[0])}–{hex(run.bytes[1])}</dd></>}
        {run.refcount && <><dt>refcount</dt><dd>{run.refcount.stored} stored, {run.refcount.references} reference(s)</dd></>}
        {run.pointer !== undefined && <><dt>referenced at</dt><dd>{hex(run.pointer)}</dd></>}
        <dt>meaning</dt><dd>{LAYOUT_KIND_NAMES[run.kind]}</dd>
      </dl>
      <div className="actions">
        {entry && <button onClick={() => openTables(entry)} data-testid="open-table-entry">Table entry</button>}
        <button onClick={() => bytes(k * cs, Math.max(1, Math.min(cs, layout.fileSize - k * cs)))} data-testid="open-cluster-bytes">Bytes</button>
        {run.pointer !== undefined && <button onClick={() => bytes(run.pointer!, 8)} data-testid="open-pointer-bytes">Pointer bytes</button>}
        <button onClick={() => openTables(refcountEntryOf(layout, k))} data-testid="open-refcount-entry">Refcount entry</button>
      </div>
      {findings.length > 0 && (
        <div className="cluster-findings">
          <h4>Findings about it ({findings.length})</h4>
          <ul>
            {findings.slice(0, 12).map((f, i) => (
              <li key={f.id + i}>
                <button className="link" onClick={() => openFinding(f)} data-testid="cluster-finding" data-finding={f.id}>
                  <span className={`sev ${f.severity}`}>{f.severity}</span> {f.message}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
