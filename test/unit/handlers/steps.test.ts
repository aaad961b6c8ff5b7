import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepInputError } from '../../../functions/shared/step.ts';
import { createHandler as captureWith } from '../../../functions/steps/capture.ts';
import { createHandler as checkWith } from '../../../functions/steps/check-engagement.ts';
import { createHandler as closeWith } from '../../../functions/steps/close-deal.ts';
import { createHandler as scoreWith } from '../../../functions/steps/score.ts';
import { createHandler as sendNurtureWith } from '../../../functions/steps/send-nurture.ts';
import { config } from '../../fixtures/config.ts';
import { aLambdaContext } from '../../fixtures/lambda.ts';
import { aLead } from '../../fixtures/leads.ts';
import { type MemoryStores, memoryStores } from '../../fixtures/memory-stores.ts';

const ses = mockClient(SESClient);
const secrets = mockClient(SecretsManagerClient);
const lead = aLead({ formType: 'newsletter' });
const AT = '2026-11-26T10:00:00.000Z';
let db: MemoryStores;

beforeEach(() => {
  db = memoryStores();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: 'k'.repeat(40) });
  ses.on(SendRawEmailCommand).resolves({ MessageId: 'm-1' });
});
afterEach(() => {
  ses.reset();
  secrets.reset();
});

/** A lead that has been captured and scored into nurture. */
async function nurturingLead(overrides = {}) {
  const l = { ...lead, ...overrides };
  await db.leads.capture(l, 'run-1', AT);
  await db.leads.setStage(l.id, 'nurturing', AT);
  return l;
}

describe('Capture lead', () => {
  it('captures a new lead with its email claim and a form event', async () => {
    const out = await captureWith(db)({ lead, receivedAt: AT, executionName: 'run-1' }, aLambdaContext());
    expect(out).toEqual({ leadId: lead.id, outcome: 'captured' });
    expect(await db.leads.get(lead.id)).toMatchObject({ stage: 'captured', activeExecution: 'run-1' });
    expect(await db.leads.listEvents(lead.id)).toEqual([
      expect.objectContaining({
        type: 'form',
        at: AT,
        data: expect.objectContaining({ formType: 'newsletter' }),
      }),
    ]);
  });

  it('merges into the lead’s active run instead of starting over', async () => {
    await captureWith(db)({ lead, receivedAt: AT, executionName: 'run-1' }, aLambdaContext());
    const out = await captureWith(db)(
      { lead, receivedAt: '2026-11-26T11:00:00.000Z', executionName: 'run-2' },
      aLambdaContext(),
    );
    expect(out.outcome).toBe('merged');
    expect((await db.leads.get(lead.id))?.activeExecution).toBe('run-1');
  });

  it('rejects input that breaks the step contract', async () => {
    await expect(captureWith(db)({ lead: { ...lead, id: 'nope' } }, aLambdaContext())).rejects.toThrow(
      StepInputError,
    );
  });
});

describe('Score lead', () => {
  it('routes a demo request straight to sales and records the score with its reasons', async () => {
    const hot = aLead({ formType: 'demo-request' });
    await captureWith(db)({ lead: hot, receivedAt: AT, executionName: 'run-1' }, aLambdaContext());
    const out = await scoreWith(db)({ leadId: hot.id }, aLambdaContext());
    expect(out.route).toBe('sales-ready');
    const stored = await db.leads.get(hot.id);
    expect(stored?.stage).toBe('sales-ready');
    expect(stored?.score?.reasons.length).toBeGreaterThan(0);
  });

  it('refuses to move a lead the stage machine does not allow (a lead already won)', async () => {
    await nurturingLead();
    await db.leads.setStage(lead.id, 'sales-ready', AT);
    await db.leads.setStage(lead.id, 'assigned', AT);
    await db.leads.setStage(lead.id, 'won', AT);
    await expect(scoreWith(db)({ leadId: lead.id }, aLambdaContext())).rejects.toThrow(/cannot go from won/);
  });
});

