// IAM on the local stack, at the capacity queue: a run waiting at "Assign rep" for a rep with room is
// stopped and redriven under the template's grants, and each function that frees a slot (Close deal, Record
// failure, an admin's erase, a reassignment) hands it to the waiting run with the grants the template gives
// it (dynamodb:DeleteItem takes the waiter off the queue, states:SendTaskFailure wakes it). A form from a
// nurtured lead resumes its parked wait as SubmitLead (states:SendTaskSuccess). Each grant taken out of
// the template fails its path with AccessDenied. The stack's clock runs at real speed from TEST_START
// (a Tuesday, in business hours): a waiting run's own recheck is an hour away, so only a wake moves it.
import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CAPACITY_FREED } from '#functions/deal/deal.ts';
import { leadIdFor } from '#functions/lead/lead.ts';
import type { LeadRecord } from '#functions/stores.ts';
import { config } from '#test/fixtures/config.ts';
import {
  adminLead,
  denials,
  editedApp,
  history,
  lastEntered,
  parkedAt,
  runOf,
  submit,
  withoutGrant,
} from '#test/fixtures/local-iam.ts';
import { eventually, sfnOf, startTestStack, storesOf, type TestStack } from '#test/fixtures/local-stack.ts';

const TEAM = 'enterprise-na'; // the fixtures' leads: US, 1,200 people
const [ava, ben] = ['rep-ava', 'rep-ben'].map((id) => {
  const rep = config.reps.reps.find((r) => r.id === id && r.team === TEAM);
  if (!rep) throw new Error(`config/reps.json has no ${id} in ${TEAM}`);
  return rep;
}) as [(typeof config.reps.reps)[number], (typeof config.reps.reps)[number]];

/** Sets a rep's open deals to `n` as an operator would (no run is woken by it). */
async function setLoad(t: TestStack, rep: typeof ava, n: number) {
  const { reps } = storesOf(t);
  let open = (await reps.loads([rep.id]))[rep.id]?.openDeals ?? 0;
  for (; open < n; open++) await reps.adjustLoad(rep.id, 1, Number.MAX_SAFE_INTEGER);
  for (; open > n; open--) await reps.adjustLoad(rep.id, -1, rep.capacity);
}

type Run = { leadId: string; arn: string; email: string };
const startRun = async (t: TestStack, email: string, formType = 'demo-request'): Promise<Run> => {
  expect((await submit(t, email, formType)).status).toBe(202);
  const leadId = leadIdFor(email);
  return { leadId, arn: await runOf(t, leadId), email };
};

/** The run's entry in the team's queue, once it is there. */
const queued = (t: TestStack, leadId: string, not?: string) =>
  eventually(
    async () =>
      (await storesOf(t).reps.oldestWaiters(TEAM, 10)).find(
        (w) => w.leadId === leadId && w.taskToken !== not,
      ),
    15_000,
    `${leadId} in the queue`,
  );

/**
 * The team full: `holder` took its last slot (Ben's; Ava is full) and waits for the rep to accept; `waiter`
 * came next and waits at "Assign rep" in the team's queue.
 */
async function aFullTeamWithAWaiter(t: TestStack, name: string) {
  await setLoad(t, ava, ava.capacity);
  await setLoad(t, ben, ben.capacity - 1);
  const holder = await startRun(t, `${name}.holder@acme-robotics.com`);
  await parkedAt(t, holder.arn, 'Await rep acceptance');
  const waiter = await startRun(t, `${name}.waiter@acme-robotics.com`);
  const entry = await queued(t, waiter.leadId);
  expect(lastEntered(await history(t, waiter.arn))).toBe('Assign rep');
  return { holder, waiter, entry };
}

