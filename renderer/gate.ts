// What the renderer may offer for the open image: the editing gate (the engine refuses every mutation while
// editing is off: code 'read-only', details.gate) and degraded sessions (the file cannot be decoded: only
// its bytes and findings can be shown). Pure: no store, no React.
import type { ImageSummary } from '../shared/contract/dto';
import type { AppError } from '../shared/qcow2/findings';

export const EDITING_OFF = 'Editing is off: switch it on (Ctrl+E) to change the image';

/** The engine's answer to a mutation while editing is off. */
export function isGateRefusal(e: AppError | null | undefined): boolean {
  return !!e && e.code === 'read-only' && e.details?.gate === true;
}

/** Why the image cannot be edited at all (it cannot be decoded, the file is read-only), or null. */
export function notEditableReason(s: ImageSummary | null): string | null {
  if (!s) return null;
  if (s.degraded) return 'This file cannot be read as qcow2: it can be inspected, not edited';
  if (!s.session.writable) return 'The file is not writable here: it can be inspected, not edited';
  return null;
}

/**
 * The views a degraded session does not have: they need a decoded image. What stays is Overview, Header
 * (the fields the decoder got to), Check (the findings) and Hex (the bytes), and New image.
 */
export const DEGRADED_OFF: ReadonlySet<string> = new Set(['extensions', 'features', 'zones', 'tables']);

/** Why a view is off for a degraded session (its tooltip), or null when the view works. */
export function viewOffReason(s: ImageSummary | null, view: string): string | null {
  if (!s?.degraded || !DEGRADED_OFF.has(view)) return null;
  return `Not available: this file cannot be read as qcow2 (${s.degraded.message}); Overview, Header, Check and Hex show what could be read`;
}
