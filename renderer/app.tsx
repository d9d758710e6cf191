// The window: toolbar, left navigation with badges, the chosen view, the inspector, the status bar.
import { lazy, Suspense, useEffect, useState } from 'react';
import type { MenuCommand } from '../shared/contract/menu';
import { api, inElectron, onMenu, onSessionOpened, openDropped } from './api';
import { ErrorMessage } from './components/common';
import { ErrorBoundary } from './components/error-boundary';
import { ShortcutsOverlay } from './components/shortcuts';
import { DocsLinks } from './components/docs-links';
import { ThemeSwitch } from './components/theme-switch';
import { human } from './format';
import { EDITING_OFF, errorSentence, notEditableReason, viewOffReason } from './gate';
import { resourceUse } from '../shared/contract/zone-geometry';
import { useStore, type ViewName } from './store';
import { CheckView } from './views/check-view';
import { FeaturesView } from './views/features-view';
import { HeaderView, ExtensionsList } from './views/header-view';
import { HexView } from './views/hex-view';
import { Inspector } from './views/inspector';
import { OpenDirButton } from './views/open-dir-dialog';
import { Overview } from './views/overview';
import { ZonesView } from './views/zones-view';

// Views nobody sees on opening an image load with their first visit: a smaller script to compile before the
// first paint (issue 14). Hex, Check, Header and Features stay in it (small, and tests step through them at once).
const CreateWizard = lazy(() => import('./views/create-wizard').then((m) => ({ default: m.CreateWizard })));
const TablesView = lazy(() => import('./views/tables-view').then((m) => ({ default: m.TablesView })));
const CompareView = lazy(() => import('./views/compare-view').then((m) => ({ default: m.CompareView })));
const LayoutView = lazy(() => import('./views/layout-view').then((m) => ({ default: m.LayoutView })));

/** Alt+key of a section (its `key` in NAV) shows it. */
function goToSection(e: KeyboardEvent): void {
  const n = NAV.find((x) => x.key === e.key);
  if (!n) return;
  e.preventDefault();
  useStore.getState().setView(n.view);
}

const NAV: { view: ViewName; label: string; key: string }[] = [
  { view: 'overview', label: 'Overview', key: '1' },
  { view: 'header', label: 'Header', key: '2' },
  { view: 'extensions', label: 'Extensions', key: '3' },
  { view: 'features', label: 'Feature bits', key: '4' },
  { view: 'zones', label: 'Zones', key: '5' },
  { view: 'tables', label: 'Tables', key: '6' },
  { view: 'check', label: 'Check', key: '7' },
  { view: 'hex', label: 'Hex', key: '8' },
  { view: 'compare', label: 'Compare', key: '9' },
  { view: 'layout', label: 'Layout', key: '0' },
];

