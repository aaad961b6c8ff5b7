// What every local listener does at its edge: answers 503 (Retry-After: 1) until its handler is
// attached, so a request during startup never hangs; refuses what cannot be parsed (bad percent-encoding,
// a Host that is not a host) with 400; turns a handler's exception into 400/500 and a log line instead
// of a crashed process; answers a body over the limit with 413 and closes the connection.
// In serve/ (imports neither local/ nor console/): the local stack's ports and `npm run console` against
// AWS both listen through it.
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  STATUS_CODES,
} from 'node:http';
import type { Duplex } from 'node:stream';

/** A request the edge refuses: `status` is the answer (400 malformed, 413 too large). */
export class EdgeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EdgeError';
  }
}

export interface EdgeServer {
  server: Server;
  /** Attaches the handler: from now on requests reach it instead of the 503. */
  open(handler: RequestListener): void;
}

type Log = (line: string) => void;
const defaultLog: Log = (line) => console.error(line);
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(:\d{1,5})?$/;

export interface EdgeOptions {
  /**
   * Host names answered besides loopback (`--allow-host`: a codespace's or an SSH tunnel's name for this
   * machine), any port; lower-case, checked by `allowedHostNames`.
   */
  allowedHosts?: readonly string[];
}

/** A server whose requests get 503 until `open(handler)`, and whose handler cannot crash the process. */
export function edgeServer(name: string, log: Log = defaultLog, opts: EdgeOptions = {}): EdgeServer {
  const allowedHosts = opts.allowedHosts ?? [];
  let handler: RequestListener | undefined;
  const server = createServer(async (req, res) => {
    try {
      if (!handler) {
        req.resume();
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ message: 'Service Unavailable: the local stack is starting' }));
        return;
      }
      checkRequest(req, allowedHosts);
      await handler(req, res);
    } catch (e) {
      const status = statusOf(e);
      if (status >= 500) log(`${name}: ${req.method} ${printable(req.url)}: ${(e as Error)?.stack ?? e}`);
      else log(`${name}: ${status} for ${req.method} ${printable(req.url)}: ${(e as Error).message}`);
      if (res.headersSent) return void res.destroy();
      if (status === 413) return tooLarge(res);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: STATUS_CODES[status] }));
    }
  });
  // Keep idle keep-alive sockets longer than clients do (as AWS endpoints do): Node's 5 s default makes a
  // client that reuses a socket just as the server closes it fail with ECONNRESET under load.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable) return void socket.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const what = status === 431 ? 'a request whose headers are too large' : 'a request that is not HTTP';
    log(`${name}: ${status} for ${what} (${err.code ?? err.message})`);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  });
  return {
    server,
    open(h) {
      handler = h;
    },
  };
}

/**
 * Throws EdgeError(400) for a request target or Host header no handler could use, and 421 for a Host that
 * is neither this machine nor one of `allowedHosts`.
 */
export function checkRequest(req: IncomingMessage, allowedHosts: readonly string[] = []): void {
  const host = req.headers.host;
  if (host && !HOST.test(host)) throw new EdgeError(400, 'Host header is not a host');
  const target = req.url ?? '/';
  if (!target.startsWith('/')) throw new EdgeError(400, 'request target is not a path');
  try {
    decodeURIComponent(target.split('?')[0] ?? '');
  } catch {
    throw new EdgeError(400, 'bad percent-encoding in the path');
  }
  // Every local port serves this machine only: a Host other than a loopback name is a browser that was
  // pointed here by someone else's DNS (rebinding), so it gets nothing (the emails and tokens are here),
  // unless the user named that host (a forwarded dev environment reaches the stack under its own name).
  if (host && !isLoopbackHost(host) && !allowedHosts.includes(hostnameOf(host)))
    throw new EdgeError(421, 'Host is not this machine (127.0.0.1, localhost) nor an --allow-host name');
}

/** The name part of a Host header that passed the HOST pattern, lower-cased (`Dev.Box:3001` → `dev.box`). */
function hostnameOf(host: string): string {
  return host.replace(/:\d{1,5}$/, '').toLowerCase();
}

/**
 * `--allow-host` values (or HANDOFF_ALLOWED_HOSTS, comma- or space-separated) as lower-case host names.
 * A name only: no scheme, port, path or wildcard (each name is allowed exactly, on every port).
 */
export function allowedHostNames(values: readonly string[]): string[] {
  const names = values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
  for (const name of names) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(name))
      throw new Error(
        `--allow-host takes a host name such as devbox.example (no scheme, port or wildcard), not "${name}"`,
      );
  }
  return [...new Set(names.map((n) => n.toLowerCase()))];
}

/** `127.0.0.1`, `localhost` or `[::1]`, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  return /^(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?$/i.test(host);
}

/** An Origin header that is one of this machine's pages (`http://127.0.0.1:3001`, `http://localhost:…`). */
export function isLoopbackOrigin(origin: string): boolean {
  const m = /^https?:\/\/([^/]+)$/i.exec(origin);
  return m !== null && isLoopbackHost(m[1] ?? '');
}

/** The request's path and query, parsed without trusting the Host header. */
export function urlOf(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://127.0.0.1');
}

function statusOf(e: unknown): number {
  if (e instanceof EdgeError) return e.status;
  if (e instanceof URIError) return 400;
  if ((e as NodeJS.ErrnoException)?.code === 'ERR_INVALID_URL') return 400;
  return 500;
}

/** 413, then the connection is closed: the client cannot keep streaming the rest of the body. */
export function tooLarge(res: import('node:http').ServerResponse, body = STATUS_CODES[413]): void {
  const socket = res.socket;
  res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ message: body }), () => {
    // Half-close first so the answer is read, then drop whatever the client still sends.
    socket?.end();
    setTimeout(() => socket?.destroy(), 250).unref();
  });
}

/**
 * The request body, up to `limit` bytes; beyond it (or when Content-Length says so) EdgeError(413),
 * with the request paused rather than drained.
 */
export function readBody(req: IncomingMessage, limit = 6 * 1024 * 1024): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > limit)
    return Promise.reject(new EdgeError(413, 'Request Entity Too Large'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      done();
      req.pause();
      reject(new EdgeError(413, 'Request Entity Too Large'));
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (e: Error) => {
      done();
      reject(new EdgeError(400, `request body: ${e.message}`));
    };
    const onClose = () => {
      done();
      if (!req.complete) reject(new EdgeError(400, 'request aborted'));
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** The path only (queries carry signed link tokens), printable and short. */
function printable(url = ''): string {
  return (url.split('?')[0] ?? '').replace(/[^\x21-\x7e]/g, '?').slice(0, 200);
}
