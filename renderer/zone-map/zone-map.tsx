// The zone map: a canvas with one cell per zone. Wheel zooms around the pointer, drag pans, hover shows a
// tooltip, click selects; arrows move the selection, `g` jumps to a zone number or a byte offset, `n` / `p`
// step to the next / previous zone of the condition chosen beside the legend. Under it, the overview strip.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ZoneReport } from '../../shared/contract/dto';
import { conditionOf, zoneAtOffset, zoneCapacity, zoneLength, zoneStart } from '../../shared/contract/zone-geometry';
import { parseNumber } from '../format';
import { useStore } from '../store';
import { formatSize } from '../units';
import { drawZoneMap, NUMBER_CELL_MIN } from './draw';
import { clampView, ensureVisible, gapFor, IDENTITY, layoutMap, moveSelection, pickAt, visibleRange, zoomAt, type MapLayout, type MapView } from './geometry';
import { OverviewStrip } from './overview-strip';
import { CONDITION_STYLE } from './palette';
import { useEffectiveTheme } from '../theme';
import type { Precedence } from './precedence';
import { sizedContext } from '../components/canvas';

export interface ZoneMapProps {
  report: ZoneReport;
  selected: number;
  onSelect(i: number): void;
  filter: ReadonlySet<number> | null;
  precedence: Precedence;
  /** `n` / `p`: the zone to go to from `from` (or -1 for none). */
  onStep?(from: number, dir: 1 | -1): number;
  /** Bring this zone on screen, zoomed in until it is readable (changes of seq repeat it). */
  reveal?: { index: number; seq: number } | null;
}

/** The view that shows zone i as a tile big enough for its number and condition, the zoom kept if already there. */
export function readableView(l: MapLayout, v: MapView, i: number, width: number, height: number): MapView {
  const want = NUMBER_CELL_MIN + gapFor(NUMBER_CELL_MIN + 2) + 2;
  const zoom = l.cell * v.zoom < want ? want / l.cell : v.zoom;
  return ensureVisible(l, clampView(l, { ...v, zoom }, width, height), i, width, height);
}

