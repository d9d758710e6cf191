// The engine over HTTP (`qzs serve`): the same QzsApi, one POST per call. The access token rides in an
// HttpOnly cookie the server set when the printed URL was opened, so this code never handles it.
import { CHANNELS, type Channel, type QzsApi } from '../shared/contract/channels';
import { API_PREFIX, BINARY_TYPE } from '../shared/contract/http-protocol';
import type { Result } from '../shared/contract/result';
import { decodeZoneReport } from '../shared/contract/zone-report-codec';

export async function callHttp(channel: Channel, args: unknown[], signal?: AbortSignal): Promise<Result<unknown>> {
  let res: Response;
  try {
    res = await fetch(API_PREFIX + channel, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
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
  if (res.ok && type.startsWith(BINARY_TYPE)) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    return { ok: true, value: channel === 'image:read' ? bytes : decodeZoneReport(bytes) };
  }
  if (type.startsWith('application/json')) return (await res.json()) as Result<unknown>;
  return { ok: false, error: { code: 'io', message: `qzs serve answered ${res.status}: ${(await res.text()).trim()}` } };
}

export function httpApi(signal?: AbortSignal): QzsApi {
  const api: Record<string, (...a: unknown[]) => Promise<Result<unknown>>> = {};
  for (const c of CHANNELS) api[c] = (...a) => callHttp(c, a, signal);
  return api as unknown as QzsApi;
}
