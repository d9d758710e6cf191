// What of a check report crosses the boundary beside the findings: qemu-img check's counts.
import type { CheckCounts } from '../../shared/contract/dto';
import type { CheckReport } from '../../shared/qcow2/check';

export function checkCounts(r: CheckReport): CheckCounts {
  return {
    'check-errors': r['check-errors'], 'image-end-offset': r['image-end-offset'], corruptions: r.corruptions, leaks: r.leaks,
    'corruptions-fixed': r['corruptions-fixed'], 'leaks-fixed': r['leaks-fixed'], 'total-clusters': r['total-clusters'],
    'allocated-clusters': r['allocated-clusters'], 'fragmented-clusters': r['fragmented-clusters'], 'compressed-clusters': r['compressed-clusters'],
  };
}