/** What frees the holder's slot, each through another function of the stack. */
const frees = {
  /** The rep accepts and reports the deal won: Close deal gives the slot back. */
  async closeDeal(t: TestStack, holder: Run) {
    const first = holder.email.split('.')[0] ?? '';
    const mail = await eventually(
      async () => (await t.mailbox()).find((m) => m.subject.toLowerCase().includes(first)),
      15_000,
      'the rep email',
    );
    const [accept, won] = t.linksIn(mail).filter((l) => l.includes('/deals/action'));
    expect((await fetch(String(accept), { method: 'POST' })).status).toBe(200);
    await parkedAt(t, holder.arn, 'Await deal outcome');
    const body = 'amount=1000';
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await fetch(String(won), { method: 'POST', headers, body })).status).toBe(200);
  },
  /** An operator stops the holder's run: Record failure gives the slot back. */
  async recordFailure(t: TestStack, holder: Run) {
    await sfnOf(t).send(new StopExecutionCommand({ executionArn: holder.arn, cause: 'capacity test' }));
  },
  /** An admin erases the holder: the erase gives the slot back (and answers 500 if it cannot wake the waiter). */
  async adminWrite(t: TestStack, holder: Run, granted = true) {
    const res = await t.api(`/admin/leads/${holder.leadId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${t.stack.adminToken}` },
    });
    expect(res.status).toBe(granted ? 200 : 500);
  },
  /**
   * Ava gets room (an operator's change wakes no one), then the holder's rep lets the SLA pass (the operator
   * fails the parked task with States.Timeout, as the 24 h timer would): Reassign rep moves the deal to Ava
   * and gives Ben's slot back.
   */
  async assignRep(t: TestStack, holder: Run) {
    await setLoad(t, ava, ava.capacity - 1);
    const stores = storesOf(t);
    const dealId = String((await stores.leads.get(holder.leadId))?.openDealId);
    const token = await eventually(async () => (await stores.deals.get(dealId))?.taskToken ?? undefined);
    await sfnOf(t).send(
      new SendTaskFailureCommand({ taskToken: token, error: 'States.Timeout', cause: 'SLA passed' }),
    );
  },
};

/** The waiter was woken (its task failed with CapacityFreed) and now waits for its rep to accept. */
const wokenAndAssigned = (t: TestStack, waiter: Run) =>
  eventually(
    async () => {
      if (denials(t).length) throw new Error(denials(t).join('\n'));
      const events = await history(t, waiter.arn);
      const woken = events.some(
        (e) => e.type === 'TaskFailed' && e.taskFailedEventDetails?.error === CAPACITY_FREED,
      );
      if (!woken || lastEntered(events) !== 'Await rep acceptance') return undefined;
      return (await adminLead(t, waiter.leadId)).lead.stage === 'assigned' ? true : undefined;
    },
    15_000,
    'the waiter woken and assigned',
  );

/** A newsletter lead whose run has parked its nurture wait's task token on the lead. */
async function aParkedNurture(t: TestStack, email: string) {
  const run = await startRun(t, email, 'newsletter');
  await parkedAt(t, run.arn, 'Wait for a signal or the next send');
  await eventually(
    async () => {
      const lead = (await storesOf(t).leads.get(run.leadId)) as
        | (LeadRecord & { waitToken?: string })
        | undefined;
      return lead?.waitToken ? true : undefined;
    },
    15_000,
    'the wait’s token parked',
  );
  return run;
}

