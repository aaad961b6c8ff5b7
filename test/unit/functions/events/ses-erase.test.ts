import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as adminWriteWith } from '#functions/api/admin-write.ts';
import { deliverToActiveRun } from '#functions/api/submissions.ts';
import { evaluateBreaker, updateBreaker } from '#functions/deliverability/breaker.ts';
import { createHandler as sesEventsWith } from '#functions/events/ses-events.ts';
import { sfnRuns } from '#functions/platform/runs.ts';
import { createHandler as awaitSignalWith } from '#functions/steps/await-signal.ts';
import { aDeal } from '#test/fixtures/deals.ts';
import { aLambdaContext, anHttpEvent } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { type MemoryStores, memoryStores } from '#test/fixtures/memory-stores.ts';

const ses = mockClient(SESClient);
const sfn = mockClient(SFNClient);
const AT = '2026-11-25T16:00:00.000Z';
const lead = aLead({ email: 'gone@acme-robotics.com', formType: 'newsletter' });
let db: MemoryStores;
const runs = sfnRuns({ stateMachineArn: String(process.env.STATE_MACHINE_ARN) });

beforeEach(async () => {
  db = memoryStores();
  ses.on(SendRawEmailCommand).resolves({ MessageId: 'm-1' });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  sfn.on(StopExecutionCommand).resolves({});
  await db.leads.capture(lead, 'run-1', AT);
  await db.leads.setStage(lead.id, 'nurturing', AT);
});
afterEach(() => {
  ses.reset();
  sfn.reset();
});

const sesEvent = (eventType: string, extra: Record<string, unknown> = {}, to = lead.email) => ({
  'detail-type': `Email ${eventType}`,
  time: AT,
  detail: { eventType, mail: { destination: [to], tags: { leadId: [lead.id] } }, ...extra },
});
const bounce = (bounceType: string) =>
  sesEvent('Bounce', { bounce: { bounceType, bouncedRecipients: [{ emailAddress: lead.email }] } });

describe('SES events', () => {
  it('a permanent bounce suppresses the address and wakes the lead’s run at once', async () => {
    await awaitSignalWith({ ...db, runs })({ taskToken: 'tok-1', leadId: lead.id }, aLambdaContext());
    const out = await sesEventsWith({ ...db, runs })(bounce('Permanent'), aLambdaContext());
    expect(out).toMatchObject({ counted: 'bounced', suppressed: 1, woken: 1 });
    expect(await db.suppression.reasonFor(lead.email)).toBe('bounced');
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.taskToken).toBe('tok-1');
    expect((await db.leads.listEvents(lead.id)).map((e) => e.type)).toContain('bounced');
  });

  it('a complaint suppresses the address as complained', async () => {
    const complaint = sesEvent('Complaint', {
      complaint: { complainedRecipients: [{ emailAddress: lead.email }] },
    });
    expect(await sesEventsWith({ ...db, runs })(complaint, aLambdaContext())).toMatchObject({
      counted: 'complained',
      suppressed: 1,
    });
    expect(await db.suppression.reasonFor(lead.email)).toBe('complained');
  });

  it('a transient bounce is counted, not suppressed', async () => {
    expect(await sesEventsWith({ ...db, runs })(bounce('Transient'), aLambdaContext())).toMatchObject({
      counted: 'transient',
      suppressed: 0,
    });
    expect(await db.suppression.isSuppressed(lead.email)).toBe(false);
  });

  it('trips the breaker once bounces pass the limit with enough volume, and not before', async () => {
    const handle = sesEventsWith({ ...db, runs });
    for (let i = 0; i < 100; i++)
      await handle(sesEvent('Send', {}, `p${i}@acme-robotics.com`), aLambdaContext());
    for (let i = 0; i < 3; i++)
      expect((await handle(bounce('Permanent'), aLambdaContext())).tripped).toBe(false);
    expect((await handle(bounce('Permanent'), aLambdaContext())).tripped).toBe(true);
    expect(await db.deliverability.state()).toMatchObject({
      tripped: true,
      reason: expect.stringMatching(/bounce rate 4\.0 %/),
    });
  });

  it('counts a redelivered event (same EventBridge id) once', async () => {
    const handle = sesEventsWith({ ...db, runs });
    const event = { id: 'evt-1', ...bounce('Transient') };
    await handle(event, aLambdaContext());
    await handle(event, aLambdaContext());
    await handle({ ...event, id: 'evt-2' }, aLambdaContext());
    expect((await db.deliverability.window(24, new Date(AT))).transient).toBe(2);
  });

  it('only trips the breaker: an event never closes it (Nurture does, and an admin), and reading it writes nothing', async () => {
    await db.deliverability.trip('bounce rate 9.0 % ≥ 4.0 %', AT);
    const handle = sesEventsWith({ ...db, runs });
    expect((await handle(sesEvent('Send'), aLambdaContext())).tripped).toBe(false);
    expect((await db.deliverability.state()).tripped).toBe(true);
    // The read-only view says the rates have recovered; the recorded state is unchanged.
    expect((await evaluateBreaker(db.deliverability, new Date(AT))).tripped).toBe(false);
    expect((await db.deliverability.state()).tripped).toBe(true);
    expect((await updateBreaker(db.deliverability, new Date(AT))).tripped).toBe(false);
    expect((await db.deliverability.state()).tripped).toBe(false);
  });
});

