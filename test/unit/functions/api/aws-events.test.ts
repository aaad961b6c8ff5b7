// The HTTP handlers fed requests as API Gateway's HTTP API sends them (payload 2.0): Powertools' sample
// events (test/fixtures/aws/, `iam-auth` for the admin routes) with Handoff's route, query and body. Each
// event parses with Powertools' APIGatewayProxyEventV2 schema before the handler gets it.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as adminWith } from '#functions/api/admin.ts';
import { createHandler as adminWriteWith } from '#functions/api/admin-write.ts';
import { createHandler as clickWith } from '#functions/api/click.ts';
import { createHandler as leadsWith } from '#functions/api/leads.ts';
import { createHandler as repActionWith } from '#functions/api/rep-action.ts';
import { createHandler as unsubscribeWith } from '#functions/api/unsubscribe.ts';
import { signLink } from '#functions/mail/links.ts';
import type { HttpEvent, HttpResult } from '#functions/platform/http.ts';
import { sfnRuns } from '#functions/platform/runs.ts';
import { anAwsHttpEvent } from '#test/fixtures/aws-events.ts';
import { APIGatewayProxyEventV2Schema, issuesOf } from '#test/fixtures/aws-schemas.ts';
import { aDeal } from '#test/fixtures/deals.ts';
import { aLambdaContext } from '#test/fixtures/lambda.ts';
import { aFormSubmission, aLead } from '#test/fixtures/leads.ts';
import { type MemoryStores, memoryClientLimits, memoryStores } from '#test/fixtures/memory-stores.ts';

const KEY = 'unit-test-signing-key-0123456789abcdef';
const AT = '2026-11-26T10:00:00.000Z';
const sfn = mockClient(SFNClient);
const secrets = mockClient(SecretsManagerClient);
const runs = sfnRuns({ stateMachineArn: String(process.env.STATE_MACHINE_ARN) });
const lead = aLead();
const exp = () => Math.floor(Date.now() / 1000) + 3600;
let db: MemoryStores;

beforeEach(async () => {
  db = memoryStores();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
  sfn.on(SendTaskSuccessCommand).resolves({});
  await db.leads.capture(lead, 'run-1', AT);
});
afterEach(() => {
  sfn.reset();
  secrets.reset();
});

/** The event checked against Powertools' schema, then handed to the handler. */
async function send(
  handler: (event: HttpEvent, context: Context) => Promise<HttpResult>,
  event: HttpEvent,
): Promise<HttpResult> {
  expect(issuesOf(APIGatewayProxyEventV2Schema, event)).toEqual([]);
  return handler(event, aLambdaContext());
}

describe('HTTP handlers, fed API Gateway payload 2.0 as AWS sends it', () => {
  it('POST /leads (leads.ts) accepts a JSON lead and starts its run', async () => {
    const res = await send(
      leadsWith({ ...db, runs, limits: memoryClientLimits() }),
      anAwsHttpEvent('POST', '/leads', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(aFormSubmission({ email: 'sam.rivera@acme-robotics.com' })),
      }),
    );
    expect(res.statusCode).toBe(202);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('GET /c (click.ts) redirects to the signed destination and records the click', async () => {
    const t = signLink(
      { action: 'click', subject: lead.id, audience: 'https://www.handoff.example/x', exp: exp(), iat: 1 },
      KEY,
    );
    const res = await send(
      clickWith({ ...db, runs }),
      anAwsHttpEvent('GET', `/c?t=${t}`, { headers: { 'user-agent': 'Mozilla/5.0 Chrome/130' } }),
    );
    expect(res.statusCode).toBe(302);
    expect(String(res.headers?.location).split('?')[0]).toBe('https://www.handoff.example/x');
    expect((await db.leads.listEvents(lead.id)).map((e) => e.type)).toContain('email-click');
  });

  it('POST /unsubscribe (unsubscribe.ts) suppresses the address on a one-click unsubscribe', async () => {
    const t = signLink({ action: 'unsubscribe', subject: lead.id, audience: 'lead', exp: exp() }, KEY);
    const res = await send(
      unsubscribeWith({ ...db, runs }),
      anAwsHttpEvent('POST', `/unsubscribe?t=${t}`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(await db.suppression.reasonFor(lead.email)).toBe('unsubscribed');
  });

  it('POST /deals/action (rep-action.ts) accepts the deal and resumes its run', async () => {
    await db.deals.create(aDeal());
    const t = signLink({ action: 'accept', subject: aDeal().dealId, audience: 'rep-ava', exp: exp() }, KEY);
    const res = await send(
      repActionWith({ ...db, runs }),
      anAwsHttpEvent('POST', `/deals/action?t=${t}`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    );
    expect(res.statusCode).toBe(200);
    expect((await db.deals.get(aDeal().dealId))?.stage).toBe('accepted');
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it('GET /admin/leads/{leadId} (admin.ts, IAM-signed) answers the lead', async () => {
    const res = await send(
      adminWith(db),
      anAwsHttpEvent('GET', `/admin/leads/${lead.id}`, {
        route: '/admin/leads/{leadId}',
        pathParameters: { leadId: lead.id },
        iam: true,
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(String(res.body)).lead).toMatchObject({ id: lead.id, email: lead.email });
  });

  it('DELETE /admin/leads/{leadId} (admin-write.ts, IAM-signed) erases the lead', async () => {
    const res = await send(
      adminWriteWith({ ...db, runs }),
      anAwsHttpEvent('DELETE', `/admin/leads/${lead.id}`, {
        route: '/admin/leads/{leadId}',
        pathParameters: { leadId: lead.id },
        iam: true,
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(String(res.body))).toMatchObject({ erased: true });
    expect(await db.leads.get(lead.id)).toBeUndefined();
  });
});
