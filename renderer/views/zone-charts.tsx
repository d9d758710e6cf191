// Recharts summaries beside the map: zones by condition, how full the sequential zones are, and open/active
// use against the limits. Counts go on a log axis with each number printed at its bar: at a million zones
// a linear axis makes seven closed zones an invisible bar.
import { Bar, BarChart, Cell, LabelList, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ZoneReport } from '../../shared/contract/dto';
import { conditionCounts, resourceUse, zoneCapacity, zoneStart } from '../../shared/contract/zone-geometry';
import { CONDITION_STYLE, LEGEND_ORDER } from '../zone-map/palette';

/** Rows for the condition chart (pure: tested without a DOM). */
export function conditionRows(r: ZoneReport): { name: string; zones: number; color: string }[] {
  const c = conditionCounts(r);
  return LEGEND_ORDER.filter((k) => c[k] > 0).map((k) => ({ name: CONDITION_STYLE[k].abbr, zones: c[k], color: CONDITION_STYLE[k].color }));
}

/**
 * Sequential zones only, by written part of their capacity: "empty" (nothing written), ten bins of
 * (0, 10 %] … (90, 100 %), and "full" (the whole capacity written). Conventional zones have no write
 * pointer and are left out.
 */
export function fillHistogram(r: ZoneReport): { bin: string; zones: number }[] {
  const bins = new Array<number>(12).fill(0);
  for (let i = r.conventionalZones; i < r.nrZones; i++) {
    const cap = zoneCapacity(r, i);
    const written = r.wp[i] - zoneStart(r, i);
    if (written <= 0) bins[0]++;
    else if (written >= cap) bins[11]++;
    else bins[1 + Math.min(9, Math.floor((written / cap) * 10))]++;
  }
  return bins.map((zones, k) => ({ bin: k === 0 ? 'empty' : k === 11 ? 'full' : `<${k * 10}%`, zones }));
}

/** Decades 1, 10, 100 … up to the first at or above max: log-axis ticks. */
export function decades(max: number): number[] {
  const out = [1];
  while (out[out.length - 1] < max) out.push(out[out.length - 1] * 10);
  return out;
}

export function compact(n: number): string {
  const short = (v: number): string => String(Number(v.toPrecision(3)));
  return n >= 1e6 ? `${short(n / 1e6)}M` : n >= 1e4 ? `${short(n / 1e3)}k` : String(n);
}

function Gauge({ label, used, limit, testid }: { label: string; used: number; limit: number; testid: string }) {
  const frac = limit > 0 ? Math.min(1, used / limit) : 0;
  return (
    <div className="gauge" data-testid={testid}>
      <div className="gauge-label">{label}: <strong>{used}</strong> / {limit > 0 ? limit : 'no limit'}</div>
      <div className="gauge-bar"><div className={frac >= 1 ? 'gauge-fill at-limit' : 'gauge-fill'} style={{ width: `${limit > 0 ? frac * 100 : 0}%` }} /></div>
    </div>
  );
}

const TICK = { fontSize: 10 };
const AXIS_TITLE = { fontSize: 10, fill: 'var(--muted)' };

export function ZoneCharts({ r }: { r: ZoneReport }) {
  const use = resourceUse(r);
  const rows = conditionRows(r);
  // A log axis cannot show 0: empty bins get no bar (and no number). The axis starts at 0.5 so
  // that a count of 1 still has a bar.
  const fill = fillHistogram(r).map((b) => ({ ...b, bar: b.zones > 0 ? b.zones : null }));
  const condTicks = decades(Math.max(1, ...rows.map((x) => x.zones)));
  const fillTicks = decades(Math.max(1, ...fill.map((x) => x.zones)));
  return (
    <div className="zone-charts">
      <Gauge label="open" used={use.open} limit={r.maxOpenZones} testid="gauge-open" />
      <Gauge label="active" used={use.active} limit={r.maxActiveZones} testid="gauge-active" />
      <h4>Zones by condition</h4>
      <div className="chart" data-testid="chart-conditions">
        <ResponsiveContainer width="100%" height={28 + rows.length * 22}>
          <BarChart data={rows} layout="vertical" margin={{ left: 4, right: 44, top: 4, bottom: 16 }}>
            <XAxis type="number" scale="log" domain={[0.5, condTicks[condTicks.length - 1]]} ticks={condTicks} tickFormatter={compact} allowDataOverflow tick={TICK}
              label={{ value: 'zones (log scale)', position: 'insideBottom', offset: -10, style: AXIS_TITLE }} />
            <YAxis type="category" dataKey="name" width={70} interval={0} tick={TICK}
              label={{ value: 'condition', angle: -90, position: 'insideLeft', offset: 0, dx: -4, style: AXIS_TITLE }} />
            <Tooltip />
            <Bar dataKey="zones" isAnimationActive={false} minPointSize={2}>
              {rows.map((x) => <Cell key={x.name} fill={x.color} />)}
              <LabelList dataKey="zones" position="right" style={{ fontSize: 10, fill: 'var(--fg)' }} />
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
      <h4>Fill of sequential zones</h4>
      <div className="chart" data-testid="chart-fill">
        <ResponsiveContainer width="100%" height={180}>
          <BarChart data={fill} margin={{ left: 10, right: 8, top: 16, bottom: 22 }}>
            <XAxis dataKey="bin" tick={{ fontSize: 9 }} interval={0} angle={-40} textAnchor="end" height={34}
              label={{ value: 'written part of capacity', position: 'insideBottom', offset: -16, style: AXIS_TITLE }} />
            <YAxis scale="log" domain={[0.5, fillTicks[fillTicks.length - 1]]} ticks={fillTicks} tickFormatter={compact} allowDataOverflow tick={TICK} width={50}
              label={{ value: 'zones (log)', angle: -90, position: 'insideLeft', offset: 0, dx: -2, style: AXIS_TITLE }} />
            <Tooltip formatter={(_v, _n, item) => [(item.payload as { zones: number }).zones, 'zones']} />
            <Bar dataKey="bar" fill="#0072b2" isAnimationActive={false} minPointSize={2}>
              <LabelList dataKey="zones" position="top" style={{ fontSize: 9, fill: 'var(--fg)' }} formatter={(v) => compact(Number(v))} />
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}
