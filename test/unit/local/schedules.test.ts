import { describe, expect, it } from 'vitest';
import { LocalClock } from '#local/clock.ts';
import { EventBus, rulesOf } from '#local/events.ts';
import type { InvokeResult } from '#local/functions.ts';
import { parseSchedule, ScheduleExpressionError } from '#local/schedule-expression.ts';
import type { CfnTemplate, LocalNames } from '#local/template.ts';

const names: LocalNames = { region: 'us-east-1', account: '000000000000' };
const iso = (t: number) => new Date(t).toISOString();

describe('schedule expressions (rate and cron, UTC)', () => {
  const from = Date.parse('2026-12-01T16:00:00Z'); // a Tuesday

  it('fires a weekly cron on the next Monday at 14:00 UTC, then every Monday', () => {
    const next = parseSchedule('cron(0 14 ? * MON *)', from);
    const first = next(from);
    expect(iso(first)).toBe('2026-12-07T14:00:00.000Z');
    expect(iso(next(first))).toBe('2026-12-14T14:00:00.000Z');
    expect(iso(parseSchedule('cron(0 14 ? * 2 *)', from)(from))).toBe(iso(first)); // 2 = Monday, as in AWS
  });

  it('reads ranges, lists, steps and names', () => {
    expect(iso(parseSchedule('cron(*/15 9-17 ? * MON-FRI *)', from)(from))).toBe('2026-12-01T16:15:00.000Z');
    expect(iso(parseSchedule('cron(0 8 1,15 * ? *)', from)(from))).toBe('2026-12-15T08:00:00.000Z');
    expect(iso(parseSchedule('cron(30 6 1 JAN ? 2027)', from)(from))).toBe('2027-01-01T06:30:00.000Z');
  });

  it('counts a rate from when the rule was put in place', () => {
    const next = parseSchedule('rate(7 days)', from);
    expect(iso(next(from))).toBe('2026-12-08T16:00:00.000Z');
    expect(iso(parseSchedule('rate(1 hour)', from)(from + 90 * 60_000))).toBe('2026-12-01T18:00:00.000Z');
  });

  it.each([
    'cron(0 14 * * MON *)',
    'cron(0 14 ? * ? *)',
    'cron(0 14 L * ? *)',
    'cron(0 14 ? * 6#3 *)',
    'cron(0 25 ? * MON *)',
    'rate(1 days)',
    'rate(2 day)',
    'at(2026-12-01T00:00:00)',
  ])('refuses %s', (expression) => {
    expect(() => parseSchedule(expression, from)).toThrow(ScheduleExpressionError);
  });
});

describe('the local bus runs schedule rules on the stack clock', () => {
  const template: CfnTemplate = {
    Resources: {
      DealRemindersABCD: { Type: 'AWS::Lambda::Function', Properties: {} },
      Weekly: {
        Type: 'AWS::Events::Rule',
        Properties: {
          ScheduleExpression: 'cron(0 14 ? * MON *)',
          State: 'ENABLED',
          Targets: [{ Id: 'T', Arn: { 'Fn::GetAtt': ['DealRemindersABCD', 'Arn'] } }],
        },
      },
    },
  };

  it('delivers a Scheduled Event each virtual Monday, and never matches events put on the bus', async () => {
    const calls: unknown[] = [];
    const functions = {
      invoke: async (_arn: string, payload: unknown): Promise<InvokeResult> => {
        calls.push(payload);
        return { ok: true, payload: null } as unknown as InvokeResult;
      },
    };
    // Two virtual weeks in about 1 s of real time (a schedule fires at most every 0.25 real s: 3.5 days here).
    const clock = new LocalClock(86_400 * 14, Date.parse('2026-12-01T16:00:00Z'));
    const bus = new EventBus(rulesOf(template, names), functions, {
      region: 'us-east-1',
      account: '000000000000',
    });
    try {
      expect(bus.rules[0]).toMatchObject({ schedule: 'cron(0 14 ? * MON *)' });
      expect(bus.rules[0]?.pattern).toBeUndefined();
      bus.putEvents([{ Source: 'aws.ses', DetailType: 'Email Sent', Detail: '{}' }]);
      expect(bus.counts.matched).toBe(0);
      expect(bus.startSchedules(clock)).toBe(1);
      const until = Date.now() + 5_000;
      while (calls.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      await bus.drain();
      expect(calls.slice(0, 2)).toEqual([
        expect.objectContaining({
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          time: '2026-12-07T14:00:00Z',
          resources: ['arn:aws:events:us-east-1:000000000000:rule/Weekly'],
          detail: {},
        }),
        expect.objectContaining({ time: '2026-12-14T14:00:00Z' }),
      ]);
    } finally {
      bus.stop();
      clock.close();
    }
  });
  it("drain('events') waits for the deliveries of events put on the bus, not for schedule firings", async () => {
    const withEvents: CfnTemplate = {
      Resources: {
        ...template.Resources,
        OnSes: {
          Type: 'AWS::Events::Rule',
          Properties: {
            EventPattern: { source: ['aws.ses'] },
            State: 'ENABLED',
            Targets: [{ Id: 'T', Arn: { 'Fn::GetAtt': ['DealRemindersABCD', 'Arn'] } }],
          },
        },
      },
    };
    // A scheduled delivery that hangs until released; an event's delivery that takes 50 ms.
    let release = () => {};
    const hung = new Promise<void>((r) => {
      release = r;
    });
    const delivered: string[] = [];
    const functions = {
      invoke: async (_arn: string, payload: unknown): Promise<InvokeResult> => {
        const scheduled = (payload as { source?: string }).source === 'aws.events';
        await (scheduled ? hung : new Promise((r) => setTimeout(r, 50)));
        delivered.push(scheduled ? 'scheduled' : 'event');
        return { ok: true, payload: null } as unknown as InvokeResult;
      },
    };
    const clock = new LocalClock(86_400 * 14, Date.parse('2026-12-01T16:00:00Z'));
    const bus = new EventBus(rulesOf(withEvents, names), functions, {
      region: 'us-east-1',
      account: '000000000000',
    });
    try {
      bus.startSchedules(clock);
      const until = Date.now() + 5_000;
      while (bus.counts.scheduled < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(bus.counts.scheduled).toBeGreaterThanOrEqual(1);
      bus.putEvents([{ Source: 'aws.ses', DetailType: 'Email Bounced', Detail: '{}' }]);
      await bus.drain('events');
      expect(delivered).toEqual(['event']);
      let all = false;
      const drained = bus.drain().then(() => {
        all = true;
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(all).toBe(false);
      release();
      await drained;
      expect(delivered).toContain('scheduled');
    } finally {
      release();
      bus.stop();
      clock.close();
    }
  });
});
