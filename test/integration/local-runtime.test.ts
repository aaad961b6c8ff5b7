import { DynamoDBClient, GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskDoesNotExist,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor, parseLead } from '#functions/lead/lead.ts';
import { keys } from '#functions/platform/keys.ts';
import { runInput } from '#functions/steps/contracts.ts';
import { majorOf } from '#local/template.ts';
import { aFormSubmission } from '#test/fixtures/leads.ts';
import { credentials, eventually, startTestStack, storesOf } from '#test/fixtures/local-stack.ts';

let t: Awaited<ReturnType<typeof startTestStack>>;
let sfn: SFNClient;
beforeAll(async () => {
  t = await startTestStack(inject('cdkOut'));
  sfn = new SFNClient({ endpoint: t.stack.urls.sfn, region: 'us-east-1', credentials });
});
afterAll(async () => {
  await t?.stack.stop();
});

const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const statusOf = async (executionArn: string) =>
  (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status;

describe('local runtime: AWS SDK v3 clients work unchanged', () => {
  it('lists and describes the synthesized state machine', async () => {
    const { stateMachines } = await sfn.send(new ListStateMachinesCommand({}));
    expect(stateMachines?.map((m) => m.stateMachineArn)).toEqual([t.stack.stateMachineArn]);
    const d = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: t.stack.stateMachineArn }));
    expect(JSON.parse(String(d.definition)).States['Capture & score lead'].Type).toBe('Task');
  });

  it('starts one run for two StartExecutions with one name, and refuses the name with another input', async () => {
    // A lead that parks at "Await rep acceptance", so the run is still RUNNING for the second call.
    const { lead } = parseLead(aFormSubmission({ email: 'twice@acme-robotics.com' }), ['demo-request']);
    const receivedAt = new Date();
    // As SubmitLead does: the submission in the table, the lead's id in the run's input.
    await storesOf(t).submissions.put({ lead, receivedAt: receivedAt.toISOString() }, 'twice');
    const input = JSON.stringify(runInput(lead.id, receivedAt));
    const cmd = new StartExecutionCommand({ stateMachineArn: t.stack.stateMachineArn, name: 'twice', input });
    const a = await sfn.send(cmd);
    const b = await sfn.send(cmd);
    expect(b.executionArn).toBe(a.executionArn);
    await expect(
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: t.stack.stateMachineArn,
          name: 'twice',
          input: '{"other":1}',
        }),
      ),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    const { executions } = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: t.stack.stateMachineArn }),
    );
    expect(executions?.filter((e) => e.name === 'twice')).toHaveLength(1);
    expect(await statusOf(String(a.executionArn))).toBe('RUNNING');
  });

  it('answers with the error types the SDK expects', async () => {
    await expect(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: `${t.stack.stateMachineArn.replace('stateMachine', 'execution')}:nope`,
        }),
      ),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' })),
    ).rejects.toBeInstanceOf(TaskDoesNotExist);
  });

  it('runs every function worker on the Node.js major of the template’s Lambda runtime', () => {
    expect(t.stack.runtimes.length).toBeGreaterThan(10);
    for (const r of t.stack.runtimes) {
      expect(r.lambda, r.functionId).toMatch(/^nodejs\d+\.x$/);
      expect(majorOf(r.node), `${r.functionId} runs on ${r.node}, Lambda on ${r.lambda}`).toBe(
        majorOf(r.lambda),
      );
    }
  });

  it('serves DynamoDB with the template’s table and the seeded reps, and SES into the mailbox', async () => {
    const db = new DynamoDBClient({ endpoint: t.stack.urls.dynamodb, region: 'us-east-1', credentials });
    expect((await db.send(new ListTablesCommand({}))).TableNames).toEqual([t.stack.tableName]);
    const rep = await db.send(
      new GetItemCommand({
        TableName: t.stack.tableName,
        Key: { pk: { S: keys.rep('rep-ava').pk }, sk: { S: keys.rep('rep-ava').sk } },
      }),
    );
    expect(rep.Item?.team?.S).toBe('enterprise-na');
    const ses = new SESClient({ endpoint: t.stack.urls.ses, region: 'us-east-1', credentials });
    await ses.send(
      new SendEmailCommand({
        Source: 'probe@handoff.example',
        Destination: { ToAddresses: ['someone@example.com'] },
        Message: { Subject: { Data: 'probe' }, Body: { Text: { Data: 'hello' } } },
      }),
    );
    expect((await t.mailbox()).some((m) => m.subject === 'probe')).toBe(true);
  });

  it('answers 404 for an unknown route and 403 on admin routes without the local token', async () => {
    expect((await t.api('/nope')).status).toBe(404);
    expect((await t.api('/admin/leads/ld-x')).status).toBe(403);
  });
});