describe('POST /admin/deliverability/reset', () => {
  it('closes a tripped breaker and restarts the window, so the next event does not trip it again', async () => {
    const handle = sesEventsWith({ ...db, runs });
    for (let i = 0; i < 100; i++)
      await handle(sesEvent('Send', {}, `p${i}@acme-robotics.com`), aLambdaContext());
    for (let i = 0; i < 5; i++) await handle(bounce('Permanent'), aLambdaContext());
    expect((await db.deliverability.state()).tripped).toBe(true);
    const reset = await adminWriteWith({ ...db, runs })(
      anHttpEvent('POST', '/admin/deliverability/reset'),
      aLambdaContext(),
    );
    expect(reset.statusCode).toBe(200);
    expect(JSON.parse(String(reset.body))).toMatchObject({ reset: true, state: { tripped: false } });
    expect((await handle(sesEvent('Send', {}, 'next@acme-robotics.com'), aLambdaContext())).tripped).toBe(
      false,
    );
  });
});

describe('one run per lead', () => {
  it('hands a nurtured lead’s new form to its run: on the timeline once a day, its wait woken, no new run', async () => {
    await awaitSignalWith({ ...db, runs })({ taskToken: 'tok-2', leadId: lead.id }, aLambdaContext());
    const demo = { ...lead, formType: 'demo-request' };
    expect(await deliverToActiveRun({ ...db, runs }, demo, new Date(AT))).toBe('delivered');
    expect(await deliverToActiveRun({ ...db, runs }, demo, new Date(AT))).toBe('delivered');
    expect((await db.leads.listEvents(lead.id)).filter((e) => e.data?.delivered)).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it('tells the rep of an assigned lead about new activity, at most once a day', async () => {
    await db.leads.setStage(lead.id, 'sales-ready', AT);
    await db.leads.setStage(lead.id, 'assigned', AT, { ownerRepId: 'rep-ava' });
    await deliverToActiveRun({ ...db, runs }, { ...lead, formType: 'pricing' }, new Date(AT));
    await deliverToActiveRun({ ...db, runs }, { ...lead, formType: 'webinar' }, new Date(AT));
    const mails = ses
      .commandCalls(SendRawEmailCommand)
      .map((c) => Buffer.from(c.args[0].input.RawMessage?.Data ?? []).toString());
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain('Subject: New activity');
  });

  it('starts a run for a lead whose last run has ended', async () => {
    await db.leads.setStage(lead.id, 'nurtured', AT);
    expect(await deliverToActiveRun({ ...db, runs }, lead, new Date(AT))).toBe('start');
  });
});

describe('erase (DELETE /admin/leads/{id})', () => {
  it('stops the run, frees the rep once, deletes the lead and keeps only a hash in suppression', async () => {
    await db.leads.setStage(lead.id, 'sales-ready', AT);
    await db.deals.create(aDeal({ leadId: lead.id, repId: 'rep-ava' }));
    await db.reps.adjustLoad('rep-ava', 1, 25);
    await db.leads.setStage(lead.id, 'assigned', AT, { ownerRepId: 'rep-ava', openDealId: aDeal().dealId });
    const erase = () =>
      adminWriteWith({ ...db, runs })(
        anHttpEvent('DELETE', `/admin/leads/${lead.id}`, { pathParameters: { leadId: lead.id } }),
        aLambdaContext(),
      );
    const res = await erase();
    expect(res.statusCode).toBe(200);
    expect(sfn.commandCalls(StopExecutionCommand)[0]?.args[0].input.executionArn).toMatch(
      /:execution:.*:run-1$/,
    );
    expect(await db.leads.get(lead.id)).toBeUndefined();
    expect(await db.leads.listEvents(lead.id)).toEqual([]);
    expect(db.reps.load('rep-ava')).toBe(0);
    expect(await db.deals.get(aDeal().dealId)).toMatchObject({ runEnd: 'ERASED' });
    expect(await db.suppression.reasonFor(lead.email)).toBe('erased');
    expect((await erase()).statusCode).toBe(404);
  });
});
