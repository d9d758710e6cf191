// Every keyboard shortcut of the window, in one list: the overlay (`?`, Help ▸ Keyboard Shortcuts) shows
// it, and the window's key handler and the Electron menu's accelerators are what it describes.
import { useEffect, useRef } from 'react';

export interface Shortcut { keys: string; what: string }
export interface ShortcutGroup { title: string; items: Shortcut[] }

export const SHORTCUTS: readonly ShortcutGroup[] = [
  {
    title: 'Window',
    items: [
      { keys: 'Ctrl+O', what: 'open an image (desktop app; served with --open-dir: the folder\'s list)' },
      { keys: 'Ctrl+N', what: 'create an image (the wizard)' },
      { keys: 'Ctrl+W', what: 'close the image' },
      { keys: 'Ctrl+R', what: 'reload the image from disk' },
      { keys: 'Ctrl+E', what: 'switch editing on or off' },
      { keys: 'Ctrl+Shift+C', what: 'run the full check' },
      { keys: 'Alt+1 … Alt+9, Alt+0', what: 'Overview, Header, Extensions, Feature bits, Zones, Tables, Check, Hex, Compare, Layout' },
      { keys: '?', what: 'this list of shortcuts' },
      { keys: 'F1', what: 'about Qcow2 Zone Studio' },
      { keys: 'Esc', what: 'close a dialog or this list' },
    ],
  },
  {
    title: 'Zone map',
    items: [
      { keys: '← → ↑ ↓', what: 'move the selected zone' },
      { keys: 'g', what: 'go to a zone number or a byte offset (@64M)' },
      { keys: 'n  p', what: 'next, previous zone in the chosen condition (default: the rarest)' },
      { keys: '+  −  0', what: 'zoom in, zoom out, reset the zoom' },
    ],
  },
  {
    title: 'Hex view',
    items: [
      { keys: '↑ ↓  Page Up/Down', what: 'scroll by a row or a screen' },
      { keys: 'Home  End', what: 'start or end of the file' },
      { keys: 'Shift+click', what: 'extend the selection to the byte clicked' },
      { keys: 'Enter (go to box)', what: 'go to an offset (0x10000, 64K)' },
      { keys: 'Enter  Shift+Enter (search box)', what: 'next match, previous match' },
      { keys: '/', what: 'put the cursor in the search box' },
    ],
  },
  {
    title: 'Tables',
    items: [
      { keys: '↑ ↓  Page Up/Down  Home  End', what: 'move the selected entry' },
      { keys: 'Enter', what: 'open the selected snapshot’s L1 table' },
      { keys: 'Enter (go to box)', what: 'go to an entry number, or a guest offset with @' },
    ],
  },
];

export function ShortcutsOverlay({ onClose }: { onClose(): void }) {
  const box = useRef<HTMLButtonElement>(null);
  useEffect(() => { box.current?.focus(); }, []);
  return (
    <div className="modal" role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcuts" onClick={onClose}
      onKeyDown={(e) => { if (e.key === 'Escape' || e.key === '?') { e.preventDefault(); e.stopPropagation(); onClose(); } }}>
      <div className="modal-box shortcuts-box" onClick={(e) => e.stopPropagation()}>
        <div className="shortcuts-head"><h2>Keyboard shortcuts</h2><button ref={box} onClick={onClose}>Close</button></div>
        <div className="shortcut-groups">
          {SHORTCUTS.map((g) => (
            <section key={g.title}>
              <h3>{g.title}</h3>
              <dl className="shortcut-list">
                {g.items.map((s) => <div key={s.keys} className="shortcut"><dt><kbd>{s.keys}</kbd></dt><dd>{s.what}</dd></div>)}
              </dl>
            </section>
          ))}
        </div>
        <p className="muted small">On macOS, Cmd stands for Ctrl.</p>
      </div>
    </div>
  );
}
