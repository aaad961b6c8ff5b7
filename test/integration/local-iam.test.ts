// IAM on the local stack (local/iam.ts): the synthesized roles are enforced on every call a function makes
// and on every invocation the state machine makes. A run stopped at any waiting state is redriven under the
// template's grants; a grant taken out of the template fails the path that needs it with AccessDenied.
// The capacity queue's waits and wakes, the grants they need: local-iam-capacity.test.ts. Shared helpers:
// test/fixtures/local-iam.ts.
import { DescribeExecutionCommand, RedriveExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import type { CfnTemplate } from '#local/template.ts';
import {
  adminLead,
  denials,
  editedApp,
  history,
  parkedAt,
  policies,
  runOf,
  submit,
  withoutGrant,
} from '#test/fixtures/local-iam.ts';
import {
  sfnOf as client,
  eventually,
  type TestStack as Stack,
  startTestStack,
} from '#test/fixtures/local-stack.ts';

describe('local IAM: a run stopped at a waiting state is redriven under the template’s grants', () => {
  let t: Stack;
  beforeAll(async () => {
    t = await startTestStack(inject('cdkOut'), { retryIntervalMs: 0, events: { retryDelayMs: 10 } });
  });
  afterAll(async () => {
    await t?.stack.stop();
  });

  /** Stops the run where it waits, lets Record failure free its rep, redrives it, and checks it waits there again. */
  async function stopAndRedrive(leadId: string, executionArn: string, state: string) {
    const sfn = client(t);
    await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'redrive test' }));
    await eventually(
      async () => ((await adminLead(t, leadId)).lead.stage === 'failed' ? true : undefined),
      15_000,
    );
    await sfn.send(new RedriveExecutionCommand({ executionArn }));
    await eventually(
      async () => {
        const events = await history(t, executionArn);
        const redriven = events.findIndex((e) => e.type === 'ExecutionRedriven');
        const after = events.slice(redriven + 1);
        const failed = after.find((e) => e.type === 'TaskFailed' || e.type === 'ExecutionFailed');
        if (failed)
          throw new Error(
            `the redriven run failed: ${JSON.stringify(failed.taskFailedEventDetails ?? failed.executionFailedEventDetails)}`,
          );
        const entered = after.filter((e) => e.type?.endsWith('StateEntered')).at(-1);
        return redriven > 0 && entered?.stateEnteredEventDetails?.name === state ? true : undefined;
      },
      15_000,
      `the redriven run waiting at ${state} again`,
    );
  }

  /** The redriven run is still waiting, nothing was denied, and (at a rep's wait) the lead has its rep back. */
  async function waitsAgain(leadId: string, executionArn: string, repBack: boolean) {
    if (repBack)
      await eventually(
        async () => {
          if (denials(t).length) throw new Error(denials(t).join('\n'));
          const lead = await adminLead(t, leadId);
          return lead.lead.stage === 'assigned' && lead.timeline.some((e) => e.type === 'redriven')
            ? true
            : undefined;
        },
        15_000,
        'the rep taken back',
      );
    const { status } = await client(t).send(new DescribeExecutionCommand({ executionArn }));
    expect(status).toBe('RUNNING');
    expect(denials(t)).toEqual([]);
  }

  it('at "Wait for a signal or the next send" (nurture)', async () => {
    const email = 'nora.nurture@acme-robotics.com';
    const leadId = leadIdFor(email);
    expect((await submit(t, email, 'newsletter')).status).toBe(202);
    const arn = await runOf(t, leadId);
    await parkedAt(t, arn, 'Wait for a signal or the next send');
    await stopAndRedrive(leadId, arn, 'Wait for a signal or the next send');
    await waitsAgain(leadId, arn, false);
    // Its welcome email is not sent twice: the send marker survived the stop.
    expect(
      (await t.mailbox()).filter((m) => m.destination.to.some((to) => to.includes('nora.nurture'))),
    ).toHaveLength(1);
  });

  it('at "Await rep acceptance": the redriven run takes its rep’s slot back and says so on the timeline', async () => {
    const email = 'ava.accept@acme-robotics.com';
    const leadId = leadIdFor(email);
    expect((await submit(t, email, 'demo-request')).status).toBe(202);
    const arn = await runOf(t, leadId);
    await parkedAt(t, arn, 'Await rep acceptance');
    await stopAndRedrive(leadId, arn, 'Await rep acceptance');
    await waitsAgain(leadId, arn, true);
  });

  it('at "Await deal outcome"', async () => {
    const email = 'otto.outcome@acme-robotics.com';
    const leadId = leadIdFor(email);
    expect((await submit(t, email, 'demo-request')).status).toBe(202);
    const arn = await runOf(t, leadId);
    const mail = await eventually(
      async () => (await t.mailbox()).find((m) => m.subject.toLowerCase().includes('otto')),
      15_000,
      'the rep email',
    );
    const [accept] = t.linksIn(mail).filter((l) => l.includes('/deals/action'));
    expect((await fetch(String(accept), { method: 'POST' })).status).toBe(200);
    await parkedAt(t, arn, 'Await deal outcome');
    await stopAndRedrive(leadId, arn, 'Await deal outcome');
    await waitsAgain(leadId, arn, true);
  });
});

