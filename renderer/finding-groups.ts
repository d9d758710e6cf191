// Findings of one kind (one id and severity) gathered into one group: a check that finds 51 leaked
// clusters shows one "refcount.leak × 51" line, not 51 cards. Pure.
import type { Finding, Severity } from '../shared/qcow2/findings';

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

export interface FindingGroup {
  /** id and severity: a kind can in principle carry two severities, and those are two groups. */
  key: string;
  id: string;
  severity: Severity;
  /** The structure every member names, or the first one's with "…" when they differ. */
  structure: string;
  /** The field every member names, or null when they differ. */
  field: string | null;
  findings: Finding[];
}

/** Groups in severity order (errors first), the larger first within a severity, then by id. */
export function groupFindings(findings: readonly Finding[]): FindingGroup[] {
  const by = new Map<string, FindingGroup>();
  for (const f of findings) {
    const key = `${f.severity}:${f.id}`;
    let g = by.get(key);
    if (!g) { g = { key, id: f.id, severity: f.severity, structure: f.structure, field: f.field, findings: [] }; by.set(key, g); }
    if (g.field !== null && g.field !== f.field) g.field = null;
    if (!g.structure.endsWith('…') && g.structure !== f.structure) g.structure += '…';
    g.findings.push(f);
  }
  const rank = (s: Severity): number => SEVERITIES.indexOf(s);
  return [...by.values()].sort((a, b) => rank(a.severity) - rank(b.severity) || b.findings.length - a.findings.length || a.id.localeCompare(b.id));
}

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const out: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) out[f.severity]++;
  return out;
}

export function severityLabel(s: Severity): string {
  return s === 'info' ? 'note' : s;
}
