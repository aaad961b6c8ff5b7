// IAM on the local stack (local/iam.ts): the synthesized roles are enforced on every call a function makes
// and on every invocation the state machine makes. A run stopped at any waiting state is redriven under the
// template's grants; a grant taken out of the template fails the path that needs it with AccessDenied.
// Over 300 lines: the three families (redrive, role grants, resource policies) share the stack helpers above them.
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import type { CfnTemplate } from '#local/template.ts';
import { aFormSubmission } from '#test/fixtures/leads.ts';
import { credentials, eventually, startTestStack } from '#test/fixtures/local-stack.ts';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const client = (t: Stack) => new SFNClient({ endpoint: t.stack.urls.sfn, region: 'us-east-1', credentials });

const submit = (t: Stack, email: string, formType: string) =>
  t.api('/leads', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(
      aFormSubmission({ email, formType, firstName: email.split('.')[0] ?? 'A' }),
    ).toString(),
  });

async function runOf(t: Stack, leadId: string): Promise<string> {
  const sfn = client(t);
  const run = await eventually(async () => {
    const { executions } = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: t.stack.stateMachineArn }),
    );
    return executions?.find((e) => e.name?.startsWith(leadId));
  }, 15_000);
  return String(run.executionArn);
}

async function history(t: Stack, executionArn: string): Promise<HistoryEvent[]> {
  const { events = [] } = await client(t).send(
    new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
  );
  return events;
}

/** Waits until the run's newest state entered is `state` (a task parked there, a wait armed). */
const parkedAt = (t: Stack, executionArn: string, state: string) =>
  eventually(
    async () => {
      const events = await history(t, executionArn);
      const entered = events.filter((e) => e.type?.endsWith('StateEntered')).at(-1);
      return entered?.stateEnteredEventDetails?.name === state ? true : undefined;
    },
    15_000,
    `the run at ${state}`,
  );

const adminLead = async (t: Stack, leadId: string) => {
  const res = await t.api(`/admin/leads/${leadId}`, {
    headers: { authorization: `Bearer ${t.stack.adminToken}` },
  });
  return (await res.json()) as { lead: { stage: string }; timeline: { type: string }[] };
};

const denials = (t: Stack) => t.logs.filter((l) => l.includes('AccessDenied'));

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

/** The synthesized app with `edit` applied to its template, in a folder of its own (the bundles linked). */
function editedApp(cdkOut: string, edit: (t: CfnTemplate) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'handoff-iam-'));
  for (const entry of readdirSync(cdkOut)) {
    if (entry === 'Handoff.template.json') continue;
    symlinkSync(join(cdkOut, entry), join(dir, entry));
  }
  const template = JSON.parse(readFileSync(join(cdkOut, 'Handoff.template.json'), 'utf8')) as CfnTemplate;
  edit(template);
  writeFileSync(join(dir, 'Handoff.template.json'), JSON.stringify(template));
  return dir;
}

type Doc = { Statement: { Action: string | string[]; Resource?: unknown }[] };
const policies = (template: CfnTemplate) =>
  Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .map((r) => ({
      roles: ((r.Properties?.Roles ?? []) as { Ref: string }[]).map((x) => x.Ref),
      doc: r.Properties?.PolicyDocument as Doc,
    }));

/** Takes `action` out of every statement of the policies attached to the role whose id starts with `rolePrefix`. */
const withoutGrant = (rolePrefix: string, action: string) => (template: CfnTemplate) => {
  let removed = 0;
  for (const { roles, doc } of policies(template)) {
    if (!roles.some((id) => id.startsWith(rolePrefix))) continue;
    for (const s of doc.Statement) {
      const actions = [s.Action].flat();
      if (!actions.includes(action)) continue;
      s.Action = actions.filter((a) => a !== action);
      removed += 1;
    }
    doc.Statement = doc.Statement.filter((s) => [s.Action].flat().length > 0);
  }
  if (!removed) throw new Error(`no ${action} granted to ${rolePrefix}`);
};

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
