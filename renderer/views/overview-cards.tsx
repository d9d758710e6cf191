// The landing page's cards beside the image facts: the zones at a glance (counts by condition, open and
// active use against the limits), the latest check's verdict, and a way into every view.
import type { ImageSummary, ZoneReport } from '../../shared/contract/dto';
import { conditionCounts, resourceUse } from '../../shared/contract/zone-geometry';
import { allocationLine, checkVerdict } from '../../shared/qcow2/check-summary';
import { countBySeverity } from '../finding-groups';
import { viewOffReason } from '../gate';
import { useStore, type ViewName } from '../store';
import { CONDITION_STYLE, LEGEND_ORDER } from '../zone-map/palette';

function Use({ label, used, limit, testid }: { label: string; used: number; limit: number; testid: string }) {
  return (
    <div className="use" data-testid={testid}>
      <span>{label}</span> <strong>{used}</strong> / {limit > 0 ? limit : 'no limit'}
      {limit > 0 && <meter min={0} max={limit} value={Math.min(used, limit)} high={limit} optimum={0} aria-label={`${label} zones of the limit`} />}
    </div>
  );
}

export function ZoneSummaryCard({ r }: { r: ZoneReport }) {
  const setView = useStore((st) => st.setView);
  const counts = conditionCounts(r);
  const use = resourceUse(r);
  return (
    <section className="card" aria-label="zones summary" data-testid="ov-zones">
      <h3>Zones <span className="muted">({r.nrZones})</span></h3>
      <ul className="cond-counts">
        {LEGEND_ORDER.filter((c) => counts[c] > 0).map((c) => (
          <li key={c} data-cond={c}><span className="swatch" style={{ background: CONDITION_STYLE[c].color }} aria-hidden="true" /> <code title={CONDITION_STYLE[c].label}>{CONDITION_STYLE[c].abbr}</code> {CONDITION_STYLE[c].label} <strong>{counts[c]}</strong></li>
        ))}
      </ul>
      <Use label="open" used={use.open} limit={r.maxOpenZones} testid="ov-open" />
      <Use label="active" used={use.active} limit={r.maxActiveZones} testid="ov-active" />
      <button className="link" onClick={() => setView('zones')}>Open the zone map</button>
    </section>
  );
}

export function CheckCard({ s }: { s: ImageSummary }) {
  const check = useStore((st) => st.check);
  const runCheck = useStore((st) => st.runCheck);
  const setView = useStore((st) => st.setView);
  const findings = check?.findings ?? s.findings;
  const n = countBySeverity(findings);
  const verdict = check ? checkVerdict(check.counts, n.error, check.complete) : null;
  const line = check ? allocationLine(check.counts) : null;
  return (
    <section className={`card check-card ${verdict?.kind ?? 'unchecked'}`} aria-label="latest check" data-testid="ov-check" data-verdict={verdict?.kind ?? 'unchecked'}>
      <h3>Latest check</h3>
      {verdict ? <p className="verdict">{verdict.text}</p>
        : <p className="muted">Not checked in this session. Opening it found {findings.length === 0 ? 'nothing to report' : `${findings.length} finding(s)`}.</p>}
      <p className="small">{n.error} error{n.error === 1 ? '' : 's'} · {n.warning} warning{n.warning === 1 ? '' : 's'} · {n.info} note{n.info === 1 ? '' : 's'}</p>
      {line && <p className="small muted"><code>{line}</code></p>}
      <div className="actions">
        {!s.degraded && <button onClick={() => void runCheck()}>{check ? 'Check again' : 'Check now'}</button>}
        <button className="link" onClick={() => setView('check')}>Open Check</button>
      </div>
    </section>
  );
}

const SHORTCUTS: { view: ViewName; label: string; what: string; key: string }[] = [
  { view: 'header', label: 'Header', what: 'every field: offset, raw bytes, value, meaning; edit with a diff', key: 'Alt+2' },
  { view: 'extensions', label: 'Extensions', what: 'header extensions and the feature name table', key: 'Alt+3' },
  { view: 'features', label: 'Feature bits', what: 'the three 64-bit masks, bit by bit', key: 'Alt+4' },
  { view: 'zones', label: 'Zones', what: 'the zone map, conditions, write pointers, zone operations', key: 'Alt+5' },
  { view: 'tables', label: 'Tables', what: 'L1/L2, refcount table and blocks, snapshots', key: 'Alt+6' },
  { view: 'check', label: 'Check', what: 'consistency as qemu-img check sees it, with repairs', key: 'Alt+7' },
  { view: 'hex', label: 'Hex', what: 'the file’s bytes, coloured by structure, with search', key: 'Alt+8' },
  { view: 'compare', label: 'Compare', what: 'against another image or a snapshot: fields, zones, guest ranges', key: 'Alt+9' },
  { view: 'layout', label: 'Layout', what: 'every cluster of the file by owner; leaks and conflicts', key: 'Alt+0' },
];

export function ViewShortcuts({ s }: { s: ImageSummary }) {
  const setView = useStore((st) => st.setView);
  return (
    <section className="view-links" aria-label="views" data-testid="ov-views">
      {SHORTCUTS.map((v) => {
        const off = viewOffReason(s, v.view);
        return (
          <button key={v.view} className="view-link" disabled={!!off} title={off ?? `${v.label} (${v.key})`} onClick={() => setView(v.view)} data-goto={v.view}>
            <strong>{v.label}</strong> <kbd>{v.key}</kbd>
            <span className="muted small">{v.what}</span>
          </button>
        );
      })}
    </section>
  );
}
