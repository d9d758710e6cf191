// The cluster map: a canvas drawn from the runs. Wheel (or + and -) zooms around the pointer from the
// whole file down to one cluster a cell; drag or PageUp/PageDown scroll; hover names the cell; click
// selects the cluster (the dominant one of a many-cluster cell: a conflict first).
import { useEffect, useRef, useState } from 'react';
import type { LayoutKind, LayoutResult, LayoutRun } from '../../shared/contract/dto';
import { LAYOUT_KIND_NAMES, runAt } from '../../shared/qcow2/layout-runs';
import { cellRange, fitGrid, focusGrid, kindsIn, resizeGrid, scrollGrid, zoomGrid, type Grid } from './geometry';
import { drawLayoutMap } from './draw';
import { sizedContext } from '../components/canvas';
import { KIND_STYLE } from './palette';

export interface LayoutMapProps {
  layout: LayoutResult;
  hidden: ReadonlySet<LayoutKind>;
  selected: number;
  onSelect(k: number): void;
  /** Bumped to bring `selected` into view at single-cluster zoom. */
  focusSeq: number;
}

function useDark(): boolean {
  const q = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  return !!q?.matches;
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}

/** The owner of cluster k of run r: a data run's owner names its first cluster, so data is said per cluster. */
export function clusterOwner(r: LayoutRun, k: number, cs: number): string {
  if (r.kind !== 'data' || r.guest === undefined) return r.owner;
  return `guest ${hex(r.guest + (k - r.start) * cs)}${r.zone !== undefined ? ` (zone ${r.zone})` : ''}${r.snapshot ? `, snapshot ${r.snapshot} only` : ''}`;
}

/** The cluster a click on [a, b) selects: the first conflict, else the first leak, else a. */
function pick(layout: LayoutResult, a: number, b: number, hidden: ReadonlySet<LayoutKind>): number {
  for (const want of ['conflict', 'leaked'] as const) {
    if (hidden.has(want)) continue;
    for (const r of layout.runs) {
      if (r.start >= b) break;
      if (r.kind === want && r.start + r.clusters > a) return Math.max(a, r.start);
    }
  }
  return a;
}

