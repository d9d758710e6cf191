// `qzs serve`: the same handler table as Electron, over HTTP on 127.0.0.1 only. A random per-run token
// guards everything: it arrives once in the printed URL, is swapped for an HttpOnly SameSite=Strict cookie,
// and every later request must carry it. Host and Origin are checked too, so a web page the user visits
// cannot reach the API through DNS rebinding or a cross-site form.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { JOB_ARG, type Channel } from '../../shared/contract/channels';
import { API_PREFIX, BINARY_CHANNELS, BINARY_TYPE, CSP, NDJSON_TYPE, TOKEN_COOKIE, TOKEN_QUERY } from '../../shared/contract/http-protocol';
import type { ZoneReport } from '../../shared/contract/dto';
import { encodeZoneReportParts } from '../../shared/contract/zone-report-codec';
import { dispatch, type HandlerTable } from '../app/handlers';
import { staticFile } from './static-files';

export interface ServeOptions {
  table: HandlerTable;
  /** Folder holding the built renderer (index.html and assets). */
  uiDir: string;
  port?: number;
  /** Fixed token (tests); random otherwise. */
  token?: string;
  refused: ReadonlySet<Channel>;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;
const HOST = '127.0.0.1';

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=()',
  'Cache-Control': 'no-store',
};

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, ...extra });
  res.end(body);
}

function sendParts(res: ServerResponse, type: string, parts: readonly Uint8Array[]): void {
  const length = parts.reduce((a, p) => a + p.byteLength, 0);
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(length) });
  for (const p of parts.slice(0, -1)) res.write(p);
  res.end(parts.at(-1));
}

function cookieToken(req: IncomingMessage): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === TOKEN_COOKIE) return v.join('=');
  }
  return null;
}

function sameToken(a: string | null, b: string): boolean {
  if (a === null) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const uiDir = resolve(opts.uiDir);
  let origin = '';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    // DNS rebinding: the browser must be talking to 127.0.0.1/localhost on our port.
    const port = origin.slice(origin.lastIndexOf(':') + 1);
    if (req.headers.host !== `${HOST}:${port}` && req.headers.host !== `localhost:${port}`) {
      return send(res, 421, 'text/plain; charset=utf-8', 'qzs serve answers only on 127.0.0.1\n');
    }
    if (req.method === 'GET' && url.pathname === '/' && url.searchParams.has(TOKEN_QUERY)) {
      if (!sameToken(url.searchParams.get(TOKEN_QUERY), token)) return send(res, 403, 'text/plain; charset=utf-8', 'qzs serve: wrong token\n');
      return send(res, 303, 'text/plain; charset=utf-8', '', {
        Location: '/',
        'Set-Cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      });
    }
    if (!sameToken(cookieToken(req), token)) {
      return send(res, 401, 'text/plain; charset=utf-8', 'qzs serve: open the URL that `qzs serve` printed (it carries this run\'s access token)\n');
    }
    if (url.pathname.startsWith(API_PREFIX)) {
      if (req.method !== 'POST') return send(res, 405, 'text/plain; charset=utf-8', 'POST only\n', { Allow: 'POST' });
      const from = req.headers.origin;
      if (from !== undefined && from !== `http://${req.headers.host}`) return send(res, 403, 'text/plain; charset=utf-8', 'cross-origin request refused\n');
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return send(res, 415, 'text/plain; charset=utf-8', 'expected application/json\n');
      const text = await readBody(req);
      if (text === null) return send(res, 413, 'text/plain; charset=utf-8', 'request too large\n');
      let args: unknown;
      try {
        args = JSON.parse(text);
      } catch {
        return send(res, 400, 'application/json', JSON.stringify({ ok: false, error: { code: 'invalid-argument', message: 'request body is not JSON' } }));
      }
      const channel = url.pathname.slice(API_PREFIX.length);
      const abort = new AbortController();
      res.on('close', () => { if (!res.writableFinished) abort.abort(); });
      if (JOB_ARG[channel as Channel] !== undefined && (req.headers.accept ?? '').includes(NDJSON_TYPE)) {
        // A job: progress lines while it runs, the Result last. Closing the stream aborts the job.
        res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': NDJSON_TYPE, 'X-Accel-Buffering': 'no' });
        res.flushHeaders();
        const progress = (p: unknown): void => { if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify({ progress: p }) + '\n'); };
        const result = await dispatch(opts.table, channel, args, { signal: abort.signal, progress }, opts.refused);
        if (!res.destroyed) res.end(JSON.stringify({ result }) + '\n');
        return;
      }
      const result = await dispatch(opts.table, channel, args, { signal: abort.signal }, opts.refused);
      if (result.ok && BINARY_CHANNELS.has(channel as Channel)) {
        if (channel === 'image:read') return send(res, 200, BINARY_TYPE, result.value as Uint8Array);
        // A zone report goes out as views of its own arrays: a million zones are not copied again.
        return sendParts(res, BINARY_TYPE, encodeZoneReportParts(result.value as ZoneReport));
      }
      return send(res, 200, 'application/json', JSON.stringify(result));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    const file = await staticFile(uiDir, url.pathname);
    if (!file) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    return send(res, 200, file.type, file.body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(e as Error).message}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((ok, bad) => {
    server.once('error', bad);
    server.listen(opts.port ?? 0, HOST, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://${HOST}:${port}`;
  return {
    url: `${origin}/?${TOKEN_QUERY}=${token}`,
    port,
    token,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}
