import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepInputError } from '#functions/platform/step.ts';
import { createHandler as captureWith } from '#functions/steps/capture.ts';
import { createHandler as closeWith } from '#functions/steps/close-deal.ts';
import { aLambdaContext } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { captureInput, type MemoryStores, memoryStores } from '#test/fixtures/memory-stores.ts';
import { fakeRuns } from '#test/fixtures/runs.ts';

const ses = mockClient(SESClient);
const secrets = mockClient(SecretsManagerClient);
const lead = aLead({ formType: 'newsletter' });
const AT = '2026-11-26T10:00:00.000Z';
let db: MemoryStores;
const { runs } = fakeRuns();

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
async function _nurturingLead(overrides = {}) {
  const l = { ...lead, ...overrides };
  await db.leads.capture(l, 'run-1', AT);
  await db.leads.setStage(l.id, 'nurturing', AT);
  return l;
}

describe('Capture & score lead', () => {
  it('captures a new lead with its email claim and a form event, scores it and routes it', async () => {
    const out = await captureWith(db)(await captureInput(db, lead, 'run-1', AT), aLambdaContext());
    expect(out).toMatchObject({ leadId: lead.id, route: 'nurture' });
    expect(await db.leads.get(lead.id)).toMatchObject({ stage: 'nurturing', activeExecution: 'run-1' });
    const events = await db.leads.listEvents(lead.id);
    expect(events.map((e) => e.type).sort()).toEqual(['form', 'scored']);
    expect((await db.leads.get(lead.id))?.score?.reasons.length).toBeGreaterThan(0);
  });

  it('routes a demo request straight to sales', async () => {
    const hot = aLead({ formType: 'demo-request' });
    const out = await captureWith(db)(await captureInput(db, hot, 'run-1', AT), aLambdaContext());
    expect(out.route).toBe('sales-ready');
    expect((await db.leads.get(hot.id))?.stage).toBe('sales-ready');
  });

  it('merges into the lead’s active run instead of starting over', async () => {
    await captureWith(db)(await captureInput(db, lead, 'run-1', AT), aLambdaContext());
    const out = await captureWith(db)(
      await captureInput(db, lead, 'run-2', '2026-11-26T11:00:00.000Z'),
      aLambdaContext(),
    );
    expect(out.route).toBe('merged');
    expect((await db.leads.get(lead.id))?.activeExecution).toBe('run-1');
  });

  it('reads the submission the run was started with: its input has only the lead’s id', async () => {
    const input = await captureInput(db, lead, 'run-1', AT);
    expect(JSON.stringify(input)).not.toContain(lead.email);
    await captureWith(db)(input, aLambdaContext());
    expect(await db.leads.get(lead.id)).toMatchObject({ email: lead.email, firstName: lead.firstName });
    // Erased before capture (the submission went with the lead's items): nothing is stored, no one mailed.
    const gone = aLead({ email: 'gone.before.capture@acme-robotics.com' });
    const out = await captureWith(db)(
      { lead: { id: gone.id }, receivedAt: AT, executionName: 'run-9' },
      aLambdaContext(),
    );
    expect(out.route).toBe('merged');
    expect(await db.leads.get(gone.id)).toBeUndefined();
  });

  it('rejects input that breaks the step contract', async () => {
    await expect(captureWith(db)({ lead: { ...lead, id: 'nope' } }, aLambdaContext())).rejects.toThrow(
      StepInputError,
    );
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
    const close = closeWith({ ...db, runs });
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
