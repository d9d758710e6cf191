// The summary lines qemu-img check prints after its findings (qemu-img.c: dump_human_image_check), for
// the CLI and the Check view alike.
import type { ImageCheck } from './check';

type Counts = Pick<ImageCheck, 'total-clusters' | 'allocated-clusters' | 'fragmented-clusters' | 'compressed-clusters' | 'image-end-offset'>;

/** A share with two decimals as qemu-img prints it; 0.00 of nothing. */
export function checkPercent(n: number, total: number): string {
  return total ? ((100 * n) / total).toFixed(2) : '0.00';
}

/** "48/16384 = 0.29% allocated, 0.00% fragmented, 0.00% compressed clusters"; null without clusters. */
export function allocationLine(r: Counts): string | null {
  if (!r['total-clusters']) return null;
  return `${r['allocated-clusters']}/${r['total-clusters']} = ${checkPercent(r['allocated-clusters'], r['total-clusters'])}% allocated, ` +
    `${checkPercent(r['fragmented-clusters'], r['allocated-clusters'])}% fragmented, ${checkPercent(r['compressed-clusters'], r['allocated-clusters'])}% compressed clusters`;
}

export type CheckVerdictKind = 'clean' | 'corrupt' | 'leaks' | 'check-errors' | 'partial';

export interface CheckVerdict {
  kind: CheckVerdictKind;
  /** qemu-img's sentence where it has one ("No errors were found on the image."). */
  text: string;
}

type VerdictCounts = Pick<ImageCheck, 'corruptions' | 'leaks' | 'check-errors'>;

/**
 * What a check concluded, in the order qemu-img check reports it: corruptions (or error findings), then
 * check errors, then leaks; a walk that missed tables claims neither "clean" nor "leaks only".
 */
export function checkVerdict(r: VerdictCounts, errorFindings: number, complete: boolean): CheckVerdict {
  if (r.corruptions > 0) return { kind: 'corrupt', text: `${r.corruptions} errors were found on the image. Data may be corrupted, or further writes to the image may corrupt it.` };
  // Findings of ours that QEMU does not count as corruptions (a header field, a zone's write pointer).
  if (errorFindings > 0) return { kind: 'corrupt', text: `${errorFindings} error${errorFindings === 1 ? '' : 's'} found in the image's metadata: see the findings below.` };
  if (r['check-errors'] > 0) return { kind: 'check-errors', text: `${r['check-errors']} internal errors have occurred during the check.` };
  if (!complete) return { kind: 'partial', text: 'The check could not walk every table: its counts are partial and no leak is claimed.' };
  if (r.leaks > 0) return { kind: 'leaks', text: `${r.leaks} leaked clusters were found on the image. This means waste of disk space, but no harm to data.` };
  return { kind: 'clean', text: 'No errors were found on the image.' };
}
