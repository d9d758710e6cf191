// The Check view's findings: one line per kind with its count (a kind with many members expands), a
// severity filter with counts, badges coloured by severity. Each finding opens its bytes in the hex view.
import { useState, type ReactNode } from 'react';
import type { Finding, Severity } from '../../shared/qcow2/findings';
import { countBySeverity, groupFindings, SEVERITIES, severityLabel, type FindingGroup } from '../finding-groups';
import { hexOffset } from '../format';

/** Members shown when a group opens; the rest behind "show more" (a check can find thousands of leaks). */
const GROUP_PAGE = 100;

export type SeverityFilter = 'all' | Severity;

export function SeverityBadge({ severity }: { severity: Severity }) {
  return <span className={`sev ${severity}`} data-severity={severity}>{severityLabel(severity)}</span>;
}

export function SeverityFilterBar({ findings, value, onChange }: { findings: readonly Finding[]; value: SeverityFilter; onChange(v: SeverityFilter): void }) {
  const counts = countBySeverity(findings);
  const options: { id: SeverityFilter; label: string; n: number }[] = [
    { id: 'all', label: 'All', n: findings.length },
    ...SEVERITIES.map((s) => ({ id: s as SeverityFilter, label: s === 'error' ? 'Errors' : s === 'warning' ? 'Warnings' : 'Notes', n: counts[s] })),
  ];
  return (
    <div className="sev-filter" role="radiogroup" aria-label="show findings of severity" data-testid="severity-filter">
      {options.map((o) => (
        <button key={o.id} role="radio" aria-checked={value === o.id} className={`sev-option ${o.id}${value === o.id ? ' active' : ''}`}
          disabled={o.id !== 'all' && o.n === 0} onClick={() => onChange(o.id)} data-filter={o.id}>
          {o.label} <span className="count">{o.n}</span>
        </button>
      ))}
    </div>
  );
}

/** What a card adds after its details (the Layout view's "on the map" link). */
export type FindingExtra = (f: Finding) => ReactNode;

export function FindingCard({ f, onOpen, extra }: { f: Finding; onOpen(f: Finding): void; extra?: FindingExtra }) {
  return (
    <li className={`finding ${f.severity}`}>
      <button className="finding-head" onClick={() => onOpen(f)} data-finding={f.id} title="show its bytes in the hex view">
        <SeverityBadge severity={f.severity} />
        <strong>{f.structure}</strong> · <code>{f.field}</code> — {f.message}
      </button>
      <div className="finding-body">
        found <code>{f.found}</code>, expected <code>{f.expected}</code> · bytes {hexOffset(f.offset)} (+{f.length}) · fix: {f.fix}
        {extra && <> · {extra(f)}</>}
      </div>
    </li>
  );
}

function Group({ g, onOpen, extra }: { g: FindingGroup; onOpen(f: Finding): void; extra?: FindingExtra }) {
  const [open, setOpen] = useState(false);
  const [shown, setShown] = useState(GROUP_PAGE);
  const first = g.findings[0];
  if (g.findings.length === 1) return <ul className="findings single">{<FindingCard f={first} onOpen={onOpen} extra={extra} />}</ul>;
  return (
    <div className={`finding-kind ${g.severity}${open ? ' open' : ''}`} data-group={g.id} data-count={g.findings.length}>
      <button className="kind-head" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span className="chevron" aria-hidden="true">{open ? '▾' : '▸'}</span>
        <SeverityBadge severity={g.severity} />
        <strong>{g.structure}</strong>{g.field !== null && <> · <code>{g.field}</code></>}
        <span className="kind-id muted"><code>{g.id}</code></span>
        <span className="kind-count" data-testid="group-count">× {g.findings.length}</span>
      </button>
      {!open && <div className="finding-body">first: {first.message} · fix: {first.fix}</div>}
      {open && (
        <ul className="findings">
          {g.findings.slice(0, shown).map((f, k) => <FindingCard key={f.id + k} f={f} onOpen={onOpen} extra={extra} />)}
          {g.findings.length > shown && (
            <li className="more"><button className="link" onClick={() => setShown(shown + GROUP_PAGE)}>show {Math.min(GROUP_PAGE, g.findings.length - shown)} more of {g.findings.length - shown}</button></li>
          )}
        </ul>
      )}
    </div>
  );
}

export function FindingGroups({ findings, filter, onOpen, extra }: { findings: readonly Finding[]; filter: SeverityFilter; onOpen(f: Finding): void; extra?: FindingExtra }) {
  const groups = groupFindings(filter === 'all' ? findings : findings.filter((f) => f.severity === filter));
  return (
    <div className="finding-groups" data-testid="finding-groups">
      {groups.map((g) => <Group key={g.key} g={g} onOpen={onOpen} extra={extra} />)}
    </div>
  );
}