/** What `g` accepts: a zone number ("17", "#17") or a byte offset ("0x4000000", "@64M"). */
export function parseJump(text: string, r: ZoneReport): number {
  const t = text.trim();
  if (t.startsWith('@') || /^0x/i.test(t) || /[kmgtp]i?b?$/i.test(t)) {
    return zoneAtOffset(r, parseNumber(t.replace(/^@/, '')));
  }
  const n = parseNumber(t.replace(/^#/, ''));
  return Number.isInteger(n) && n >= 0 && n < r.nrZones ? n : -1;
}

/** The first map drawn since the page loaded gets a performance mark (bench-ui reads it). */
let firstDrawMarked = false;

export function useDark(): boolean {
  // The in-app theme (renderer/theme.ts), which follows the OS under "system".
  return useEffectiveTheme() === 'dark';
}

export function ZoneMap({ report, selected, onSelect, filter, precedence, onStep, reveal }: ZoneMapProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ w: 600, h: 400 });
  const [view, setView] = useState<MapView>(IDENTITY);
  const [hover, setHover] = useState<{ i: number; x: number; y: number } | null>(null);
  const [jumpOpen, setJumpOpen] = useState(false);
  const [jumpText, setJumpText] = useState('');
  const [jumpError, setJumpError] = useState<string | null>(null);
  const drag = useRef<{ x: number; y: number; panX: number; panY: number; moved: boolean } | null>(null);
  const dark = useDark();
  const unit = useStore((st) => st.sizeUnit);
  const layout = useMemo(() => layoutMap(report.nrZones, size.w, size.h), [report.nrZones, size.w, size.h]);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setSize({ w: Math.max(50, el.clientWidth), h: Math.max(50, el.clientHeight) }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  useEffect(() => { setView((v) => clampView(layout, v, size.w, size.h)); }, [layout, size.w, size.h]);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const sized = sizedContext(c, size.w, size.h);
    if (!sized) return;
    const { ctx, dpr } = sized;
    drawZoneMap(ctx, report, layout, view, { width: size.w, height: size.h, dpr, filter, selected, hovered: hover?.i ?? -1, dark, precedence });
    if (!firstDrawMarked) { firstDrawMarked = true; performance.mark('qzs:zone-map-first-draw'); }
  }, [report, layout, view, size, filter, selected, hover, dark, precedence]);
  useEffect(() => {
    if (reveal && reveal.index >= 0 && reveal.index < layout.n) setView((v) => readableView(layout, v, reveal.index, size.w, size.h));
    // Only a new request moves the view, not a resize.
  }, [reveal]);
  const pick = (x: number, y: number): number => pickAt(layout, view, x, y, window.devicePixelRatio || 1, report.cond, precedence.rank);

  const local = (e: React.MouseEvent | React.WheelEvent): { x: number; y: number } => {
    const r = canvas.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const selectAndShow = (i: number): void => {
    onSelect(i);
    setView((v) => ensureVisible(layout, v, i, size.w, size.h));
  };
  const onKey = (e: React.KeyboardEvent): void => {
    if (e.key === 'g' && !e.ctrlKey && !e.metaKey) { setJumpOpen(true); setJumpError(null); e.preventDefault(); return; }
    if (e.key === '+' || e.key === '=') { setView((v) => zoomAt(layout, v, 1.5, size.w / 2, size.h / 2, size.w, size.h)); return; }
    if (e.key === '-') { setView((v) => zoomAt(layout, v, 1 / 1.5, size.w / 2, size.h / 2, size.w, size.h)); return; }
    if (e.key === '0') { setView(IDENTITY); return; }
    if ((e.key === 'n' || e.key === 'p') && !e.ctrlKey && !e.metaKey && !e.altKey && onStep) {
      const i = onStep(selected, e.key === 'n' ? 1 : -1);
      if (i >= 0) { onSelect(i); setView((v) => readableView(layout, v, i, size.w, size.h)); }
      e.preventDefault();
      return;
    }
    const next = moveSelection(layout, Math.max(0, selected), e.key);
    if (next !== null) { selectAndShow(next); e.preventDefault(); }
  };
  const doJump = (): void => {
    const i = parseJump(jumpText, report);
    if (i < 0) { setJumpError(`no zone "${jumpText}": enter a zone number 0–${report.nrZones - 1} or an offset like 0x4000000 or @64M`); return; }
    setJumpOpen(false);
    setJumpText('');
    // Zoom in far enough that the zone is a readable tile (number and condition) when the map is dense.
    setView((v) => readableView(layout, v, i, size.w, size.h));
    onSelect(i);
    canvas.current?.focus();
  };

  const h = hover && hover.i >= 0 ? hover.i : -1;
  return (
    <div className="zone-map-col">
    <div className="zone-map" ref={wrap}>
      <canvas ref={canvas} tabIndex={0} data-testid="zone-map" aria-label={`zone map, ${report.nrZones} zones; arrows move, g jumps, + and - zoom`}
        style={{ width: size.w, height: size.h }}
        onKeyDown={onKey}
        onWheel={(e) => { const p = local(e); setView((v) => zoomAt(layout, v, e.deltaY < 0 ? 1.25 : 0.8, p.x, p.y, size.w, size.h)); }}
        onMouseDown={(e) => { drag.current = { x: e.clientX, y: e.clientY, panX: view.panX, panY: view.panY, moved: false }; }}
        onMouseMove={(e) => {
          const p = local(e);
          const d = drag.current;
          if (d && (e.buttons & 1)) {
            if (Math.abs(e.clientX - d.x) + Math.abs(e.clientY - d.y) > 3) d.moved = true;
            if (d.moved) setView(clampView(layout, { ...view, panX: d.panX - (e.clientX - d.x), panY: d.panY - (e.clientY - d.y) }, size.w, size.h));
          }
          setHover({ i: pick(p.x, p.y), x: p.x, y: p.y });
        }}
        onMouseLeave={() => { setHover(null); drag.current = null; }}
        onMouseUp={(e) => {
          const d = drag.current;
          drag.current = null;
          if (d?.moved) return;
          const p = local(e);
          const i = pick(p.x, p.y);
          if (i >= 0) onSelect(i);
          canvas.current?.focus();
        }} />
      {h >= 0 && hover && (
        <div className="zone-tip" role="tooltip" data-testid="zone-tooltip" style={{ left: Math.min(hover.x + 14, size.w - 230), top: Math.min(hover.y + 14, size.h - 110) }}>
          <strong>zone {h}</strong> · {CONDITION_STYLE[conditionOf(report.cond[h])].abbr} ({CONDITION_STYLE[conditionOf(report.cond[h])].label})<br />
          start {formatSize(zoneStart(report, h), unit)} · wp {h < report.conventionalZones ? '—' : formatSize(report.wp[h], unit)}<br />
          capacity {formatSize(zoneCapacity(report, h), unit)} of {formatSize(zoneLength(report, h), unit)}
        </div>
      )}
      {jumpOpen && (
        <div className="jump-box" role="dialog" aria-label="jump to zone">
          <label>Go to zone number or offset <input autoFocus aria-label="zone number or offset" value={jumpText} onChange={(e) => setJumpText(e.target.value)}
            onKeyDown={(e) => { if (e.key === 'Enter') doJump(); if (e.key === 'Escape') { setJumpOpen(false); canvas.current?.focus(); } e.stopPropagation(); }} /></label>
          <button onClick={doJump}>Go</button>
          {jumpError && <div className="invalid">{jumpError}</div>}
        </div>
      )}
    </div>
    {/* Below the map, not over it: nothing may cover a zone of the fitted map. */}
    <div className="zone-map-bar">
      <OverviewStrip report={report} precedence={precedence} visible={visibleRange(layout, view, size.w, size.h)} selected={selected} dark={dark}
        onPick={(i) => { onSelect(i); setView((v) => readableView(layout, v, i, size.w, size.h)); }} />
      <div className="zoom-controls">
        <button aria-label="zoom in" onClick={() => setView((v) => zoomAt(layout, v, 1.5, size.w / 2, size.h / 2, size.w, size.h))}>+</button>
        <button aria-label="zoom out" onClick={() => setView((v) => zoomAt(layout, v, 1 / 1.5, size.w / 2, size.h / 2, size.w, size.h))}>−</button>
        <button aria-label="fit" onClick={() => setView(IDENTITY)}>fit</button>
        <button aria-label="jump to zone" onClick={() => setJumpOpen(true)}>g</button>
      </div>
    </div>
    </div>
  );
}
