import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/api/rep-action.ts';
import { type LinkClaims, signLink } from '../../../functions/shared/domain/links.ts';
import { aDeal } from '../../fixtures/deals.ts';
import { aLambdaContext, anHttpEvent } from '../../fixtures/lambda.ts';

const KEY = 'unit-test-signing-key-0123456789abcdef';
const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const secrets = mockClient(SecretsManagerClient);

beforeEach(() => {
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
  ddb.on(UpdateCommand).resolves({});
  ddb.on(PutCommand).resolves({});
  sfn.on(SendTaskSuccessCommand).resolves({});
});
afterEach(() => {
  ddb.reset();
  sfn.reset();
  secrets.reset();
});

const link = (action: 'accept' | 'won' | 'lost', o: Partial<LinkClaims> = {}) =>
  `/deals/action?t=${signLink({ action, subject: aDeal().dealId, audience: 'rep-ava', exp: Date.now() / 1000 + 3600, ...o }, KEY)}`;
const call = (method: string, url: string, body?: string) =>
  handler(
    anHttpEvent(method, url, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      ...(body ? { body } : {}),
    }),
    aLambdaContext(),
  );
const givenDeal = (o = {}) => ddb.on(GetCommand).resolves({ Item: aDeal(o) });

describe('rep action links', () => {
  it('only shows a confirmation page on GET: a mail scanner changes nothing', async () => {
    givenDeal();
    const res = await call('GET', link('accept'));
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<form method="post"');
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('accepts on POST: claims the deal conditionally, then resumes the run with the stored token', async () => {
    givenDeal();
    const res = await call('POST', link('accept'));
    expect(res.statusCode).toBe(200);
    const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.ConditionExpression).toContain('#e_stage = :e_stage');
    expect(update?.ConditionExpression).toContain('#e_taskToken = :e_taskToken');
    expect(update?.ExpressionAttributeValues?.[':stage']).toBe('accepted');
    const resume = sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
    expect(resume).toEqual({ taskToken: 'task-token-1', output: JSON.stringify({ action: 'accept' }) });
  });

  it('reports a win with its amount', async () => {
    givenDeal({ stage: 'accepted' });
    const res = await call('POST', link('won'), 'amount=12500.5');
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(String(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output))).toEqual({
      action: 'won',
      amount: 12500.5,
    });
  });

  it('requires an amount for a win and a known reason for a loss', async () => {
    givenDeal({ stage: 'accepted' });
    expect((await call('POST', link('won'), 'amount=')).statusCode).toBe(400);
    expect((await call('POST', link('lost'), 'reason=meh')).statusCode).toBe(400);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it.each([
    ['tampered', () => `${link('accept').slice(0, -3)}AAA`],
    ['expired', () => link('accept', { exp: Date.now() / 1000 - 1 })],
    ['for another rep', () => link('accept', { audience: 'rep-ben' })],
  ])('refuses a %s link with a clear page and changes nothing', async (_, url) => {
    givenDeal();
    const res = await call('POST', url());
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.headers?.['content-type']).toContain('text/html');
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('treats a replayed link as already done', async () => {
    givenDeal({ stage: 'accepted', taskToken: undefined });
    const res = await call('POST', link('accept'));
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('Already done');
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('loses a double click race without resuming the run twice', async () => {
    givenDeal();
    ddb.on(UpdateCommand).rejects(
      new (await import('@aws-sdk/client-dynamodb')).ConditionalCheckFailedException({
        message: 'no',
        $metadata: {},
      }),
    );
    const res = await call('POST', link('accept'));
    expect(res.statusCode).toBe(409);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('keeps the rep’s answer when the wait already timed out', async () => {
    givenDeal();
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'timed out', $metadata: {} }));
    const res = await call('POST', link('lost'), 'reason=no-budget');
    expect(res.statusCode).toBe(200);
  });

  it('escapes the token it echoes into the form', async () => {
    givenDeal();
    const res = await call('GET', link('won'));
    expect(res.body).not.toMatch(/<script/i);
    expect(res.headers?.['content-security-policy']).toContain("default-src 'none'");
  });
});
