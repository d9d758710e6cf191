// Condition colours (Okabe-Ito, distinguishable with the common colour-vision deficiencies and on light and
// dark backgrounds), each paired with a pattern and the abbreviation the kernel's blkzone and nvme-cli print
// (EMPTY, IOPEN, EOPEN, …) so colour is never the only cue and no letter can be misread (an "E" read as Empty
// for explicit open was the old glyph set's trap).
import type { ZoneCondition } from '../../shared/qcow2/zoned-types';

export interface ConditionStyle {
  label: string;
  color: string;
  /** The kernel / nvme-cli abbreviation (util-linux blkzone.c zone_cond_str; nvme-cli zns state names): drawn in cells and the legend. */
  abbr: string;
  /** Pattern drawn on mid-size cells where the abbreviation does not fit. */
  pattern: 'none' | 'dot' | 'diag' | 'cross' | 'hline' | 'vline' | 'x';
}

export const CONDITION_STYLE: Record<ZoneCondition, ConditionStyle> = {
  'not-wp': { label: 'conventional', color: '#8a8f98', abbr: 'NOT_WP', pattern: 'cross' },
  empty: { label: 'empty', color: '#56b4e9', abbr: 'EMPTY', pattern: 'none' },
  'implicit-open': { label: 'implicit open', color: '#e69f00', abbr: 'IOPEN', pattern: 'diag' },
  'explicit-open': { label: 'explicit open', color: '#d55e00', abbr: 'EOPEN', pattern: 'vline' },
  closed: { label: 'closed', color: '#0072b2', abbr: 'CLOSED', pattern: 'hline' },
  full: { label: 'full', color: '#009e73', abbr: 'FULL', pattern: 'dot' },
  'read-only': { label: 'read-only', color: '#cc79a7', abbr: 'RDONLY', pattern: 'x' },
  offline: { label: 'offline', color: '#3a3a3a', abbr: 'OFFLINE', pattern: 'x' },
};

export const LEGEND_ORDER: readonly ZoneCondition[] = ['empty', 'implicit-open', 'explicit-open', 'closed', 'full', 'not-wp', 'read-only', 'offline'];

/** "#rrggbb" → [r, g, b]. */
export function rgb(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}
