// Hex view of the whole file, virtualised: only the rows on screen exist, bytes are fetched in 64 KiB pages
// on demand, so a multi-GB image scrolls like a small one. Linked both ways with the decoded structures:
// bytes are coloured by the structure they belong to and the selection names its field; a structure
// chosen from the list selects its bytes. Search and the integer decoding read through the contract.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ImageSummary } from '../../shared/contract/dto';
import { api } from '../api';
import { hexOffset, hexPad, parseNumber } from '../format';
import { layoutRegions, regionsIn, REGION_KIND_LABEL, regionsAt, regionsOf, type Region, type RegionKind } from '../regions';
import { currentKey, useLayout } from './layout-store';
import { useStore } from '../store';
import { useElementHeight } from '../components/use-element-height';
import { DecodePanel, RegionLegend, SearchBar } from './hex-tools';

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
  const searchBox = useRef<HTMLInputElement>(null);
  // One row of the box is the column header.
  const rows = Math.max(1, Math.floor(height / ROW_H) - 2);
  // The layout map (when built for this image as it is now) names the clusters the summary cannot size:
  // L2 tables, refcount blocks, the snapshot table, bitmaps, guest data, leaks and conflicts.
  const layoutKey = useLayout((l) => l.key);
  const layout = useLayout((l) => l.layout);
  const mapped = layout && layoutKey === currentKey() ? layout : null;
  const shown = useMemo(() => (mapped ? [...regions, ...layoutRegions(mapped, top * PER_ROW, (rows + 1) * PER_ROW)] : regions), [regions, mapped, top, rows]);
  const kindsPresent = useMemo(() => [...new Set(shown.map((r) => r.kind))], [shown]);
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
    else if (e.key === '/') { searchBox.current?.focus(); e.preventDefault(); }
  };
  const reveal = (off: number): void => {
    const row = Math.floor(off / PER_ROW);
    if (row < top || row >= top + rows) setTop(Math.min(maxTop, Math.max(0, row - 2)));
  };
  /** Field → bytes: a structure chosen by name selects its bytes (a header field as the field itself). */
  const pickRegion = (r: Region): void => {
    if (r.field) select({ kind: 'field', name: r.field, offset: r.offset, size: r.length, label: r.name });
    else select({ kind: 'bytes', offset: r.offset, length: r.length });
    reveal(r.offset);
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
    const owners = regionsIn(shown, base, PER_ROW);
    for (let k = 0; k < PER_ROW; k++) {
      const off = base + k;
      if (off >= s.fileSize) break;
      const b = byteAt(off);
      const cls = (inHl(off) ? 'hl ' : '') + (b === 0 ? 'zero ' : '') + (owners[k] ? `r-${owners[k]!.kind}` : '');
      cells.push(<span key={k} className={`b ${cls}`} data-off={off} data-kind={owners[k]?.kind} title={owners[k] ? `${hexOffset(off)}: ${owners[k]!.name}` : hexOffset(off)} onClick={(e) => select({ kind: 'bytes', offset: e.shiftKey && selection?.kind === 'bytes' ? Math.min(selection.offset, off) : off, length: e.shiftKey && selection?.kind === 'bytes' ? Math.abs(off - selection.offset) + 1 : 1 })}>{b === null ? '··' : hexPad(b, 2)}</span>);
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
  const named = hl ? regionsAt(shown, hl.offset) : [];
  const cursor = hl ? hl.offset : top * PER_ROW;
  const columns = Array.from({ length: PER_ROW }, (_, k) => <span key={k} className="b">{hexPad(k, 2)}</span>);

  return (
    <section className="view hex" aria-label="Hex view">
      <div className="hex-toolbar">
        <label>Go to offset <input aria-label="go to offset" value={goto} placeholder="0x10000 or 64K" onChange={(e) => setGoto(e.target.value)} onKeyDown={(e) => { if (e.key === 'Enter') jump(); }} /></label>
        <button onClick={jump}>Go</button>
        <StructurePicker regions={regions} onPick={pickRegion} />
        <span className="muted" data-testid="hex-position">rows {hexPad(top * PER_ROW, 8)}–{hexPad(Math.min(s.fileSize, (top + rows) * PER_ROW), 8)} of {s.fileSize} bytes</span>
      </div>
      <div className="hex-toolbar">
        <SearchBar session={s.session.id} fileSize={s.fileSize} cursor={cursor} inputRef={searchBox}
          onFound={(f) => { select({ kind: 'bytes', offset: f.offset, length: f.length }); reveal(f.offset); }} />
        <RegionLegend kinds={kindsPresent} />
        {!mapped && (
          <button className="link" data-testid="hex-map-layout" title="walk the tables once (as check does) to colour L2 tables, refcount blocks, snapshots, bitmaps and data"
            onClick={() => void useLayout.getState().build()}>colour tables and data</button>
        )}
      </div>
      <div className="hex-selection" data-testid="hex-selection">
        {hl ? <>selected <code>0x{hl.offset.toString(16)}</code> ({hl.length} byte{hl.length === 1 ? '' : 's'})
          {named.length > 0 ? <>: {named.map((n, k) => <span key={n.name + n.offset}>{k > 0 && ', '}<button className="link" data-region={n.name} title="select this structure's bytes" onClick={() => pickRegion(n)}>{n.name}</button></span>)}</>
            : <span className="muted"> — no decoded structure (guest data or free space)</span>}</>
          : <span className="muted">Click a byte (Shift+click to extend) or pick a structure to select it.</span>}
      </div>
      {s.fileSize === 0 && <p className="note" data-testid="hex-empty">The file is empty (0 bytes).</p>}
      <div className="hex-body">
        <div className="hex-rows" ref={box} tabIndex={0} onKeyDown={onKey} onWheel={(e) => move(Math.sign(e.deltaY) * Math.max(1, Math.round(Math.abs(e.deltaY) / ROW_H)))} data-testid="hex-rows">
          <div className="hex-row hex-colhead" aria-hidden="true" style={{ height: ROW_H }}>
            <span className="addr">offset{' '.repeat(4)}</span>
            <span className="bytes">{columns}</span>
            <span className="ascii">ASCII</span>
          </div>
          {lines}
        </div>
        <input className="hex-scroll" type="range" aria-label="position in file" min={0} max={maxTop} value={top}
          onChange={(e) => setTop(Number(e.target.value))} />
      </div>
      {s.fileSize > 0 && <DecodePanel session={s.session.id} offset={Math.min(cursor, s.fileSize - 1)} fileSize={s.fileSize} dataVersion={dataVersion} />}
    </section>
  );
}

/** Every structure the summary locates, by name: choosing one selects its bytes. */
function StructurePicker({ regions, onPick }: { regions: readonly Region[]; onPick(r: Region): void }) {
  const groups = new Map<RegionKind, Region[]>();
  for (const r of regions) groups.set(r.kind, [...(groups.get(r.kind) ?? []), r]);
  return (
    <select aria-label="select a structure" value="" onChange={(e) => { const r = regions[Number(e.target.value)]; if (r) onPick(r); }} data-testid="structure-picker">
      <option value="">Structure…</option>
      {[...groups].map(([kind, list]) => (
        <optgroup key={kind} label={REGION_KIND_LABEL[kind]}>
          {list.map((r) => <option key={r.name + r.offset} value={regions.indexOf(r)}>{r.name} · 0x{r.offset.toString(16)} (+{r.length})</option>)}
        </optgroup>
      ))}
    </select>
  );
}
