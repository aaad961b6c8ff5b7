// The local HTTP API throttles each route on its own bucket, as API Gateway's route throttling does: a
// flood on one route answers 429 there (API Gateway's body, no Retry-After) and leaves the others alone.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '#local/aws-json.ts';
import type { LocalFunctions } from '#local/functions.ts';
import { httpApiHandler, type LocalRoute } from '#local/http-api.ts';

const route = (method: string, path: string, burst: number): LocalRoute => ({
  apiArn: 'arn:aws:execute-api:us-east-1:000000000000:HttpApi1234',
  method,
  path,
  functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${method}${path}`,
  iam: false,
  pattern: new RegExp(`^${path}$`),
  params: [],
  // A refill slow enough that no token comes back during the test.
  limit: { perSecond: 0.001, burst },
});

let invoked = 0;
const functions = {
  invoke: async () => {
    invoked++;
    return { ok: true, result: { statusCode: 204 } };
  },
} as unknown as LocalFunctions;
let server: Server;
let base: string;

beforeAll(async () => {
  const routes = [route('POST', '/leads', 5), route('GET', '/unsubscribe', 2)];
  server = createServer(httpApiHandler(routes, functions, 'admin-token'));
  base = `http://127.0.0.1:${await listen(server, 0)}`;
});
afterAll(() => close(server));

describe('local HTTP API: a token bucket per route', () => {
  it('answers 429 beyond a route’s burst without invoking its function, and other routes keep theirs', async () => {
    const flood = await Promise.all(
      Array.from({ length: 12 }, () => fetch(`${base}/leads`, { method: 'POST', body: '{}' })),
    );
    const statuses = flood.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 204)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    expect(invoked).toBe(5);
    const refused = flood.find((r) => r.status === 429);
    expect(await refused?.json()).toEqual({ message: 'Too Many Requests' });
    // API Gateway's own 429 says neither when to come back nor which origins may read it.
    expect(refused?.headers.get('retry-after')).toBeNull();
    expect(refused?.headers.get('access-control-allow-origin')).toBeNull();

    // The flood took nothing from the unsubscribe route.
    const unsubscribe = [await fetch(`${base}/unsubscribe`), await fetch(`${base}/unsubscribe`)];
    expect(unsubscribe.map((r) => r.status)).toEqual([204, 204]);
    expect((await fetch(`${base}/unsubscribe`)).status).toBe(429);
  });
});
