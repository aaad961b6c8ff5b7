import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '#functions/api/unsubscribe.ts';
import { signLink } from '#functions/mail/links.ts';
import type { HttpEvent } from '#functions/platform/http.ts';
import { aLambdaContext, anHttpEvent } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { type MemoryStores, memoryStores } from '#test/fixtures/memory-stores.ts';
import { fakeRuns } from '#test/fixtures/runs.ts';

// How an unsubscribe POST is recorded: "one-click" for RFC 8058's List-Unsubscribe=One-Click, however the
// mail provider encodes it (URL-encoded, or multipart/form-data, which API Gateway hands over base64-encoded),
// "page" for the confirmation page's button.
const KEY = 'unit-test-signing-key-0123456789abcdef';
const secrets = mockClient(SecretsManagerClient);
const lead = aLead();
const { runs } = fakeRuns();
let db: MemoryStores;
beforeEach(async () => {
  db = memoryStores();
  await db.leads.capture(lead, 'run-1', '2026-11-26T10:00:00.000Z');
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
});
afterEach(() => secrets.reset());

const url = () =>
  `/unsubscribe?t=${signLink({ action: 'unsubscribe', subject: lead.id, audience: 'lead', exp: Math.floor(Date.now() / 1000) + 3600 }, KEY)}`;
/** Posts `body` as `contentType`; `base64`: as API Gateway's HTTP API passes a non-text body. */
async function post(contentType: string, body: string, base64 = false) {
  const event: HttpEvent = {
    ...anHttpEvent('POST', url(), { headers: { 'content-type': contentType }, body }),
    ...(base64 ? { body: Buffer.from(body).toString('base64'), isBase64Encoded: true } : {}),
  };
  const res = await createHandler({ ...db, runs })(event, aLambdaContext());
  expect(res.statusCode).toBe(200);
  expect(await db.suppression.reasonFor(lead.email)).toBe('unsubscribed');
  const events = await db.leads.listEvents(lead.id);
  return events.filter((e) => e.type === 'unsubscribed').map((e) => (e.data as { how: string }).how);
}

const multipart = (boundary: string, fields: Record<string, string>) =>
  `${Object.entries(fields)
    .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    .join('')}--${boundary}--\r\n`;

describe('unsubscribe: how it is recorded', () => {
  it('one-click, for a multipart/form-data one-click POST as API Gateway passes it (base64)', async () => {
    const boundary = '----=_Part_0_1234.5678';
    const body = multipart(boundary, { 'List-Unsubscribe': 'One-Click' });
    expect(await post(`multipart/form-data; boundary="${boundary}"`, body, true)).toEqual(['one-click']);
  });

  it('one-click, for a multipart/form-data body passed as text, with other fields around it', async () => {
    const boundary = 'xYzZY';
    const body = multipart(boundary, { other: 'x', 'List-Unsubscribe': 'One-Click', more: 'y' });
    expect(await post(`multipart/form-data; boundary=${boundary}`, body)).toEqual(['one-click']);
  });

  it('one-click, for the URL-encoded one-click POST passed base64-encoded', async () => {
    const form = 'application/x-www-form-urlencoded';
    expect(await post(form, 'List-Unsubscribe=One-Click', true)).toEqual(['one-click']);
  });

  it('page, for the confirmation page’s button, and for a multipart body without the one-click field', async () => {
    expect(await post('application/x-www-form-urlencoded', '')).toEqual(['page']);
    db = memoryStores();
    await db.leads.capture(lead, 'run-1', '2026-11-26T10:00:00.000Z');
    const boundary = 'b1';
    const body = multipart(boundary, { 'List-Unsubscribe': 'Something-Else' });
    expect(await post(`multipart/form-data; boundary=${boundary}`, body, true)).toEqual(['page']);
  });
});
