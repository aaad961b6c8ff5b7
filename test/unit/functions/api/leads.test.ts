import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createHandler } from '#functions/api/leads.ts';
import { executionNameFor, leadIdFor } from '#functions/lead/lead.ts';
import { sfnRuns } from '#functions/platform/runs.ts';
import { config } from '#test/fixtures/config.ts';
import { aLambdaContext, anHttpEvent } from '#test/fixtures/lambda.ts';
import { aFormSubmission, aLead } from '#test/fixtures/leads.ts';
import { memoryClientLimits, memoryStores } from '#test/fixtures/memory-stores.ts';

const sfn = mockClient(SFNClient);
// The Step Functions Runs with the production handler's client options, under aws-sdk-client-mock.
const runs = sfnRuns({
  stateMachineArn: String(process.env.STATE_MACHINE_ARN),
  client: { maxAttempts: 4, requestHandler: { requestTimeout: 2000, connectionTimeout: 1000 } },
});
// Limits high enough for every test here to post from one address (the limits have their own test).
const stores = memoryStores();
const handler = createHandler({
  ...stores,
  runs,
  limits: memoryClientLimits({ perIpPerMinute: 10_000, perDomainPerHour: 10_000 }),
});
afterEach(() => sfn.reset());

const post = (body: string, headers: Record<string, string>) =>
  handler(anHttpEvent('POST', '/leads', { body, headers }), aLambdaContext());
const json = (o: unknown) => post(JSON.stringify(o), { 'content-type': 'application/json' });
const form = (o: Record<string, string>, headers: Record<string, string> = {}) =>
  post(new URLSearchParams(o).toString(), {
    'content-type': 'application/x-www-form-urlencoded',
    ...headers,
  });

