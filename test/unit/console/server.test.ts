import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createConsole } from '#console/server.ts';
import { leadIdFor } from '#functions/lead/lead.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { config } from '#test/fixtures/config.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { memoryStores } from '#test/fixtures/memory-stores.ts';

const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Handoff';
const execArn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:Handoff:${name}`;
const definition = {
  StartAt: 'Capture & score lead',
  States: {
    'Capture & score lead': { Type: 'Task', Resource: 'arn:aws:lambda:x', Next: 'Wait' },
    Wait: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      TimeoutSecondsPath: '$.waitSeconds',
      End: true,
    },
  },
};
const lead = aLead({ email: 'grace.hopper@acme-robotics.com', firstName: 'Grace', lastName: 'Hopper' });
const run = `${lead.id}-demo-request-20261127`;
const history = [
  { id: 1, type: 'ExecutionStarted', timestamp: new Date(), executionStartedEventDetails: { input: '{}' } },
  {
    id: 2,
    type: 'TaskStateEntered',
    timestamp: new Date(),
    stateEnteredEventDetails: { name: 'Capture & score lead', input: JSON.stringify({ lead }) },
  },
  {
    id: 3,
    type: 'TaskStateExited',
    timestamp: new Date(),
    stateExitedEventDetails: { name: 'Capture & score lead', output: JSON.stringify({ lead }) },
  },
  {
    id: 4,
    type: 'TaskStateEntered',
    timestamp: new Date(),
    stateEnteredEventDetails: { name: 'Wait', input: '{}' },
  },
];

const sfn = mockClient(SFNClient);
let server: Server;
let base: string;
let sendNowCalls: string[] = [];
let local = true;

function call(
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    // A raw path (request() with a URL would normalize `/../` away before it is sent).
    const { hostname, port } = new URL(base);
    const req = request(
      { hostname, port, path, method: opts.method ?? 'GET', headers: opts.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: Number(res.statusCode), body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
const json = async (path: string, opts?: Parameters<typeof call>[1]) => {
  const res = await call(path, opts);
  return { ...res, data: JSON.parse(res.body) };
};
const post = (path: string, body = '{}', headers: Record<string, string> = {}) =>
  json(path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

beforeAll(async () => {
  const stores = memoryStores();
  await stores.leads.capture(lead, run, new Date().toISOString());
  await stores.leads.putEvent(lead.id, timeline.form(new Date().toISOString(), lead, run, 'captured'));
  const withLocal = createConsole({
    sfn: new SFNClient({}),
    stores,
    stateMachineArn: ARN,
    local: {
      sendNow: async (arn) => {
        sendNowCalls.push(arn);
        return true;
      },
    },
  });
  const againstAws = createConsole({ sfn: new SFNClient({}), stores, stateMachineArn: ARN });
  server = createServer((req, res) => void (local ? withLocal : againstAws)(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  sfn.on(DescribeStateMachineCommand).resolves({ name: 'Handoff', definition: JSON.stringify(definition) });
  sfn.on(ListExecutionsCommand).resolves({
    executions: [
      {
        executionArn: execArn(run),
        name: run,
        status: 'RUNNING',
        startDate: new Date(),
        stateMachineArn: ARN,
      },
      {
        executionArn: execArn('other'),
        name: 'other',
        status: 'SUCCEEDED',
        startDate: new Date(),
        stateMachineArn: ARN,
      },
    ],
  });
  sfn.on(GetExecutionHistoryCommand).callsFake((input) => {
    // The other run ended in the first state.
    const events = input.executionArn === execArn('other') ? history.slice(0, 3) : history;
    return { events: (input.reverseOrder ? [...events].reverse() : events) as never };
  });
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: execArn(run),
    name: run,
    status: 'RUNNING',
    startDate: new Date(),
    input: JSON.stringify({ lead }),
  });
});
afterEach(() => {
  sfn.reset();
  sendNowCalls = [];
  local = true;
});

describe('console API', () => {
  it('lists runs newest first with their lead and current state', async () => {
    const { status, data } = await json('/api/runs');
    expect(status).toBe(200);
    expect(data.runs[0]).toMatchObject({ name: run, leadId: lead.id, status: 'RUNNING', state: 'Wait' });
    expect(sfn.commandCalls(ListExecutionsCommand)[0]?.args[0].input).toMatchObject({ stateMachineArn: ARN });
  });

  it('searches by email (as its lead id), filters by state, and passes a status filter to Step Functions', async () => {
    const byEmail = await json(`/api/runs?q=${encodeURIComponent('Grace.Hopper+news@acme-robotics.com')}`);
    expect(byEmail.data.leadId).toBe(leadIdFor('grace.hopper@acme-robotics.com'));
    expect(byEmail.data.runs.map((r: { name: string }) => r.name)).toEqual([run]);
    const byState = await json('/api/runs?state=Wait');
    expect(byState.data.runs.map((r: { name: string }) => r.name)).toEqual([run]);
    await json('/api/runs?status=FAILED');
    expect(sfn.commandCalls(ListExecutionsCommand).at(-1)?.args[0].input.statusFilter).toBe('FAILED');
  });

  it('answers bad query values with 400 naming the field', async () => {
    for (const q of ['status=NOPE', 'limit=0', 'limit=abc', 'state=Nowhere', 'q=a%20b', 'q=not@an-email']) {
      const { status, data } = await json(`/api/runs?${q}`);
      expect(status, q).toBe(400);
      expect(data.error, q).toMatch(/Bad query/);
    }
    // Each says which value is wrong, as { error, fields }.
    expect((await json('/api/runs?status=NOPE')).data.fields).toEqual({
      status: 'must be one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE, not "NOPE"',
    });
    expect((await json('/api/runs?limit=abc')).data.fields).toEqual({
      limit: 'must be a whole number from 1 to 100, not "abc"',
    });
    expect((await json('/api/runs?next=a%20b')).data.fields).toEqual({
      next: '"a b" is not a page token this console gave',
    });
    const badEncoding = await json('/api/runs?q=%E0%A4%A');
    expect(badEncoding.status).toBe(400);
    expect(badEncoding.data).toEqual({
      error: 'Bad percent-encoding in the query: q',
      fields: { q: 'has bad percent-encoding (a % must be followed by two hex digits of UTF-8)' },
    });
  });

  it('returns a run with its steps, path and actions, PII masked until revealed', async () => {
    const { status, data, body } = await json(`/api/runs/${run}`);
    expect(status).toBe(200);
    expect(data.path).toMatchObject({ current: 'Wait', visits: { 'Capture & score lead': 1, Wait: 1 } });
    expect(data.definition.StartAt).toBe('Capture & score lead');
    expect(data.actions).toEqual({ stop: true, redrive: false, sendNow: true });
    expect(body).not.toMatch(/grace|hopper|acme/i);
    const revealed = await json(`/api/runs/${run}?reveal=1`);
    expect(revealed.body).toContain('grace.hopper@acme-robotics.com');
  });

  it('shows a lead with its timeline, masked until revealed, and 404 for an unknown one', async () => {
    const { data, body } = await json(`/api/leads/${lead.id}`);
    expect(data.lead).toMatchObject({ id: lead.id, stage: 'captured', email: 'g•••@a•••.com' });
    expect(data.timeline.map((e: { type: string }) => e.type)).toEqual(['form']);
    expect(data.runs.map((r: { name: string }) => r.name)).toEqual([run]);
    expect(body).not.toMatch(/grace|hopper/i);
    expect((await json(`/api/leads/${lead.id}?reveal=1`)).data.lead.firstName).toBe('Grace');
    expect((await json(`/api/leads/${leadIdFor('nobody@example.org')}`)).status).toBe(404);
    expect((await json('/api/leads/not-a-lead')).status).toBe(400);
  });

  it('stops and redrives a run, and sends now only on the local stack', async () => {
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
    expect((await post(`/api/runs/${run}/stop`)).status).toBe(200);
    expect(sfn.commandCalls(StopExecutionCommand)[0]?.args[0].input.executionArn).toBe(execArn(run));
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: new Date() });
    expect((await post(`/api/runs/${run}/redrive`, '{"clientToken":"abc-1"}')).status).toBe(200);
    expect(sfn.commandCalls(RedriveExecutionCommand)[0]?.args[0].input.clientToken).toBe('abc-1');
    expect((await post(`/api/runs/${run}/send-now`)).status).toBe(200);
    expect(sendNowCalls).toEqual([execArn(run)]);
    local = false;
    const aws = await post(`/api/runs/${run}/send-now`);
    expect(aws.status).toBe(404);
    expect((await json(`/api/runs/${run}`)).data.actions.sendNow).toBe(false);
  });

  it('serves the funnel and scoring feedback reports, and 400 for a bad range or breakdown', async () => {
    const funnel = await json('/api/funnel?from=2026-11-01&to=2026-11-27&by=source');
    expect(funnel.status).toBe(200);
    expect(funnel.data).toMatchObject({ from: '2026-11-01', to: '2026-11-27', by: 'source', rows: [] });
    expect(funnel.data.days).toHaveLength(27);
    const feedback = await json('/api/scoring-feedback?from=2026-11-01&to=2026-11-27');
    expect(feedback.data.threshold.table.length).toBeGreaterThan(0);
    const badBy = await json('/api/funnel?by=shoe-size');
    expect(badBy.status).toBe(400);
    expect(badBy.data.fields).toHaveProperty('by');
    expect((await json('/api/scoring-feedback?from=2026-11-27&to=2026-11-01')).status).toBe(400);
    expect((await json('/api/funnel?to=2026-02-30')).status).toBe(400);
  });

  it('maps Step Functions errors: a missing run is 404, a refused redrive 409 with its reason', async () => {
    sfn
      .on(DescribeExecutionCommand)
      .rejects(Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }));
    expect((await json('/api/runs/nope')).status).toBe(404);
    sfn.on(RedriveExecutionCommand).rejects(
      Object.assign(new Error('Execution is RUNNING and cannot be redriven'), {
        name: 'ExecutionNotRedrivable',
      }),
    );
    const refused = await post(`/api/runs/${run}/redrive`);
    expect(refused.status).toBe(409);
    expect(refused.data.error).toMatch(/cannot be redriven/);
  });

  it('takes actions only as JSON from its own origin', async () => {
    sfn.on(StopExecutionCommand).resolves({});
    const form = await json(`/api/runs/${run}/stop`, {
      method: 'POST',
      body: 'x=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect((await post(`/api/runs/${run}/stop`, '{}', { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post(`/api/runs/${run}/stop`, '{')).status).toBe(400);
    expect((await json(`/api/runs/${run}/stop`)).status).toBe(405);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
  });
});

describe('console HTTP edge', () => {
  it('against AWS, answers the API only to a browser that opened the printed URL with its token', async () => {
    const token = 'secret-token-123';
    const guarded = createConsole({
      sfn: new SFNClient({}),
      stores: memoryStores(),
      stateMachineArn: ARN,
      token,
    });
    const server2 = createServer((req, res) => void guarded(req, res));
    await new Promise<void>((r) => server2.listen(0, '127.0.0.1', r));
    const saved = base;
    base = `http://127.0.0.1:${(server2.address() as AddressInfo).port}`;
    try {
      expect((await call('/api/meta')).status).toBe(401);
      expect((await call('/')).status).toBe(200); // the page itself holds no data
      expect((await call('/?token=wrong')).status).toBe(401);
      const open = await call(`/?token=${token}`);
      expect(open.status).toBe(303);
      expect(open.headers.location).toBe('/');
      expect(String(open.headers['set-cookie'])).toMatch(
        /handoff_console=secret-token-123; HttpOnly; SameSite=Strict/,
      );
      const meta = await call('/api/meta', { headers: { cookie: `handoff_console=${token}` } });
      expect(meta.status).toBe(200);
      expect(JSON.parse(meta.body).mode).toBe('aws');
      expect((await call('/api/meta', { headers: { cookie: 'handoff_console=nope' } })).status).toBe(401);
    } finally {
      base = saved;
      await new Promise<void>((r) => server2.close(() => r()));
    }
  });

  it('serves the app with a strict CSP, and 404 JSON for unknown routes and files', async () => {
    const page = await call('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('<script type="module" src="/app.js">');
    expect((await call('/app.js')).headers['content-type']).toMatch(/javascript/);
    expect((await call('/nope.js')).status).toBe(404);
    expect((await call('/api/nope')).status).toBe(404);
    expect((await call('/api/runs/a/b/c/d')).status).toBe(404);
  });

  it('routes by method and path: 405 for a path asked with another method, 404 for any other path', async () => {
    const meta = await call('/api/meta', { method: 'HEAD' });
    expect(meta.status).toBe(200);
    expect(meta.headers['x-handoff-clock']).toMatch(/^\d+; scale=1$/);
    const readPosted = await post('/api/deliverability');
    expect([readPosted.status, readPosted.data.error]).toEqual([405, 'Method not allowed']);
    const actionRead = await json(`/api/runs/${run}/redrive`);
    expect([actionRead.status, actionRead.data.error]).toEqual([405, 'Actions are POST requests']);
    for (const path of ['/api', '/api/leads', `/api/runs/${run}/pause`, '/api/funnel/x', '/api/__proto__'])
      expect((await json(path)).data.error, path).toBe('No such API route');
    expect((await post(`/api/runs/${run}/pause`)).status).toBe(404);
    expect((await call('/', { method: 'POST' })).status).toBe(405);
    expect((await call('/examples/contact-form.html', { method: 'DELETE' })).status).toBe(405);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
  });

  it('refuses path traversal, bad percent-encoding and foreign Host headers with 4xx', async () => {
    for (const path of [
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/..%2f..%2fetc%2fpasswd',
      '/lib/%00x.js',
      '/%E0%A4%A',
      '/api/runs?q=%E0%A4%A',
    ]) {
      const res = await call(path);
      expect(res.status, path).toBe(400);
      expect(res.body, path).not.toContain('root:');
    }
    expect((await call('/api/meta', { headers: { host: 'evil.example' } })).status).toBe(403);
    expect((await call('/api/meta', { headers: { host: 'localhost:9' } })).status).toBe(200);
  });

  it('serves the example form with its action on the API it is given', async () => {
    const res = await call('/examples/contact-form.html');
    expect(res.status).toBe(200);
    expect(res.body).toContain('action="http://127.0.0.1:3000/leads"');
    expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    // Served from an origin the API does not allow, the page says so.
    expect(res.body).toMatch(
      /origin, <code>http:\/\/127\.0\.0\.1:\d+<\/code>, is not in <code>forms\.allowedOrigins/,
    );
    // The form may go to the API and, after the API's 303, to the configured thank-you page's origin.
    const thankYou = new URL(config.app.forms.thankYouUrl).origin;
    expect(res.headers['content-security-policy']).toContain(
      `form-action 'self' http://127.0.0.1:3000 ${thankYou}`,
    );
  });
});
