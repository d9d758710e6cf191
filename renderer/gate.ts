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

/**
 * Why the image cannot be edited at all (it cannot be decoded), or null. (SessionInfo.writable is not a
 * reason: it tells whether the handle is read-write right now, which it only becomes with editing on.)
 */
export function notEditableReason(s: ImageSummary | null): string | null {
  if (!s) return null;
  if (s.degraded) return 'This file cannot be read as qcow2: it can be inspected, not edited';
  return null;
}

/** An error's sentence without the file path the engine puts in front of it (the file is shown apart). */
export function errorSentence(e: AppError): string {
  return e.file && e.message.startsWith(`${e.file}: `) ? e.message.slice(e.file.length + 2) : e.message;
}

/**
 * The views a degraded session does not have: they need a decoded image. What stays is Overview, Header
 * (the fields the decoder got to), Check (the findings) and Hex (the bytes), and New image.
 */
export const DEGRADED_OFF: ReadonlySet<string> = new Set(['extensions', 'features', 'zones', 'tables', 'layout']);

/** Why a view is off for a degraded session (its tooltip), or null when the view works. */
export function viewOffReason(s: ImageSummary | null, view: string): string | null {
  if (!s?.degraded || !DEGRADED_OFF.has(view)) return null;
  return `Not available: this file cannot be read as qcow2 (${errorSentence(s.degraded)}); Overview, Header, Check and Hex show what could be read`;
}
