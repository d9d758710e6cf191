// Recharts summaries beside the map: zones by condition, how full the sequential zones are, and open/active
// use against the limits.
import { Bar, BarChart, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ZoneReport } from '../../shared/contract/dto';
import { conditionCounts, resourceUse, zoneFill } from '../../shared/contract/zone-geometry';
import { CONDITION_STYLE, LEGEND_ORDER } from '../zone-map/palette';

/** Rows for the condition chart (pure: tested without a DOM). */
export function conditionRows(r: ZoneReport): { name: string; zones: number; color: string }[] {
  const c = conditionCounts(r);
  return LEGEND_ORDER.filter((k) => c[k] > 0).map((k) => ({ name: CONDITION_STYLE[k].label, zones: c[k], color: CONDITION_STYLE[k].color }));
}

/** Sequential zones by written fraction of capacity, in ten bins (0–10 % … 90–100 %). */
export function fillHistogram(r: ZoneReport): { bin: string; zones: number }[] {
  const bins = new Array<number>(10).fill(0);
  for (let i = r.conventionalZones; i < r.nrZones; i++) bins[Math.min(9, Math.floor(zoneFill(r, i) * 10))]++;
  return bins.map((zones, k) => ({ bin: `${k * 10}%`, zones }));
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

export function ZoneCharts({ r }: { r: ZoneReport }) {
  const use = resourceUse(r);
  const rows = conditionRows(r);
  return (
    <div className="zone-charts">
      <Gauge label="open" used={use.open} limit={r.maxOpenZones} testid="gauge-open" />
      <Gauge label="active" used={use.active} limit={r.maxActiveZones} testid="gauge-active" />
      <h4>Zones by condition</h4>
      <div className="chart" data-testid="chart-conditions">
        <ResponsiveContainer width="100%" height={150}>
          <BarChart data={rows} layout="vertical" margin={{ left: 8, right: 16, top: 4, bottom: 4 }}>
            <XAxis type="number" allowDecimals={false} tick={{ fontSize: 11 }} />
            <YAxis type="category" dataKey="name" width={90} interval={0} tick={{ fontSize: 11 }} />
            <Tooltip />
            <Bar dataKey="zones" isAnimationActive={false}>{rows.map((x) => <Cell key={x.name} fill={x.color} />)}</Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
      <h4>Fill of sequential zones</h4>
      <div className="chart" data-testid="chart-fill">
        <ResponsiveContainer width="100%" height={130}>
          <BarChart data={fillHistogram(r)} margin={{ left: 0, right: 16, top: 4, bottom: 4 }}>
            <XAxis dataKey="bin" tick={{ fontSize: 10 }} />
            <YAxis allowDecimals={false} tick={{ fontSize: 11 }} width={56} />
            <Tooltip />
            <Bar dataKey="zones" fill="#0072b2" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}
