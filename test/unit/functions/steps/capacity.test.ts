import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as recordFailureWith } from '#functions/events/record-failure.ts';
import { rescore } from '#functions/lead/rescore.ts';
import { sfnRuns } from '#functions/platform/runs.ts';
import { StepInputError } from '#functions/platform/step.ts';
import { createHandler as assignRepWith, dealIdFor } from '#functions/steps/assign-rep.ts';
import { createHandler as closeWith } from '#functions/steps/close-deal.ts';
import type { Assignment } from '#functions/steps/contracts.ts';
import { config } from '#test/fixtures/config.ts';
import { aLambdaContext } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { parseMime } from '#test/fixtures/mail.ts';
import { type MemoryStores, memoryStores, runInputKept } from '#test/fixtures/memory-stores.ts';

const ses = mockClient(SESClient);
const secrets = mockClient(SecretsManagerClient);
const sfn = mockClient(SFNClient);
const AT = '2026-11-26T10:00:00.000Z';
let db: MemoryStores;
const runs = sfnRuns();

beforeEach(() => {
  db = memoryStores();
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

const enterprise = config.reps.reps.filter((r) => r.team === 'enterprise-na');
/** What the handler resumed task `token` with (an "Assign rep" sends the assignment that way). */
const resumedWith = (token: string) =>
  sfn
    .commandCalls(SendTaskSuccessCommand)
    .filter((c) => c.args[0].input.taskToken === token)
    .map((c) => JSON.parse(String(c.args[0].input.output)) as Assignment);
const woken = () => sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input);

/** A sales-ready enterprise lead (US, 1,200 people) with its own run, scored as "Capture & score lead" does. */
async function salesReadyLead(n: number, { scored = true } = {}) {
  const lead = aLead({ email: `buyer.${n}@acme-robotics.com` });
  const run = { leadId: lead.id, executionName: `run-${n}`, cycle: 0, taskToken: `token-${n}` };
  await db.leads.capture(lead, run.executionName, AT);
  const { score } = await rescore(db.leads, lead.id, new Date(AT));
  await db.leads.setStage(lead.id, 'sales-ready', AT, scored ? { score } : {});
  return { lead, run, score };
}
const fillTeam = async () => {
  for (const r of enterprise)
    for (let i = 0; i < r.capacity; i++) await db.reps.adjustLoad(r.id, 1, r.capacity);
};

describe('Assign rep', () => {
  it('assigns by territory through the team cursor, creates the deal, emails the rep and resumes the run', async () => {
    const { lead, run } = await salesReadyLead(1);
    expect(await assignRepWith({ ...db, runs })(run, aLambdaContext())).toEqual({ status: 'assigned' });
    const [assignment] = resumedWith(run.taskToken);
    expect(assignment).toMatchObject({ attempt: 1, reassignmentsLeft: config.reps.sla.maxReassignments });
    expect(enterprise.map((r) => r.id)).toContain(assignment?.repId);
    expect(db.reps.load(assignment?.repId ?? '')).toBe(1);
    expect(await db.deals.get(dealIdFor(run.executionName, 0))).toMatchObject({ stage: 'assigned' });
    expect(await db.leads.get(lead.id)).toMatchObject({ stage: 'assigned', openDealId: assignment?.dealId });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(1);
  });

  it('shows the rep the score capture stored, and fails loudly for a lead that has none', async () => {
    const { run, score } = await salesReadyLead(1);
    await assignRepWith({ ...db, runs })(run, aLambdaContext());
    const email = parseMime(
      Buffer.from(ses.commandCalls(SendRawEmailCommand)[0]?.args[0].input.RawMessage?.Data ?? []).toString(),
    );
    expect(email.text).toContain(
      `A ${score.grade} lead (score ${score.total}: fit ${score.fit}, engagement ${score.engagement})`,
    );
    // Capture and Nurture store a score before a lead can reach a rep: none is a workflow bug, not a '?' grade.
    const unscored = await salesReadyLead(2, { scored: false });
    await expect(assignRepWith({ ...db, runs })(unscored.run, aLambdaContext())).rejects.toThrow(
      StepInputError,
    );
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(1);
    expect(await db.deals.get(dealIdFor(unscored.run.executionName, 0))).toBeUndefined();
    expect(resumedWith(unscored.run.taskToken)).toEqual([]);
  });

  it('is idempotent: a retry sends no second email, takes no second slot and moves no cursor', async () => {
    const { run } = await salesReadyLead(1);
    await assignRepWith({ ...db, runs })(run, aLambdaContext());
    await assignRepWith({ ...db, runs })(run, aLambdaContext());
    const [first, again] = resumedWith(run.taskToken);
    expect(again).toEqual(first);
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(1);
    expect(db.reps.load(first?.repId ?? '')).toBe(1);
    expect(await db.reps.nextCursor('enterprise-na')).toBe(2);
  });

  it('waits in the team’s queue when every rep is full, without failing or emailing anyone', async () => {
    await fillTeam();
    const { lead, run } = await salesReadyLead(1);
    expect(await assignRepWith({ ...db, runs })(run, aLambdaContext())).toEqual({ status: 'waiting' });
    expect(resumedWith(run.taskToken)).toEqual([]);
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(0);
    expect(await db.reps.oldestWaiters('enterprise-na', 5)).toEqual([
      expect.objectContaining({ leadId: lead.id, taskToken: run.taskToken }),
    ]);
    expect(await db.leads.get(lead.id)).toMatchObject({
      stage: 'sales-ready',
      waitingSince: expect.any(String),
    });
  });

  it('reassigns to the current rep when no one else is free: their own deal does not count against them', async () => {
    const { run } = await salesReadyLead(1);
    await assignRepWith({ ...db, runs })(run, aLambdaContext());
    const [first] = resumedWith(run.taskToken);
    // Everyone else is full; the current rep is at capacity only because of this very deal.
    for (const r of enterprise) {
      while (await db.reps.adjustLoad(r.id, 1, r.capacity)) {}
    }
    const reassign = {
      ...run,
      taskToken: 'token-again',
      previous: { dealId: first?.dealId ?? '', repId: first?.repId ?? '', attempt: 1 },
    };
    const loadBefore = db.reps.load(first?.repId ?? '');
    expect(await assignRepWith({ ...db, runs })(reassign, aLambdaContext())).toEqual({ status: 'assigned' });
    expect(resumedWith('token-again')[0]).toMatchObject({ repId: first?.repId, attempt: 2 });
    expect(db.reps.load(first?.repId ?? '')).toBe(loadBefore);
  });
});

describe('capacity: a full team means waiting, never failing', () => {
  it('hands a freed slot to the lead that has waited longest, and releases each deal exactly once', async () => {
    const { run: first } = await salesReadyLead(1);
    await assignRepWith({ ...db, runs })(first, aLambdaContext());
    const [deal] = resumedWith(first.taskToken);
    // Fill the rest of the team, then two more leads arrive and wait, in order.
    for (const r of enterprise) {
      while (await db.reps.adjustLoad(r.id, 1, r.capacity)) {}
    }
    const { run: second } = await salesReadyLead(2);
    const { run: third } = await salesReadyLead(3);
    expect(await assignRepWith({ ...db, runs })(second, aLambdaContext())).toEqual({ status: 'waiting' });
    expect(await assignRepWith({ ...db, runs })(third, aLambdaContext())).toEqual({ status: 'waiting' });
    // The first deal closes: its rep's slot goes to the second lead's run (woken with CapacityFreed).
    const close = closeWith({ ...db, runs });
    const input = {
      leadId: (await db.deals.get(deal?.dealId ?? ''))?.leadId ?? '',
      dealId: deal?.dealId ?? '',
      cycle: 0,
      outcome: { action: 'won' as const, amount: 5000 },
    };
    const loadBefore = db.reps.load(deal?.repId ?? '');
    await close(input, aLambdaContext());
    await close(input, aLambdaContext());
    expect(db.reps.load(deal?.repId ?? '')).toBe(loadBefore - 1);
    expect(woken()).toEqual([
      expect.objectContaining({ taskToken: second.taskToken, error: 'CapacityFreed' }),
    ]);
    // Woken, the second run's "Assign rep" runs again and gets the slot; the third still waits.
    expect(await assignRepWith({ ...db, runs })(second, aLambdaContext())).toEqual({ status: 'assigned' });
    expect((await db.reps.oldestWaiters('enterprise-na', 5)).map((w) => w.taskToken)).toEqual([
      third.taskToken,
    ]);
  });

  it('skips a waiter whose run has ended and wakes the next one', async () => {
    await fillTeam();
    const { run: gone } = await salesReadyLead(1);
    const { run: alive } = await salesReadyLead(2);
    await assignRepWith({ ...db, runs })(gone, aLambdaContext());
    await assignRepWith({ ...db, runs })(alive, aLambdaContext());
    sfn
      .on(SendTaskFailureCommand, { taskToken: gone.taskToken })
      .rejects(new TaskDoesNotExist({ message: 'gone', $metadata: {} }));
    const { wakeNextWaiter } = await import('#functions/deal/capacity.ts');
    expect(await wakeNextWaiter({ reps: db.reps, runs }, 'enterprise-na')).toBe(true);
    expect(woken().map((w) => w.taskToken)).toEqual([gone.taskToken, alive.taskToken]);
    expect(await db.reps.oldestWaiters('enterprise-na', 5)).toEqual([]);
  });
});

describe('Record failure (EventBridge: run status change)', () => {
  const event = (name: string, leadId: string, status: 'FAILED' | 'ABORTED' = 'FAILED') => ({
    'detail-type': 'Step Functions Execution Status Change' as const,
    detail: {
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:LeadToClose:${name}`,
      name,
      status,
      input: JSON.stringify({ lead: { id: leadId } }),
      error: 'StepInputError',
    },
  });

  it('marks the lead failed, frees the rep exactly once (events are delivered at least once) and tells the links', async () => {
    const { lead, run } = await salesReadyLead(1);
    await assignRepWith({ ...db, runs })(run, aLambdaContext());
    const [deal] = resumedWith(run.taskToken);
    const record = recordFailureWith({ ...db, runs });
    expect(await record(event(run.executionName, lead.id), aLambdaContext())).toEqual({
      recorded: true,
      released: true,
    });
    expect(await record(event(run.executionName, lead.id), aLambdaContext())).toEqual({
      recorded: true,
      released: false,
    });
    expect(db.reps.load(deal?.repId ?? '')).toBe(0);
    expect((await db.leads.get(lead.id))?.stage).toBe('failed');
    expect(await db.deals.get(deal?.dealId ?? '')).toMatchObject({
      runEnd: 'FAILED',
      loadReleasedAt: expect.any(String),
    });
  });

  it('refuses an event that is not a run status change as an EventInputError, changing nothing', async () => {
    const { lead } = await salesReadyLead(1);
    await expect(
      recordFailureWith({ ...db, runs })({ 'detail-type': 'Something else', detail: {} }, aLambdaContext()),
    ).rejects.toMatchObject({ name: 'EventInputError' });
    expect((await db.leads.get(lead.id))?.stage).toBe('sales-ready');
  });

  it('changes nothing for a run that does not own the lead', async () => {
    const { lead } = await salesReadyLead(1);
    expect(
      await recordFailureWith({ ...db, runs })(event('someone-else', lead.id), aLambdaContext()),
    ).toEqual({
      recorded: false,
      released: false,
    });
    expect((await db.leads.get(lead.id))?.stage).toBe('sales-ready');
  });

  it('stores the lead of a run that failed before capturing it, failed, so it shows in the console; never an erased one', async () => {
    const lead = aLead({ email: 'early.failure@acme-robotics.com' });
    const failedEarly = {
      ...event('early-run', lead.id),
      detail: { ...event('early-run', lead.id).detail, input: await runInputKept(db, lead, 'early-run', AT) },
    };
    expect(await recordFailureWith({ ...db, runs })(failedEarly, aLambdaContext())).toEqual({
      recorded: true,
      released: false,
    });
    expect(await db.leads.get(lead.id)).toMatchObject({ stage: 'failed', activeExecution: 'early-run' });

    const erased = aLead({ email: 'erased.person@acme-robotics.com' });
    await db.suppression.suppress(erased.email, 'erased', 'admin', AT);
    const stopped = {
      ...event('erased-run', erased.id, 'ABORTED'),
      detail: {
        ...event('erased-run', erased.id, 'ABORTED').detail,
        // Its submission went with the erase: the run's input has only the id.
        input: JSON.stringify({ lead: { id: erased.id }, receivedAt: AT }),
      },
    };
    expect(await recordFailureWith({ ...db, runs })(stopped, aLambdaContext())).toEqual({
      recorded: false,
      released: false,
    });
    expect(await db.leads.get(erased.id)).toBeUndefined();

    // The same person comes back after the erase: their new run is theirs, and its failure is recorded.
    // (Still being erased: the lead item is there, captured before the erase. Nothing is written.)
    await db.leads.capture(erased, 'erased-run', '2026-11-24T09:00:00.000Z');
    expect(await recordFailureWith({ ...db, runs })(stopped, aLambdaContext())).toEqual({
      recorded: false,
      released: false,
    });
    expect((await db.leads.listEvents(erased.id)).map((e) => e.type)).not.toContain('failed');
    await db.leads.erase(erased.id);
    await db.leads.capture(erased, 'comeback-run', '2026-11-27T09:00:00.000Z');
    expect(
      await recordFailureWith({ ...db, runs })(event('comeback-run', erased.id), aLambdaContext()),
    ).toEqual({
      recorded: true,
      released: false,
    });
    expect((await db.leads.get(erased.id))?.stage).toBe('failed');
  });
});
