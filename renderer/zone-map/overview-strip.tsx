// The overview strip under the map: every zone, left to right, whatever the map's zoom. Each pixel column
// is a run of consecutive zones drawn in the colour of the rarest condition among them, and a condition
// other than the commonest is drawn at least three pixels wide, so a single closed zone among a million
// empty ones is a visible tick. A frame marks what the map shows; a click jumps to the rarest zone near it.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ZoneReport } from '../../shared/contract/dto';
import { exceptionsOf } from './exceptions';
import { CONDITION_STYLE } from './palette';
import { bucketRange, RANK_HIDDEN, rarestIn, stripRanks, type Precedence } from './precedence';

const HEIGHT = 22;
/** Ticks of rare conditions are at least this many CSS pixels wide. */
const TICK = 3;

export interface OverviewStripProps {
  report: ZoneReport;
  precedence: Precedence;
  /** Zones the map shows now, first and last. */
  visible: [number, number];
  selected: number;
  onPick(i: number): void;
  dark: boolean;
}

export function OverviewStrip({ report, precedence, visible, selected, onPick, dark }: OverviewStripProps) {
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(600);
  const dpr = typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1;
  const n = report.nrZones;
  const buckets = Math.max(1, Math.round(width * dpr));

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(50, el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const ranks = useMemo(() => stripRanks(report.cond, n, precedence.rank, buckets, exceptionsOf(report)), [report, n, precedence, buckets]);

  useEffect(() => {
    const c = canvas.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const W = buckets;
    const H = Math.round(HEIGHT * dpr);
    if (c.width !== W) c.width = W;
    if (c.height !== H) c.height = H;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = dark ? '#1e1f22' : '#ffffff';
    ctx.fillRect(0, 0, W, H);
    const colour = (k: number): string => {
      if (k === RANK_HIDDEN) return dark ? '#2c2d31' : '#ececec';
      const cond = precedence.byRank[k];
      return cond ? CONDITION_STYLE[cond].color : CONDITION_STYLE.offline.color;
    };
    // The commonest shown condition has rank 2: it is the ground; anything rarer is a tick drawn on top.
    for (let x = 0; x < W; x++) if (ranks[x]) { ctx.fillStyle = colour(ranks[x]); ctx.fillRect(x, 0, 1, H); }
    const tick = Math.max(1, Math.round(TICK * dpr));
    for (let k = 3; k <= 255; k++) {
      if (k >= precedence.byRank.length && k !== 255) continue;
      let any = false;
      for (let x = 0; x < W; x++) {
        if (ranks[x] !== k) continue;
        if (!any) { ctx.fillStyle = colour(k); any = true; }
        ctx.fillRect(Math.min(W - tick, Math.max(0, x - (tick >> 1))), 0, tick, H);
      }
      if (k >= precedence.byRank.length) break;
    }
    // What the map shows, then the selected zone.
    if (n > 0) {
      const x0 = Math.floor((visible[0] / n) * W);
      const x1 = Math.max(x0 + 2, Math.ceil(((visible[1] + 1) / n) * W));
      ctx.lineWidth = Math.max(1, Math.round(dpr));
      ctx.strokeStyle = dark ? '#ffffff' : '#000000';
      ctx.strokeRect(x0 + 0.5, 0.5, Math.min(W - 1, x1) - x0 - 1, H - 1);
      if (selected >= 0 && selected < n) {
        const xs = Math.floor((selected / n) * W);
        ctx.fillStyle = '#ff2d95';
        ctx.fillRect(Math.max(0, xs - 1), 0, Math.max(2, Math.round(2 * dpr)), H);
      }
    }
  }, [ranks, buckets, dpr, dark, precedence, visible, selected, n]);

  const pick = (e: React.MouseEvent): void => {
    const rect = canvas.current!.getBoundingClientRect();
    const x = Math.floor((e.clientX - rect.left) * dpr);
    // The tick under the pointer may be drawn wider than its bucket: look a tick's width either side.
    const reach = Math.round(TICK * dpr);
    let bestBucket = Math.min(buckets - 1, Math.max(0, x));
    for (let b = Math.max(0, x - reach); b <= Math.min(buckets - 1, x + reach); b++) if (ranks[b] > ranks[bestBucket]) bestBucket = b;
    const [from, to] = bucketRange(n, buckets, bestBucket);
    const i = rarestIn(report.cond, precedence.rank, from, to);
    if (i >= 0) onPick(i);
  };

  return (
    <div className="overview-strip" ref={box}>
      <canvas ref={canvas} data-testid="zone-overview" style={{ width: '100%', height: HEIGHT }} onClick={pick}
        aria-label={`overview of all ${n} zones: each column shows the rarest condition among its zones; click to go there`} />
    </div>
  );
}
