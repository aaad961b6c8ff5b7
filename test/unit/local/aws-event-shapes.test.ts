// What the local runtime puts on its EventBridge bus, as its targets receive it, against AWS's shape:
// Step Functions' "Execution Status Change" (local/sfn/status-event.ts) and SES's events for a send
// (local/ses-simulator.ts), each through the local bus (local/events.ts, which adds the envelope). Every
// delivered event parses with Powertools' EventBridge schema and with the contract of the handler its
// rule targets, and carries the fields AWS's documented sample has (test/fixtures/aws/).
import { describe, expect, it } from 'vitest';
import { runEndedEvent, sesEvent } from '#functions/steps/contracts.ts';
import { type BusEvent, EventBus, type PutEventsEntry } from '#local/events.ts';
import { headersOfMime, sesEventsOf } from '#local/ses-simulator.ts';
import type { ExecutionRecord } from '#local/sfn/executions.ts';
import { statusChangeEntry } from '#local/sfn/status-event.ts';
import { anAwsEvent } from '#test/fixtures/aws-events.ts';
import { EventBridgeSchema, issuesOf } from '#test/fixtures/aws-schemas.ts';

const TARGET = 'arn:aws:lambda:us-east-1:000000000000:function:Target';

/** The events `entries` become once the local bus has delivered them to a rule's Lambda target. */
async function delivered(entries: PutEventsEntry[]): Promise<BusEvent[]> {
  const got: BusEvent[] = [];
  const bus = new EventBus(
    [
      {
        logicalId: 'All',
        name: 'all',
        pattern: { source: ['aws.states', 'aws.ses'] },
        enabled: true,
        targets: [{ id: 'T', arn: TARGET }],
      },
    ],
    {
      invoke: async (_arn, payload) => {
        got.push(payload as BusEvent);
        return { ok: true, result: null };
      },
    },
    { region: 'us-east-1', account: '000000000000' },
  );
  const out = bus.putEvents(entries);
  expect(out.FailedEntryCount).toBe(0);
  await bus.drain();
  return got;
}

/** The keys of `o` and of its nested objects, as paths (arrays' items are not looked into). */
function keysOf(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? [`${prefix}${k}`, ...keysOf(v as Record<string, unknown>, `${prefix}${k}.`)]
      : [`${prefix}${k}`],
  );
}

const run = (o: Partial<ExecutionRecord>): ExecutionRecord => ({
  executionArn: 'arn:aws:states:us-east-1:000000000000:execution:LeadToClose:lead-1-demo-request-2026-11-25',
  stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:LeadToClose',
  name: 'lead-1-demo-request-2026-11-25',
  status: 'FAILED',
  startDate: Date.parse('2026-11-25T16:00:00.000Z'),
  stopDate: Date.parse('2026-11-25T16:00:05.000Z'),
  input: JSON.stringify({ lead: { id: 'lead-1' } }),
  error: 'States.TaskFailed',
  cause: 'boom',
  events: [],
  ...o,
});

describe('local Step Functions: "Step Functions Execution Status Change"', () => {
  it.each(['FAILED', 'TIMED_OUT', 'ABORTED'] as const)(
    'a run ended %s is shaped as AWS sends it',
    async (status) => {
      const [event] = await delivered([statusChangeEntry(run({ status }), Date.now())]);
      expect(issuesOf(EventBridgeSchema, event)).toEqual([]);
      expect(issuesOf(runEndedEvent.input, event)).toEqual([]);
      const sample = anAwsEvent('sfn-execution-failed');
      expect(keysOf(event as unknown as Record<string, unknown>)).toEqual(
        expect.arrayContaining(keysOf(sample)),
      );
      expect(event).toMatchObject({
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        resources: [run({}).executionArn],
        time: '2026-11-25T16:00:05Z',
        detail: {
          status,
          startDate: run({}).startDate,
          stopDate: run({}).stopDate,
          output: null,
          outputDetails: null,
        },
      });
    },
  );

  it('a running run (no stop date yet) is shaped as AWS sends it too', async () => {
    const [event] = await delivered([
      statusChangeEntry(
        run({ status: 'RUNNING', stopDate: undefined, error: undefined, cause: undefined }),
        Date.now(),
      ),
    ]);
    expect(issuesOf(EventBridgeSchema, event)).toEqual([]);
    expect(event?.detail).toMatchObject({ status: 'RUNNING', stopDate: null, error: null, cause: null });
  });
});

describe('local SES: events published to EventBridge for a send', () => {
  const send = {
    messageId: '0100018d-local-message',
    source: 'Handoff <hello@example.com>',
    destinations: [
      'success@simulator.amazonses.com',
      'bounce@simulator.amazonses.com',
      'complaint@simulator.amazonses.com',
      'suppressionlist@simulator.amazonses.com',
    ],
    configurationSet: 'handoff',
    tags: { leadId: 'lead-1' },
    // Handoff sends raw messages (SendRawEmail): their headers are what SES lists.
    headers: headersOfMime(
      'From: Handoff <hello@example.com>\r\nTo: success@simulator.amazonses.com\r\nSubject: Your demo\r\n' +
        'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nHello',
    ),
  };

  it('every event parses with Powertools’ EventBridge schema and Handoff’s SES event contract', async () => {
    const events = await delivered(
      sesEventsOf(send, new Date('2026-11-25T16:00:00.000Z'), 'us-east-1', '000000000000'),
    );
    expect(events.map((e) => e['detail-type'])).toEqual([
      'Email Sent',
      'Email Delivered',
      'Email Bounced',
      'Email Delivered',
      'Email Complaint Received',
      'Email Bounced',
    ]);
    for (const event of events) {
      expect(issuesOf(EventBridgeSchema, event)).toEqual([]);
      expect(issuesOf(sesEvent.input, event)).toEqual([]);
      expect(event).toMatchObject({
        source: 'aws.ses',
        resources: ['arn:aws:ses:us-east-1:000000000000:configuration-set/handoff'],
        detail: { mail: { tags: { 'ses:configuration-set': ['handoff'], leadId: ['lead-1'] } } },
      });
    }
  });

  it.each([
    ['Email Sent', 'ses-email-sent'],
    ['Email Bounced', 'ses-email-bounced'],
    ['Email Complaint Received', 'ses-email-complaint-received'],
  ] as const)('"%s" has the envelope and detail fields of AWS’s sample (%s)', async (detailType, name) => {
    const events = await delivered(sesEventsOf(send, new Date(), 'us-east-1', '000000000000'));
    const event = events.find((e) => e['detail-type'] === detailType);
    const keys = keysOf(event as unknown as Record<string, unknown>);
    // A complaint's userAgent is the complaining mail client's, when its feedback report names one.
    const missing = keysOf(anAwsEvent(name)).filter(
      (k) => !keys.includes(k) && k !== 'detail.complaint.userAgent',
    );
    expect(missing).toEqual([]);
  });
});
