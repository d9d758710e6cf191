// The HTTP face of the contract (`qzs serve`): POST /api/<channel> with a JSON array of arguments. The
// answer is a JSON Result, except for channels with binary results, whose success is the raw body
// (application/octet-stream) and whose failure is still a JSON Result.
import type { Channel } from './channels';

export const API_PREFIX = '/api/';
/** The per-run token travels once in the URL, then as this cookie (HttpOnly, SameSite=Strict). */
export const TOKEN_COOKIE = 'qzs_token';
export const TOKEN_QUERY = 'token';
export const BINARY_TYPE = 'application/octet-stream';
/**
 * Job channels (JOB_ARG) asked with `Accept: application/x-ndjson` answer as a stream of JSON lines:
 * `{"progress": JobProgress}` while the work runs, then one `{"result": Result}`. The stream rides the
 * same cookie-guarded POST; closing it aborts the job.
 */
export const NDJSON_TYPE = 'application/x-ndjson';

export const BINARY_CHANNELS: ReadonlySet<Channel> = new Set<Channel>(['image:read', 'zones:report', 'zones:op']);

/** The Content-Security-Policy for the UI, shared by index.html (Electron) and the HTTP server. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');
