// Above the findings, what qemu-img check prints below them: the verdict, allocated/total clusters,
// fragmented and compressed shares, the image end offset.
import type { CheckResult } from '../../shared/contract/dto';
import { allocationLine, checkPercent, checkVerdict } from '../../shared/qcow2/check-summary';
import { hexOffset, human } from '../format';

export function CheckSummary({ check }: { check: CheckResult }) {
  const c = check.counts;
  const errors = check.findings.filter((f) => f.severity === 'error').length;
  const verdict = checkVerdict(c, errors, check.complete);
  const allocated = c['allocated-clusters'];
  const line = allocationLine(c);
  return (
    <div className={`check-summary ${verdict.kind}`} data-testid="check-summary" data-verdict={verdict.kind}>
      <p className="verdict" data-testid="check-verdict">{verdict.text}</p>
      <dl className="tiles">
        <div className="tile"><dt>Allocated clusters</dt>
          <dd data-testid="sum-allocated">{allocated} / {c['total-clusters']} <span className="muted">({checkPercent(allocated, c['total-clusters'])}%)</span>
            <meter min={0} max={Math.max(1, c['total-clusters'])} value={allocated} aria-label="allocated share" /></dd></div>
        <div className="tile"><dt>Fragmented</dt><dd data-testid="sum-fragmented">{checkPercent(c['fragmented-clusters'], allocated)}% <span className="muted">({c['fragmented-clusters']})</span></dd></div>
        <div className="tile"><dt>Compressed</dt><dd data-testid="sum-compressed">{checkPercent(c['compressed-clusters'], allocated)}% <span className="muted">({c['compressed-clusters']})</span></dd></div>
        <div className="tile"><dt>Image end offset</dt><dd data-testid="sum-end">{c['image-end-offset']} <span className="muted">({hexOffset(c['image-end-offset'])}, {human(c['image-end-offset'])})</span></dd></div>
        <div className="tile"><dt>Corruptions · leaks · check errors</dt><dd data-testid="sum-problems">{c.corruptions} · {c.leaks} · {c['check-errors']}</dd></div>
      </dl>
      {line && <p className="qemu-line muted small" title="as qemu-img check prints it"><code data-testid="sum-line">{line}</code></p>}
    </div>
  );
}
