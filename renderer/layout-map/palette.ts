// A colour and a pattern per kind of cluster, so that colour is never the only cue; conflicts in a red no
// other kind comes near, and drawn with a ring that stays visible at any zoom.
import type { LayoutKind } from '../../shared/contract/dto';

export type Pattern = 'none' | 'dot' | 'diag' | 'cross' | 'hline' | 'vline' | 'x';

export interface KindStyle {
  label: string;
  color: string;
  pattern: Pattern;
}

export const KIND_STYLE: Record<LayoutKind, KindStyle> = {
  header: { label: 'header + extensions', color: '#6a3d9a', pattern: 'diag' },
  extension: { label: 'extension data (LUKS)', color: '#b7a2d0', pattern: 'diag' },
  l1: { label: 'L1 table', color: '#1f5fa8', pattern: 'hline' },
  'snapshot-l1': { label: 'snapshot L1', color: '#8fb8de', pattern: 'hline' },
  l2: { label: 'L2 table', color: '#2b8cbe', pattern: 'vline' },
  'snapshot-l2': { label: 'snapshot L2', color: '#a8d1e7', pattern: 'vline' },
  'refcount-table': { label: 'refcount table', color: '#e69f00', pattern: 'cross' },
  'refcount-block': { label: 'refcount block', color: '#f2c46b', pattern: 'dot' },
  'snapshot-table': { label: 'snapshot table', color: '#8c6bb1', pattern: 'hline' },
  'bitmap-directory': { label: 'bitmap directory', color: '#a6611a', pattern: 'cross' },
  'bitmap-table': { label: 'bitmap table', color: '#d9a066', pattern: 'diag' },
  'bitmap-data': { label: 'bitmap data', color: '#eed3ad', pattern: 'dot' },
  zonedmeta: { label: 'zonedmeta', color: '#cc79a7', pattern: 'x' },
  data: { label: 'data', color: '#009e73', pattern: 'none' },
  compressed: { label: 'compressed', color: '#7fcdbb', pattern: 'dot' },
  free: { label: 'free', color: '#d9dde3', pattern: 'none' },
  leaked: { label: 'leaked', color: '#f0e442', pattern: 'x' },
  conflict: { label: 'conflict', color: '#ff1744', pattern: 'x' },
  unknown: { label: 'unknown', color: '#8a8f98', pattern: 'diag' },
};

/** Legend order: problems first, then what a reader looks for. */
export const KIND_ORDER: readonly LayoutKind[] = [
  'conflict', 'leaked', 'unknown', 'data', 'compressed', 'free', 'header', 'extension', 'l1', 'l2', 'snapshot-l1', 'snapshot-l2',
  'refcount-table', 'refcount-block', 'snapshot-table', 'bitmap-directory', 'bitmap-table', 'bitmap-data', 'zonedmeta',
];