describe('local runtime end to end over HTTP', () => {
  it('form post → run → rep email → signed links → deal won → run succeeded', async () => {
    const email = 'grace.hopper@acme-robotics.com';
    const res = await t.api('/leads', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: form({
        email,
        firstName: 'Grace',
        lastName: 'Hopper',
        company: 'Acme Robotics',
        title: 'CTO',
        companySize: '5000',
        country: 'US',
        phone: '+1 555 0100 42',
        formType: 'demo-request',
        consent: 'on',
      }),
    });
    expect(res.status).toBe(303);
    const leadId = leadIdFor(email);
    const execution = await eventually(async () => {
      const { executions } = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: t.stack.stateMachineArn }),
      );
      return executions?.find((e) => e.name?.startsWith(leadId));
    });
    const mail = await eventually(
      async () => (await t.mailbox()).find((m) => m.subject.includes('Grace Hopper')),
      15_000,
      'rep email',
    );
    const [accept, won] = t.linksIn(mail).filter((l) => l.includes('/deals/action'));
    expect(accept).toBeDefined();
    // A scanner's GET changes nothing: the run still waits for acceptance.
    expect((await fetch(String(accept))).status).toBe(200);
    expect(await statusOf(String(execution.executionArn))).toBe('RUNNING');
    expect((await fetch(String(accept), { method: 'POST' })).status).toBe(200);
    await eventually(async () => {
      const { events } = await sfn.send(
        new GetExecutionHistoryCommand({
          executionArn: execution.executionArn,
          reverseOrder: true,
          maxResults: 5,
        }),
      );
      return events?.some(
        (e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'Await deal outcome',
      )
        ? true
        : undefined;
    });
    const done = await fetch(String(won), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=125000',
    });
    expect(done.status).toBe(200);
    await eventually(async () =>
      (await statusOf(String(execution.executionArn))) === 'SUCCEEDED' ? true : undefined,
    );
    const admin = await t.api(`/admin/leads/${leadId}`, {
      headers: { authorization: `Bearer ${t.stack.adminToken}` },
    });
    const body = (await admin.json()) as { lead: { stage: string }; timeline: { type: string }[] };
    expect(body.lead.stage).toBe('won');
    expect(body.timeline.map((e) => e.type)).toEqual(
      expect.arrayContaining(['form', 'scored', 'assigned', 'rep-accept', 'rep-won', 'closed']),
    );
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: execution.executionArn }));
    const types = history.events?.map((e) => e.type) ?? [];
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    expect(history.events?.every((e, i) => e.id === i + 1 && e.timestamp instanceof Date)).toBe(true);

    // Ids only in Step Functions: nothing personal in the run's input, output or any event of its history
    // (the status-change event carries the same input and output), where an erase could not reach it.
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
    const kept = JSON.stringify([described.input, described.output, history.events]);
    for (const personal of [email, 'Grace', 'Hopper', 'Acme Robotics', '555 0100'])
      expect(kept, personal).not.toContain(personal);
    expect(JSON.parse(String(described.input))).toEqual({
      lead: { id: leadId },
      receivedAt: expect.any(String),
      nurture: { cycle: 0, step: 0 },
      wake: null,
    });
  });
});

describe('local runtime: where its CPU and memory go, by thread', () => {
  it('reads the main thread, the DynamoDB thread and each function’s workers, and they only grow', async () => {
    const before = await t.stack.cpu();
    const email = 'ada.cpu@acme-robotics.com';
    const res = await t.api('/leads', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: form(aFormSubmission({ email })),
    });
    expect(res.status).toBeLessThan(400);
    await eventually(async () =>
      expect((await storesOf(t).leads.get(leadIdFor(email)))?.stage).toBeDefined(),
    );
    const after = await t.stack.cpu();
    expect(after.main).toBeGreaterThan(before.main);
    expect(after.dynamodb).toBeGreaterThan(before.dynamodb);
    expect(after.functions.SubmitLead).toBeGreaterThan(before.functions.SubmitLead ?? 0);
    for (const [id, us] of Object.entries(before.functions))
      expect(after.functions[id], id).toBeGreaterThanOrEqual(us);
    const m = await t.stack.memory();
    expect(m.dynamodb.heap).toBeGreaterThan(m.dynamodb.used);
    expect(m.functions.SubmitLead).toBeGreaterThan(0);
    const fnHeaps = Object.values(m.functions).reduce((a, b) => a + b, 0);
    expect(m.native).toBe(m.rss - m.main.heap - m.main.external - m.dynamodb.heap - fnHeaps);
  });
});