export function LayoutMap({ layout, hidden, selected, onSelect, focusSeq }: LayoutMapProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ w: 640, h: 420 });
  const n = layout.clusters;
  const [grid, setGrid] = useState<Grid>(() => fitGrid(n, 640, 420));
  const [hover, setHover] = useState<{ a: number; b: number; x: number; y: number } | null>(null);
  const drag = useRef<{ y: number; first: Grid; moved: boolean } | null>(null);
  const dark = useDark();

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setSize({ w: Math.max(60, el.clientWidth), h: Math.max(60, el.clientHeight) }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  useEffect(() => { setGrid(fitGrid(n, size.w, size.h)); }, [layout, n]);
  useEffect(() => { setGrid((g) => resizeGrid(g, n, size.w, size.h)); }, [size.w, size.h, n]);
  useEffect(() => {
    if (focusSeq > 0 && selected >= 0) setGrid((g) => focusGrid(g, n, size.w, size.h, selected));
  }, [focusSeq]);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const sized = sizedContext(c, size.w, size.h);
    if (!sized) return;
    const { ctx, dpr } = sized;
    drawLayoutMap(ctx, layout.runs, n, grid, { width: size.w, height: size.h, dpr, hidden, selected, hovered: hover?.a ?? -1, dark });
  }, [layout, n, grid, size, hidden, selected, hover, dark]);

  const local = (e: React.MouseEvent | React.WheelEvent): { x: number; y: number } => {
    const r = canvas.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const zoom = (zin: boolean, x = size.w / 2, y = size.h / 2): void => setGrid((g) => zoomGrid(g, n, size.w, size.h, zin, x, y));
  const onKey = (e: React.KeyboardEvent): void => {
    if (e.key === '+' || e.key === '=') zoom(true);
    else if (e.key === '-') zoom(false);
    else if (e.key === '0') setGrid(fitGrid(n, size.w, size.h));
    else if (e.key === 'PageDown') setGrid((g) => scrollGrid(g, n, g.rows - 1));
    else if (e.key === 'PageUp') setGrid((g) => scrollGrid(g, n, -(g.rows - 1)));
    else if (e.key === 'ArrowRight' && selected >= 0) onSelect(Math.min(n - 1, selected + 1));
    else if (e.key === 'ArrowLeft' && selected >= 0) onSelect(Math.max(0, selected - 1));
    else return;
    e.preventDefault();
  };

  const tip = hover ? tipText(layout, hover.a, hover.b) : null;
  const shownFrom = grid.first;
  const shownTo = Math.min(n, grid.first + grid.cols * grid.rows * grid.per);
  return (
    <div className="layout-map" ref={wrap}>
      <canvas ref={canvas} tabIndex={0} data-testid="layout-map" aria-label={`cluster map, ${n} clusters; + and - zoom, PageUp and PageDown scroll`}
        data-per={grid.per} data-first={grid.first} data-cell={grid.cell} data-cols={grid.cols}
        style={{ width: size.w, height: size.h }}
        onKeyDown={onKey}
        onWheel={(e) => { const p = local(e); if (e.shiftKey) setGrid((g) => scrollGrid(g, n, e.deltaY > 0 ? 3 : -3)); else zoom(e.deltaY < 0, p.x, p.y); }}
        onMouseDown={(e) => { drag.current = { y: e.clientY, first: grid, moved: false }; }}
        onMouseMove={(e) => {
          const p = local(e);
          const d = drag.current;
          if (d && (e.buttons & 1)) {
            const rows = Math.round((d.y - e.clientY) / grid.cell);
            if (Math.abs(d.y - e.clientY) > 3) d.moved = true;
            if (d.moved) setGrid(scrollGrid(d.first, n, rows));
          }
          const r = cellRange(grid, n, p.x, p.y);
          setHover(r ? { a: r[0], b: r[1], x: p.x, y: p.y } : null);
        }}
        onMouseLeave={() => { setHover(null); drag.current = null; }}
        onMouseUp={(e) => {
          const d = drag.current;
          drag.current = null;
          if (d?.moved) return;
          const p = local(e);
          const r = cellRange(grid, n, p.x, p.y);
          if (r) onSelect(pick(layout, r[0], r[1], hidden));
          canvas.current?.focus();
        }} />
      {hover && tip && (
        <div className="zone-tip layout-tip" role="tooltip" data-testid="layout-tooltip" style={{ left: Math.min(hover.x + 14, size.w - 320), top: Math.min(hover.y + 14, size.h - 90) }}>
          {tip}
        </div>
      )}
      <div className="layout-pos muted small" data-testid="layout-pos">
        clusters {shownFrom}–{Math.max(shownFrom, shownTo - 1)} of {n} · {grid.per === 1 ? 'one cluster a cell' : `${grid.per} clusters a cell`}
      </div>
      <div className="zoom-controls">
        <button aria-label="zoom in" onClick={() => zoom(true)}>+</button>
        <button aria-label="zoom out" onClick={() => zoom(false)}>−</button>
        <button aria-label="fit" onClick={() => setGrid(fitGrid(n, size.w, size.h))}>fit</button>
      </div>
    </div>
  );
}

function tipText(layout: LayoutResult, a: number, b: number) {
  const cs = layout.clusterSize;
  if (b - a === 1) {
    const r = runAt(layout.runs, a);
    if (!r) return null;
    return (
      <>
        <strong>cluster {a}</strong> · {hex(a * cs)} · <span style={{ color: KIND_STYLE[r.kind].color === '#ff1744' ? '#ff1744' : undefined }}>{KIND_STYLE[r.kind].label}</span><br />
        {clusterOwner(r, a, cs)}
      </>
    );
  }
  const ks = kindsIn(layout.runs, a, b);
  return (
    <>
      <strong>clusters {a}–{b - 1}</strong> · {hex(a * cs)}–{hex(b * cs)}<br />
      {ks.slice(0, 4).map(([k, c]) => <span key={k}>{c} {LAYOUT_KIND_NAMES[k].split(' (')[0]}<br /></span>)}
      {ks.length > 4 ? `and ${ks.length - 4} more kinds` : null}
    </>
  );
}
