import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as clickWith } from '#functions/api/click.ts';
import { createHandler as unsubscribeWith } from '#functions/api/unsubscribe.ts';
import { signLink, verifyLink } from '#functions/mail/links.ts';
import type { HttpEvent, HttpResult } from '#functions/platform/http.ts';
import { aLambdaContext, anHttpEvent } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { type MemoryStores, memoryStores } from '#test/fixtures/memory-stores.ts';
import { fakeRuns } from '#test/fixtures/runs.ts';

const KEY = 'unit-test-signing-key-0123456789abcdef';
const secrets = mockClient(SecretsManagerClient);
const lead = aLead();
const now = () => Math.floor(Date.now() / 1000);

let db: MemoryStores;
// Nothing is parked in these tests, so nothing may reach Step Functions: a fake Runs.
const { runs } = fakeRuns();
type Call = (event: HttpEvent, context: Context) => Promise<HttpResult>;
const unsubscribe: Call = (event, context) => unsubscribeWith({ ...db, runs })(event, context);
const click: Call = (event, context) => clickWith({ ...db, runs })(event, context);

beforeEach(async () => {
  db = memoryStores();
  await db.leads.capture(lead, 'run-1', '2026-11-26T10:00:00.000Z');
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
});
afterEach(() => {
  secrets.reset();
});

describe('unsubscribe', () => {
  const url = `/unsubscribe?t=${signLink({ action: 'unsubscribe', subject: lead.id, audience: 'lead', exp: now() + 3600 }, KEY)}`;

  it('shows a confirmation page on GET and suppresses nothing', async () => {
    const res = await unsubscribe(anHttpEvent('GET', url), aLambdaContext());
    expect(res.statusCode).toBe(200);
    expect(await db.suppression.isSuppressed(lead.email)).toBe(false);
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
    expect(await db.suppression.reasonFor(lead.email)).toBe('unsubscribed');
    expect(await db.leads.listEvents(lead.id)).toContainEqual(
      expect.objectContaining({ type: 'unsubscribed', data: { how: 'one-click' } }),
    );
  });

  it('refuses a rep link used as an unsubscribe link', async () => {
    const t = signLink({ action: 'accept', subject: lead.id, audience: 'lead', exp: now() + 3600 }, KEY);
    const res = await unsubscribe(anHttpEvent('POST', `/unsubscribe?t=${t}`), aLambdaContext());
    expect(res.statusCode).toBe(403);
    expect(await db.suppression.isSuppressed(lead.email)).toBe(false);
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
    const location = new URL(String(res.headers?.location));
    expect(`${location.origin}${location.pathname}`).toBe('https://www.handoff.example/resources/welcome');
    // The person gets the lead's signed site visitor id (examples/track.js keeps it after consent).
    const visitor = verifyLink(String(location.searchParams.get('hv')), KEY, new Date(), ['visit']);
    expect(visitor).toMatchObject({ subject: lead.id, audience: 'site' });
    // The destination never learns the signed link it came from.
    expect(res.headers?.['Referrer-Policy']).toBe('no-referrer');
    expect(res.headers?.['cache-control']).toBe('no-store');
    expect((await db.leads.listEvents(lead.id)).map((e) => e.type)).toContain('email-click');
  });

  it('never redirects off the allow-list, even with a valid signature', async () => {
    const res = await get(token('https://evil.example/phish', 3600));
    expect(res.statusCode).toBe(403);
    expect(res.headers?.location).toBeUndefined();
    expect(res.headers?.['X-Content-Type-Options']).toBe('nosniff');
  });

  it.each([
    ['a click seconds after sending', 3, 'Mozilla/5.0 Chrome/130'],
    ['a known scanner agent', 3600, 'Mozilla/5.0 (compatible; Barracuda Sentinel)'],
    ['no user agent', 3600, ''],
  ])('redirects but does not score %s', async (_, ago, ua) => {
    const res = await get(token('https://www.handoff.example/x', ago), ua);
    expect(res.statusCode).toBe(302);
    expect((await db.leads.listEvents(lead.id)).map((e) => e.type)).not.toContain('email-click');
    // A scanner is not the person: no visitor id for it to carry around.
    expect(res.headers?.location).toBe('https://www.handoff.example/x');
  });
});
