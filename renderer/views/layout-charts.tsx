// The layout view's breakdown by kind, in its own chunk with recharts (renderer/views/layout-view.tsx loads it lazily).
import { Bar, BarChart, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { LayoutResult } from '../../shared/contract/dto';
import { KIND_ORDER, KIND_STYLE } from '../layout-map/palette';

export function KindChart({ layout }: { layout: LayoutResult }) {
  const rows = KIND_ORDER.filter((k) => layout.totals[k].clusters > 0).map((k) => ({ name: KIND_STYLE[k].label, clusters: layout.totals[k].clusters, color: KIND_STYLE[k].color }));
  // Powers of ten up to the largest count: a log axis whose ticks read as orders of magnitude.
  const most = Math.max(1, ...rows.map((r) => r.clusters));
  const top = 10 ** Math.ceil(Math.log10(most + 1));
  const ticks: number[] = [];
  for (let t = 1; t <= top; t *= 10) ticks.push(t);
  return (
    <div className="chart" data-testid="chart-kinds">
      <h4>Clusters by kind <span className="muted small">(log scale)</span></h4>
      <ResponsiveContainer width="100%" height={Math.max(120, rows.length * 22 + 30)}>
        <BarChart data={rows} layout="vertical" margin={{ left: 8, right: 16, top: 4, bottom: 4 }}>
          <XAxis type="number" scale="log" domain={[0.5, top]} ticks={ticks} allowDataOverflow tick={{ fontSize: 10 }} tickFormatter={(v: number) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v))} />
          <YAxis type="category" dataKey="name" width={110} interval={0} tick={{ fontSize: 11 }} />
          <Tooltip />
          <Bar dataKey="clusters" isAnimationActive={false}>{rows.map((x) => <Cell key={x.name} fill={x.color} />)}</Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