describe('Send nurture email', () => {
  const run = () =>
    sendNurtureWith(db)({ leadId: lead.id, nurture: { cycle: 0, step: 1 } }, aLambdaContext());

  it('sends step 1 once and schedules the next step in business hours', async () => {
    await nurturingLead();
    const out = await run();
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(1);
    expect(out).toMatchObject({ cycle: 0, step: 2, status: 'sent', done: false });
    const hour = Number(
      new Intl.DateTimeFormat('en-US', { timeZone: lead.timeZone, hour: 'numeric', hourCycle: 'h23' }).format(
        new Date(String(out.nextSendAt)),
      ),
    );
    expect(hour).toBeGreaterThanOrEqual(config.nurture.businessHours.startHour);
    expect(hour).toBeLessThan(config.nurture.businessHours.endHour);
    expect(await db.sends.wasSent(lead.id, 0, 1)).toBe(true);
  });

  it('does not send again when a retry finds the send marker', async () => {
    await nurturingLead();
    await run();
    const again = await run();
    expect(again).toMatchObject({ status: 'sent', step: 2 });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(1);
  });

  it('honours the suppression list and ends the lead as unsubscribed', async () => {
    await nurturingLead();
    await db.suppression.suppress(lead.email, 'unsubscribed', 'page', AT);
    expect(await run()).toMatchObject({ status: 'suppressed' });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(0);
    expect((await db.leads.get(lead.id))?.stage).toBe('unsubscribed');
  });

  it('does not market to a lead without consent', async () => {
    await nurturingLead({ consent: false });
    expect(await run()).toMatchObject({ status: 'not-emailable' });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(0);
    expect((await db.leads.get(lead.id))?.stage).toBe('not-emailable');
  });

  it('sends a From header with the display name encoded apart from the address', async () => {
    await nurturingLead();
    await run();
    const raw = Buffer.from(
      ses.commandCalls(SendRawEmailCommand)[0]?.args[0].input.RawMessage?.Data ?? [],
    ).toString();
    expect(raw).toMatch(new RegExp(`^From: .* <${config.app.sender.fromAddress}>\\r$`, 'm'));
  });
});

describe('Check engagement', () => {
  it('keeps nurturing a lead that has not engaged, and ends the sequence when it is done', async () => {
    await nurturingLead();
    const check = checkWith(db);
    expect(await check({ leadId: lead.id, nurture: { done: false } }, aLambdaContext())).toMatchObject({
      next: 'continue',
    });
    expect(await check({ leadId: lead.id, nurture: { done: true } }, aLambdaContext())).toMatchObject({
      next: 'done',
    });
    expect((await db.leads.get(lead.id))?.stage).toBe('nurtured');
  });

  it('hands a lead who asked for a demo to sales', async () => {
    await nurturingLead();
    await db.leads.putEvent(lead.id, {
      type: 'form',
      at: new Date().toISOString(),
      data: { formType: 'demo-request' },
    });
    const out = await checkWith(db)({ leadId: lead.id, nurture: { done: false } }, aLambdaContext());
    expect(out.next).toBe('sales-ready');
    expect((await db.leads.get(lead.id))?.stage).toBe('sales-ready');
  });
});

describe('Close deal', () => {
  it('records a win, frees the rep once and moves the lead to won', async () => {
    const hot = aLead();
    await db.leads.capture(hot, 'run-1', AT);
    await db.leads.setStage(hot.id, 'sales-ready', AT);
    await db.leads.setStage(hot.id, 'assigned', AT);
    await db.reps.adjustLoad('rep-ava', 1, 3);
    await db.deals.create({
      dealId: 'dl-1',
      leadId: hot.id,
      executionName: 'run-1',
      repId: 'rep-ava',
      attempt: 1,
      previousReps: [],
      stage: 'accepted',
      createdAt: AT,
      updatedAt: AT,
    });
    const close = closeWith(db);
    const input = {
      leadId: hot.id,
      dealId: 'dl-1',
      cycle: 0,
      outcome: { action: 'won' as const, amount: 900 },
    };
    expect(await close(input, aLambdaContext())).toEqual({ stage: 'won', recycle: false, nextCycle: 1 });
    await close(input, aLambdaContext());
    expect(db.reps.load('rep-ava')).toBe(0);
    expect((await db.leads.get(hot.id))?.stage).toBe('won');
    expect((await db.deals.get('dl-1'))?.amount).toBe(900);
  });
});
