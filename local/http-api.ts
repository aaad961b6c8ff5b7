import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener } from 'node:http';
import { EdgeError, readBody, urlOf } from '../serve/edge.ts';
import type { LocalFunctions } from './functions.ts';
import { type RateLimit, TokenBucket } from './sfn/throttle.ts';
import { type CfnTemplate, type LocalNames, resolve } from './template.ts';

export interface LocalRoute {
  /** The API's execute-api ARN (locally named by its logical id); a request's is `<api>/<stage>/<METHOD><path>`. */
  apiArn: string;
  method: string;
  path: string;
  functionArn: string;
  iam: boolean;
  pattern: RegExp;
  params: string[];
  /** The route's throttle from its stage (RouteSettings, else DefaultRouteSettings); none: unthrottled. */
  limit?: RateLimit;
}

interface CfnRouteSettings {
  ThrottlingRateLimit?: number;
  ThrottlingBurstLimit?: number;
}

/** A stage's throttle for `routeKey`: its RouteSettings entry, else its DefaultRouteSettings, as API Gateway. */
function limitOf(stage: Record<string, unknown> | undefined, routeKey: string): RateLimit | undefined {
  const own = (stage?.RouteSettings as Record<string, CfnRouteSettings> | undefined)?.[routeKey];
  const fallback = stage?.DefaultRouteSettings as CfnRouteSettings | undefined;
  const perSecond = own?.ThrottlingRateLimit ?? fallback?.ThrottlingRateLimit;
  const burst = own?.ThrottlingBurstLimit ?? fallback?.ThrottlingBurstLimit;
  return perSecond === undefined || burst === undefined ? undefined : { perSecond, burst };
}

/**
 * The HTTP API's routes, from the template's AWS::ApiGatewayV2::Route and Integration resources, each with
 * its stage's throttle (AWS::ApiGatewayV2::Stage).
 */
export function routesOf(template: CfnTemplate, names: LocalNames): LocalRoute[] {
  const res = template.Resources;
  const stages = Object.values(res).filter((r) => r.Type === 'AWS::ApiGatewayV2::Stage');
  return Object.values(res)
    .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
    .map((r) => {
      const p = r.Properties ?? {};
      const [method = 'ANY', path = '/'] = String(p.RouteKey).split(' ');
      const target = String(resolve(template, p.Target, names)).replace('integrations/', '');
      const integration = res[target];
      if (!integration) throw new Error(`Route ${p.RouteKey} targets unknown integration ${target}`);
      const functionArn = String(resolve(template, integration.Properties?.IntegrationUri, names));
      const params: string[] = [];
      const pattern = new RegExp(
        `^${path.replace(/\{(\w+)\+?\}/g, (_, name: string) => {
          params.push(name);
          return '([^/]+)';
        })}$`,
      );
      const apiId = String(resolve(template, p.ApiId, names));
      const apiArn = `arn:aws:execute-api:${names.region}:${names.account}:${apiId}`;
      const stage = stages.find((st) => String(resolve(template, st.Properties?.ApiId, names)) === apiId);
      const limit = limitOf(stage?.Properties, String(p.RouteKey));
      return {
        apiArn,
        method,
        path,
        functionArn,
        iam: p.AuthorizationType === 'AWS_IAM',
        pattern,
        params,
        ...(limit ? { limit } : {}),
      };
    });
}

const TEXT = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript))/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A request's time as API Gateway writes `requestContext.time`: `25/Nov/2026:16:04:05 +0000`. */
export function requestTimeOf(at: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const clock = `${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())}`;
  return `${two(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()}:${clock} +0000`;
}

/**
 * API Gateway HTTP API payload format 2.0, built from a Node request, as AWS writes it: the API's id and
 * account from its ARN, cookies in `cookies` (not among the headers), repeated query parameters joined with
 * commas, the caller's IPv4 address as such, and for an IAM route (admin) the caller, which locally is the
 * holder of the admin token.
 */