describe('POST /leads', () => {
  it('accepts a JSON lead with 202 and starts one run named by lead id, form and day', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    const res = await json(aFormSubmission());
    expect(res.statusCode).toBe(202);
    expect(res.headers).toMatchObject({
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    const leadId = leadIdFor('jordan.lee@acme-robotics.com');
    expect(JSON.parse(String(res.body))).toEqual({ leadId, status: 'accepted' });
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const sent = calls[0]?.args[0].input;
    expect(sent?.name).toBe(executionNameFor(leadId, 'demo-request', new Date()));
    expect(sent?.stateMachineArn).toBe(process.env.STATE_MACHINE_ARN);
    // Ids only in Step Functions: the run's input names the lead; its details wait in DynamoDB.
    expect(JSON.parse(String(sent?.input))).toEqual({
      lead: { id: leadId },
      receivedAt: expect.any(String),
      nurture: { cycle: 0, step: 0 },
      wake: null,
    });
    expect((await stores.submissions.get(leadId, String(sent?.name)))?.lead).toMatchObject({
      id: leadId,
      email: 'jordan.lee@acme-robotics.com',
      country: 'US',
      companySize: 1200,
    });
  });

  it('reads a base64-encoded form body as API Gateway sends it', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    const body = Buffer.from(new URLSearchParams(aFormSubmission()).toString()).toString('base64');
    const res = await handler(
      {
        ...anHttpEvent('POST', '/leads', {
          body,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
        isBase64Encoded: true,
      },
      aLambdaContext(),
    );
    expect(res.statusCode).toBe(202);
    const name = String(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.name);
    const leadId = leadIdFor('jordan.lee@acme-robotics.com');
    expect((await stores.submissions.get(leadId, name))?.lead.email).toBe('jordan.lee@acme-robotics.com');
  });

  it('gives CORS headers to an allowed origin’s 400 too, so the form can show the field errors', async () => {
    const origin = config.app.forms.allowedOrigins[0] ?? '';
    const res = await post(JSON.stringify(aFormSubmission({ email: 'nope' })), {
      'content-type': 'application/json',
      origin,
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers?.['Access-Control-Allow-Origin']).toBe(origin);
    expect(res.headers?.['X-Content-Type-Options']).toBe('nosniff');
  });

  it('redirects a browser form post to the thank-you page with 303', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    const res = await form(aFormSubmission(), { accept: 'text/html,application/xhtml+xml' });
    expect(res.statusCode).toBe(303);
    expect(res.headers?.location).toBe(config.app.forms.thankYouUrl);
    expect(res.headers?.['Referrer-Policy']).toBe('no-referrer');
  });

  it('answers 400 with field errors and starts nothing', async () => {
    const res = await json(aFormSubmission({ email: 'not-an-email', companySize: 'lots' }));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(String(res.body)).fields).toHaveProperty('email');
    expect(JSON.parse(String(res.body)).fields).toHaveProperty('companySize');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('answers a browser form post without JavaScript with an HTML page of every field error', async () => {
    const res = await form(aFormSubmission({ email: '<b>x', formType: 'brochure' }), {
      accept: 'text/html,application/xhtml+xml',
      referer: 'https://www.handoff.test/demo?x="><script>',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers?.['content-type']).toMatch(/^text\/html/);
    expect(res.headers?.['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers?.['X-Frame-Options']).toBe('DENY');
    const body = String(res.body);
    expect(body).toContain('<title>Please check the form · Handoff</title>');
    expect(body).toMatch(/<li><b>email<\/b> [^<]+<\/li>/);
    expect(body).toMatch(/<li><b>formType<\/b> must be one of: [^<]+<\/li>/);
    expect(body).toContain(
      '<a href="https://www.handoff.test/demo?x=%22%3E%3Cscript%3E">Back to the form</a>',
    );
    expect(body).not.toMatch(/<script|<b>x|"fields"/);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('answers a browser form from another origin with an HTML 403; JSON clients keep JSON errors', async () => {
    const res = await form(aFormSubmission(), { origin: 'https://evil.example', accept: 'text/html' });
    expect(res.statusCode).toBe(403);
    expect(res.headers?.['content-type']).toMatch(/^text\/html/);
    expect(String(res.body)).toContain('<p>Origin not allowed</p>');
    expect(String(res.body)).toContain('Back button');
    const bad = await form(aFormSubmission({ email: 'nope' }));
    expect(bad.headers?.['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(String(bad.body)).fields).toHaveProperty('email');
    const jsonBad = await post(JSON.stringify(aFormSubmission({ email: 'nope' })), {
      'content-type': 'application/json',
      accept: 'text/html',
    });
    expect(jsonBad.headers?.['content-type']).toMatch(/^application\/json/);
  });

  it.each([
    ['malformed JSON', '{"email":', 400],
    ['a JSON array', '[1,2]', 400],
  ])('answers 400 for %s', async (_, body, status) => {
    expect((await post(body, { 'content-type': 'application/json' })).statusCode).toBe(status);
  });

  it('answers 413 over the body cap and 415 for other content types', async () => {
    const big = JSON.stringify({ ...aFormSubmission(), message: 'x'.repeat(config.app.forms.maxBodyBytes) });
    expect((await post(big, { 'content-type': 'application/json' })).statusCode).toBe(413);
    expect((await post('hello', { 'content-type': 'text/plain' })).statusCode).toBe(415);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('answers 415 for a body in another charset, and takes UTF-8 said either way', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    const body = JSON.stringify(aFormSubmission());
    expect((await post(body, { 'content-type': 'application/json; charset=iso-8859-1' })).statusCode).toBe(
      415,
    );
    expect((await post(body, { 'content-type': 'application/json; charset=UTF-8' })).statusCode).toBe(202);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('answers 429 with Retry-After when Step Functions keeps throttling, and starts nothing', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: {},
    });
    sfn.on(StartExecutionCommand).rejects(throttled);
    const res = await json(aFormSubmission());
    expect(res.statusCode).toBe(429);
    expect(res.headers?.['retry-after']).toBe('2');
    // A form's script on another origin can read it only if CORS exposes it.
    expect(res.headers?.['Access-Control-Expose-Headers']).toBe('retry-after');
  });

  it('answers 503 with Retry-After when Step Functions cannot be reached, and starts nothing', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('read ECONNRESET'), { name: 'TimeoutError', $metadata: {} }));
    const res = await json(aFormSubmission());
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['retry-after']).toBe('2');
  });

  it('answers 503 when DynamoDB stays throttled while handing the form to the active run, and gives its claim back for the retry', async () => {
    const db = memoryStores();
    const lead = aLead({ email: 'busy.db@acme-robotics.com' });
    await db.leads.capture(lead, 'run-1', '2026-11-26T10:00:00.000Z');
    await db.leads.setStage(lead.id, 'nurturing', '2026-11-26T10:00:01.000Z');
    const putEvent = db.leads.putEvent;
    let failures = 1;
    db.leads.putEvent = async (...args) => {
      if (failures-- > 0)
        throw Object.assign(new Error('throttled'), {
          name: 'ProvisionedThroughputExceededException',
          $metadata: { httpStatusCode: 400 },
        });
      return putEvent(...args);
    };
    const withDb = createHandler({ ...db, runs, limits: memoryClientLimits() });
    const send = () =>
      withDb(
        anHttpEvent('POST', '/leads', {
          body: JSON.stringify(aFormSubmission({ email: lead.email, formType: 'pricing' })),
          headers: { 'content-type': 'application/json' },
        }),
        aLambdaContext(),
      );
    const first = await send();
    expect(first.statusCode).toBe(503);
    expect(first.headers?.['retry-after']).toBe('2');
    expect((await send()).statusCode).toBe(202);
    expect((await send()).statusCode).toBe(202);
    const forms = (await db.leads.listEvents(lead.id)).filter((e) => e.type === 'form');
    expect(forms).toHaveLength(1); // delivered once: the retry after the 503, not the resend after it
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('answers 429 with the window’s Retry-After beyond one client’s limits, stores and starts nothing, and other clients go on', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    const db = memoryStores();
    const limited = createHandler({
      ...db,
      runs,
      limits: memoryClientLimits({ perIpPerMinute: 3, perDomainPerHour: 4 }),
    });
    const from = (ip: string, email: string) => {
      const event = anHttpEvent('POST', '/leads', {
        body: JSON.stringify(aFormSubmission({ email })),
        headers: { 'content-type': 'application/json' },
      });
      event.requestContext.http.sourceIp = ip;
      return limited(event, aLambdaContext());
    };
    const byAddress = [];
    for (let i = 0; i < 4; i++) byAddress.push(await from('198.51.100.7', `a${i}@bot-farm.example`));
    expect(byAddress.map((r) => r.statusCode)).toEqual([202, 202, 202, 429]);
    const retryAfter = Number(byAddress[3]?.headers?.['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await db.leads.get(leadIdFor('a3@bot-farm.example'))).toBeUndefined();
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(3);
    // Another address is not limited by that one; the domain's hourly limit (4) still counts across them.
    expect((await from('198.51.100.8', 'b0@bot-farm.example')).statusCode).toBe(202);
    const byDomain = await from('198.51.100.9', 'b1@bot-farm.example');
    expect(byDomain.statusCode).toBe(429);
    expect(Number(byDomain.headers?.['retry-after'])).toBeLessThanOrEqual(3600);
    // Free-mail domains are limited by address only: millions of people share them.
    for (let i = 0; i < 6; i++)
      expect((await from(`192.0.2.${i}`, `person${i}@gmail.com`)).statusCode).toBe(202);
  });

  it('silently accepts and drops a filled honeypot', async () => {
    const res = await json(aFormSubmission({ website: 'https://spam.example' }));
    expect(res.statusCode).toBe(202);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('treats a same-day resubmission as accepted without a second run', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const res = await json(aFormSubmission());
    expect(res.statusCode).toBe(202);
  });

  it('hides internal errors behind a bare 500', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('arn:aws:states:secret-internal-detail'));
    const res = await json(aFormSubmission());
    expect(res.statusCode).toBe(500);
    expect(String(res.body)).not.toContain('secret-internal-detail');
  });

  it('allows configured origins with CORS and refuses others', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    const origin = config.app.forms.allowedOrigins[0] ?? '';
    const ok = await post(JSON.stringify(aFormSubmission()), { 'content-type': 'application/json', origin });
    expect(ok.headers?.['Access-Control-Allow-Origin']).toBe(origin);
    const preflight = await handler(
      anHttpEvent('OPTIONS', '/leads', { headers: { origin } }),
      aLambdaContext(),
    );
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers?.['Access-Control-Allow-Origin']).toBe(origin);
    expect(preflight.headers?.['Access-Control-Allow-Methods']).toContain('POST');
    const evil = await post(JSON.stringify(aFormSubmission()), {
      'content-type': 'application/json',
      origin: 'https://evil.example',
    });
    expect(evil.statusCode).toBe(403);
    expect(evil.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
    const evilForm = await form(aFormSubmission(), { origin: 'https://evil.example', accept: 'text/html' });
    expect(evilForm.statusCode).toBe(403);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });
});
