// A zone operation the state machine refused, as a person reads it: what was refused and why, then the
// zone, its state, the limits and the numbers, all visible at once (no "details" click needed).
import type { AppError } from '../../shared/qcow2/findings';
import { hexOffset } from '../format';
import { isGateRefusal } from '../gate';
import { GateRefusal } from './common';

const LABELS: [key: string, label: string, offset?: boolean][] = [
  ['kind', 'reason'],
  ['op', 'operation'],
  ['zone', 'zone'],
  ['condition', 'zone state'],
  ['start', 'zone start', true],
  ['wp', 'write pointer', true],
  ['offset', 'offset asked', true],
  ['length', 'length asked'],
  ['capacity', 'zone capacity'],
  ['maxAppendBytes', 'max append bytes'],
  ['limit', 'limit'],
  ['remaining', 'bytes left in the zone'],
  ['boundary', 'boundary', true],
  ['open', 'open zones now'],
  ['active', 'active zones now'],
  ['openZones', 'open zones'],
  ['maxOpenZones', 'max open zones'],
  ['activeZones', 'active zones'],
  ['maxActiveZones', 'max active zones'],
  ['nrZones', 'zones on the device'],
  ['deviceSize', 'device size'],
];

export function ZoneErrorDetails({ error }: { error: AppError }) {
  if (isGateRefusal(error)) return <GateRefusal error={error} />;
  const d = error.details ?? {};
  const known = new Set(LABELS.map(([k]) => k));
  const rest = Object.entries(d).filter(([k]) => !known.has(k));
  return (
    <div className="error-message zone-error" role="alert" data-testid="zone-error" data-kind={String(d.kind ?? error.code)}>
      <p className="error-line"><strong>Refused ({error.code}):</strong> {error.message}</p>
      <p className="muted small">Nothing was changed.</p>
      <dl className="facts small">
        {LABELS.filter(([k]) => d[k] !== undefined && d[k] !== null).map(([k, label, off]) => (
          <div key={k} className="fact" data-detail={k}>
            <dt>{label}</dt>
            <dd>{off && typeof d[k] === 'number' ? `${d[k]} (${hexOffset(d[k] as number)})` : limit(k, d[k])}</dd>
          </div>
        ))}
        {rest.map(([k, v]) => <div key={k} className="fact" data-detail={k}><dt>{k}</dt><dd>{String(v)}</dd></div>)}
      </dl>
    </div>
  );
}

function limit(key: string, v: string | number | boolean | null | undefined): string {
  if ((key === 'maxOpenZones' || key === 'maxActiveZones') && v === 0) return '0 (no limit)';
  return String(v);
}
