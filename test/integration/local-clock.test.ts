import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import { stackNow } from '#serve/stack-file.ts';
import {
  adminApi,
  eventually,
  historyOf,
  postLead,
  runsOfLead,
  startTestStack,
  type TestStack,
} from '#test/fixtures/local-stack.ts';

// One clock for the whole local stack (docs/architecture.md, "One clock"): started on a Friday at 17:30 in Chicago at a day a
// second, a newsletter lead's welcome email answers the form at once and the next one waits for Monday's
// business hours — on the virtual calendar, not the machine's — and everything that records time (the lead's timeline, the run's history, the mailbox,
// the console) shows the same virtual times, whatever hour or day the suite runs at.
const FRIDAY_1730 = Date.parse('2026-12-04T17:30:00-06:00');
const MONDAY_0900 = Date.parse('2026-12-07T09:00:00-06:00');
// The opening's spread window (sending.openingSpreadMinutes: 120), and a quarter hour for the work: at a day a
// second, a millisecond of it is 86 s.
const MONDAY_1115 = Date.parse('2026-12-07T11:15:00-06:00');
const email = 'weekend.reader@acme-robotics.com';
const leadId = leadIdFor(email);

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack(inject('cdkOut'), { timeScale: 86_400, startAt: FRIDAY_1730 });
});
afterAll(async () => {
  await t?.stack.stop();
});

interface Timeline {
  timeline: { type: string; at: string; data?: Record<string, unknown> }[];
}
const timelineOf = async () =>
  ((await (await adminApi(t, `/admin/leads/${leadId}`)).json()) as Timeline).timeline;

describe('one clock, started on a Friday evening at a day a second', () => {
  it("answers a Friday-evening form at once, and sends the next email on Monday's opening, spread over its first two hours", async () => {
    const posted = await postLead(t, { email, formType: 'newsletter', timeZone: 'America/Chicago' });
    expect(posted.status).toBe(202);

    // The welcome answers the form: the person is waiting for it, so it goes at once, at any hour.
    const [welcome, next] = await eventually(
      async () => {
        const mine = (await t.mailbox()).filter((m) => m.destination.to.includes(email));
        return mine.length >= 2 ? mine.sort((a, b) => a.at - b.at) : undefined;
      },
      20_000,
      'the welcome and the next email',
    );
    expect((welcome?.at ?? 0) * 1000).toBeGreaterThanOrEqual(FRIDAY_1730);
    expect((welcome?.at ?? 0) * 1000).toBeLessThan(MONDAY_0900);
    // Two days later is Sunday: the next email waits for Monday 09:00, at this lead's place in the window.
    expect((next?.at ?? 0) * 1000).toBeGreaterThanOrEqual(MONDAY_0900);
    expect((next?.at ?? 0) * 1000).toBeLessThan(MONDAY_1115);

    // The timeline shows the virtual times: the form and the welcome on Friday evening (or overnight: a cold
    // start takes hours at this speed), the second email on Monday morning.
    const timeline = await eventually(async () => {
      const events = await timelineOf();
      return events.filter((e) => e.type === 'emailed').length >= 2 ? events : undefined;
    });
    const form = timeline.find((e) => e.type === 'form');
    const emailed = timeline.filter((e) => e.type === 'emailed');
    expect(Date.parse(String(form?.at))).toBeGreaterThanOrEqual(FRIDAY_1730);
    expect(Date.parse(String(form?.at))).toBeLessThan(MONDAY_0900);
    expect(emailed[0]?.data).toMatchObject({ template: 'welcome', step: 0 });
    expect(Date.parse(String(emailed[0]?.at))).toBeLessThan(MONDAY_0900);
    expect(emailed[1]?.data).toMatchObject({ template: 'case-study', step: 1 });
    expect(Date.parse(String(emailed[1]?.at))).toBeGreaterThanOrEqual(MONDAY_0900);
    expect(Date.parse(String(emailed[1]?.at))).toBeLessThan(MONDAY_1115);
  });

  it("keeps the run's history, the execution's dates and the console's now on the same clock", async () => {
    const [run] = await runsOfLead(t, leadId);
    expect(run?.startDate?.getTime()).toBeGreaterThanOrEqual(FRIDAY_1730);
    expect(run?.startDate?.getTime()).toBeLessThan(MONDAY_0900);
    const events = await historyOf(t, run?.executionArn);
    const times = events.map((e) => e.timestamp?.getTime() ?? 0);
    expect(times.every((x, i) => i === 0 || x >= (times[i - 1] as number))).toBe(true);
    // The wait for Monday's opening ended with its timer, on Monday.
    const timedOut = events.find((e) => e.type === 'TaskTimedOut');
    expect(timedOut?.timestamp?.getTime()).toBeGreaterThanOrEqual(MONDAY_0900);

    const meta = await fetch(`${t.stack.urls.console}api/meta`);
    const [now, scale] = String(meta.headers.get('x-handoff-clock')).split('; scale=').map(Number);
    expect(scale).toBe(86_400);
    expect(now).toBeGreaterThanOrEqual(MONDAY_0900);
    expect(Math.abs((now as number) - t.stack.clock.now())).toBeLessThan(86_400 * 1000);
    // The scripts ask the running stack for "today" the same way (backtest --since, funnel:rebuild).
    expect((await stackNow(t.stack.urls)).getTime()).toBeGreaterThanOrEqual(MONDAY_0900);
  });
});
