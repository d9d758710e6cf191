// Every zone as a row: virtualised (PagedList keeps only the rows on screen in the DOM; the rows come from
// the report already in memory), sortable by any column, filtered by the legend and by zone type, sizes in
// the app's unit. Click selects the zone (the inspector shows it); Enter or a double click shows it on the map.
import { useEffect, useMemo, useState } from 'react';
import type { ZoneReport } from '../../shared/contract/dto';
import { conditionOf, zoneFill, zoneLength, zoneStart } from '../../shared/contract/zone-geometry';
import { modelZoneCapacity, normalisedWp } from '../../shared/qcow2/zone-model';
import { PagedList } from '../components/paged-list';
import { useStore } from '../store';
import { formatSize, unitSuffix } from '../units';
import { fillText } from '../zone-map/draw';
import { CONDITION_STYLE } from '../zone-map/palette';
import { zoneOrder, type ZoneSortKey, type ZoneTypeFilter } from '../zone-map/zone-order';

const COLUMNS: { key: ZoneSortKey | null; label: string; sized?: boolean }[] = [
  { key: 'index', label: 'zone' },
  { key: 'index', label: 'start', sized: true },
  { key: 'length', label: 'length', sized: true },
  { key: 'capacity', label: 'capacity', sized: true },
  { key: 'written', label: 'wp', sized: true },
  { key: 'fill', label: 'fill' },
  { key: 'type', label: 'type' },
  { key: 'condition', label: 'condition' },
];
const GRID = '64px minmax(70px, 1.3fr) minmax(56px, 0.9fr) minmax(56px, 0.9fr) minmax(80px, 1.4fr) 44px 40px 76px';

/** A stable id per report object, so the list drops its cached rows when the report is replaced. */
const IDS = new WeakMap<ZoneReport, number>();
let nextId = 0;
function reportId(r: ZoneReport): number {
  let id = IDS.get(r);
  if (id === undefined) { id = ++nextId; IDS.set(r, id); }
  return id;
}

export interface ZoneTableProps {
  report: ZoneReport;
  shown: ReadonlySet<number> | null;
  selected: number;
  onSelect(i: number): void;
  /** Enter / double click: show the zone on the map. */
  onShow(i: number): void;
  onStep?(from: number, dir: 1 | -1): number;
}

export function ZoneTable({ report: r, shown, selected, onSelect, onShow, onStep }: ZoneTableProps) {
  const unit = useStore((st) => st.sizeUnit);
  const [sort, setSort] = useState<{ key: ZoneSortKey; desc: boolean }>({ key: 'index', desc: false });
  const [type, setType] = useState<ZoneTypeFilter>('all');
  const order = useMemo(() => zoneOrder(r, { key: sort.key, desc: sort.desc, shown, type }), [r, sort, shown, type]);
  const position = useMemo(() => (selected < 0 ? -1 : order.indexOf(selected)), [order, selected]);
  const [scroll, setScroll] = useState<{ index: number; seq: number } | null>(null);
  const shownKey = shown ? [...shown].sort((a, b) => a - b).join(',') : 'all';
  const resetKey = `${reportId(r)}:${sort.key}:${sort.desc}:${type}:${shownKey}`;
  const suffix = unitSuffix(unit);
  // A new order (sort, filter, report) keeps the selected zone in view.
  useEffect(() => { if (position >= 0) setScroll((s) => ({ index: position, seq: (s?.seq ?? 0) + 1 })); }, [order]);

  const size = (v: number): string => formatSize(v, unit);
  const header = COLUMNS.map((c) => {
    const active = c.key === sort.key && (c.label !== 'start' || sort.key !== 'index');
    const label = c.sized && suffix ? `${c.label} (${suffix})` : c.label;
    return (
      <button key={c.label} className="link th" aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : 'none'} data-sort={c.label}
        title={`sort by ${c.label}`} onClick={() => c.key && setSort((s) => ({ key: c.key!, desc: s.key === c.key ? !s.desc : false }))}>
        {label}{active ? (sort.desc ? ' ▼' : ' ▲') : ''}
      </button>
    );
  });
  const onKey = (e: React.KeyboardEvent): void => {
    if ((e.key === 'n' || e.key === 'p') && onStep && !e.ctrlKey && !e.metaKey && !e.altKey) {
      const i = onStep(selected, e.key === 'n' ? 1 : -1);
      if (i >= 0) { onSelect(i); const at = order.indexOf(i); if (at >= 0) setScroll((s) => ({ index: at, seq: (s?.seq ?? 0) + 1 })); }
      e.preventDefault();
    }
  };

  return (
    <div className="zone-table" onKeyDown={onKey}>
      <div className="zone-table-bar">
        <span data-testid="zone-table-count">{order.length === r.nrZones ? `${r.nrZones} zones` : `${order.length} of ${r.nrZones} zones`}</span>
        <label>type <select aria-label="zone type" value={type} onChange={(e) => setType(e.target.value as ZoneTypeFilter)}>
          <option value="all">all</option><option value="conventional">conventional</option><option value="sequential">sequential</option>
        </select></label>
      </div>
      <PagedList<number>
        label="zones" testId="zone-table" total={order.length} resetKey={resetKey} columns={GRID} header={header}
        fetchPage={(start, count) => Promise.resolve(Array.from(order.subarray(start, Math.min(order.length, start + count))))}
        selected={position >= 0 ? position : null}
        onSelect={(k) => { if (k < order.length) onSelect(order[k]); }}
        onActivate={(k) => { if (k < order.length) onShow(order[k]); }}
        scrollTo={scroll}
        renderRow={(i) => {
          const conventional = i < r.conventionalZones;
          const cond = conditionOf(r.cond[i]);
          const st = CONDITION_STYLE[cond];
          // Linux's view (zone-model.ts): a conventional zone's capacity is its length; no pointer where none
          // is defined; a full zone's pointer is its end, shown beside the stored one when they differ.
          const cap = modelZoneCapacity(r, i);
          const norm = normalisedWp(r, i, r.wp[i], r.cond[i]);
          return (
            <>
              <span className="num" data-col="zone">{i}</span>
              <span className="num">{size(zoneStart(r, i))}</span>
              <span className="num">{size(zoneLength(r, i))}</span>
              <span className="num">{size(cap)}</span>
              <span className="num" data-col="wp" title={norm !== null && norm !== r.wp[i] ? `stored ${r.wp[i]}, reported by Linux as ${norm} (the zone's end)` : undefined}>
                {norm === null ? '—' : norm === r.wp[i] ? size(r.wp[i]) : `${size(r.wp[i])} (kernel ${size(norm)})`}</span>
              <span className="num">{conventional ? '—' : fillText(zoneFill(r, i))}</span>
              <span>{conventional ? 'CONV' : 'SWR'}</span>
              <span data-col="condition" title={st.label}><span className="swatch" style={{ background: st.color }} /> {st.abbr}</span>
            </>
          );
        }}
      />
    </div>
  );
}