describe('local IAM: a grant taken out of the template fails the path that needs it with AccessDenied', () => {
  const cases = [
    {
      grant: 'AssignRep may not send email (ses:SendRawEmail)',
      edit: withoutGrant('AssignRepRole', 'ses:SendRawEmail'),
      denied: /AssignRep.*ses:SendRawEmail/,
      failsAt: 'Assign rep',
    },
    {
      grant: 'the state machine may not invoke Capture & score (lambda:InvokeFunction)',
      edit: (template: CfnTemplate) => {
        for (const { doc } of policies(template))
          doc.Statement = doc.Statement.filter(
            (s) => !JSON.stringify(s.Resource ?? '').includes('CaptureLead'),
          );
      },
      denied: /LeadToCloseStateMachine.*lambda:InvokeFunction.*CaptureLead/,
      failsAt: 'Capture & score lead',
    },
    {
      grant: 'Capture & score may not write to the table (dynamodb:PutItem)',
      edit: withoutGrant('CaptureLeadRole', 'dynamodb:PutItem'),
      denied: /CaptureLead.*dynamodb:PutItem/,
      failsAt: 'Capture & score lead',
    },
  ];

  for (const c of cases) {
    it(c.grant, async () => {
      const t = await startTestStack(editedApp(inject('cdkOut'), c.edit), {
        retryIntervalMs: 0,
        events: { retryDelayMs: 10 },
      });
      try {
        const email = 'dana.denied@acme-robotics.com';
        expect((await submit(t, email, 'demo-request')).status).toBe(202);
        const arn = await runOf(t, leadIdFor(email));
        const failed = await eventually(
          async () => {
            const d = await client(t).send(new DescribeExecutionCommand({ executionArn: arn }));
            return d.status === 'FAILED' ? d : undefined;
          },
          60_000,
          'the run failing',
        );
        const events = await history(t, arn);
        const taskFailed = events.filter((e) => e.type === 'TaskFailed').at(-1)?.taskFailedEventDetails;
        expect(`${taskFailed?.error} ${taskFailed?.cause}`).toMatch(/AccessDenied|AWSLambdaException/);
        expect(taskFailed?.cause).toMatch(/is not authorized to perform/);
        const lastEntered = events.filter((e) => e.type?.endsWith('StateEntered')).at(-1);
        expect(lastEntered?.stateEnteredEventDetails?.name).toBe(c.failsAt);
        expect(failed.redriveStatus).toBe('REDRIVABLE');
        expect(denials(t).join('\n')).toMatch(c.denied);
      } finally {
        await t.stack.stop();
      }
    }, 90_000);
  }
});

/** Takes out the AWS::Lambda::Permission resources whose logical id starts with one of `prefixes`. */
const withoutPermission =
  (...prefixes: string[]) =>
  (template: CfnTemplate) => {
    const ids = Object.keys(template.Resources).filter(
      (id) =>
        prefixes.some((p) => id.startsWith(p)) && template.Resources[id]?.Type === 'AWS::Lambda::Permission',
    );
    if (ids.length !== prefixes.length) throw new Error(`not one permission each for ${prefixes.join(', ')}`);
    for (const id of ids) delete template.Resources[id];
  };

describe('local IAM: a function is invoked by a service only where its resource policy allows it', () => {
  // Both: the OPTIONS route's permission names `/*/*/leads` too (any method), so it alone would let POST in,
  // in AWS as here.
  it('without the API’s permissions for /leads, API Gateway answers 500 and nothing starts', async () => {
    const t = await startTestStack(
      editedApp(inject('cdkOut'), withoutPermission('ApiPOSTleads', 'ApiOPTIONSleads')),
    );
    try {
      expect((await submit(t, 'api.denied@acme-robotics.com', 'demo-request')).status).toBe(500);
      expect(denials(t).join('\n')).toMatch(/apigateway\.amazonaws\.com .*lambda:InvokeFunction.*SubmitLead/);
      // Another route keeps its own permission.
      const unsubscribe = await t.api('/unsubscribe?t=x');
      expect(unsubscribe.status).not.toBe(500);
    } finally {
      await t.stack.stop();
    }
  });

  it('without the RunEnded rule’s permission, a stopped run is never recorded on its lead', async () => {
    const t = await startTestStack(editedApp(inject('cdkOut'), withoutPermission('RunEndedAllowEventRule')), {
      events: { retryDelayMs: 10 },
    });
    try {
      const email = 'rule.denied@acme-robotics.com';
      const leadId = leadIdFor(email);
      expect((await submit(t, email, 'demo-request')).status).toBe(202);
      const arn = await runOf(t, leadId);
      await parkedAt(t, arn, 'Await rep acceptance');
      await client(t).send(new StopExecutionCommand({ executionArn: arn }));
      await eventually(
        async () => (t.logs.some((l) => l.includes('dropped an event for')) ? true : undefined),
        15_000,
        'the delivery dropped',
      );
      expect(denials(t).join('\n')).toMatch(/events\.amazonaws\.com .*lambda:InvokeFunction.*RecordFailure/);
      expect((await adminLead(t, leadId)).lead.stage).toBe('assigned');
    } finally {
      await t.stack.stop();
    }
  });
});
