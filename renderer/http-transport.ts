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

export function httpApi(signal?: AbortSignal): QzsApi {
  const api: Record<string, (...a: unknown[]) => Promise<Result<unknown>>> = {};
  for (const c of CHANNELS) api[c] = (...a) => callHttp(c, a, signal);
  return api as unknown as QzsApi;
}
