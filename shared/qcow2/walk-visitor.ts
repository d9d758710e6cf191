// What the check's reference walk tells an observer (the file layout map, shared/qcow2/layout.ts) while it
// counts references: every structure and data cluster it counts, where the pointer to it sits, each
// overlap it names and each stored refcount that disagrees. The walk calls these in its own order and
// keeps nothing for them; an observer that wants memory proportional to runs coalesces as it goes.
import type { RefKind } from './check-refs';

export interface WalkVisitor {
  /**
   * `size` bytes at `offset` counted as `kind` (even when they lie past the end of the file or the count
   * is refused), referenced by the pointer at byte `pointer`: a header field, an L1, L2, refcount table,
   * snapshot table, bitmap directory or bitmap table entry.
   */
  reference(kind: RefKind, offset: number, size: number, pointer: number): void;
  /**
   * The common case of a data reference, in small integers (no number boxed per entry): whole cluster
   * `cluster`, inside the file, counted as data for entry `entry` of the L2 table reported last.
   */
  dataCluster(cluster: number, entry: number): void;
  /** Cluster `cluster` counted as `kind` while it already holds `prev` (an overlap finding at `pointer`). */
  overlap(cluster: number, prev: RefKind, kind: RefKind, pointer: number): void;
  /** The stored refcount of `cluster` (at byte `entry` of its refcount block or table) is not the computed one. */
  mismatch(cluster: number, stored: number, computed: number, entry: number): void;
}
