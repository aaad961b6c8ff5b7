import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signLink } from '#functions/mail/links.ts';
import { aFormSubmission } from '#test/fixtures/leads.ts';
import { credentials, eventually, startTestStack } from '#test/fixtures/local-stack.ts';

// The bad-input corpus: hostile and malformed requests to every public route of `npm start`, over real
// HTTP. Each case must get a 4xx with a body that says what is wrong, and write nothing: the table and
// the executions are compared before and after every case. No case may get a 5xx or crash a server.
let t: Awaited<ReturnType<typeof startTestStack>>;
let db: DynamoDBClient;
let key = '';
let dealId = '';
let repId = '';
let otherRep = '';
let leadId = '';
const results: { route: string; name: string; status: number }[] = [];

beforeAll(async () => {
  t = await startTestStack(inject('cdkOut'));
  db = new DynamoDBClient({ endpoint: t.stack.urls.dynamodb, region: 'us-east-1', credentials });
  key =
    Object.values(
      JSON.parse(readFileSync(join(t.dataDir, 'secrets.json'), 'utf8')) as Record<string, string>,
    )[0] ?? '';
  // One real lead with a deal, so signed links can point at something that exists.
  const res = await t.api('/leads', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(aFormSubmission({ email: 'real.lead@acme-robotics.com' })),
  });
  leadId = ((await res.json()) as { leadId: string }).leadId;
  await eventually(async () =>
    (await t.mailbox()).some((m) => m.subject.startsWith('New lead')) ? true : undefined,
  );
  const mail = (await t.mailbox()).find((m) => m.subject.startsWith('New lead'));
  const link = t.linksIn(mail as never).find((l) => l.includes('/deals/action')) ?? '';
  const payload = new URL(link).searchParams.get('t')?.split('.')[0] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as string[];
  dealId = claims[1] ?? '';
  repId = claims[2] ?? '';
  otherRep = repId === 'rep-ava' ? 'rep-ben' : 'rep-ava';
  // Let the run park at "Await rep acceptance" so nothing moves on its own during the corpus.
  await eventually(() => (t.stack.sfn.list().some((r) => r.current?.parked?.invoked) ? true : undefined));
  // The parked task's handler has stored its token; let the last writes settle before the first snapshot.
  await new Promise((r) => setTimeout(r, 300));
});
afterAll(async () => {
  const by = new Map<string, { n: number; fourxx: number; fivexx: number }>();
  for (const r of results) {
    const row = by.get(r.route) ?? { n: 0, fourxx: 0, fivexx: 0 };
    row.n += 1;
    if (r.status >= 400 && r.status < 500) row.fourxx += 1;
    if (r.status >= 500) row.fivexx += 1;
    by.set(r.route, row);
  }
  console.log(`bad-input corpus: ${results.length} cases`);
  for (const [route, row] of by)
    console.log(`  ${route}: ${row.n} cases, ${row.fourxx} 4xx, ${row.fivexx} 5xx`);
  db?.destroy();
  await t?.stack.stop();
});

