import { DescribeExecutionCommand, RedriveExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import type { Stores } from '#functions/stores.ts';
import { config } from '#test/fixtures/config.ts';
import {
  credentials,
  eventually,
  postLead,
  startTestStack,
  storesOf,
  type TestStack,
} from '#test/fixtures/local-stack.ts';

// Faults injected by the local runtime's fault switch (DynamoDB and SES errors and throttles at a rate,
// a handler's worker crashing mid-step): runs retry and finish, nothing is lost, each rep's slot comes
// back exactly once; a fault that does not clear fails a run where it was, and a redrive carries it on.
type Stack = TestStack;
const stores = storesOf;
const post = postLead;
const loadsOf = async (db: Stores) => {
  const loads = await db.reps.loads(config.reps.reps.map((r) => r.id));
  return config.reps.reps.map((r) => loads[r.id]?.openDeals ?? 0);
};

describe('transient faults: every run retries and finishes', () => {
  let t: Stack;
  beforeAll(async () => {
    // A business day per 1/20 s, work included (20 runs under faults are always at work somewhere): nurture
    // waits and rep SLAs pass at once, so every run ends on its own. One invocation per worker, as one per
    // Lambda sandbox: a crash takes down only the invocation it hit.
    t = await startTestStack(inject('cdkOut'), {
      timeScale: 86_400 * 20,
      scaleWork: true,
      retryIntervalMs: 0,
      events: { retryDelayMs: 10 },
      lambda: { concurrency: 2, maxWorkers: 2 },
    });
  });
  afterAll(async () => {
    await t?.stack.stop();
  });

  it('20 leads under DynamoDB throttles, SES throttles and a crashing step: 0 failed, 0 lost, slots back once', async () => {
    const db = stores(t);
    const before = await loadsOf(db);
    t.stack.faults.set({
      dynamodb: { rate: 0.15, error: 'ProvisionedThroughputExceededException' },
      ses: { rate: 0.3, error: 'Throttling' },
      crash: { function: 'Nurture', rate: 0.2 },
    });
    const emails = Array.from({ length: 20 }, (_, i) => `fault.${i}@acme-robotics.com`);
    for (const [i, email] of emails.entries()) {
      // Under these faults a post may be told to come back (429/503 + Retry-After), as a form's script would.
      let status = 0;
      for (let attempt = 0; attempt < 5 && status !== 202; attempt++) {
        status = (await post(t, { email, formType: i % 4 === 0 ? 'demo-request' : 'newsletter' })).status;
        expect([202, 429, 503]).toContain(status);
      }
      expect(status).toBe(202);
    }
    const runs = await eventually(
      () => {
        const mine = t.stack.sfn.list().filter((r) => emails.some((e) => r.name.startsWith(leadIdFor(e))));
        // A run that grew old continues as a new one (`<name>-c2`, …): each lead's chain ends with one run.
        const leads = new Set(mine.map((r) => r.name.slice(0, leadIdFor(emails[0] ?? '').length)));
        return leads.size === 20 && mine.every((r) => r.status !== 'RUNNING') ? mine : undefined;
      },
      // Generous: the runs end in 60–110 s on 2 busy cores; what is checked is that they all end, not how fast.
      240_000,
      '20 runs to end',
    );
    const { injected, seen } = t.stack.faults.get();
    t.stack.faults.clear();
    console.log(
      `faults: ${injected.dynamodb}/${seen.dynamodb} DynamoDB calls, ${injected.ses}/${seen.ses} SES calls, ${injected.crash}/${seen.invocations} invocations crashed; ${runs.length} runs`,
    );
    const notOk = runs
      .filter((r) => r.status !== 'SUCCEEDED')
      .map(
        (r) =>
          `${r.status} ${r.error} ${r.cause?.slice(0, 200)} at ${r.current?.state ?? r.events.filter((e) => e.type.endsWith('StateEntered')).at(-1)?.stateEnteredEventDetails}`,
      );
    expect(notOk).toEqual([]);
    expect(injected.dynamodb).toBeGreaterThan(0);
    expect(injected.ses).toBeGreaterThan(0);
    expect(injected.crash).toBeGreaterThan(0);
    // Hot leads went to reps and closed as stale after the (compressed) SLAs: every slot came back once.
    expect(await loadsOf(db)).toEqual(before);
    for (const email of emails) expect((await db.leads.get(leadIdFor(email)))?.stage).not.toBe('failed');
  }, 300_000);
});

describe('a permanent fault: the run fails where it was and is redriven after the fix', () => {
  let t: Stack;
  let sfn: SFNClient;
  beforeAll(async () => {
    t = await startTestStack(inject('cdkOut'), { retryIntervalMs: 0, events: { retryDelayMs: 10 } });
    sfn = new SFNClient({ endpoint: t.stack.urls.sfn, region: 'us-east-1', credentials });
  });
  afterAll(async () => {
    await t?.stack.stop();
  });

  it('a hot lead whose rep wait keeps crashing: failed, rep freed; redriven: rep holds it again, accepts and wins', async () => {
    const db = stores(t);
    const email = 'stuck.buyer@acme-robotics.com';
    const leadId = leadIdFor(email);
    const before = await loadsOf(db);
    t.stack.faults.set({ crash: { function: 'AwaitOutcome', rate: 1 } });
    expect((await post(t, { email })).status).toBe(202);
    const run = await eventually(
      () => t.stack.sfn.list().find((r) => r.name.startsWith(leadId) && r.status === 'FAILED'),
      30_000,
      'the run to fail',
    );
    const { executionArn } = run;
    expect(run.error).toBe('Runtime.ExitError');
    // Record failure (from the rule) marked the lead and gave the rep's slot back.
    const failed = await eventually(async () => {
      const lead = await db.leads.get(leadId);
      return lead?.stage === 'failed' ? lead : undefined;
    });
    expect(await loadsOf(db)).toEqual(before);
    const deal = await db.deals.get(String(failed.openDealId));
    expect(deal).toMatchObject({ runEnd: 'FAILED', stage: 'assigned' });
    // The rep's link says the journey has ended and changes nothing.
    const mail = (await t.mailbox()).find((m) => m.subject.startsWith('New lead'));
    const [accept, won] = t.linksIn(mail as never).filter((l) => l.includes('/deals/action'));
    expect((await fetch(String(accept), { method: 'POST' })).status).toBe(410);
    expect((await db.deals.get(String(failed.openDealId)))?.stage).toBe('assigned');

    t.stack.faults.clear();
    await sfn.send(new RedriveExecutionCommand({ executionArn }));
    // Redriven at "Await rep acceptance": the rep holds the lead (and a slot) again; the link works.
    await eventually(async () => ((await db.leads.get(leadId))?.stage === 'assigned' ? true : undefined));
    const held = await loadsOf(db);
    expect(held.reduce((a, b) => a + b, 0)).toBe(before.reduce((a, b) => a + b, 0) + 1);
    // The wait has parked its token on the deal again.
    await eventually(async () =>
      (await db.deals.get(String(failed.openDealId)))?.taskToken ? true : undefined,
    );
    expect((await fetch(String(accept), { method: 'POST' })).status).toBe(200);
    await eventually(() =>
      t.stack.sfn.list().find((r) => r.executionArn === executionArn)?.current?.state === 'Await deal outcome'
        ? true
        : undefined,
    );
    const wonRes = await fetch(String(won), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=12000',
    });
    expect(wonRes.status).toBe(200);
    const done = await eventually(async () => {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === 'SUCCEEDED' ? d : undefined;
    });
    expect(done.redriveCount).toBe(1);
    expect((await db.leads.get(leadId))?.stage).toBe('won');
    expect(await loadsOf(db)).toEqual(before);
  }, 60_000);
});
