// Server-side CAPTCHA on POST /leads, against a local siteverify stand-in (local/captcha.ts) on a real
// port: a form passes only with a fresh token the provider issued; a missing, bad, replayed or low-score
// token is a 400 with nothing stored; a siteverify that cannot be reached is a 503 (send again).
import { createServer, type Server } from 'node:http';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CaptchaConfig, captchaVerifier } from '#functions/api/captcha.ts';
import { createHandler } from '#functions/api/leads.ts';
import { leadIdFor } from '#functions/lead/lead.ts';
import { sfnRuns } from '#functions/platform/runs.ts';
import { close, listen } from '#local/aws-json.ts';
import { captchaStandIn } from '#local/captcha.ts';
import { aLambdaContext, anHttpEvent } from '#test/fixtures/lambda.ts';
import { aFormSubmission } from '#test/fixtures/leads.ts';
import { type MemoryStores, memoryClientLimits, memoryStores } from '#test/fixtures/memory-stores.ts';

const SECRET = 'site-secret-for-tests-0123456789';
const sfn = mockClient(SFNClient);
const secrets = mockClient(SecretsManagerClient);
const standIn = captchaStandIn(SECRET);
let server: Server;
let url = '';
let db: MemoryStores;

beforeAll(async () => {
  server = createServer(standIn.handler);
  url = `http://127.0.0.1:${await listen(server, 0)}/siteverify`;
});
afterAll(() => close(server));
beforeEach(() => {
  db = memoryStores();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
});
afterEach(() => {
  sfn.reset();
  secrets.reset();
});

const handlerFor = (config: CaptchaConfig, verifyUrl = url) =>
  createHandler({
    ...db,
    runs: sfnRuns({ stateMachineArn: String(process.env.STATE_MACHINE_ARN) }),
    limits: memoryClientLimits(),
    captcha: { verifier: captchaVerifier(config, verifyUrl, 500), secretArn: 'arn:captcha' },
  });
const post = (handler: ReturnType<typeof handlerFor>, fields: Record<string, string>) =>
  handler(
    anHttpEvent('POST', '/leads', {
      body: new URLSearchParams(aFormSubmission(fields)).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }),
    aLambdaContext(),
  );

describe('POST /leads with forms.captcha', () => {
  it('takes a form with a fresh Turnstile token, and refuses a missing, made-up or replayed one with 400', async () => {
    const handler = handlerFor({ provider: 'turnstile', minScore: 0.5 });
    const token = standIn.issue();
    const ok = await post(handler, { email: 'person@acme-robotics.com', 'cf-turnstile-response': token });
    expect(ok.statusCode).toBe(202);
    for (const [email, t] of [
      ['no.token@acme-robotics.com', undefined],
      ['made.up@acme-robotics.com', 'not-a-token'],
      ['replayed@acme-robotics.com', token],
    ] as const) {
      const res = await post(handler, { email, ...(t ? { 'cf-turnstile-response': t } : {}) });
      expect(res.statusCode, email).toBe(400);
      expect(JSON.parse(String(res.body)).fields).toEqual({
        captcha: ['please complete the check, then send the form again'],
      });
      expect(await db.leads.get(leadIdFor(email))).toBeUndefined();
    }
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('refuses a reCAPTCHA v3 score under minScore', async () => {
    const handler = handlerFor({ provider: 'recaptcha', minScore: 0.5 });
    const human = await post(handler, {
      email: 'h@acme-robotics.com',
      'g-recaptcha-response': standIn.issue(0.9),
    });
    const bot = await post(handler, {
      email: 'b@acme-robotics.com',
      'g-recaptcha-response': standIn.issue(0.1),
    });
    expect([human.statusCode, bot.statusCode]).toEqual([202, 400]);
  });

  it('answers 503 with Retry-After when siteverify cannot be reached, and starts nothing', async () => {
    const down = handlerFor({ provider: 'turnstile', minScore: 0.5 }, 'http://127.0.0.1:9/siteverify');
    const res = await post(down, {
      email: 'later@acme-robotics.com',
      'cf-turnstile-response': standIn.issue(),
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['retry-after']).toBe('2');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('the stand-in keeps Cloudflare’s documented test secrets', async () => {
    const verify = (secret: string) =>
      captchaVerifier({ provider: 'turnstile', minScore: 0.5 }, url).verify(
        'XXXX.DUMMY.TOKEN.XXXX',
        '203.0.113.9',
        secret,
      );
    expect(await verify('1x0000000000000000000000000000000AA')).toBe('pass');
    expect(await verify('2x0000000000000000000000000000000AA')).toBe('fail');
    expect(await verify('3x0000000000000000000000000000000AA')).toBe('fail');
    expect(await verify('wrong-secret-0000')).toBe('fail');
  });
});
