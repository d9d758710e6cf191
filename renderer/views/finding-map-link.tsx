// "on the map": a check finding's link to the cluster it is about in the Layout view.
import type { Finding } from '../../shared/qcow2/findings';
import { useLayout } from './layout-store';

export function FindingMapLink({ finding }: { finding: Finding }) {
  const showFinding = useLayout((s) => s.showFinding);
  return (
    <button className="link finding-map-link" data-testid="finding-map-link" title="show the cluster this finding is about on the layout map"
      onClick={() => showFinding(finding)}>on the map</button>
  );
}
