// Runs that wait a year, at a compressed scale: with the continuation threshold lowered in the template
// (CONTINUE_AFTER_LOOPS=2 on the step that decides), a lead waiting in nurture continues as a new execution
// (`<run>-c2`), the lead points at it, a signal still reaches it, the console links the chain, and the
// journey completes there.
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import type { CfnTemplate } from '#local/template.ts';
import { editedApp, parkedAt } from '#test/fixtures/local-iam.ts';
import {
  eventually,
  postLead,
  runsOfLead,
  sfnOf,
  startTestStack,
  storesOf,
  type TestStack,
} from '#test/fixtures/local-stack.ts';

const WAIT = 'Wait for a signal or the next send';

/** The template with the nurture wait's continuation threshold at `loops`. */
const continuingAfter = (loops: number) => (template: CfnTemplate) => {
  const fn = Object.values(template.Resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      String(r.Metadata?.['aws:cdk:path']).startsWith('Handoff/AwaitSignal/'),
  );
  const vars = (fn?.Properties as { Environment?: { Variables?: Record<string, unknown> } } | undefined)
    ?.Environment?.Variables;
  if (!vars) throw new Error('no AwaitSignal function with an environment');
  vars.CONTINUE_AFTER_LOOPS = String(loops);
};

describe('a long nurture wait continues as a new execution', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack(editedApp(inject('cdkOut'), continuingAfter(2)), { retryIntervalMs: 0 });
  });
  afterAll(async () => {
    await t?.stack.stop();
  });

  const consoleApi = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${t.stack.urls.console}api/${path}`, init);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const statusOf = async (executionArn: string) =>
    (await sfnOf(t).send(new DescribeExecutionCommand({ executionArn }))).status;

  it('continues, keeps signals reaching it, links the chain, and completes the journey', async () => {
    const email = 'long.wait@acme-robotics.com';
    const leadId = leadIdFor(email);
    expect((await postLead(t, { email, firstName: 'Lena', formType: 'newsletter' })).status).toBe(202);
    const [first] = await eventually(async () => {
      const runs = await runsOfLead(t, leadId);
      return runs.length ? runs : undefined;
    });
    const firstArn = String(first?.executionArn);
    const firstName = String(first?.name);
    await parkedAt(t, firstArn, WAIT);

    // The wait's time comes (the console's "send now"): the second nurture step is this run's second loop.
    const sent = await consoleApi(`runs/${encodeURIComponent(firstName)}/send-now`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(sent.status).toBe(200);

    const nextName = `${firstName}-c2`;
    const next = await eventually(
      async () => (await runsOfLead(t, leadId)).find((r) => r.name === nextName),
      20_000,
      `the continuation ${nextName}`,
    );
    await eventually(async () => ((await statusOf(firstArn)) === 'SUCCEEDED' ? true : undefined));
    await parkedAt(t, String(next.executionArn), WAIT);
    expect((await storesOf(t).leads.get(leadId))?.activeExecution).toBe(nextName);
    expect(await runsOfLead(t, leadId)).toHaveLength(2);

    // The console links the chain both ways.
    const old = await consoleApi(`runs/${encodeURIComponent(firstName)}`);
    expect(old.body.run).toMatchObject({ status: 'SUCCEEDED', continuedAs: nextName });
    const current = await consoleApi(`runs/${encodeURIComponent(nextName)}`);
    expect(current.body.run).toMatchObject({ status: 'RUNNING', continuedFrom: firstName, leadId });

    // A demo request is a signal: it reaches the new execution, which hands the lead to a rep.
    expect((await postLead(t, { email, firstName: 'Lena', formType: 'demo-request' })).status).toBe(202);
    const mail = await eventually(
      async () =>
        (await t.mailbox()).find((m) => m.subject.startsWith('New lead') && m.subject.includes('Lena')),
      15_000,
      'the assignment email',
    );
    const [accept, won] = t.linksIn(mail).filter((l) => l.includes('/deals/action'));
    await parkedAt(t, String(next.executionArn), 'Await rep acceptance');
    expect((await fetch(String(accept), { method: 'POST' })).status).toBe(200);
    await parkedAt(t, String(next.executionArn), 'Await deal outcome');
    const done = await fetch(String(won), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=42000',
    });
    expect(done.status).toBe(200);
    await eventually(async () =>
      (await statusOf(String(next.executionArn))) === 'SUCCEEDED' ? true : undefined,
    );
    expect((await storesOf(t).leads.get(leadId))?.stage).toBe('won');
    expect(await runsOfLead(t, leadId)).toHaveLength(2);
  });
});