function Toolbar({ onCommand }: { onCommand(c: MenuCommand): void }) {
  const summary = useStore((s) => s.summary);
  const sessions = useStore((s) => s.sessions);
  const current = useStore((s) => s.current);
  const info = useStore((s) => s.info);
  const switchSession = useStore((s) => s.switchSession);
  const editing = !!summary?.session.editing;
  const cannotEdit = notEditableReason(summary);
  const degraded = summary?.degraded ?? null;
  return (
    <header className="toolbar" role="toolbar" aria-label="main toolbar">
      {info?.capabilities.openDialog && <button onClick={() => onCommand('open')} title="Open an image (Ctrl+O)">Open</button>}
      {info?.capabilities.openDir && <OpenDirButton />}
      <button onClick={() => onCommand('new-image')} title="Create an image (Ctrl+N)">New image</button>
      <button onClick={() => onCommand('check')} disabled={!summary || !!degraded}
        title={degraded ? 'This file cannot be read as qcow2: there are no tables to check (its findings are in Check)' : 'Check the image (Ctrl+Shift+C)'}>Check</button>
      <button onClick={() => onCommand('toggle-editing')} disabled={!summary || (!!cannotEdit && !editing)} aria-pressed={editing} data-testid="editing-toggle"
        className={editing ? 'editing-on' : ''} title={cannotEdit ?? (editing ? 'Editing is per image; every write makes a backup first (Ctrl+E)' : `${EDITING_OFF}; every write makes a backup first`)}>Editing: {editing ? 'on' : 'off'}</button>
      <span className="spacer" />
      {info?.capabilities.transport === 'http' && <ServedImages />}
      {sessions.length > 1 && (
        <select aria-label="open images" value={current ?? ''} onChange={(e) => void switchSession(e.target.value)}>
          {sessions.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
        </select>
      )}
      {summary && (
        <span className="file-facts" data-testid="file-facts">
          <strong>{summary.session.name}</strong>
          {degraded
            ? <> · <span className="facts-degraded" title={errorSentence(degraded)}>not readable as qcow2</span> · {human(summary.fileSize)} file</>
            : <> · {human(summary.virtualSize)} · v{summary.version}{summary.zoned ? ` · zoned (${summary.zoned.revision})` : ''}</>}
        </span>
      )}
      <ThemeSwitch />
      <button className="help-button" onClick={() => onCommand('shortcuts')} title="Keyboard shortcuts (?)" aria-label="keyboard shortcuts">?</button>
    </header>
  );
}

/** Under the toolbar: another program holds the image for writing, or our writes go without QEMU's locks. */
function SessionBanners() {
  const session = useStore((s) => s.summary?.session ?? null);
  if (!session || (!session.inUse && !session.lockWarning)) return null;
  return (
    <div className="banners">
      {session.inUse && <div className="banner in-use" role="status" data-testid="in-use-banner">{session.inUse}</div>}
      {session.lockWarning && <div className="banner warn" role="status" data-testid="lock-warning-banner"><strong>Warning:</strong> {session.lockWarning}</div>}
    </div>
  );
}

/** Under qzs serve: which images this server offers (the renderer can open nothing else). */
function ServedImages() {
  const sessions = useStore((s) => s.sessions);
  const names = sessions.map((s) => s.name);
  const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ` +${names.length - 3} more` : '');
  return (
    <span className="served" data-testid="served-images" title={`qzs serve offers only these images:\n${names.join('\n')}`}>
      qzs serve · {names.length} image{names.length === 1 ? '' : 's'}{names.length > 0 ? `: ${shown}` : ''}
    </span>
  );
}

function Nav() {
  const view = useStore((s) => s.view);
  const setView = useStore((s) => s.setView);
  const summary = useStore((s) => s.summary);
  const check = useStore((s) => s.check);
  const zones = useStore((s) => s.zones);
  const findings = check?.findings ?? summary?.findings ?? [];
  const problems = findings.filter((f) => f.severity !== 'info').length;
  const errors = findings.some((f) => f.severity === 'error');
  const unknownBits = summary ? [...summary.features.incompatible, ...summary.features.compatible, ...summary.features.autoclear].filter((b) => b.set && (b.unknown || b.dangerous)).length : 0;
  const badge: Partial<Record<ViewName, string>> = {
    check: problems > 0 ? `⚠ ${problems}` : '',
    features: unknownBits > 0 ? `⚠ ${unknownBits}` : '',
    zones: zones ? String(zones.nrZones) : summary?.zoned ? '…' : '',
  };
  return (
    <nav className="nav" aria-label="sections">
      {NAV.map((n) => (
        <button key={n.view} className={view === n.view ? 'active' : ''} aria-current={view === n.view ? 'page' : undefined}
          disabled={!summary || !!viewOffReason(summary, n.view)} onClick={() => setView(n.view)} title={viewOffReason(summary, n.view) ?? `${n.label} (Alt+${n.key})`} data-nav={n.view}>
          {n.label}{badge[n.view] ? <span className={'badge' + (badge[n.view]!.startsWith('⚠') ? (n.view === 'check' && errors ? ' error' : ' warn') : '')}>{badge[n.view]}</span> : null}
        </button>
      ))}
    </nav>
  );
}

