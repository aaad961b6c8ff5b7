// The EventBridge handlers fed AWS's documented events (test/fixtures/aws/): each sample's envelope, with
// Handoff's detail where the handler needs one. Every event parses with Powertools' EventBridge schema
// and with the handler's own contract, and the handler does with it what it does with any other.
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as recordFailureWith } from '#functions/events/record-failure.ts';
import { createHandler as sesEventsWith } from '#functions/events/ses-events.ts';
import { sfnRuns } from '#functions/platform/runs.ts';
import { runEndedEvent, sesEvent } from '#functions/steps/contracts.ts';
import { anAwsEvent } from '#test/fixtures/aws-events.ts';
import { EventBridgeSchema, issuesOf } from '#test/fixtures/aws-schemas.ts';
import { aLambdaContext } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { type MemoryStores, memoryStores } from '#test/fixtures/memory-stores.ts';

const sfn = mockClient(SFNClient);
const runs = sfnRuns({ stateMachineArn: String(process.env.STATE_MACHINE_ARN) });
const AT = '2026-11-25T16:00:00.000Z';
const lead = aLead({ email: 'bounce@simulator.amazonses.com', formType: 'newsletter' });
let db: MemoryStores;

beforeEach(async () => {
  db = memoryStores();
  sfn.on(SendTaskSuccessCommand).resolves({});
});
afterEach(() => sfn.reset());

describe('AWS samples as documented', () => {
  it.each([
    ['sfn-execution-failed', runEndedEvent],
    ['ses-email-sent', sesEvent],
    ['ses-email-bounced', sesEvent],
    ['ses-email-complaint-received', sesEvent],
  ] as const)(
    '%s parses with Powertools’ EventBridge schema and the handler’s contract',
    (name, contract) => {
      const event = anAwsEvent(name);
      expect(issuesOf(EventBridgeSchema, event)).toEqual([]);
      expect(issuesOf(contract.input, event)).toEqual([]);
    },
  );

  it('another service’s event (EC2’s, in the sample) is refused by both handlers as an EventInputError', async () => {
    const event = anAwsEvent('eventbridge-base');
    expect(issuesOf(EventBridgeSchema, event)).toEqual([]);
    await expect(recordFailureWith({ ...db, runs })(event, aLambdaContext())).rejects.toMatchObject({
      name: 'EventInputError',
    });
    await expect(sesEventsWith({ ...db, runs })(event, aLambdaContext())).rejects.toMatchObject({
      name: 'EventInputError',
    });
  });

  it('a run input that is not Handoff’s ("{}" in the sample) records nothing', async () => {
    const out = await recordFailureWith({ ...db, runs })(
      anAwsEvent('sfn-execution-failed'),
      aLambdaContext(),
    );
    expect(out).toEqual({ recorded: false, released: false });
  });
});

describe('Record failure, fed "Step Functions Execution Status Change"', () => {
  const name = 'lead-1-demo-request-2026-11-25';
  const failed = (status: string) =>
    anAwsEvent(
      'sfn-execution-failed',
      {
        executionArn: `arn:aws:states:us-east-1:123456789012:execution:lead-to-close:${name}`,
        stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:lead-to-close',
        name,
        status,
        input: JSON.stringify({ lead: { id: lead.id }, receivedAt: AT }),
      },
      { time: AT },
    );

  it.each(['FAILED', 'TIMED_OUT', 'ABORTED'])('marks the run’s lead failed on %s', async (status) => {
    const event = failed(status);
    expect(issuesOf(EventBridgeSchema, event)).toEqual([]);
    await db.leads.capture(lead, name, AT);
    expect(await recordFailureWith({ ...db, runs })(event, aLambdaContext())).toEqual({
      recorded: true,
      released: false,
    });
    expect((await db.leads.get(lead.id))?.stage).toBe('failed');
    expect(await db.leads.listEvents(lead.id)).toContainEqual(
      expect.objectContaining({ type: 'failed', at: AT }),
    );
  });

  it('captures a lead whose run failed before storing it, from the submission kept for the run', async () => {
    await db.submissions.put({ lead, receivedAt: AT }, name);
    expect(await recordFailureWith({ ...db, runs })(failed('FAILED'), aLambdaContext())).toEqual({
      recorded: true,
      released: false,
    });
    expect(await db.leads.get(lead.id)).toMatchObject({ email: lead.email, stage: 'failed' });
  });
});

describe('SES events, fed SES event publishing through EventBridge', () => {
  const mail = {
    destination: [lead.email],
    tags: { 'ses:configuration-set': ['handoff'], leadId: [lead.id] },
  };

  beforeEach(async () => {
    await db.leads.capture(lead, 'run-1', AT);
    await db.leads.setStage(lead.id, 'nurturing', AT);
  });

  it('"Email Sent" is counted and nothing else', async () => {
    const event = anAwsEvent('ses-email-sent', { mail });
    expect(issuesOf(EventBridgeSchema, event)).toEqual([]);
    expect(await sesEventsWith({ ...db, runs })(event, aLambdaContext())).toEqual({
      counted: 'sent',
      suppressed: 0,
      woken: 0,
      tripped: false,
    });
    expect(await db.suppression.isSuppressed(lead.email)).toBe(false);
  });

  it('"Email Bounced" (Permanent) suppresses the address and puts the bounce on the timeline', async () => {
    const sample = anAwsEvent('ses-email-bounced');
    const bounce = sample.detail.bounce as { bouncedRecipients: Record<string, unknown>[] };
    const event = anAwsEvent('ses-email-bounced', {
      mail,
      bounce: {
        ...bounce,
        bouncedRecipients: [{ ...bounce.bouncedRecipients[0], emailAddress: lead.email }],
      },
    });
    expect(issuesOf(EventBridgeSchema, event)).toEqual([]);
    expect(await sesEventsWith({ ...db, runs })(event, aLambdaContext())).toMatchObject({
      counted: 'bounced',
      suppressed: 1,
    });
    expect(await db.suppression.reasonFor(lead.email)).toBe('bounced');
    expect((await db.leads.listEvents(lead.id)).map((e) => e.type)).toContain('bounced');
  });

  it('"Email Complaint Received" suppresses the address as complained', async () => {
    const sample = anAwsEvent('ses-email-complaint-received');
    const event = anAwsEvent('ses-email-complaint-received', {
      mail,
      complaint: {
        ...(sample.detail.complaint as object),
        complainedRecipients: [{ emailAddress: lead.email }],
      },
    });
    expect(issuesOf(EventBridgeSchema, event)).toEqual([]);
    expect(await sesEventsWith({ ...db, runs })(event, aLambdaContext())).toMatchObject({
      counted: 'complained',
      suppressed: 1,
    });
    expect(await db.suppression.reasonFor(lead.email)).toBe('complained');
  });
});
