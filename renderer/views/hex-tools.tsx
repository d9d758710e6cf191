// The hex view's panels: the selection decoded as integers (both byte orders), search (hex bytes or text,
// through positional reads, cancellable) and the structure legend.
import { useEffect, useRef, useState } from 'react';
import { MAX_READ_BYTES } from '../../shared/contract/channels';
import { api } from '../api';
import { hexOffset } from '../format';
import { decodeInts, intText } from '../hex-decode';
import { parseNeedle, searchImage, type NeedleMode, type SearchOutcome } from '../hex-search';
import { REGION_KIND_LABEL, type RegionKind } from '../regions';

export function DecodePanel({ session, offset, fileSize, dataVersion }: { session: string; offset: number; fileSize: number; dataVersion: number }) {
  const [bytes, setBytes] = useState<Uint8Array | null>(null);
  useEffect(() => {
    let live = true;
    setBytes(null);
    const n = Math.min(8, fileSize - offset);
    if (n <= 0) return;
    void api['image:read'](session, offset, n).then((r) => { if (live && r.ok) setBytes(r.value); });
    return () => { live = false; };
  }, [session, offset, fileSize, dataVersion]);
  const ints = bytes ? decodeInts(bytes) : [];
  return (
    <table className="grid compact decode" data-testid="hex-decode" aria-label={`bytes at ${hexOffset(offset)} as integers`}>
      <thead><tr><th>at {hexOffset(offset)}</th><th>little-endian</th><th>big-endian</th></tr></thead>
      <tbody>
        {ints.map((d) => (
          <tr key={d.type} data-type={d.type}>
            <th scope="row">{d.type}</th><td className="num" data-order="le">{intText(d.le)}</td><td className="num" data-order="be">{intText(d.be)}</td>
          </tr>
        ))}
        {!bytes && <tr><td colSpan={3} className="muted">reading…</td></tr>}
      </tbody>
    </table>
  );
}

export interface Found { offset: number; length: number }

/** Search box: Enter finds the next match after the selection, Shift+Enter the previous one. */
export function SearchBar({ session, fileSize, cursor, onFound, inputRef }: {
  session: string; fileSize: number; cursor: number; onFound(f: Found): void; inputRef: React.RefObject<HTMLInputElement | null>;
}) {
  const [text, setText] = useState('');
  const [mode, setMode] = useState<NeedleMode>('hex');
  const [running, setRunning] = useState<{ done: number } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const stop = useRef(false);
  const run = async (backwards: boolean): Promise<void> => {
    if (running) return;
    const needle = parseNeedle(text, mode);
    if (typeof needle === 'string') { setMessage(needle); return; }
    stop.current = false;
    setRunning({ done: 0 });
    setMessage(null);
    let outcome: SearchOutcome;
    try {
      outcome = await searchImage({
        read: async (off, len) => { const r = await api['image:read'](session, off, len); return r.ok ? r.value : null; },
        size: fileSize, needle, from: backwards ? cursor - 1 : cursor + 1, backwards,
        chunk: MAX_READ_BYTES - needle.length, cancelled: () => stop.current,
        progress: (done) => setRunning({ done }),
      });
    } finally {
      setRunning(null);
    }
    if (outcome.kind === 'found') {
      onFound({ offset: outcome.offset, length: needle.length });
      setMessage(`found at ${hexOffset(outcome.offset)}${outcome.wrapped ? (backwards ? ' (wrapped from the end)' : ' (wrapped from the start)') : ''}`);
    } else if (outcome.kind === 'not-found') setMessage('not found in the file');
    else if (outcome.kind === 'cancelled') setMessage('search stopped');
    else setMessage(`the bytes at ${hexOffset(outcome.offset)} could not be read`);
  };
  return (
    <div className="hex-search" role="search">
      <select aria-label="search for" value={mode} onChange={(e) => setMode(e.target.value as NeedleMode)}>
        <option value="hex">hex bytes</option>
        <option value="text">text</option>
      </select>
      <input ref={inputRef} aria-label="search" value={text} placeholder={mode === 'hex' ? '51 46 49 fb' : 'text to find'} size={16}
        onChange={(e) => { setText(e.target.value); setMessage(null); }}
        onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); void run(e.shiftKey); } if (e.key === 'Escape' && running) stop.current = true; }} />
      <button onClick={() => void run(true)} disabled={!!running} title="previous match (Shift+Enter)" aria-label="previous match">◀</button>
      <button onClick={() => void run(false)} disabled={!!running} title="next match (Enter)" aria-label="next match">▶</button>
      {running && <span className="muted small" data-testid="search-progress"><progress max={fileSize} value={running.done} /> <button onClick={() => { stop.current = true; }}>Stop</button></span>}
      {message && <span className="small" data-testid="search-result">{message}</span>}
    </div>
  );
}

export function RegionLegend({ kinds }: { kinds: readonly RegionKind[] }) {
  return (
    <span className="hex-legend" data-testid="hex-legend">
      {kinds.map((k) => <span key={k} className={`legend-key r-${k}`}>{REGION_KIND_LABEL[k]}</span>)}
    </span>
  );
}
