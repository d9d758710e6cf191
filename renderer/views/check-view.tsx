// Check: qemu-img check's summary, then the findings grouped by kind and filtered by severity; each names
// structure and field, found vs expected, the fix, and jumps to its bytes. Repair says what it will write and where the backup goes before it does anything.
import { useState } from 'react';
import type { ImageSummary, RepairPlan } from '../../shared/contract/dto';
import type { Finding } from '../../shared/qcow2/findings';
import { api } from '../api';
import { useGate } from '../components/gate';
import { errorSentence } from '../gate';
import { useStore } from '../store';
import { FindingGroups, SeverityFilterBar, type SeverityFilter } from './check-findings';
import { CheckSummary } from './check-summary';
import { FindingMapLink } from './finding-map-link';

export function CheckView({ s }: { s: ImageSummary }) {
  const check = useStore((st) => st.check);
  const runCheck = useStore((st) => st.runCheck);
  const select = useStore((st) => st.select);
  const showBytes = useStore((st) => st.showBytes);
  const info = useStore((st) => st.info);
  const afterWrite = useStore((st) => st.afterWrite);
  const long = useStore((st) => st.long);
  const [plan, setPlan] = useState<{ mode: 'leaks' | 'all'; plan: RepairPlan } | null>(null);
  const cancelled = useStore((st) => st.cancelled);
  const gate = useGate();
  const findings: Finding[] = check?.findings ?? s.findings;
  const degraded = s.degraded;
  const [filter, setFilter] = useState<SeverityFilter>('all');
  // A filter whose severity the new findings lack falls back to all of them.
  const shownFilter = filter === 'all' || findings.some((f) => f.severity === filter) ? filter : 'all';
  const open = (f: Finding): void => {
    select({ kind: 'finding', finding: f });
    showBytes(f.offset, Math.max(1, f.length));
  };
  const askRepair = async (mode: 'leaks' | 'all'): Promise<void> => {
    const r = await api['check:planRepair'](s.session.id, { mode });
    if (r.ok) setPlan({ mode, plan: r.value });
    else useStore.getState().fail(r.error);
  };
  const repair = async (): Promise<void> => {
    if (!plan || plan.plan.refused || gate.off) return;
    const r = await long('repairing', (a) => a['check:repair'](s.session.id, { mode: plan.mode }));
    setPlan(null);
    if (r.ok) {
      await afterWrite(`repaired ${r.value.repaired} problem(s); backup: ${r.value.backupName}`);
      await runCheck();
    }
  };
  return (
    <section className="view" aria-label="Check">
      <h2>Check</h2>
      {degraded ? (
        <p className="note" data-testid="check-degraded">This file cannot be read as qcow2 ({errorSentence(degraded)}): there are no tables to walk and nothing to repair. {findings.length} finding(s) from opening it:</p>
      ) : (
        <div className="actions">
          <button className="primary" onClick={() => void runCheck()}>{check ? 'Check again' : 'Run full check'}</button>
          {info?.capabilities.repair && <>
            <button onClick={() => void askRepair('leaks')} disabled={gate.off} title={gate.off ? gate.title : 'see what a repair of leaked clusters would write'}>Repair leaks…</button>
            <button onClick={() => void askRepair('all')} disabled={gate.off} title={gate.off ? gate.title : 'see what a repair of every finding would write'}>Repair all…</button>
          </>}
          <span className="muted">{check ? `${findings.length} finding(s)${check.complete ? '' : ' (check stopped early: partial)'}` : `${findings.length} finding(s) seen while opening; run the full check for tables, refcounts and zones`}</span>
        </div>
      )}
      {cancelled === 'checking the image' && <p className="note" role="status" data-testid="check-cancelled">The check was cancelled and stopped before it finished; the findings below are from before it ran.</p>}
      {plan && plan.plan.refused && (
        <div className="refused" role="alert" data-testid="repair-refused">
          <p><strong>No repair is offered ({plan.mode}):</strong> {plan.plan.refused}</p>
          <p className="muted small">Nothing was written. <button className="link" onClick={() => setPlan(null)}>Dismiss</button></p>
        </div>
      )}
      {plan && !plan.plan.refused && (
        <div className="confirm" role="dialog" aria-label="confirm repair" data-testid="repair-confirm">
          <p>Repair ({plan.mode}) will:</p>
          <ul>{plan.plan.actions.map((a) => <li key={a}>{a}</li>)}</ul>
          <p>Before writing, the image is copied to <code data-testid="backup-path">{plan.plan.backupPath}</code>.</p>
          <button className="primary" onClick={() => void repair()} disabled={gate.off} title={gate.title}>Repair with backup</button> <button onClick={() => setPlan(null)}>Cancel</button>
        </div>
      )}
      {findings.length === 0 && !degraded && <p data-testid="no-findings">No findings: the image is consistent as far as this check sees.</p>}
      {check && !degraded && <CheckSummary check={check} />}
      {findings.length > 0 && <SeverityFilterBar findings={findings} value={shownFilter} onChange={setFilter} />}
      <FindingGroups findings={findings} filter={shownFilter} onOpen={open} extra={degraded ? undefined : (f) => <FindingMapLink finding={f} />} />
    </section>
  );
}