/** Everything written so far: every item of the table and every execution with its status. */
async function snapshot(): Promise<string> {
  const items: unknown[] = [];
  let ExclusiveStartKey: Record<string, never> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({ TableName: t.stack.tableName, ExclusiveStartKey, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey as never;
  } while (ExclusiveStartKey);
  const runs = t.stack.sfn.list().map((r) => `${r.name}:${r.status}:${r.events.length}`);
  return JSON.stringify([items.map((i) => JSON.stringify(i)).sort(), runs.sort()]);
}

interface Raw {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Sends a request exactly as given (raw path and headers: fetch would fix what we want to break). */
function send({
  method = 'GET',
  path,
  headers = {},
  body,
}: Raw): Promise<{ status: number; body: string; type: string; headers: Record<string, unknown> }> {
  const url = new URL(t.stack.urls.api);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: url.port,
        method,
        path,
        headers: { host: url.host, ...headers },
        insecureHTTPParser: true,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            type: String(res.headers['content-type'] ?? ''),
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** A body that says what is wrong: a JSON `error`/`message`, or an HTML page with a paragraph. */
function clear(res: { body: string; type: string }): boolean {
  if (res.type.includes('json')) {
    const parsed = JSON.parse(res.body) as { error?: unknown; message?: unknown };
    return (
      typeof (parsed.error ?? parsed.message) === 'string' &&
      String(parsed.error ?? parsed.message).length > 3
    );
  }
  return /<p>[^<]{10,}/.test(res.body) || res.body.trim().length > 10;
}

const json = (o: unknown) => ({
  method: 'POST',
  path: '/leads',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(o),
});
const form = (o: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  path: '/leads',
  headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
  body: new URLSearchParams(o).toString(),
});
const lead = (o: Record<string, unknown>) => ({
  ...aFormSubmission({ email: 'new.person@acme-robotics.com' }),
  ...o,
});
const later = () => Math.floor(Date.now() / 1000) + 3600;
const repLink = (action: string, o: Record<string, unknown> = {}) =>
  `/deals/action?t=${signLink({ action: action as never, subject: dealId, audience: repId, exp: later(), ...o }, key)}`;
const tokenOf = (claims: Record<string, unknown>) => signLink({ exp: later(), ...claims } as never, key);
const post = (path: string, body: string, type = 'application/x-www-form-urlencoded') => ({
  method: 'POST',
  path,
  headers: { 'content-type': type },
  body,
});

const badEmails = [
  '',
  ' ',
  'plain',
  '@acme.com',
  'a@',
  'a@b',
  'a@@b.com',
  'a b@acme.com',
  'a@acme..com',
  '.a@acme.com',
  'a.@acme.com',
  '+x@acme.com',
  '+@acme.com',
  `${'a'.repeat(65)}@acme.com`,
  `a@${'b'.repeat(250)}.com`,
  'a@acme.com\r\nBcc: x@y.z',
  'a@acme.com\u0000',
  '<a@acme.com>',
  'a@[127.0.0.1]',
  'a@acme.c',
  'ä@acme.com',
  'a@acme.com,b@acme.com',
  'javascript:alert(1)',
  'a@-acme.com',
  'a@acme.com.',
  'a\u202e@acme.com',
];
const badText = [
  '\u0000',
  '\r\nBcc: x@y.z',
  'x\u0007',
  'x\u202e',
  'x\u2066',
  'x\u2069',
  'x\u202a',
  'x\u001b[31m',
  'x\u007f',
];

const cases: [string, string, () => Raw, number[]][] = [
  ...badEmails.map((email, i): [string, string, () => Raw, number[]] => [
    'POST /leads json',
    `email #${i} ${JSON.stringify(email)}`,
    () => json(lead({ email })),
    [400],
  ]),
  ...badEmails
    .slice(0, 12)
    .map((email, i): [string, string, () => Raw, number[]] => [
      'POST /leads form',
      `email #${i}`,
      () => form(lead({ email }) as Record<string, string>),
      [400],
    ]),
  ...['firstName', 'lastName', 'company', 'title', 'industry', 'phone', 'utmSource', 'utmCampaign'].flatMap(
    (field) =>
      badText.map((v, i): [string, string, () => Raw, number[]] => [
        'POST /leads json',
        `${field} control/bidi #${i}`,
        () => json(lead({ [field]: `Acme${v}` })),
        [400],
      ]),
  ),
  ...[
    ['firstName missing', { firstName: undefined }],
    ['firstName empty', { firstName: '' }],
    ['firstName spaces', { firstName: '   ' }],
    ['firstName too long', { firstName: 'x'.repeat(81) }],
    ['firstName a number', { firstName: 42 }],
    ['firstName an object', { firstName: { a: 1 } }],
    ['company too long', { company: 'x'.repeat(121) }],
    ['message too long', { message: 'x'.repeat(2001) }],
    ['message with a bidi override', { message: 'hello\u202e' }],
    ['companySize words', { companySize: 'lots' }],
    ['companySize zero', { companySize: 0 }],
    ['companySize negative', { companySize: -5 }],
    ['companySize fractional', { companySize: 10.5 }],
    ['companySize 1e20', { companySize: 1e20 }],
    ['companySize huge string', { companySize: '99999999999999999999' }],
    ['companySize NaN', { companySize: 'NaN' }],
    ['companySize Infinity', { companySize: 'Infinity' }],
    ['companySize array', { companySize: [1] }],
    ['country three letters', { country: 'USA' }],
    ['country digits', { country: '12' }],
    ['country object', { country: { a: 1 } }],
    ['formType unknown', { formType: 'hack' }],
    ['formType capitals', { formType: 'DEMO' }],
    ['formType path', { formType: '../admin' }],
    ['formType too long', { formType: 'a'.repeat(41) }],
    ['formType number', { formType: 5 }],
    ['timeZone invalid', { timeZone: 'Mars/Olympus' }],
    ['timeZone too long', { timeZone: 'x'.repeat(65) }],
    ['timeZone number', { timeZone: 3 }],
    ['website an object', { website: { a: 1 } }],
    ['website too long', { website: 'x'.repeat(501) }],
    ['email a number', { email: 5 }],
    ['email null', { email: null }],
    ['email an array', { email: ['a@acme.com'] }],
  ].map(([name, o]): [string, string, () => Raw, number[]] => [
    'POST /leads json',
    String(name),
    () => json(lead(o as Record<string, unknown>)),
    [400],
  ]),
  ...[
    ['malformed JSON', '{"email":'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"hello"'],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
    ['empty body', ''],
    ['deeply nested', `${'['.repeat(5000)}${']'.repeat(5000)}`],
    ['binary junk', '\u0000\u0001\u0002'],
  ].map(([name, body]): [string, string, () => Raw, number[]] => [
    'POST /leads json',
    String(name),
    () => ({
      method: 'POST',
      path: '/leads',
      headers: { 'content-type': 'application/json' },
      body: String(body),
    }),
    [400],
  ]),
  ['POST /leads json', 'over maxBodyBytes', () => json(lead({ message: 'x'.repeat(20_000) })), [413]],
  [
    'POST /leads json',
    'form over maxBodyBytes',
    () => form(lead({ message: 'x'.repeat(20_000) }) as Record<string, string>),
    [413],
  ],
  ...[
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    'text/html',
    'image/png',
  ].map((type): [string, string, () => Raw, number[]] => [
    'POST /leads json',
    `content-type ${type}`,
    () => ({ ...json(lead({})), headers: { 'content-type': type } }),
    [415],
  ]),
  [
    'POST /leads json',
    'no content-type',
    () => ({ method: 'POST', path: '/leads', body: JSON.stringify(lead({})) }),
    [415],
  ],
  ...['iso-8859-1', 'utf-16', 'windows-1252', 'shift_jis'].map(
    (cs): [string, string, () => Raw, number[]] => [
      'POST /leads json',
      `charset ${cs}`,
      () => ({ ...json(lead({})), headers: { 'content-type': `application/json; charset=${cs}` } }),
      [415],
    ],
  ),
  ...[
    'https://evil.example',
    'null',
    'http://localhost:3000.evil.example',
    'https://www.handoff.example.evil.example',
  ].flatMap((origin): [string, string, () => Raw, number[]][] => [
    [
      'POST /leads json',
      `origin ${origin}`,
      () => ({ ...json(lead({})), headers: { 'content-type': 'application/json', origin } }),
      [403],
    ],
    [
      'POST /leads form',
      `origin ${origin}`,
      () => form(lead({}) as Record<string, string>, { origin }),
      [403],
    ],
  ]),
  ...['GET', 'PUT', 'DELETE', 'PATCH'].map((method): [string, string, () => Raw, number[]] => [
    'other methods',
    `${method} /leads`,
    () => ({ method, path: '/leads' }),
    [403, 404, 405],
  ]),
  ...[
    '/',
    '/nope',
    '/leads/extra',
    '/admin',
    '/admin/leads',
    '/%',
    '/%E0%A4%A',
    '/leads%00',
    '/..%2F..%2Fetc%2Fpasswd',
  ].map((path): [string, string, () => Raw, number[]] => [
    'unknown paths',
    path,
    () => ({ path }),
    [400, 403, 404],
  ]),
  // Rep action links
  ['rep action', 'no token', () => ({ path: '/deals/action' }), [403]],
  ['rep action', 'no token, POST', () => post('/deals/action', ''), [403]],
  ...['x', 'a.b.c', '.', 'eyJ4IjoxfQ.', '%E0%A4%A', 'a'.repeat(5000)].map(
    (tok): [string, string, () => Raw, number[]] => [
      'rep action',
      `malformed token ${tok.slice(0, 12)}`,
      () => post(`/deals/action?t=${tok}`, ''),
      [400, 403],
    ],
  ),
  ['rep action', 'tampered signature', () => post(`${repLink('accept').slice(0, -4)}AAAA`, ''), [403]],
  ['rep action', 'expired', () => post(repLink('accept', { exp: 1 }), ''), [403]],
  ['rep action', 'another rep', () => post(repLink('accept', { audience: otherRep }), ''), [409]],
  [
    'rep action',
    'unknown deal',
    () => post(repLink('accept', { subject: 'dl-00000000000000000000' }), ''),
    [404],
  ],
  [
    'rep action',
    'unsubscribe token',
    () =>
      post(`/deals/action?t=${tokenOf({ action: 'unsubscribe', subject: dealId, audience: 'lead' })}`, ''),
    [403],
  ],
  [
    'rep action',
    'click token',
    () =>
      post(
        `/deals/action?t=${tokenOf({ action: 'click', subject: dealId, audience: 'https://www.handoff.example/' })}`,
        '',
      ),
    [403],
  ],
  ...['', 'abc', '-1', '1e20', 'NaN', 'Infinity', '1e13', '0x10', '1,000'].map(
    (amount): [string, string, () => Raw, number[]] => [
      'rep action',
      `won amount ${JSON.stringify(amount)}`,
      () => post(repLink('won'), `amount=${encodeURIComponent(amount)}`),
      [400],
    ],
  ),
  ...['', 'meh', 'NOT-NOW', 'not now', '<script>'].map((reason): [string, string, () => Raw, number[]] => [
    'rep action',
    `lost reason ${JSON.stringify(reason)}`,
    () => post(repLink('lost'), `reason=${encodeURIComponent(reason)}`),
    [400],
  ]),
  ['rep action', 'won as a JSON array', () => post(repLink('won'), '[1]', 'application/json'), [400]],
  ['rep action', 'won as text/plain', () => post(repLink('won'), 'amount=5', 'text/plain'), [415]],
  [
    'rep action',
    'won body over the limit (16 KB: a note of 1,000 characters fits, URL-encoded)',
    () => post(repLink('won'), `amount=5&x=${'y'.repeat(17_000)}`),
    [413],
  ],
  // Unsubscribe links
  ...['GET', 'POST'].flatMap((method): [string, string, () => Raw, number[]][] => [
    ['unsubscribe', `${method} no token`, () => ({ method, path: '/unsubscribe' }), [403]],
    ['unsubscribe', `${method} malformed`, () => ({ method, path: '/unsubscribe?t=abc.def' }), [403]],
    [
      'unsubscribe',
      `${method} expired`,
      () => ({
        method,
        path: `/unsubscribe?t=${tokenOf({ action: 'unsubscribe', subject: leadId, audience: 'lead', exp: 1 })}`,
      }),
      [403],
    ],
    [
      'unsubscribe',
      `${method} rep token`,
      () => ({ method, path: repLink('accept').replace('/deals/action', '/unsubscribe') }),
      [403],
    ],
    [
      'unsubscribe',
      `${method} tampered`,
      () => ({
        method,
        path: `/unsubscribe?t=${tokenOf({ action: 'unsubscribe', subject: leadId, audience: 'lead' }).slice(0, -4)}AAAA`,
      }),
      [403],
    ],
  ]),
  [
    'unsubscribe',
    'POST over the limit',
    () =>
      post(
        `/unsubscribe?t=${tokenOf({ action: 'unsubscribe', subject: leadId, audience: 'lead' })}`,
        'x'.repeat(5000),
      ),
    [413],
  ],
  // Click tracking
  ['click', 'no token', () => ({ path: '/c' }), [403]],
  ['click', 'malformed', () => ({ path: '/c?t=zzz' }), [403]],
  ...[
    'https://evil.example/x',
    'http://www.handoff.example/x',
    'javascript:alert(1)',
    'https://www.handoff.example.evil.example/',
    '//evil.example',
    'data:text/html,x',
    'not a url',
  ].map((dest): [string, string, () => Raw, number[]] => [
    'click',
    `destination ${dest}`,
    () => ({ path: `/c?t=${tokenOf({ action: 'click', subject: leadId, audience: dest, iat: 1 })}` }),
    [403],
  ]),
  [
    'click',
    'expired',
    () => ({
      path: `/c?t=${tokenOf({ action: 'click', subject: leadId, audience: 'https://www.handoff.example/', exp: 1 })}`,
    }),
    [403],
  ],
  ['click', 'rep token', () => ({ path: repLink('accept').replace('/deals/action', '/c') }), [403]],
  // Admin routes without their credentials
  ...[
    ['no auth', {}],
    ['wrong token', { authorization: 'Bearer nope' }],
    ['basic auth', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
    ['empty bearer', { authorization: 'Bearer ' }],
  ].flatMap(([name, headers]): [string, string, () => Raw, number[]][] => [
    [
      'admin',
      `lead, ${name}`,
      () => ({ path: `/admin/leads/${leadId}`, headers: headers as Record<string, string> }),
      [403],
    ],
    [
      'admin',
      `deal, ${name}`,
      () => ({ path: `/admin/deals/${dealId}`, headers: headers as Record<string, string> }),
      [403],
    ],
  ]),
  ['admin', 'bad percent-encoding', () => ({ path: '/admin/leads/%E0%A4%A' }), [400, 403]],
  [
    'admin',
    'bad percent-encoding with auth',
    () => ({ path: '/admin/leads/%E0%A4%A', headers: { authorization: `Bearer ${t.stack.adminToken}` } }),
    [400, 404],
  ],
  ['edge', 'a Host with a space', () => ({ path: '/leads', headers: { host: 'a b' } }), [400]],
  ['edge', 'an empty Host', () => ({ path: `/admin/leads/${leadId}`, headers: { host: '' } }), [400, 403]],
];

describe('security headers on the functions’ refusals, over real HTTP', () => {
  it.each([
    ['leads, JSON', () => json({ email: 'nope' }), 'application/json'],
    ['leads, browser form', () => form({ email: 'nope' }), 'text/html'],
    ['rep action, another rep', () => post(repLink('accept', { audience: otherRep }), ''), 'text/html'],
    [
      'unsubscribe, tampered',
      () => ({
        path: `/unsubscribe?t=${tokenOf({ action: 'unsubscribe', subject: leadId, audience: 'lead' }).slice(0, -4)}AAAA`,
      }),
      'text/html',
    ],
    [
      'admin, no such lead',
      () => ({ path: '/admin/leads/ld-nobody', headers: { authorization: `Bearer ${t.stack.adminToken}` } }),
      'application/json',
    ],
  ])('%s', async (_, make, type) => {
    const res = await send(make());
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.type).toContain(type);
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': expect.stringContaining('max-age='),
      'cache-control': 'no-store',
    });
    if (type === 'text/html') {
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
  });
});

describe('bad-input corpus over every public route of the local stack', () => {
  it('has at least 200 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
  });

  it.each(cases)('%s: %s → 4xx with a clear body, nothing written', async (route, name, make, expected) => {
    const before = await snapshot();
    const res = await send(make());
    results.push({ route, name, status: res.status });
    expect(expected, `${res.status} ${res.body.slice(0, 200)}`).toContain(res.status);
    expect(clear(res), res.body.slice(0, 200)).toBe(true);
    expect(await snapshot()).toBe(before);
  });
});
