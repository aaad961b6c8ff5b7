import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rescore } from '#functions/lead/rescore.ts';
import { sfnRuns } from '#functions/platform/runs.ts';
import { createHandler as assignRepWith } from '#functions/steps/assign-rep.ts';
import { createHandler as closeWith } from '#functions/steps/close-deal.ts';
import type { Assignment } from '#functions/steps/contracts.ts';
import { config } from '#test/fixtures/config.ts';
import { aLambdaContext } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { memoryStores } from '#test/fixtures/memory-stores.ts';

// Assign rep's redrive at "Reassign rep" (the rest of it: capacity.test.ts).
const ses = mockClient(SESClient);
const secrets = mockClient(SecretsManagerClient);
const sfn = mockClient(SFNClient);
const AT = '2026-11-26T10:00:00.000Z';
beforeEach(() => {
  secrets.on(GetSecretValueCommand).resolves({ SecretString: 'k'.repeat(40) });
  ses.on(SendRawEmailCommand).resolves({ MessageId: 'm-1' });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});
afterEach(() => {
  ses.reset();
  secrets.reset();
  sfn.reset();
});

/** A captured lead made sales-ready on fresh memory stores, and the run input Assign rep takes for it. */
async function salesReadyLead(email: string) {
  const db = memoryStores();
  const lead = aLead({ email });
  const run = { leadId: lead.id, executionName: 'run-1', cycle: 0, taskToken: 'token-1' };
  await db.leads.capture(lead, run.executionName, AT);
  const { score } = await rescore(db.leads, lead.id, new Date(AT));
  await db.leads.setStage(lead.id, 'sales-ready', AT, { score });
  return { db, runs: sfnRuns(), lead, run };
}

describe('Reassign rep, redriven', () => {
  it('after Record failure gave the slot back, the move frees it once and the close frees the new rep’s', async () => {
    const { db, runs, lead, run } = await salesReadyLead('redriven.reassign@acme-robotics.com');
    await assignRepWith({ ...db, runs })(run, aLambdaContext());
    const output = sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output;
    const first = JSON.parse(String(output)) as Assignment;
    // Another rep of the team holds a deal too, so a double release would show.
    const other = first.repId === 'rep-ava' ? 'rep-ben' : 'rep-ava';
    await db.reps.adjustLoad(other, 1, 100);
    // The run failed (or was stopped) at "Reassign rep" before the move: Record failure gave the slot back.
    expect(await db.deals.releaseLoad(first.dealId, AT)).toBe(true);
    await db.reps.adjustLoad(first.repId, -1, 100);
    await db.reps.adjustLoad(first.repId, 1, 100); // the rep took another lead meanwhile

    const previous = { dealId: first.dealId, repId: first.repId, attempt: 1 };
    await assignRepWith({ ...db, runs })({ ...run, taskToken: 'token-2', previous }, aLambdaContext());
    const moved = await db.deals.get(first.dealId);
    expect(moved).toMatchObject({ repId: other, attempt: 2 });
    expect(moved?.loadReleasedAt).toBeUndefined();
    expect([db.reps.load(first.repId), db.reps.load(other)]).toEqual([1, 2]);

    const outcome = { action: 'won', amount: 1000 } as const;
    await closeWith({ ...db, runs })(
      { leadId: lead.id, dealId: first.dealId, cycle: 0, outcome },
      aLambdaContext(),
    );
    expect([db.reps.load(first.repId), db.reps.load(other)]).toEqual([1, 1]);
  });
});

describe('Assign rep reads a deal once', () => {
  it('assigns and reassigns with one deals.get each: what it wrote, it does not read back', async () => {
    const { db, runs, run } = await salesReadyLead('one.read@acme-robotics.com');
    let reads = 0;
    const get = db.deals.get.bind(db.deals);
    db.deals.get = async (id) => {
      reads += 1;
      return get(id);
    };
    await assignRepWith({ ...db, runs })(run, aLambdaContext());
    expect(reads).toBe(1);
    const first = JSON.parse(
      String(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output),
    ) as Assignment;
    expect(await get(first.dealId)).toMatchObject({ repId: first.repId, attempt: 1, emailedAttempt: 1 });

    reads = 0;
    const previous = { dealId: first.dealId, repId: first.repId, attempt: 1 };
    await assignRepWith({ ...db, runs })({ ...run, taskToken: 'token-2', previous }, aLambdaContext());
    expect(reads).toBe(1);
    const moved = await get(first.dealId);
    expect(moved).toMatchObject({ attempt: 2, emailedAttempt: 2, previousReps: [first.repId] });
    expect(moved?.repId).not.toBe(first.repId);
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(2);
  });
});

describe('Assign rep under a DynamoDB throttle', () => {
  it('gives the slot back when the deal’s write is refused, so the retried step holds one slot, not two', async () => {
    const { db, runs, run } = await salesReadyLead('throttled.assign@acme-robotics.com');
    const total = () => config.reps.reps.reduce((n, r) => n + db.reps.load(r.id), 0);
    const create = db.deals.create.bind(db.deals);
    let refused = 0;
    db.deals.create = async (deal) => {
      if (refused++ === 0)
        throw Object.assign(new Error('Throughput exceeds the current capacity'), {
          name: 'ProvisionedThroughputExceededException',
        });
      return create(deal);
    };
    await expect(assignRepWith({ ...db, runs })(run, aLambdaContext())).rejects.toThrow(/capacity/);
    expect(total()).toBe(0);
    await assignRepWith({ ...db, runs })(run, aLambdaContext());
    expect(total()).toBe(1);
  });
});

describe('What the rep was shown', () => {
  it('is kept on the deal and the timeline, and the outcome is graded with it, not with a later score', async () => {
    const { db, runs, lead, run } = await salesReadyLead('snapshot@acme-robotics.com');
    await assignRepWith({ ...db, runs })(run, aLambdaContext());
    const { dealId } = JSON.parse(
      String(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output),
    ) as Assignment;
    const shown = (await db.leads.get(lead.id))?.score;
    if (!shown) throw new Error('the lead was not scored');
    expect((await db.deals.get(dealId))?.seen).toMatchObject({ total: shown.total, grade: shown.grade });
    const assigned = (await db.leads.listEvents(lead.id)).find((e) => e.type === 'assigned');
    expect(assigned?.data).toMatchObject({
      seen: { total: shown.total, grade: shown.grade, fit: shown.fit, profile: { formType: lead.formType } },
    });

    // A later form re-scores the lead while the deal is open.
    const later = { ...shown, total: shown.total + 7, grade: 'Z', reasons: [] };
    await db.leads.setStage(lead.id, 'assigned', AT, { score: later });
    await closeWith({ ...db, runs })(
      { leadId: lead.id, dealId, cycle: 0, outcome: { action: 'won', amount: 500 } },
      aLambdaContext(),
    );
    const day = String((await db.deals.get(dealId))?.closeRecordedAt).slice(0, 10);
    const grades = await db.funnel.read(day, ['grade#']);
    expect(grades.find((c) => c.key === `grade#${shown.grade}`)?.values.won).toBe(1);
    expect(grades.find((c) => c.key === 'grade#Z')).toBeUndefined();
  });
});
