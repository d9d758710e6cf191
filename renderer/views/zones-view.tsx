// Zones: the map with a legend that doubles as a filter, the charts, and a reminder that open states are
// session-only.
import { useState } from 'react';
import type { ImageSummary } from '../../shared/contract/dto';
import type { AppError } from '../../shared/qcow2/findings';
import { conditionCounts } from '../../shared/contract/zone-geometry';
import { ZONE_CONDITION_CODES } from '../../shared/qcow2/zoned-types';
import { api } from '../api';
import { ErrorMessage } from '../components/common';
import { useGate } from '../components/gate';
import { ZoneErrorDetails } from '../components/zone-error';
import { viewOffReason } from '../gate';
import { useStore } from '../store';
import { CONDITION_STYLE, LEGEND_ORDER } from '../zone-map/palette';
import { ZoneMap } from '../zone-map/zone-map';
import { ZoneCharts } from './zone-charts';

export function ZonesView({ s }: { s: ImageSummary }) {
  const zones = useStore((st) => st.zones);
  const zonesError = useStore((st) => st.zonesError);
  const selection = useStore((st) => st.selection);
  const select = useStore((st) => st.select);
  const [hidden, setHidden] = useState<ReadonlySet<number>>(new Set());
  const info = useStore((st) => st.info);
  const afterZoneWrite = useStore((st) => st.afterZoneWrite);
  const [confirmReset, setConfirmReset] = useState(false);
  const [resetError, setResetError] = useState<AppError | null>(null);
  const gate = useGate('reset every sequential zone');
  const off = viewOffReason(s, 'zones');
  if (off) return <section className="view"><h2>Zones</h2><p className="note">{off}</p></section>;
  if (!s.zoned) return <section className="view"><h2>Zones</h2><p>This image is not zoned: it has no zoned extension with mode 1.</p></section>;
  if (zonesError) return <section className="view"><h2>Zones</h2><ErrorMessage error={zonesError} /></section>;
  if (!zones) return <section className="view"><h2>Zones</h2><p className="muted">reading write pointers…</p></section>;
  const counts = conditionCounts(zones);
  const filter = hidden.size === 0 ? null : new Set(Object.values(ZONE_CONDITION_CODES).filter((c) => !hidden.has(c)));
  const selected = selection?.kind === 'zone' ? selection.index : -1;
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
  return (
    <section className="view zones" aria-label="Zones">
      <div className="zones-head">
        <h2>Zones <span className="muted">{zones.nrZones} zones · {zones.conventionalZones} conventional</span></h2>
        <p className="note" data-testid="session-only-note">Open states exist while the image is open here; QEMU reads them back as closed.</p>
        {info?.capabilities.zoneOps && <button onClick={() => setConfirmReset(true)} disabled={gate.off} title={gate.title}>Reset all zones…</button>}
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
            <button key={c} className={'legend-item' + (hidden.has(code) ? ' off' : '')} aria-pressed={!hidden.has(code)} data-condition={c} onClick={() => toggle(code)}
              title={hidden.has(code) ? `show ${st.label} zones` : `dim ${st.label} zones`}>
              <span className="swatch" style={{ background: st.color }}>{st.glyph}</span>{st.label} <span className="muted">{counts[c]}</span>
            </button>
          );
        })}
      </div>
      <div className="zones-body">
        <ZoneMap report={zones} selected={selected} filter={filter} onSelect={(i) => select({ kind: 'zone', index: i })} />
        <ZoneCharts r={zones} />
      </div>
    </section>
  );
}
