import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '#local/long-timers.ts';
import { compressedWallClock } from '#local/clock.ts';
import { type EventPattern, matchesPattern } from '#local/event-pattern.ts';
import { type BusEvent, EventBus, rulesOf } from '#local/events.ts';
import type { InvokeResult } from '#local/functions.ts';
import { LocalStepFunctions } from '#local/sfn/api.ts';
import type { CfnTemplate, LocalNames } from '#local/template.ts';

const names: LocalNames = { region: 'us-east-1', account: '000000000000' };
const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:LeadToClose1234';
const RECORD_FAILURE = 'arn:aws:lambda:us-east-1:000000000000:function:RecordFailureABCD';

// What the stack's rule looks like once synthesized: Ref to the state machine, GetAtt to the function.
const template: CfnTemplate = {
  Resources: {
    LeadToClose1234: { Type: 'AWS::StepFunctions::StateMachine', Properties: {} },
    RecordFailureABCD: { Type: 'AWS::Lambda::Function', Properties: {} },
    RunEndedRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventPattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: {
            stateMachineArn: [{ Ref: 'LeadToClose1234' }],
            status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          },
        },
        State: 'ENABLED',
        Targets: [{ Id: 'Target0', Arn: { 'Fn::GetAtt': ['RecordFailureABCD', 'Arn'] } }],
      },
    },
    Dormant: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventPattern: JSON.stringify({ source: ['aws.states'] }),
        State: 'DISABLED',
        Targets: [
          {
            Id: 'T',
            Arn: { 'Fn::GetAtt': ['RecordFailureABCD', 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 0 },
          },
        ],
      },
    },
    OtherBus: {
      Type: 'AWS::Events::Rule',
      Properties: { EventBusName: 'custom', EventPattern: { source: ['x'] }, Targets: [] },
    },
  },
};

const event = (detail: Record<string, unknown>, extra: Partial<BusEvent> = {}): BusEvent => ({
  version: '0',
  id: '1',
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  account: '000000000000',
  time: '2026-11-27T00:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:states:us-east-1:000000000000:execution:LeadToClose1234:ld-1'],
  detail,
  ...extra,
});

describe('EventBridge event patterns', () => {
  const cases: [string, EventPattern, BusEvent, boolean][] = [
    ['exact value in a list', { source: ['aws.states', 'aws.ses'] }, event({}), true],
    ['exact value missing', { source: ['aws.ses'] }, event({}), false],
    ['nested detail field', { detail: { status: ['FAILED'] } }, event({ status: 'FAILED' }), true],
    [
      'nested detail field differs',
      { detail: { status: ['FAILED'] } },
      event({ status: 'SUCCEEDED' }),
      false,
    ],
    ['deeper nesting', { detail: { mail: { source: ['a@x'] } } }, event({ mail: { source: 'a@x' } }), true],
    ['numbers and booleans', { detail: { n: [3], ok: [true] } }, event({ n: 3, ok: true }), true],
    ['null', { detail: { error: [null] } }, event({ error: null }), true],
    ['array value: any element', { resources: [{ prefix: 'arn:aws:states:' }] }, event({}), true],
    ['prefix', { detail: { name: [{ prefix: 'ld-' }] } }, event({ name: 'ld-123' }), true],
    ['prefix no match', { detail: { name: [{ prefix: 'ld-' }] } }, event({ name: 'x-ld-1' }), false],
    ['suffix', { detail: { email: [{ suffix: '@acme.com' }] } }, event({ email: 'a@acme.com' }), true],
    [
      'anything-but value',
      { detail: { status: [{ 'anything-but': 'SUCCEEDED' }] } },
      event({ status: 'FAILED' }),
      true,
    ],
    [
      'anything-but list',
      { detail: { status: [{ 'anything-but': ['SUCCEEDED', 'RUNNING'] }] } },
      event({ status: 'RUNNING' }),
      false,
    ],
    [
      'anything-but prefix',
      { detail: { name: [{ 'anything-but': { prefix: 'test-' } }] } },
      event({ name: 'test-1' }),
      false,
    ],
    ['anything-but needs the field', { detail: { status: [{ 'anything-but': 'X' }] } }, event({}), false],
    ['exists true', { detail: { error: [{ exists: true }] } }, event({ error: 'E' }), true],
    ['exists true, absent', { detail: { error: [{ exists: true }] } }, event({}), false],
    ['exists false', { detail: { error: [{ exists: false }] } }, event({}), true],
    ['exists false, present', { detail: { error: [{ exists: false }] } }, event({ error: 'E' }), false],
    ['numeric range', { detail: { n: [{ numeric: ['>', 0, '<=', 5] }] } }, event({ n: 5 }), true],
    ['numeric out of range', { detail: { n: [{ numeric: ['>', 0, '<=', 5] }] } }, event({ n: 6 }), false],
    [
      'every field must match',
      { source: ['aws.states'], detail: { status: ['FAILED'] } },
      event({ status: 'X' }),
      false,
    ],
    [
      'equals-ignore-case',
      { detail: { s: [{ 'equals-ignore-case': 'failed' }] } },
      event({ s: 'FAILED' }),
      true,
    ],
  ];
  it.each(cases)('%s', (_, pattern, e, expected) => {
    expect(matchesPattern(pattern, e)).toBe(expected);
  });

  it('refuses a matcher it does not know rather than guessing', () => {
    expect(() =>
      matchesPattern({ detail: { ip: [{ cidr: '10.0.0.0/8' }] } }, event({ ip: '10.0.0.1' })),
    ).toThrow(/unsupported matcher/);
  });
});

