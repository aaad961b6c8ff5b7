import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as click } from '../../../functions/api/click.ts';
import { handler as unsubscribe } from '../../../functions/api/unsubscribe.ts';
import { signLink } from '../../../functions/shared/domain/links.ts';
import { aLambdaContext, anHttpEvent } from '../../fixtures/lambda.ts';
import { aLead } from '../../fixtures/leads.ts';

const KEY = 'unit-test-signing-key-0123456789abcdef';
const ddb = mockClient(DynamoDBDocumentClient);
const secrets = mockClient(SecretsManagerClient);
const lead = aLead();
const now = () => Math.floor(Date.now() / 1000);

beforeEach(() => {
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
  ddb.on(GetCommand).resolves({ Item: lead });
  ddb.on(PutCommand).resolves({});
});
afterEach(() => {
  ddb.reset();
  secrets.reset();
});

describe('unsubscribe', () => {
  const url = `/unsubscribe?t=${signLink({ action: 'unsubscribe', subject: lead.id, audience: 'lead', exp: now() + 3600 }, KEY)}`;

  it('shows a confirmation page on GET and suppresses nothing', async () => {
    const res = await unsubscribe(anHttpEvent('GET', url), aLambdaContext());
    expect(res.statusCode).toBe(200);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('suppresses the address at once on a one-click POST', async () => {
    const res = await unsubscribe(
      anHttpEvent('POST', url, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      }),
      aLambdaContext(),
    );
    expect(res.statusCode).toBe(200);
    const put = ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item);
    expect(put).toContainEqual(
      expect.objectContaining({ pk: `SUPPRESS#${lead.email}`, reason: 'unsubscribed', how: 'one-click' }),
    );
  });

  it('refuses a rep link used as an unsubscribe link', async () => {
    const t = signLink({ action: 'accept', subject: lead.id, audience: 'lead', exp: now() + 3600 }, KEY);
    const res = await unsubscribe(anHttpEvent('POST', `/unsubscribe?t=${t}`), aLambdaContext());
    expect(res.statusCode).toBe(403);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('click tracking', () => {
  const token = (dest: string, sentSecondsAgo: number) =>
    signLink(
      { action: 'click', subject: lead.id, audience: dest, exp: now() + 3600, iat: now() - sentSecondsAgo },
      KEY,
    );
  const get = (t: string, ua = 'Mozilla/5.0 (Windows NT 10.0) Chrome/130') =>
    click(anHttpEvent('GET', `/c?t=${t}`, { headers: { 'user-agent': ua } }), aLambdaContext());

  it('redirects to the allow-listed destination and records engagement', async () => {
    const res = await get(token('https://www.handoff.example/resources/welcome', 3600));
    expect(res.statusCode).toBe(302);
    expect(res.headers?.location).toBe('https://www.handoff.example/resources/welcome');
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({ type: 'email-click' });
  });

  it('never redirects off the allow-list, even with a valid signature', async () => {
    const res = await get(token('https://evil.example/phish', 3600));
    expect(res.statusCode).toBe(403);
    expect(res.headers?.location).toBeUndefined();
  });

  it.each([
    ['a click seconds after sending', 3, 'Mozilla/5.0 Chrome/130'],
    ['a known scanner agent', 3600, 'Mozilla/5.0 (compatible; Barracuda Sentinel)'],
    ['no user agent', 3600, ''],
  ])('redirects but does not score %s', async (_, ago, ua) => {
    const res = await get(token('https://www.handoff.example/x', ago), ua);
    expect(res.statusCode).toBe(302);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});
