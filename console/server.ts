// The admin console's HTTP side: static files from console/public (plain ES modules, no build step), the
// example form from examples/, and the JSON API under /api/. `npm start` serves it on the Step Functions
// port of the local stack; `npm run console -- --stack <name>` serves it against AWS (console/cli.ts).
import { timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { config } from '../functions/config/bundled.ts';
import { escapeHtml } from '../functions/platform/html.ts';
import { ConsoleApi, type ConsoleOptions } from './api.ts';
import { ApiError, apiErrorOf } from './api-error.ts';
import { answerApi } from './api-routes.ts';

export type { ConsoleOptions } from './api.ts';
export { ApiError } from './api-error.ts';

export type ConsoleHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const PUBLIC = resolve(import.meta.dirname, 'public');
const EXAMPLES = resolve(import.meta.dirname, '..', 'examples');
/** The example form's action as committed; served with the stack's API URL instead. */
const EXAMPLE_API = 'http://127.0.0.1:3000';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

const BASE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** The console's pages: scripts and styles from this origin only, no inline script, no framing. */
const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const COOKIE = 'handoff_console';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The console as a Node request handler. It answers only requests addressed to a loopback host (a page
 * on another site cannot reach it through DNS rebinding), accepts actions only from its own pages (same
 * Origin, JSON body), and never throws: a bad request gets a 4xx, an AWS error its message.
 */
export function createConsole(opts: ConsoleOptions): ConsoleHandler {
  const api = new ConsoleApi(opts);
  return async (req, res) => {
    try {
      await handle(api, opts, req, res);
    } catch (e) {
      const err = apiErrorOf(e);
      if (err.status >= 500 && !(e instanceof ApiError))
        console.error(`console: ${(e as Error)?.stack ?? e}`);
      if (res.headersSent) return void res.destroy();
      sendJson(res, err.status, { error: err.message, ...(err.fields ? { fields: err.fields } : {}) });
    }
  };
}

/** A request past the host check: its decoded path (below the mount that serves it) and query. */
interface Served {
  api: ConsoleApi;
  opts: ConsoleOptions;
  req: IncomingMessage;
  res: ServerResponse;
  path: string[];
  query: URLSearchParams;
}

/** Who serves a path, by its first segment; any other path is a page or a file of console/public. */
const MOUNTS = new Map<string, (s: Served) => Promise<void>>([
  ['api', serveApi],
  ['examples', (s) => serveExample(s.opts, s.req, s.res, s.path)],
]);

async function handle(api: ConsoleApi, opts: ConsoleOptions, req: IncomingMessage, res: ServerResponse) {
  const { path, query } = parseTarget(req.url ?? '/');
  const host = hostnameOf(req.headers.host);
  if (!host || !(LOOPBACK.has(host) || opts.allowedHosts?.includes(host)))
    throw new ApiError(403, 'The console answers on 127.0.0.1 and localhost only (and --allow-host names)');
  const mount = MOUNTS.get(path[0] ?? '');
  if (mount) return mount({ api, opts, req, res, path: path.slice(1), query });
  return servePage({ api, opts, req, res, path, query });
}

/** /api/…: JSON, for a browser holding the token when there is one (api-routes.ts says who answers). */
async function serveApi({ api, opts, req, res, path, query }: Served): Promise<void> {
  if (opts.token && !hasToken(req, opts.token))
    throw new ApiError(
      401,
      'Open the console with the URL npm run console printed (it carries the access token)',
    );
  // The page reads "now" from this (console/public/lib/clock.js): on the local stack, a virtual clock.
  res.setHeader('x-handoff-clock', clockHeader(api.clock));
  const origins = () => pageOrigins(req, opts);
  sendJson(res, 200, await answerApi(api, req, { path, query, origins }));
}

/** The app's pages and files; `/?token=…` (the URL npm run console prints) lands here first. */
async function servePage({ opts, req, res, path, query }: Served): Promise<void> {
  assertRead(req);
  if (opts.token && path.length === 0 && query.has('token')) {
    // The printed URL carries the token once; a cookie keeps it, and the address bar forgets it.
    if (!same(query.get('token') ?? '', opts.token)) throw new ApiError(401, 'Wrong console token');
    res.writeHead(303, {
      ...BASE_HEADERS,
      location: '/',
      'set-cookie': `${COOKIE}=${opts.token}; HttpOnly; SameSite=Strict; Path=/`,
      'cache-control': 'no-store',
    });
    return void res.end();
  }
  return serveStatic(req, res, PUBLIC, path.length === 0 ? ['index.html'] : path);
}

// ---- static files ----

async function serveStatic(req: IncomingMessage, res: ServerResponse, root: string, path: string[]) {
  const file = fileIn(root, path);
  const type = TYPES[extname(file)];
  const info = type ? await stat(file).catch(() => undefined) : undefined;
  if (!type || !info?.isFile()) throw new ApiError(404, 'Not found');
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers = {
    ...BASE_HEADERS,
    'content-type': type,
    'cache-control': 'no-cache',
    etag,
    ...(type.startsWith('text/html') ? { 'content-security-policy': CONSOLE_CSP } : {}),
  };
  if (req.headers['if-none-match'] === etag) return void res.writeHead(304, headers).end();
  const body = await readFile(file);
  res.writeHead(200, { ...headers, 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The example form, with its action pointed at this stack's API; its page may post there only. */
async function serveExample(opts: ConsoleOptions, req: IncomingMessage, res: ServerResponse, path: string[]) {
  assertRead(req);
  const file = fileIn(EXAMPLES, path);
  const type = TYPES[extname(file)];
  const info = type ? await stat(file).catch(() => undefined) : undefined;
  if (!type || !info?.isFile()) throw new ApiError(404, 'Not found');
  const forms = opts.forms ?? config.app.forms;
  let body = await readFile(file);
  const apiUrl = (opts.apiUrl ?? EXAMPLE_API).replace(/\/+$/, '');
  if (type.startsWith('text/html')) {
    // Served from here, the page's origin is this server's: say so when the API would refuse it (403).
    const origin = pageOrigins(req, opts)[0] ?? '';
    const note = forms.allowedOrigins.includes(origin)
      ? ''
      : `<p class="origin-note" role="note">This page's origin, <code>${escapeHtml(origin)}</code>, is not in <code>forms.allowedOrigins</code> (config/app.json): the API refuses its posts with 403. Add it there and synthesize again.</p>`;
    body = Buffer.from(
      body.toString('utf8').replaceAll(EXAMPLE_API, apiUrl).replace('<!-- origin-note -->', note),
    );
  }
  const apiOrigin = new URL(apiUrl).origin;
  // form-action also covers the 303 to the thank-you page, on the site's own origin.
  const thankYouOrigin = new URL(forms.thankYouUrl).origin;
  res.writeHead(200, {
    ...BASE_HEADERS,
    // Not no-referrer: with it, a browser posts the form with `Origin: null`, which the API refuses (403).
    'referrer-policy': 'strict-origin-when-cross-origin',
    'cross-origin-resource-policy': 'cross-origin',
    'content-type': type,
    'cache-control': 'no-cache',
    'content-length': body.length,
    ...(type.startsWith('text/html')
      ? {
          'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src ${apiOrigin}; form-action 'self' ${apiOrigin} ${thankYouOrigin}; base-uri 'none'; frame-ancestors 'none'`,
        }
      : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Files are read: GET or HEAD. */
function assertRead(req: IncomingMessage): void {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') throw new ApiError(405, 'Method not allowed');
}

/** A file under `root` for decoded path segments; parseTarget already refused `..`, separators and NUL. */
function fileIn(root: string, path: string[]): string {
  const file = resolve(join(root, ...path));
  if (!file.startsWith(root + sep)) throw new ApiError(400, 'Bad path');
  return file;
}

// ---- request parsing ----

/**
 * The path as decoded segments and the query. Bad percent-encoding, `.`/`..` segments, and segments that
 * decode to a separator or NUL are a 400 (never a file outside the folder, never a crash).
 */
export function parseTarget(target: string): { path: string[]; query: URLSearchParams } {
  if (!target.startsWith('/')) throw new ApiError(400, 'Bad request target');
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? '' : target.slice(q + 1);
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new ApiError(400, 'Bad percent-encoding');
    }
  };
  const segments = rawPath.split('/').slice(1);
  if (segments.at(-1) === '') segments.pop();
  const path = segments.map(decode);
  if (path.some((s) => s === '' || s === '.' || s === '..' || /[/\\\0]/.test(s)))
    throw new ApiError(400, 'Bad path');
  for (const part of rawQuery.split('&')) {
    if (!part) continue;
    try {
      decodeURIComponent(part.replaceAll('+', ' '));
    } catch {
      // Named as a field, as every other bad query value is: { error, fields }.
      const eq = part.indexOf('=');
      let key = eq < 0 ? part : part.slice(0, eq);
      try {
        key = decodeURIComponent(key.replaceAll('+', ' '));
      } catch {
        // the key itself is badly encoded: shown as sent
      }
      throw new ApiError(400, `Bad percent-encoding in the query: ${key}`, {
        [key]: 'has bad percent-encoding (a % must be followed by two hex digits of UTF-8)',
      });
    }
  }
  return { path, query: new URLSearchParams(rawQuery) };
}

/**
 * The origins a page of this server has, as the browser sees it: `http://<Host>`, and behind a forwarded
 * host name (which a forwarding proxy may serve over TLS) its https twin too.
 */
function pageOrigins(req: IncomingMessage, opts: ConsoleOptions): string[] {
  const host = req.headers.host ?? '';
  const forwarded = opts.allowedHosts?.includes(hostnameOf(host) ?? '') ?? false;
  return forwarded ? [`http://${host}`, `https://${host}`] : [`http://${host}`];
}

/** The hostname of a Host header (`127.0.0.1:3001` → `127.0.0.1`, `[::1]:80` → `[::1]`), lower-cased. */
function hostnameOf(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(host.trim());
  return m?.[1]?.toLowerCase();
}

function hasToken(req: IncomingMessage, token: string): boolean {
  const cookies = String(req.headers.cookie ?? '').split(';');
  const given = cookies.map((c) => c.trim()).find((c) => c.startsWith(`${COOKIE}=`));
  return given !== undefined && same(given.slice(COOKIE.length + 1), token);
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...BASE_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** `x-handoff-clock: <epoch ms>; scale=<n>`: the stack's time when this answer was made, and its speed. */
export function clockHeader(clock: { now(): number; scale: number }): string {
  return `${Math.floor(clock.now())}; scale=${clock.scale}`;
}
