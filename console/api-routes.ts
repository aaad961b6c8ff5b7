// The console's API routes as a table: method and path (after /api/; `:name` is one path segment) to what
// answers. A path some route has, asked with another method, is 405; any other path 404. An action (POST)
// reads its JSON body first, which only the console's own pages can send (see actionBody).
import type { IncomingMessage } from 'node:http';
import type { ConsoleApi } from './api.ts';
import { ApiError } from './api-error.ts';

/** What a route's answer is made from. */
export interface ApiRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  /** `?reveal=1`: the page shows personal data unmasked. */
  reveal: boolean;
  /** An action's JSON body ({} for a read). */
  body: Record<string, unknown>;
}

interface Route {
  /** GET routes answer HEAD too; POST routes are the run actions. */
  method: 'GET' | 'POST';
  path: string;
  answer(api: ConsoleApi, r: ApiRequest): Promise<unknown>;
}

export const API_ROUTES: readonly Route[] = [
  { method: 'GET', path: 'meta', answer: (api) => api.meta() },
  { method: 'GET', path: 'runs', answer: (api, r) => api.runs.list(r.query, r.reveal) },
  { method: 'GET', path: 'runs/:name', answer: (api, r) => api.run.show(param(r, 'name'), r.reveal) },
  { method: 'POST', path: 'runs/:name/stop', answer: (api, r) => api.run.stop(param(r, 'name')) },
  {
    method: 'POST',
    path: 'runs/:name/redrive',
    answer: (api, r) =>
      api.run.redrive(
        param(r, 'name'),
        typeof r.body.clientToken === 'string' ? r.body.clientToken : undefined,
      ),
  },
  { method: 'POST', path: 'runs/:name/send-now', answer: (api, r) => api.run.sendNow(param(r, 'name')) },
  { method: 'GET', path: 'leads/:leadId', answer: (api, r) => api.lead(param(r, 'leadId'), r.reveal) },
  { method: 'GET', path: 'deals', answer: (api, r) => api.records.deals(r.query, r.reveal) },
  { method: 'GET', path: 'deliverability', answer: (api) => api.records.deliverability() },
  { method: 'GET', path: 'funnel', answer: (api, r) => api.records.funnel(r.query) },
  { method: 'GET', path: 'cohorts', answer: (api, r) => api.records.cohorts(r.query) },
  {
    method: 'GET',
    path: 'scoring-feedback',
    answer: (api, r) => api.records.scoringFeedback(r.query, r.reveal),
  },
];

/**
 * The answer to an API request: `path` is the decoded segments after /api/, `origins` the origins this
 * server's pages have (an action from any other is refused).
 */
export async function answerApi(
  api: ConsoleApi,
  req: IncomingMessage,
  target: { path: string[]; query: URLSearchParams; origins: () => string[] },
): Promise<unknown> {
  const method = req.method ?? 'GET';
  const matching = API_ROUTES.flatMap((route) => {
    const params = match(route.path, target.path);
    return params ? [{ route, params }] : [];
  });
  const found = matching.find(({ route }) => allows(route, method));
  if (!found) {
    if (!matching.length) throw new ApiError(404, 'No such API route');
    const actions = matching.every(({ route }) => route.method === 'POST');
    throw new ApiError(405, actions ? 'Actions are POST requests' : 'Method not allowed');
  }
  const body = found.route.method === 'POST' ? await actionBody(req, target.origins()) : {};
  return found.route.answer(api, {
    params: found.params,
    query: target.query,
    reveal: target.query.get('reveal') === '1',
    body,
  });
}

function allows(route: Route, method: string): boolean {
  return route.method === method || (route.method === 'GET' && method === 'HEAD');
}

/** The `:name` segments of `path` when it has the pattern's shape, else undefined. */
function match(pattern: string, path: readonly string[]): Record<string, string> | undefined {
  const parts = pattern.split('/');
  if (parts.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of parts.entries()) {
    const segment = path[i] as string;
    if (part.startsWith(':')) params[part.slice(1)] = segment;
    else if (part !== segment) return undefined;
  }
  return params;
}

/** A path parameter the route's pattern has (the table and its patterns are written together). */
function param(r: ApiRequest, name: string): string {
  const value = r.params[name];
  if (value === undefined) throw new Error(`The route has no :${name}`);
  return value;
}

/**
 * An action's body: JSON from the console's own page. A cross-site form cannot send JSON without a
 * preflight (which gets no CORS answer), and its Origin would not match.
 */
async function actionBody(
  req: IncomingMessage,
  origins: readonly string[],
): Promise<Record<string, unknown>> {
  const origin = req.headers.origin;
  if (origin !== undefined && !origins.includes(origin))
    throw new ApiError(403, 'Actions come from the console’s own pages only');
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim();
  if (type !== 'application/json') throw new ApiError(415, 'Send actions as application/json');
  const raw = await readSmallBody(req, 4096);
  if (raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ApiError(400, 'The body is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ApiError(400, 'The body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function readSmallBody(req: IncomingMessage, limit: number): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > limit)
    return Promise.reject(new ApiError(413, 'The body is too large'));
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.pause();
        reject(new ApiError(413, 'The body is too large'));
      } else chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => reject(new ApiError(400, 'The request was aborted')));
  });
}