function StatusBar() {
  const status = useStore((s) => s.status);
  const busy = useStore((s) => s.busy);
  const zones = useStore((s) => s.zones);
  const use = zones ? resourceUse(zones) : null;
  return (
    <footer className="status" role="status" aria-live="polite">
      {zones && use && <span data-testid="status-zones">zones {zones.nrZones} · open {use.open}/{zones.maxOpenZones || '∞'} · active {use.active}/{zones.maxActiveZones || '∞'}</span>}
      <span className="status-text" data-testid="status-text">{status}</span>
      {busy && <BusyIndicator />}
    </footer>
  );
}

function BusyIndicator() {
  const busy = useStore((s) => s.busy);
  if (!busy) return null;
  const p = busy.progress;
  const pct = p && p.total > 0 ? Math.min(100, Math.floor((p.done / p.total) * 100)) : null;
  return (
    <span className="busy" data-testid="busy">
      {p && p.total > 0
        ? <progress aria-label={busy.label} data-testid="progress" max={p.total} value={p.done} />
        : <progress aria-label={busy.label} data-testid="progress" />}
      {' '}{busy.label}
      {p && <span className="muted" data-testid="progress-text"> · {p.phase} {p.done}/{p.total}{pct !== null ? ` (${pct}%)` : ''}</span>}
      {busy.cancel && <button onClick={busy.cancel} disabled={busy.cancelling} data-testid="cancel-job">{busy.cancelling ? 'Cancelling…' : 'Cancel'}</button>}
    </span>
  );
}

function About({ onClose }: { onClose(): void }) {
  const info = useStore((s) => s.info);
  return (
    <div className="modal" role="dialog" aria-label="About Qcow2 Zone Studio">
      <div className="modal-box">
        <h2>Qcow2 Zone Studio {info?.version}</h2>
        <p>Inspector and editor for qcow2 images, including QEMU's proposed zoned extension.</p>
        <p className="muted">Transport: {info?.capabilities.transport}. Every keyboard shortcut: press ? (or Help ▸ Keyboard Shortcuts).</p>
        <DocsLinks />
        <button onClick={onClose} autoFocus>Close</button>
      </div>
    </div>
  );
}