describe('local IAM: the capacity queue under the template’s grants', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack(inject('cdkOut'), { retryIntervalMs: 0, events: { retryDelayMs: 10 } });
  });
  afterAll(async () => {
    await t?.stack.stop();
  });

  it('a run stopped while waiting at "Assign rep" is redriven, waits again, and is assigned when a deal closes', async () => {
    const { holder, waiter, entry } = await aFullTeamWithAWaiter(t, 'cara');
    const sfn = sfnOf(t);
    await sfn.send(
      new StopExecutionCommand({ executionArn: waiter.arn, error: 'Operator', cause: 'redrive' }),
    );
    await eventually(
      async () => ((await adminLead(t, waiter.leadId)).lead.stage === 'failed' ? true : undefined),
      15_000,
      'the stopped run recorded',
    );
    await sfn.send(new RedriveExecutionCommand({ executionArn: waiter.arn }));
    // Waiting again: the redriven task queued its own token (same place in the queue) at "Assign rep".
    const again = await queued(t, waiter.leadId, entry.taskToken);
    expect(again.since).toBe(entry.since);
    const events = await history(t, waiter.arn);
    const redriven = events.findIndex((e) => e.type === 'ExecutionRedriven');
    expect(redriven).toBeGreaterThan(0);
    expect(lastEntered(events.slice(redriven))).toBe('Assign rep');
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: waiter.arn }))).status).toBe(
      'RUNNING',
    );

    await frees.closeDeal(t, holder);
    await wokenAndAssigned(t, waiter);
    expect(await storesOf(t).reps.oldestWaiters(TEAM, 10)).toEqual([]);
    expect(denials(t)).toEqual([]);
  });

  for (const by of ['recordFailure', 'adminWrite', 'assignRep'] as const)
    it(`a slot freed by ${by} goes to the waiting run`, async () => {
      const { holder, waiter } = await aFullTeamWithAWaiter(t, by.toLowerCase());
      await frees[by](t, holder);
      await wokenAndAssigned(t, waiter);
      expect(await storesOf(t).reps.oldestWaiters(TEAM, 10)).toEqual([]);
      expect(denials(t)).toEqual([]);
    });

  it('a form from a nurtured lead resumes its parked wait as SubmitLead, and the run goes to a rep', async () => {
    await setLoad(t, ava, 0);
    await setLoad(t, ben, 0);
    const run = await aParkedNurture(t, 'sana.signal@acme-robotics.com');
    expect((await submit(t, run.email, 'demo-request')).status).toBe(202);
    await parkedAt(t, run.arn, 'Await rep acceptance');
    const lead = (await storesOf(t).leads.get(run.leadId)) as LeadRecord & { waitToken?: string };
    expect(lead.waitToken).toBeUndefined();
    expect(denials(t)).toEqual([]);
  });
});

describe('local IAM: without its grant, the path that frees a slot or signals a run is denied', () => {
  const slotCases = (['closeDeal', 'recordFailure', 'adminWrite', 'assignRep'] as const).map((by) => ({
    by,
    role: `${by[0]?.toUpperCase()}${by.slice(1)}Role`,
    action: 'states:SendTaskFailure',
  }));
  const cases = [
    ...slotCases,
    { by: 'closeDeal' as const, role: 'CloseDealRole', action: 'dynamodb:DeleteItem' },
    { by: 'signal' as const, role: 'SubmitLeadRole', action: 'states:SendTaskSuccess' },
  ];

  for (const c of cases)
    it(`${c.role.replace(/Role$/, '')} without ${c.action}`, async () => {
      const t = await startTestStack(editedApp(inject('cdkOut'), withoutGrant(c.role, c.action)), {
        retryIntervalMs: 0,
        events: { retryDelayMs: 10 },
      });
      try {
        const name = `${c.by}.${c.action.split(':')[1]}`.toLowerCase();
        const pattern = new RegExp(`${c.role.replace(/Role$/, '')}.*${c.action}`);
        if (c.by === 'signal') {
          const run = await aParkedNurture(t, `${name}@acme-robotics.com`);
          expect((await submit(t, run.email, 'demo-request')).status).toBe(500);
          expect(denials(t).join('\n')).toMatch(pattern);
          expect(lastEntered(await history(t, run.arn))).toBe('Wait for a signal or the next send');
          return;
        }
        const { holder, waiter } = await aFullTeamWithAWaiter(t, name);
        await frees[c.by](t, holder, false);
        await eventually(
          async () => (pattern.test(denials(t).join('\n')) ? true : undefined),
          30_000,
          'the denial',
        );
        // The waiter was not woken: still at "Assign rep", never failed with CapacityFreed.
        const events = await history(t, waiter.arn);
        expect(lastEntered(events)).toBe('Assign rep');
        expect(events.some((e) => e.taskFailedEventDetails?.error === CAPACITY_FREED)).toBe(false);
      } finally {
        await t.stack.stop();
      }
    }, 90_000);
});
