// Under `qzs serve --open-dir DIR`: the toolbar's Open… and Ctrl+O show the folder the server offers, and
// any image under it opens without restarting the server. Paths go to the server relative to DIR; it
// resolves them and refuses anything outside (electron/app/open-dir.ts), so this dialog only navigates.
import { useCallback, useEffect, useState } from 'react';
import { createPortal } from 'react-dom';
import type { DirEntry, DirListing } from '../../shared/contract/browse';
import type { AppError } from '../../shared/qcow2/findings';
import { api, inElectron } from '../api';
import { ErrorMessage } from '../components/common';
import { human } from '../format';
import { useStore } from '../store';

const join = (dir: string, name: string): string => (dir ? `${dir}/${name}` : name);
const parent = (dir: string): string => dir.split('/').slice(0, -1).join('/');

/** The toolbar button (shown only when the server was started with --open-dir) and its dialog. */
export function OpenDirButton() {
  const [open, setOpen] = useState(false);
  useEffect(() => {
    // Electron's menu owns Ctrl+O there; in the browser this is the open command.
    if (inElectron) return;
    const onKey = (e: KeyboardEvent): void => {
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key === 'o') { e.preventDefault(); setOpen(true); }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <>
      <button onClick={() => setOpen(true)} title="Open an image from the folder qzs serve offers (Ctrl+O)" data-testid="open-dir-button">Open…</button>
      {/* On document.body: above the views whatever the toolbar's stacking. */}
      {open && createPortal(<OpenDirDialog onClose={() => setOpen(false)} />, document.body)}
    </>
  );
}

export function OpenDirDialog({ onClose }: { onClose(): void }) {
  const [dir, setDir] = useState('');
  const [listing, setListing] = useState<DirListing | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    setListing(null);
    setChosen(null);
    void api['files:list'](dir).then((r) => {
      if (!live) return;
      if (r.ok) { setListing(r.value); setError(null); } else setError(r.error);
    });
    return () => { live = false; };
  }, [dir]);

  const openFile = useCallback(async (rel: string): Promise<void> => {
    setBusy(true);
    const r = await api['session:openListed'](rel);
    setBusy(false);
    if (!r.ok) { setError(r.error); return; }
    onClose();
    await useStore.getState().openSession(r.value);
  }, [onClose]);

  const activate = (e: DirEntry): void => {
    if (e.kind === 'dir') setDir(join(dir, e.name));
    else void openFile(join(dir, e.name));
  };

  const crumbs = dir ? dir.split('/') : [];
  const entries = listing?.entries ?? [];
  return (
    <div className="modal" role="dialog" aria-modal="true" aria-label="Open an image" onKeyDown={(e) => { if (e.key === 'Escape') onClose(); }}>
      <div className="modal-box open-dir" data-testid="open-dir-dialog">
        <h2>Open an image</h2>
        <nav className="open-dir-path" aria-label="folder">
          <button className="link" onClick={() => setDir('')}>{listing?.rootName ?? 'open folder'}</button>
          {crumbs.map((c, i) => (
            <span key={i}> / <button className="link" onClick={() => setDir(crumbs.slice(0, i + 1).join('/'))}>{c}</button></span>
          ))}
        </nav>
        {error && <ErrorMessage error={error} onClose={() => setError(null)} />}
        <div className="open-dir-list">
          <table className="grid compact" aria-label="folder contents">
            <thead><tr><th>Name</th><th className="num">Size</th><th>Kind</th></tr></thead>
            <tbody>
              {dir && (
                <tr className="open-dir-row" onClick={() => setDir(parent(dir))} data-testid="open-dir-up">
                  <td colSpan={3}>↑ ..</td>
                </tr>
              )}
              {entries.map((e) => {
                const rel = join(dir, e.name);
                return (
                  <tr key={e.name} tabIndex={0} aria-selected={chosen === rel}
                    className={'open-dir-row' + (chosen === rel ? ' selected' : '') + (e.kind === 'file' && !e.qcow2 ? ' absent' : '')}
                    onClick={() => (e.kind === 'dir' ? activate(e) : setChosen(rel))} onDoubleClick={() => activate(e)}
                    onKeyDown={(k) => { if (k.key === 'Enter') activate(e); }}>
                    <td>{e.name}{e.kind === 'dir' ? '/' : ''}</td>
                    <td className="num">{e.kind === 'file' ? human(e.size) : ''}</td>
                    <td>{e.kind === 'dir' ? 'folder' : e.qcow2 ? 'qcow2' : 'other file'}</td>
                  </tr>
                );
              })}
              {listing && entries.length === 0 && <tr><td colSpan={3} className="muted">This folder is empty.</td></tr>}
            </tbody>
          </table>
          {!listing && !error && <p className="muted">Listing…</p>}
          {listing?.truncated && <p className="muted">Only the first {entries.length} entries are shown.</p>}
        </div>
        <div className="open-dir-actions">
          <span className="muted">{chosen ?? 'Choose an image (double-click or Enter opens it)'}</span>
          <span className="spacer" />
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={!chosen || busy} onClick={() => chosen && void openFile(chosen)} autoFocus>Open</button>
        </div>
      </div>
    </div>
  );
}
