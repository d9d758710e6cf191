// Zones: the map (with its overview strip) or the zone table, a legend that is the filter of both, stepping
// to the next / previous zone of a condition, the units switch, export, the charts, and a reminder that
// open states are session-only.
import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import type { ImageSummary } from '../../shared/contract/dto';
import type { AppError } from '../../shared/qcow2/findings';
import { conditionCounts } from '../../shared/contract/zone-geometry';
import { ZONE_CONDITION_CODES, type ZoneCondition } from '../../shared/qcow2/zoned-types';
import { api } from '../api';
import { ErrorMessage } from '../components/common';
import { useGate } from '../components/gate';
import { ZoneErrorDetails } from '../components/zone-error';
import { viewOffReason } from '../gate';
import { useStore } from '../store';
import { SIZE_UNIT_CHOICES } from '../units';
import { CONDITION_STYLE, LEGEND_ORDER } from '../zone-map/palette';
import { precedenceFor, stepZone } from '../zone-map/precedence';
import { ZoneMap } from '../zone-map/zone-map';
import { ZoneExport } from './zone-export';
import { ZoneTable } from './zone-table';
import './zones.css';

// recharts is most of the app's script: loaded with the charts, after the map is up (issue 14).
const ZoneCharts = lazy(() => import('./zone-charts').then((m) => ({ default: m.ZoneCharts })));

