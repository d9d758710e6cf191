// Hex view of the whole file, virtualised: only the rows on screen exist, bytes are fetched in 64 KiB pages
// on demand, so a multi-GB image scrolls like a small one. Linked both ways with the decoded structures.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ImageSummary } from '../../shared/contract/dto';
import { api } from '../api';
import { hexPad, parseNumber } from '../format';
import { regionsAt, regionsOf } from '../regions';
import { useStore } from '../store';
import { useElementHeight } from '../components/use-element-height';

const ROW_H = 18;
const PER_ROW = 16;
const PAGE = 65536;
const MAX_PAGES = 64;

export function HexView({ s }: { s: ImageSummary }) {
  const totalRows = Math.max(1, Math.ceil(s.fileSize / PER_ROW));
  const [top, setTop] = useState(0);
  const [pages, setPages] = useState<Map<number, Uint8Array>>(new Map());
  const [goto, setGoto] = useState('');
  const box = useRef<HTMLDivElement>(null);
  const height = useElementHeight(box, 400);
  const loading = useRef(new Set<number>());
  const hexTarget = useStore((st) => st.hexTarget);
  const selection = useStore((st) => st.selection);
  const select = useStore((st) => st.select);
  const dataVersion = useStore((st) => st.dataVersion);
  const regions = useMemo(() => regionsOf(s), [s]);
  const rows = Math.max(1, Math.floor(height / ROW_H) - 1);
  const maxTop = Math.max(0, totalRows - rows);

  useEffect(() => { setPages(new Map()); loading.current.clear(); }, [dataVersion, s.session.id]);
  useEffect(() => {
    if (hexTarget) setTop(Math.min(maxTop, Math.max(0, Math.floor(hexTarget.offset / PER_ROW) - 2)));
  }, [hexTarget, maxTop]);

  // Fetch the pages the visible rows need.
  useEffect(() => {
    const first = Math.floor((top * PER_ROW) / PAGE);
    const last = Math.floor(Math.min(s.fileSize - 1, (top + rows) * PER_ROW) / PAGE);
    for (let p = first; p <= last; p++) {
      if (pages.has(p) || loading.current.has(p)) continue;
      loading.current.add(p);
      void api['image:read'](s.session.id, p * PAGE, PAGE).then((r) => {
        loading.current.delete(p);
        if (!r.ok) return;
        setPages((old) => {
          const next = new Map(old);
          next.set(p, r.value);
          while (next.size > MAX_PAGES) next.delete(next.keys().next().value as number);
          return next;
        });
      });
    }
  }, [top, rows, pages, s.fileSize, s.session.id]);

  const byteAt = useCallback((off: number): number | null => {
    const page = pages.get(Math.floor(off / PAGE));
    if (!page) return null;
    const i = off % PAGE;
    return i < page.length ? page[i] : null;
  }, [pages]);

  const hl = selection?.kind === 'field' ? { offset: selection.offset, length: selection.size }
    : selection?.kind === 'finding' ? { offset: selection.finding.offset, length: Math.max(1, selection.finding.length) }
    : selection?.kind === 'bytes' ? selection
    : selection?.kind === 'entry' ? { offset: selection.offset, length: selection.size } : hexTarget;
  const inHl = (off: number): boolean => !!hl && off >= hl.offset && off < hl.offset + hl.length;
  const move = (rowsBy: number): void => setTop((t) => Math.min(maxTop, Math.max(0, t + rowsBy)));

  const onKey = (e: React.KeyboardEvent): void => {
    const step: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: rows, PageUp: -rows };
    if (e.key in step) { move(step[e.key]); e.preventDefault(); }
    else if (e.key === 'Home') { setTop(0); e.preventDefault(); }
    else if (e.key === 'End') { setTop(maxTop); e.preventDefault(); }
  };
  const jump = (): void => {
    const off = parseNumber(goto);
    if (Number.isFinite(off) && off >= 0 && off < s.fileSize) {
      setTop(Math.min(maxTop, Math.floor(off / PER_ROW)));
      select({ kind: 'bytes', offset: off, length: 1 });
    }
  };

  const lines = [];
  for (let r = 0; r < rows && top + r < totalRows; r++) {
    const base = (top + r) * PER_ROW;
    const cells = [];
    const chars = [];
    for (let k = 0; k < PER_ROW; k++) {
      const off = base + k;
      if (off >= s.fileSize) break;
      const b = byteAt(off);
      const cls = (inHl(off) ? 'hl ' : '') + (b === 0 ? 'zero' : '');
      cells.push(<span key={k} className={`b ${cls}`} data-off={off} onClick={(e) => select({ kind: 'bytes', offset: e.shiftKey && selection?.kind === 'bytes' ? Math.min(selection.offset, off) : off, length: e.shiftKey && selection?.kind === 'bytes' ? Math.abs(off - selection.offset) + 1 : 1 })}>{b === null ? '··' : hexPad(b, 2)}</span>);
      chars.push(<span key={k} className={inHl(off) ? 'hl' : ''}>{b === null ? ' ' : b >= 32 && b < 127 ? String.fromCharCode(b) : '.'}</span>);
    }
    lines.push(
      <div className="hex-row" key={base} style={{ height: ROW_H }}>
        <span className="addr">{hexPad(base, 10)}</span>
        <span className="bytes">{cells}</span>
        <span className="ascii">{chars}</span>
      </div>,
    );
  }
  const named = hl ? regionsAt(regions, hl.offset) : [];

  return (
    <section className="view hex" aria-label="Hex view">
      <div className="hex-toolbar">
        <label>Go to offset <input aria-label="go to offset" value={goto} placeholder="0x10000 or 64K" onChange={(e) => setGoto(e.target.value)} onKeyDown={(e) => { if (e.key === 'Enter') jump(); }} /></label>
        <button onClick={jump}>Go</button>
        <span className="muted" data-testid="hex-position">rows {hexPad(top * PER_ROW, 8)}–{hexPad(Math.min(s.fileSize, (top + rows) * PER_ROW), 8)} of {s.fileSize} bytes</span>
        {hl && <span data-testid="hex-selection">selected 0x{hl.offset.toString(16)} ({hl.length} byte{hl.length === 1 ? '' : 's'}){named.length > 0 ? ': ' + named.map((n) => n.name).join(', ') : ''}</span>}
      </div>
      {s.fileSize === 0 && <p className="note" data-testid="hex-empty">The file is empty (0 bytes).</p>}
      <div className="hex-body">
        <div className="hex-rows" ref={box} tabIndex={0} onKeyDown={onKey} onWheel={(e) => move(Math.sign(e.deltaY) * Math.max(1, Math.round(Math.abs(e.deltaY) / ROW_H)))} data-testid="hex-rows">
          {lines}
        </div>
        <input className="hex-scroll" type="range" aria-label="position in file" min={0} max={maxTop} value={top}
          onChange={(e) => setTop(Number(e.target.value))} />
      </div>
    </section>
  );
}