function eventFor(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  route: LocalRoute,
  params: Record<string, string>,
  now: Date,
) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined && k !== 'cookie') headers[k] = Array.isArray(v) ? v.join(',') : v;
  const text = TEXT.test(headers['content-type'] ?? '') || body.length === 0;
  const [, , , , accountId = '', apiId = ''] = route.apiArn.split(':');
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const caller = 'local-admin';
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    cookies: req.headers.cookie?.split(';').map((c) => c.trim()),
    headers,
    queryStringParameters: url.search ? query : undefined,
    pathParameters: route.params.length ? params : undefined,
    requestContext: {
      accountId,
      apiId,
      ...(route.iam
        ? {
            authorizer: {
              iam: {
                accessKey: caller,
                accountId,
                callerId: caller,
                cognitoIdentity: null,
                principalOrgId: null,
                userArn: `arn:aws:iam::${accountId}:user/${caller}`,
                userId: caller,
              },
            },
          }
        : {}),
      domainName: headers.host ?? 'localhost',
      domainPrefix: apiId,
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: requestTimeOf(now),
      timeEpoch: now.getTime(),
    },
    body: body.length ? (text ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: !text && body.length > 0,
  };
}

/** API Gateway's payload limit for HTTP APIs. */
const MAX_BODY = 10 * 1024 * 1024;

/**
 * Serves the template's routes on one port. Each route has its own token bucket from its stage's throttle
 * settings: an empty one answers 429 `{"message":"Too Many Requests"}` without Retry-After or CORS headers,
 * as API Gateway does, before anything else. IAM-authorized routes (admin) need
 * `Authorization: Bearer <adminToken>` locally, where AWS would check a SigV4 signature. A throttled
 * invocation answers 429 with Retry-After; any other function error 500, as API Gateway does.
 * Run it behind an edge server (serve/edge.ts): malformed requests, 413 and crashes are handled there.
 */
export function httpApiHandler(
  routes: LocalRoute[],
  functions: LocalFunctions,
  adminToken: string,
  /** The stack's clock: the request's `requestContext.time` (default the real one). */
  now: () => number = Date.now,
  /**
   * Whether API Gateway may invoke the route's function for this request's execute-api ARN (its
   * AWS::Lambda::Permission, local/iam.ts); without it API Gateway answers 500, as in AWS.
   */
  authorize?: (functionArn: string, sourceArn: string) => Promise<string | undefined>,
): RequestListener {
  const buckets = new Map(routes.flatMap((r) => (r.limit ? [[r, new TokenBucket(r.limit)] as const] : [])));
  return async (req, res) => {
    const url = urlOf(req);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    let params: Record<string, string> = {};
    const route = routes.find((r) => {
      if (r.method !== req.method && r.method !== 'ANY') return false;
      const m = r.pattern.exec(url.pathname);
      if (!m) return false;
      params = Object.fromEntries(r.params.map((p, i) => [p, decode(m[i + 1] ?? '')]));
      return true;
    });
    if (!route) return json(404, { message: 'Not Found' });
    if (buckets.get(route)?.take() === false) return json(429, { message: 'Too Many Requests' });
    if (route.iam && req.headers.authorization !== `Bearer ${adminToken}`)
      return json(403, { message: 'Forbidden' });
    const body = await readBody(req, MAX_BODY);
    // An HTTP API names the route's path, parameters as written (`/admin/leads/{leadId}`), as CDK's grants do.
    const sourceArn = `${route.apiArn}/$default/${req.method}${route.path}`;
    if (await authorize?.(route.functionArn, sourceArn))
      return json(500, { message: 'Internal Server Error' });
    const out = await functions.invoke(
      route.functionArn,
      eventFor(req, url, body, route, params, new Date(now())),
    );
    if (!out.ok && out.errorType === 'Lambda.TooManyRequestsException')
      return json(429, { message: 'Too Many Requests' }, { 'retry-after': '1' });
    if (!out.ok) return json(500, { message: 'Internal Server Error' });
    const r = out.result as {
      statusCode?: number;
      headers?: Record<string, string>;
      body?: string;
      isBase64Encoded?: boolean;
      cookies?: string[];
    } | null;
    if (!r || typeof r !== 'object' || typeof r.statusCode !== 'number') {
      // Payload 2.0 without a statusCode: API Gateway answers 200 with the result as JSON.
      return json(200, r);
    }
    const headers: Record<string, string | string[]> = { ...(r.headers ?? {}) };
    if (r.cookies?.length) headers['set-cookie'] = r.cookies;
    res.writeHead(r.statusCode, headers);
    res.end(r.body ? Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8') : undefined);
  };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new EdgeError(400, 'bad percent-encoding in the path');
  }
}