describe('local EventBridge bus', () => {
  it('reads the template’s rules on the default bus, resolving the pattern and targets', () => {
    const rules = rulesOf(template, names);
    expect(rules.map((r) => [r.logicalId, r.enabled])).toEqual([
      ['RunEndedRule', true],
      ['Dormant', false],
    ]);
    expect(rules[0]?.pattern).toMatchObject({ detail: { stateMachineArn: [MACHINE] } });
    expect(rules[0]?.targets).toEqual([{ id: 'Target0', arn: RECORD_FAILURE }]);
    expect(rules[1]?.targets).toEqual([{ id: 'T', arn: RECORD_FAILURE, retries: 0 }]);
  });

  function bus(outcomes: InvokeResult[] = [], opts: { dataDir?: string; retryDelayMs?: number } = {}) {
    const calls: { arn: string; payload: BusEvent }[] = [];
    const lines: string[] = [];
    const b = new EventBus(
      rulesOf(template, names),
      {
        invoke: async (arn, payload) => {
          calls.push({ arn, payload: payload as BusEvent });
          return outcomes.shift() ?? { ok: true, result: null };
        },
      },
      { ...names, retries: 2, retryDelayMs: 10, log: (l) => lines.push(l), ...opts },
    );
    return { b, calls, lines };
  }
  const statusEntry = (status: string, stateMachineArn = MACHINE) => ({
    Source: 'aws.states',
    DetailType: 'Step Functions Execution Status Change',
    Resources: ['arn:aws:states:us-east-1:000000000000:execution:LeadToClose1234:ld-1'],
    Detail: JSON.stringify({ stateMachineArn, status, input: '{}' }),
  });

  it('delivers matching events to the rule’s Lambda target after PutEvents answers, and only those', async () => {
    const { b, calls } = bus();
    const out = b.putEvents([
      statusEntry('FAILED'),
      statusEntry('SUCCEEDED'),
      statusEntry('FAILED', `${MACHINE}-other`),
      { Source: 'x', DetailType: 'y', Detail: 'not json' },
    ]);
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries[3]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    expect(calls).toHaveLength(0);
    await b.drain();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.arn).toBe(RECORD_FAILURE);
    expect(calls[0]?.payload).toMatchObject({
      version: '0',
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      account: '000000000000',
      region: 'us-east-1',
      detail: { status: 'FAILED' },
    });
    expect(calls[0]?.payload.id).toBe((out.Entries[0] as { EventId: string }).EventId);
    expect(calls[0]?.payload.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('retries a failed delivery with backoff, then logs and drops it', async () => {
    const throttle: InvokeResult = {
      ok: false,
      errorType: 'Lambda.TooManyRequestsException',
      errorMessage: 'Rate',
    };
    const err: InvokeResult = { ok: false, errorType: 'Boom', errorMessage: 'no' };
    const first = bus([throttle, err]);
    first.b.putEvents([statusEntry('TIMED_OUT')]);
    await first.b.drain();
    expect(first.calls).toHaveLength(3);
    expect(first.b.counts).toMatchObject({ delivered: 1, retried: 2, dropped: 0 });
    const second = bus([err, err, err, err]);
    second.b.putEvents([statusEntry('ABORTED')]);
    await second.b.drain();
    expect(second.calls).toHaveLength(3);
    expect(second.b.counts).toMatchObject({ delivered: 0, dropped: 1 });
    expect(second.lines).toEqual([
      expect.stringMatching(/RunEndedRule: dropped an event for RecordFailureABCD after 3 attempts: Boom/),
    ]);
  });

  it('honours a target’s RetryPolicy that allows fewer retries', async () => {
    const rules = rulesOf(template, names).filter((r) => r.logicalId === 'Dormant');
    for (const r of rules) r.enabled = true;
    const calls: string[] = [];
    const b = new EventBus(
      rules,
      {
        invoke: async (arn) => {
          calls.push(arn);
          return { ok: false, errorType: 'Boom', errorMessage: 'no' };
        },
      },
      { ...names, retryDelayMs: 1, log: () => undefined },
    );
    b.putEvents([statusEntry('FAILED')]);
    await b.drain();
    expect(calls).toHaveLength(1);
    expect(b.counts.dropped).toBe(1);
  });

  it('keeps an event it drops in the target’s dead-letter queue: a line in <data>/dead-letters/<queue>.jsonl', async () => {
    const withDlq: CfnTemplate = {
      Resources: {
        ...template.Resources,
        Undelivered1: { Type: 'AWS::SQS::Queue', Properties: {} },
        RunEndedRule: {
          Type: 'AWS::Events::Rule',
          Properties: {
            ...template.Resources.RunEndedRule?.Properties,
            Targets: [
              {
                Id: 'Target0',
                Arn: { 'Fn::GetAtt': ['RecordFailureABCD', 'Arn'] },
                RetryPolicy: { MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 60 },
                DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['Undelivered1', 'Arn'] } },
              },
            ],
          },
        },
      },
    };
    const rules = rulesOf(withDlq, names).filter((r) => r.logicalId === 'RunEndedRule');
    expect(rules[0]?.targets[0]).toMatchObject({
      retries: 1,
      deadLetter: 'arn:aws:sqs:us-east-1:000000000000:Undelivered1',
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'handoff-dlq-'));
    const lines: string[] = [];
    const b = new EventBus(
      rules,
      { invoke: async () => ({ ok: false, errorType: 'Boom', errorMessage: 'no' }) },
      { ...names, retryDelayMs: 1, dataDir, log: (l) => lines.push(l) },
    );
    b.putEvents([statusEntry('FAILED')]);
    await b.drain();
    expect(b.counts).toMatchObject({ delivered: 0, retried: 1, dropped: 1, deadLettered: 1 });
    expect(lines).toEqual([
      expect.stringMatching(
        /RunEndedRule: dropped an event for RecordFailureABCD after 2 attempts: Boom: no; kept in dead-letter queue Undelivered1 \(.*dead-letters\/Undelivered1\.jsonl\)/,
      ),
    ]);
    const file = readFileSync(join(dataDir, 'dead-letters', 'Undelivered1.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(file).toHaveLength(1);
    expect(JSON.parse(file[0] ?? '')).toMatchObject({
      rule: 'RunEndedRule',
      target: RECORD_FAILURE,
      attempts: 2,
      errorType: 'Boom',
      event: { source: 'aws.states', detail: { status: 'FAILED' } },
    });
    await b.close();
  });

  it('gets Step Functions status changes from the engine: a failed run reaches the rule’s target', async () => {
    const { b, calls } = bus();
    const sfn = new LocalStepFunctions(
      [
        {
          arn: MACHINE,
          name: 'LeadToClose1234',
          definition: {
            StartAt: 'Boom',
            States: { Boom: { Type: 'Fail', Error: 'Broke', Cause: 'on purpose' } },
          },
          createdAt: Date.now(),
        },
      ],
      { call: async () => ({}) },
      {
        dataDir: mkdtempSync(join(tmpdir(), 'handoff-bus-')),
        clock: compressedWallClock(1),
        ...names,
        events: b,
      },
    );
    const { executionArn } = await sfn.startExecution({
      stateMachineArn: MACHINE,
      name: 'ld-1',
      input: '{"lead":{"id":"ld-1"}}',
    });
    await sfn.waitForExecution({ executionArn });
    await b.drain();
    expect(b.counts.put).toBe(2); // RUNNING, FAILED
    expect(calls).toHaveLength(1);
    expect(calls[0]?.payload.resources).toEqual([executionArn]);
    expect(calls[0]?.payload.detail).toMatchObject({
      executionArn,
      status: 'FAILED',
      error: 'Broke',
      cause: 'on purpose',
      input: '{"lead":{"id":"ld-1"}}',
    });
    await sfn.shutdown();
  });

  describe('deliveries survive a stop or a crash (<data>/events)', () => {
    const err: InvokeResult = { ok: false, errorType: 'Boom', errorMessage: 'no' };
    const pendingIn = (dataDir: string) => readdirSync(join(dataDir, 'events'));

    it('keeps each accepted delivery on disk from PutEvents’ answer until it is delivered or dropped', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'handoff-bus-'));
      const { b, calls } = bus([err, err, err], { dataDir });
      const out = await b.putEventsDurably([statusEntry('FAILED'), statusEntry('SUCCEEDED')]);
      expect(calls).toHaveLength(0); // stored before anything is delivered
      const files = pendingIn(dataDir);
      expect(files).toHaveLength(1); // SUCCEEDED matches no rule: nothing to keep
      const kept = JSON.parse(readFileSync(join(dataDir, 'events', String(files[0])), 'utf8'));
      expect(kept).toMatchObject({
        arn: RECORD_FAILURE,
        rule: 'RunEndedRule',
        payload: { id: (out.Entries[0] as { EventId: string }).EventId, detail: { status: 'FAILED' } },
      });
      await b.drain();
      expect(b.counts).toMatchObject({ dropped: 1 });
      await b.putEventsDurably([statusEntry('ABORTED')]);
      await b.drain();
      expect(b.counts).toMatchObject({ delivered: 1, dropped: 1 });
      await b.commit();
      expect(pendingIn(dataDir)).toEqual([]);
    });

    it('delivers after a restart what was still in retry when the bus stopped, then forgets it', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'handoff-bus-'));
      const first = bus([err], { dataDir, retryDelayMs: 60_000 });
      await first.b.putEventsDurably([statusEntry('TIMED_OUT')]);
      await expect.poll(() => first.calls.length).toBe(1); // failed once, waiting a minute to retry
      first.b.stop();
      await first.b.close();
      expect(pendingIn(dataDir)).toHaveLength(1);
      expect(first.b.putEvents([statusEntry('FAILED')]).Entries[0]).toMatchObject({
        ErrorCode: 'InternalFailure',
      });
      const second = bus([], { dataDir });
      expect(second.b.redeliver()).toBe(1);
      await second.b.drain();
      expect(second.calls.map((c) => c.payload.detail)).toEqual([
        expect.objectContaining({ status: 'TIMED_OUT' }),
      ]);
      await second.b.close();
      expect(pendingIn(dataDir)).toEqual([]);
    });
  });
});