export function App() {
  const st = useStore();
  const [about, setAbout] = useState(false);
  const [keys, setKeys] = useState(false);
  const s = st.summary;

  const command = async (c: MenuCommand): Promise<void> => {
    const store = useStore.getState();
    switch (c) {
      case 'open': {
        const r = await api['session:openDialog']();
        if (!r.ok) store.fail(r.error);
        else if (r.value) await store.openSession(r.value);
        return;
      }
      case 'new-image': store.setView('create'); return;
      case 'close': await store.closeCurrent(); return;
      case 'reload': await store.reload(); return;
      case 'about': setAbout(true); return;
      case 'shortcuts': setKeys(true); return;
      case 'check': await store.runCheck(); return;
      case 'toggle-editing': {
        const sum = store.summary;
        if (!sum) return;
        const why = notEditableReason(sum);
        if (why && !sum.session.editing) { useStore.setState({ status: why }); return; }
        await store.setEditing(!sum.session.editing);
        return;
      }
    }
  };

  useEffect(() => { void useStore.getState().boot(); }, []);
  useEffect(() => onMenu((c) => void command(c)), []);
  useEffect(() => onSessionOpened((sess) => void useStore.getState().openSession(sess)), []);
  useEffect(() => {
    // Keys no menu accelerator carries, in Electron as in the browser: ? and the sections.
    const onKey = (e: KeyboardEvent): void => {
      const target = e.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA')) return;
      if (e.key === '?' && !e.ctrlKey && !e.metaKey && !e.altKey) { e.preventDefault(); setKeys((k) => !k); return; }
      if (e.key === 'Escape') { setKeys(false); setAbout(false); return; }
      if (inElectron && e.altKey) goToSection(e);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  useEffect(() => {
    // In Electron the menu's accelerators raise these; in the browser this handler does.
    if (inElectron) return;
    const onKey = (e: KeyboardEvent): void => {
      const target = e.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA')) return;
      const mod = e.ctrlKey || e.metaKey;
      const map: Record<string, MenuCommand> = { n: 'new-image', w: 'close', r: 'reload', e: 'toggle-editing' };
      if (mod && !e.shiftKey && map[e.key]) { e.preventDefault(); void command(map[e.key]); return; }
      if (mod && e.shiftKey && e.key.toLowerCase() === 'c') { e.preventDefault(); void command('check'); return; }
      if (e.key === 'F1') { e.preventDefault(); setAbout(true); return; }
      if (e.altKey) goToSection(e);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const onDrop = async (e: React.DragEvent): Promise<void> => {
    e.preventDefault();
    const file = e.dataTransfer.files[0];
    if (!file) return;
    const r = await openDropped(file);
    if (r.ok) await useStore.getState().openSession(r.value);
    else useStore.getState().fail(r.error);
  };

  // A degraded session has no zones, tables, features or extensions: those views fall back to its overview.
  const view = s && viewOffReason(s, st.view) ? 'overview' : st.view;
  let main;
  if (view === 'create') main = <CreateWizard />;
  else if (!s) main = st.info ? (
    <section className="view empty-state">
      <h2>No image open</h2>
      <p>{inElectron ? 'Open an image (Ctrl+O), drop one on the window, or create one.' : st.info.capabilities.openDir ? 'Open an image from the folder qzs serve offers (Open…, Ctrl+O), or create one with New image.' : 'Start qzs serve with image paths to inspect them, or create one with New image.'}</p>
    </section>
  ) : <section className="view"><p className="muted">Loading…</p></section>;
  else if (view === 'overview') main = <Overview s={s} />;
  else if (view === 'header') main = <HeaderView s={s} />;
  else if (view === 'extensions') main = <section className="view" aria-label="Extensions"><h2>Extensions</h2><ExtensionsList s={s} /></section>;
  else if (view === 'features') main = <FeaturesView s={s} />;
  else if (view === 'zones') main = <ZonesView s={s} />;
  else if (view === 'tables') main = <TablesView s={s} />;
  else if (view === 'check') main = <CheckView s={s} />;
  else if (view === 'compare') main = <CompareView s={s} />;
  else if (view === 'layout') main = <LayoutView s={s} />;
  else main = <HexView s={s} />;

  return (
    <div className="app" onDragOver={(e) => e.preventDefault()} onDrop={(e) => void onDrop(e)}>
      <Toolbar onCommand={(c) => void command(c)} />
      <SessionBanners />
      <div className="body">
        <Nav />
        <main className="main">
          {st.error && <ErrorMessage error={st.error} onClose={st.clearError} />}
          <ErrorBoundary label={view} key={`${view}:${st.current ?? ''}`}><Suspense fallback={<section className="view"><p className="muted">Loading…</p></section>}>{main}</Suspense></ErrorBoundary>
          {s && s.session.editing && st.edits.length > 0 && <EditHistory />}
        </main>
        <ErrorBoundary label="inspector"><Inspector s={s} /></ErrorBoundary>
      </div>
      <StatusBar />
      {about && <About onClose={() => setAbout(false)} />}
      {keys && <ShortcutsOverlay onClose={() => setKeys(false)} />}
    </div>
  );
}

function EditHistory() {
  const edits = useStore((s) => s.edits);
  const current = useStore((s) => s.current);
  const afterWrite = useStore((s) => s.afterWrite);
  const undo = async (): Promise<void> => {
    if (!current) return;
    const r = await api['edit:undo'](current);
    if (!r.ok) { useStore.getState().fail(r.error); return; }
    await afterWrite(r.value ? `undone: ${r.value.description}` : 'nothing to undo');
  };
  return (
    <div className="edit-history" data-testid="edit-history">
      <strong>Edits this session</strong>
      <ol>{edits.map((e) => <li key={e.id}>{e.description} <span className="muted">at 0x{e.offset.toString(16)} · backup {e.backupName}</span></li>)}</ol>
      <button onClick={() => void undo()}>Undo last edit</button>
    </div>
  );
}
