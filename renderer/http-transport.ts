// The engine over HTTP (`qzs serve`): the same QzsApi, one POST per call. The access token rides in an
// HttpOnly cookie the server set when the printed URL was opened, so this code never handles it.
import { CHANNELS, JOB_ARG, type Channel, type QzsApi } from '../shared/contract/channels';
import type { JobProgress } from '../shared/contract/dto';
import { API_PREFIX, BINARY_TYPE, NDJSON_TYPE } from '../shared/contract/http-protocol';
import type { Result } from '../shared/contract/result';
import { decodeZoneReport } from '../shared/contract/zone-report-codec';

/** Where job progress read from NDJSON answers goes (renderer/api.ts subscribes to it). */
export const httpProgress = new Set<(p: JobProgress) => void>();

/** A job's answer: `{"progress": …}` lines, then `{"result": …}`. Lines are handed on as they arrive. */
async function readJobStream(res: Response): Promise<Result<unknown>> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buf += value;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      const msg = JSON.parse(line) as { progress?: JobProgress; result?: Result<unknown> };
      if (msg.progress) for (const cb of httpProgress) cb(msg.progress);
      if (msg.result) return msg.result;
    }
    if (done) return { ok: false, error: { code: 'io', message: 'qzs serve closed the answer before the work finished; is it still running?' } };
  }
}

export async function callHttp(channel: Channel, args: unknown[], signal?: AbortSignal): Promise<Result<unknown>> {
  let res: Response;
  const job = JOB_ARG[channel] !== undefined;
  if (channel === 'zones:report') performance.mark('qzs:zones-requested');
  try {
    res = await fetch(API_PREFIX + channel, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(job ? { Accept: NDJSON_TYPE } : {}) },
      body: JSON.stringify(args),
      credentials: 'same-origin',
      signal,
    });
  } catch (e) {
    if (signal?.aborted) return { ok: false, error: { code: 'internal', message: 'cancelled' } };
    return { ok: false, error: { code: 'io', message: `lost the connection to qzs serve (${(e as Error).message}); is it still running?` } };
  }
  if (res.status === 401) return { ok: false, error: { code: 'io', message: 'qzs serve refused the request: open the URL it printed (with its token) again' } };
  const type = res.headers.get('content-type') ?? '';
  if (res.ok && type.startsWith(NDJSON_TYPE)) {
    try {
      return await readJobStream(res);
    } catch (e) {
      if (signal?.aborted) return { ok: false, error: { code: 'internal', message: 'cancelled', details: { cancelled: true } } };
      return { ok: false, error: { code: 'io', message: `lost the connection to qzs serve (${(e as Error).message})` } };
    }
  }
  if (res.ok && type.startsWith(BINARY_TYPE)) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (channel === 'image:read') return { ok: true, value: bytes };
    // Transfer and decode of a zone report, as performance marks for bench-ui (issue 14).
    performance.mark('qzs:zones-received');
    const value = decodeZoneReport(bytes);
    performance.mark('qzs:zones-decoded');
    return { ok: true, value };
  }
  if (type.startsWith('application/json')) return (await res.json()) as Result<unknown>;
  return { ok: false, error: { code: 'io', message: `qzs serve answered ${res.status}: ${(await res.text()).trim()}` } };
}

/**
 * Answers asked for before the app asked (prefetchFirstImage), each handed out once to the first call with
 * the same channel and arguments, then forgotten.
 */
const prefetched = new Map<string, Promise<Result<unknown>>>();
const prefetchKey = (channel: Channel, args: unknown[]): string => channel + JSON.stringify(args);

function prefetch(channel: Channel, args: unknown[]): Promise<Result<unknown>> {
  const answer = callHttp(channel, args);
  prefetched.set(prefetchKey(channel, args), answer);
  return answer;
}

/**
 * What the store asks for when the page opens (app:info, then the first image's summary, zone report and
 * edit history), sent at once, before React and the views are even evaluated, and side by side instead of
 * one after another: opening a million zones waited on three round trips and the whole app's start before
 * the report was asked for (issue 14). A report asked for an image that turns out not to be zoned is an
 * error answer nobody takes.
 */
export function prefetchFirstImage(): void {
  void prefetch('app:info', []).then((info) => {
    const id = info.ok ? (info.value as { sessions?: { id: string }[] }).sessions?.[0]?.id : undefined;
    if (id === undefined) return;
    const summary = prefetch('image:summary', [id]);
    void prefetch('zones:report', [id]);
    void prefetch('edit:history', [id]);
    // Not zoned (or unreadable): the store will not take that report, and must not get it if it ever asks later.
    void summary.then((r) => { if (!r.ok || !(r.value as { zoned?: unknown }).zoned) prefetched.delete(prefetchKey('zones:report', [id])); });
  });
}

export function httpApi(signal?: AbortSignal): QzsApi {
  const api: Record<string, (...a: unknown[]) => Promise<Result<unknown>>> = {};
  for (const c of CHANNELS) {
    api[c] = (...a) => {
      const key = prefetchKey(c, a);
      // A call that can be cancelled has its own request: the early answer would not stop with it.
      const early = signal ? undefined : prefetched.get(key);
      if (!early) {
        // Another summary asked for (another image, a reload): what was fetched early is no longer current.
        if (c === 'image:summary') prefetched.clear();
        return callHttp(c, a, signal);
      }
      prefetched.delete(key);
      return early;
    };
  }
  return api as unknown as QzsApi;
}