export function ZonesView({ s }: { s: ImageSummary }) {
  const zones = useStore((st) => st.zones);
  const zonesError = useStore((st) => st.zonesError);
  const selection = useStore((st) => st.selection);
  const select = useStore((st) => st.select);
  const unit = useStore((st) => st.sizeUnit);
  const setUnit = useStore((st) => st.setSizeUnit);
  const [hidden, setHidden] = useState<ReadonlySet<number>>(new Set());
  const [tab, setTab] = useState<'map' | 'table'>('map');
  const [stepCond, setStepCond] = useState<ZoneCondition | null>(null);
  const [reveal, setReveal] = useState<{ index: number; seq: number } | null>(null);
  const info = useStore((st) => st.info);
  const afterZoneWrite = useStore((st) => st.afterZoneWrite);
  const [confirmReset, setConfirmReset] = useState(false);
  const [resetError, setResetError] = useState<AppError | null>(null);
  const gate = useGate('reset every sequential zone');
  const counts = useMemo(() => (zones ? conditionCounts(zones) : null), [zones]);
  const filter = useMemo(() => (hidden.size === 0 ? null : new Set(Object.values(ZONE_CONDITION_CODES).filter((c) => !hidden.has(c)))), [hidden]);
  const precedence = useMemo(() => (counts ? precedenceFor(counts, filter) : null), [counts, filter]);
  // The charts (recharts, and a pass over every zone) render after the map's first paint (issue 14).
  const [chartsShown, setChartsShown] = useState(false);
  useEffect(() => {
    if (!zones || chartsShown) return;
    const t = setTimeout(() => setChartsShown(true), 0);
    return () => clearTimeout(t);
  }, [zones, chartsShown]);
  const off = viewOffReason(s, 'zones');
  if (off) return <section className="view"><h2>Zones</h2><p className="note">{off}</p></section>;
  if (!s.zoned) return <section className="view"><h2>Zones</h2><p>This image is not zoned: it has no zoned extension with mode 1.</p></section>;
  if (zonesError) return <section className="view"><h2>Zones</h2><ErrorMessage error={zonesError} /></section>;
  if (!zones || !counts || !precedence) return <section className="view"><h2>Zones</h2><p className="muted">reading write pointers…</p></section>;
  const selected = selection?.kind === 'zone' ? selection.index : -1;
  const present = LEGEND_ORDER.filter((c) => counts[c] > 0);
  // The condition n / p step through: the one chosen, else the rarest one shown.
  const stepping: ZoneCondition | null = stepCond && counts[stepCond] > 0 ? stepCond : precedence.order[0] ?? null;
  const step = (from: number, dir: 1 | -1): number => (stepping ? stepZone(zones.cond, zones.nrZones, new Set([ZONE_CONDITION_CODES[stepping]]), from, dir) : -1);
  const go = (dir: 1 | -1): void => {
    const i = step(selected, dir);
    if (i < 0) return;
    select({ kind: 'zone', index: i });
    setReveal((r) => ({ index: i, seq: (r?.seq ?? 0) + 1 }));
  };
  const resetAll = async (): Promise<void> => {
    setConfirmReset(false);
    const r = await api['zones:op'](s.session.id, { op: 'reset-all', zone: 0 });
    if (!r.ok) {
      setResetError(r.error);
      if (r.error.code === 'locked') void useStore.getState().refreshSession();
      return;
    }
    setResetError(null);
    await afterZoneWrite('reset all zones: every sequential zone is empty again', r.value);
  };
  const toggle = (code: number): void => {
    const next = new Set(hidden);
    if (next.has(code)) next.delete(code); else next.add(code);
    setHidden(next);
  };
  const only = (code: number): void => setHidden(new Set(Object.values(ZONE_CONDITION_CODES).filter((c) => c !== code)));
  const rank = precedence.order.map((c) => CONDITION_STYLE[c].abbr).join(' › ');
  return (
    <section className="view zones" aria-label="Zones">
      <div className="zones-head">
        <h2>Zones <span className="muted">{zones.nrZones} zones · {zones.conventionalZones} conventional</span></h2>
        <p className="note" data-testid="session-only-note">Open states exist while the image is open here; QEMU reads them back as closed.</p>
        <div className="zones-tools">
          <div className="segmented" role="radiogroup" aria-label="size units">
            {SIZE_UNIT_CHOICES.map((u) => (
              <button key={u.unit} role="radio" aria-checked={unit === u.unit} className={unit === u.unit ? 'on' : ''} title={u.title} onClick={() => setUnit(u.unit)}>{u.label}</button>
            ))}
          </div>
          <ZoneExport s={s} report={zones} />
          {info?.capabilities.zoneOps && <button onClick={() => setConfirmReset(true)} disabled={gate.off} title={gate.title}>Reset all zones…</button>}
        </div>
      </div>
      {confirmReset && !gate.off && (
        <div className="confirm" role="dialog" aria-label="confirm reset all" data-testid="reset-all-confirm">
          <p>Reset all {zones.nrZones - zones.conventionalZones} sequential zones: every write pointer goes back to its zone start and the zones' data clusters are freed. Conventional zones keep their data.</p>
          <button className="primary" autoFocus onClick={() => void resetAll()}>Reset all zones</button> <button onClick={() => setConfirmReset(false)}>Cancel</button>
        </div>
      )}
      {resetError && <ZoneErrorDetails error={resetError} />}
      <div className="legend" role="group" aria-label="legend and filter">
        {LEGEND_ORDER.map((c) => {
          const code = ZONE_CONDITION_CODES[c];
          const st = CONDITION_STYLE[c];
          return (
            <span key={c} className="legend-pair">
              <button className={'legend-item' + (hidden.has(code) ? ' off' : '')} aria-pressed={!hidden.has(code)} data-condition={c} onClick={() => toggle(code)}
                title={`${st.label}: ${hidden.has(code) ? 'show these zones' : 'hide these zones (map, strip, table, step)'}`}>
                <span className="swatch" style={{ background: st.color }} /><strong>{st.abbr}</strong> <span className="muted">{counts[c]}</span>
              </button>
              <button className="legend-only" aria-label={`show only ${st.label}`} title={`show only ${st.label} zones`} disabled={counts[c] === 0} onClick={() => only(code)}>only</button>
            </span>
          );
        })}
        {hidden.size > 0 && <button className="link" onClick={() => setHidden(new Set())}>show all</button>}
      </div>
      <p className="legend-note muted small" data-testid="precedence-note">
        Where a pixel stands for several zones it shows the rarest condition among them (fewest zones in this image): <strong>{rank || 'none shown'}</strong>.
        The strip under the map shows all zones at any zoom; anything but the commonest is drawn at least 3 px wide. Hidden conditions are grey everywhere.
      </p>
      <div className="zones-step" role="group" aria-label="step through a condition">
        <div className="segmented" role="tablist" aria-label="zones as">
          <button role="tab" aria-selected={tab === 'map'} className={tab === 'map' ? 'on' : ''} onClick={() => setTab('map')}>Map</button>
          <button role="tab" aria-selected={tab === 'table'} className={tab === 'table' ? 'on' : ''} onClick={() => setTab('table')}>Table</button>
        </div>
        <label>step through <select aria-label="condition to step through" value={stepping ?? ''} onChange={(e) => setStepCond(e.target.value as ZoneCondition)}>
          {present.map((c) => <option key={c} value={c}>{CONDITION_STYLE[c].abbr} ({counts[c]})</option>)}
        </select></label>
        <button aria-label="previous zone in condition" title="previous zone in this condition (p)" disabled={!stepping} onClick={() => go(-1)}>◀ prev</button>
        <button aria-label="next zone in condition" title="next zone in this condition (n)" disabled={!stepping} onClick={() => go(1)}>next ▶</button>
        <span className="muted small">keys: n / p on the map or the table</span>
      </div>
      <div className="zones-body">
        {tab === 'map'
          ? <ZoneMap report={zones} selected={selected} filter={filter} precedence={precedence} onStep={step} reveal={reveal} onSelect={(i) => select({ kind: 'zone', index: i })} />
          : <ZoneTable report={zones} shown={filter} selected={selected} onStep={step} onSelect={(i) => select({ kind: 'zone', index: i })}
              onShow={(i) => { select({ kind: 'zone', index: i }); setTab('map'); setReveal((r) => ({ index: i, seq: (r?.seq ?? 0) + 1 })); }} />}
        {chartsShown ? <Suspense fallback={<div className="zone-charts" />}><ZoneCharts r={zones} /></Suspense> : <div className="zone-charts" />}
      </div>
    </section>
  );
}
