// Condition colours (Okabe-Ito, distinguishable with the common colour-vision deficiencies and on light and
// dark backgrounds), each paired with a glyph and a pattern so colour is never the only cue.
import type { ZoneCondition } from '../../shared/qcow2/zoned-types';

export interface ConditionStyle {
  label: string;
  color: string;
  glyph: string;
  /** Pattern drawn on mid-size cells where a glyph does not fit. */
  pattern: 'none' | 'dot' | 'diag' | 'cross' | 'hline' | 'vline' | 'x';
}

export const CONDITION_STYLE: Record<ZoneCondition, ConditionStyle> = {
  'not-wp': { label: 'conventional', color: '#8a8f98', glyph: '+', pattern: 'cross' },
  empty: { label: 'empty', color: '#56b4e9', glyph: '○', pattern: 'none' },
  'implicit-open': { label: 'implicit open', color: '#e69f00', glyph: 'i', pattern: 'diag' },
  'explicit-open': { label: 'explicit open', color: '#d55e00', glyph: 'E', pattern: 'vline' },
  closed: { label: 'closed', color: '#0072b2', glyph: 'C', pattern: 'hline' },
  full: { label: 'full', color: '#009e73', glyph: 'F', pattern: 'dot' },
  'read-only': { label: 'read-only', color: '#cc79a7', glyph: 'R', pattern: 'x' },
  offline: { label: 'offline', color: '#3a3a3a', glyph: '×', pattern: 'x' },
};

export const LEGEND_ORDER: readonly ZoneCondition[] = ['empty', 'implicit-open', 'explicit-open', 'closed', 'full', 'not-wp', 'read-only', 'offline'];

/** "#rrggbb" → [r, g, b]. */
export function rgb(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}
