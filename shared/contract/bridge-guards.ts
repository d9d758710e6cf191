// What main may push to the renderer through the preload's events, checked like every argument main
// receives: a payload that does not fit is dropped in the preload, so a confused or compromised main-side
// sender cannot hand the page a shape its views were never written for.
import type { JobProgress, SessionInfo } from './dto';
import { isBoolean, isJobId, isSessionId, nonNegInt, shape, shortString } from './guards';

type Check = (v: unknown) => string | null;

const nullable = (check: Check): Check => (v) => (v === null ? null : check(v));
const text = shortString(4096);
const count = nonNegInt(Number.MAX_SAFE_INTEGER);

/** An AppError as it crosses the boundary: a code and a message, context optional. */
const appError: Check = (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected an error';
  const e = v as { code?: unknown; message?: unknown };
  return typeof e.code === 'string' && typeof e.message === 'string' ? null : 'expected an error with a code and a message';
};

// Typed by the DTO's own keys: a field added to SessionInfo does not compile until it is checked here.
const sessionInfoFields: { [K in keyof SessionInfo]-?: Check } = {
  id: isSessionId,
  name: text,
  location: text,
  size: count,
  writable: isBoolean,
  editing: isBoolean,
  degraded: nullable(appError),
  inUse: nullable(text),
  lockWarning: nullable(text),
  generation: count,
};
const sessionInfo = shape(sessionInfoFields);

const jobProgressFields: { [K in keyof JobProgress]-?: Check } = { job: isJobId, phase: shortString(200), done: count, total: count };
const jobProgress = shape(jobProgressFields);

export function isSessionInfo(v: unknown): v is SessionInfo {
  return sessionInfo(v) === null;
}

export function isJobProgress(v: unknown): v is JobProgress {
  return jobProgress(v) === null;
}
