import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import { credentials, eventually, startTestStack } from '#test/fixtures/local-stack.ts';

// The synthesized app on the local runtime: a step that keeps crashing fails the run at that state,
// the template's EventBridge rule delivers the status change, and after the fault is cleared a
// RedriveExecution (through the SDK) carries the run on from that state to its end.
let t: Awaited<ReturnType<typeof startTestStack>>;
let sfn: SFNClient;
beforeAll(async () => {
  t = await startTestStack(inject('cdkOut'), {
    timeScale: 86_400 * 20,
    retryIntervalMs: 0,
    events: { retryDelayMs: 10 },
  });
  sfn = new SFNClient({ endpoint: t.stack.urls.sfn, region: 'us-east-1', credentials });
});
afterAll(async () => {
  await t?.stack.stop();
});

const admin = async (leadId: string) => {
  const res = await t.api(`/admin/leads/${leadId}`, {
    headers: { authorization: `Bearer ${t.stack.adminToken}` },
  });
  return (await res.json()) as { lead: { stage: string }; timeline: { type: string }[] };
};

describe('local runtime: a failed run is redriven from the state that failed', () => {
  it('fails at Capture & score lead while its worker crashes, records the failure from the rule, and succeeds on redrive', async () => {
    const email = 'redrive.me@acme-robotics.com';
    const leadId = leadIdFor(email);
    t.stack.faults.set({ crash: { function: 'CaptureLead', rate: 1 } });
    const posted = await t.api('/leads', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email,
        firstName: 'Rae',
        company: 'Acme Robotics',
        title: 'VP Operations',
        companySize: 1200,
        country: 'US',
        formType: 'newsletter',
        consent: true,
      }),
    });
    expect(posted.status).toBe(202);
    const arn = t.stack.stateMachineArn;
    const run = await eventually(async () => {
      const { executions } = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'FAILED' }),
      );
      return executions?.find((e) => e.name?.startsWith(leadId));
    }, 20_000);
    const executionArn = String(run.executionArn);
    const failed = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(failed).toMatchObject({
      status: 'FAILED',
      error: 'Runtime.ExitError',
      redriveStatus: 'REDRIVABLE',
    });
    expect(t.stack.faults.get().injected.crash).toBeGreaterThan(1); // the step was retried before the run failed
    // The rule's target (Record failure) got the FAILED status change and marked the lead.
    await eventually(async () => ((await admin(leadId)).lead.stage === 'failed' ? true : undefined), 10_000);

    t.stack.faults.clear();
    const { redriveDate } = await sfn.send(new RedriveExecutionCommand({ executionArn }));
    expect(redriveDate).toBeInstanceOf(Date);
    await eventually(async () => {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === 'SUCCEEDED' ? d : undefined;
    }, 20_000);
    const { events = [] } = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
    );
    const entered = events
      .filter((e) => e.type?.endsWith('StateEntered'))
      .map((e) => e.stateEnteredEventDetails?.name);
    const redriven = events.findIndex((e) => e.type === 'ExecutionRedriven');
    expect(redriven).toBeGreaterThan(0);
    expect(events[redriven + 1]?.stateEnteredEventDetails?.name).toBe('Capture & score lead');
    expect(entered.filter((s) => s === 'Capture & score lead')).toHaveLength(2); // entered, failed there, redriven there
    expect(entered.at(-1)).toBe('Nurtured (stays a marketing lead)');
    expect((await admin(leadId)).lead.stage).not.toBe('failed');
  });
});
