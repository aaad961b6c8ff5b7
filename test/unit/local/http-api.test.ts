// What the local HTTP API (local/http-api.ts) hands a route's function, against AWS's shape: each
// request's event parses with Powertools' APIGatewayProxyEventV2 schema, carries every field of AWS's
// sample (test/fixtures/aws/apigw-http-no-auth.json) and writes them as API Gateway does.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '#local/aws-json.ts';
import type { LocalFunctions } from '#local/functions.ts';
import { httpApiHandler, type LocalRoute } from '#local/http-api.ts';
import { awsSample } from '#test/fixtures/aws-events.ts';
import { APIGatewayProxyEventV2Schema, issuesOf } from '#test/fixtures/aws-schemas.ts';

const NOW = Date.parse('2026-11-25T16:04:05.123Z');
const API = 'arn:aws:execute-api:us-east-1:000000000000:HttpApi1234';
const route = (method: string, path: string, params: string[] = [], iam = false): LocalRoute => ({
  apiArn: API,
  method,
  path,
  functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${method}`,
  iam,
  pattern: new RegExp(`^${path.replace(/\{\w+\}/g, '([^/]+)')}$`),
  params,
});
const routes = [
  route('POST', '/leads'),
  route('GET', '/c'),
  route('GET', '/admin/leads/{leadId}', ['leadId'], true),
];

const events: Record<string, unknown>[] = [];
const functions = {
  invoke: async (_arn: string, payload: unknown) => {
    events.push(payload as Record<string, unknown>);
    return { ok: true, result: { statusCode: 204 } };
  },
} as unknown as LocalFunctions;
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer(httpApiHandler(routes, functions, 'admin-token', () => NOW));
  base = `http://127.0.0.1:${await listen(server, 0)}`;
});
afterAll(() => close(server));

/** The event the route's function got for one request. */
async function eventOf(path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  events.length = 0;
  const res = await fetch(`${base}${path}`, init);
  expect(res.status).toBe(204);
  expect(events).toHaveLength(1);
  return events[0] as Record<string, unknown>;
}

/** The keys of `o` and of its nested objects, as paths. */
function keysOf(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? [`${prefix}${k}`, ...keysOf(v as Record<string, unknown>, `${prefix}${k}.`)]
      : [`${prefix}${k}`],
  );
}

describe('local HTTP API: payload format 2.0 as API Gateway sends it', () => {
  it('a POST with a JSON body parses with Powertools’ schema and has every field of AWS’s sample', async () => {
    const event = await eventOf('/leads', {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'a=1; b=2' },
      body: JSON.stringify({ email: 'sam@example.com' }),
    });
    expect(issuesOf(APIGatewayProxyEventV2Schema, event)).toEqual([]);
    // The sample's lambda authorizer context is its own route's; the headers are its request's.
    const wanted = keysOf(awsSample('apigw-http-no-auth')).filter(
      (k) => !k.startsWith('requestContext.authorizer') && !k.startsWith('headers.'),
    );
    expect(wanted.filter((k) => !keysOf(event).includes(k))).toEqual([]);
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /leads',
      rawPath: '/leads',
      rawQueryString: '',
      body: '{"email":"sam@example.com"}',
      isBase64Encoded: false,
      cookies: ['a=1', 'b=2'],
      requestContext: {
        accountId: '000000000000',
        apiId: 'HttpApi1234',
        stage: '$default',
        routeKey: 'POST /leads',
        http: { method: 'POST', path: '/leads', protocol: 'HTTP/1.1' },
        // API Gateway's request time: day/month/year:time +0000, and the same instant in epoch ms.
        time: '25/Nov/2026:16:04:05 +0000',
        timeEpoch: NOW,
      },
    });
    // The cookies are in `cookies`, not in the headers (as API Gateway does).
    expect((event.headers as Record<string, string>).cookie).toBeUndefined();
  });

  it('the source IP is an IP address as AWS writes it (IPv4, not IPv6-mapped)', async () => {
    const event = await eventOf('/c?t=abc&u=1');
    expect(issuesOf(APIGatewayProxyEventV2Schema, event)).toEqual([]);
    expect((event.requestContext as { http: { sourceIp: string } }).http.sourceIp).toBe('127.0.0.1');
    expect(event).toMatchObject({ rawQueryString: 't=abc&u=1', queryStringParameters: { t: 'abc', u: '1' } });
  });

  it('repeated query parameters are joined with commas, as API Gateway does', async () => {
    const event = await eventOf('/c?t=1&t=2');
    expect(event.queryStringParameters).toEqual({ t: '1,2' });
  });

  it('a route with a path parameter (an IAM route) parses too, with its route key as the API names it', async () => {
    const event = await eventOf('/admin/leads/ld-1', { headers: { authorization: 'Bearer admin-token' } });
    expect(issuesOf(APIGatewayProxyEventV2Schema, event)).toEqual([]);
    expect(event).toMatchObject({
      routeKey: 'GET /admin/leads/{leadId}',
      pathParameters: { leadId: 'ld-1' },
      requestContext: { routeKey: 'GET /admin/leads/{leadId}' },
    });
    // The caller IAM authorized, as AWS's `iam-auth` sample has it (locally, the admin token's holder).
    const iam = (awsSample('apigw-http-iam-auth').requestContext as { authorizer: Record<string, object> })
      .authorizer.iam as object;
    const local = (event.requestContext as { authorizer?: { iam?: object } }).authorizer?.iam ?? {};
    expect(Object.keys(local).sort()).toEqual(Object.keys(iam).sort());
    expect(local).toMatchObject({ accountId: '000000000000' });
  });
});
