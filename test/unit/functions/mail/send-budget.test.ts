import { describe, expect, it } from 'vitest';
import { type SendCounters, type SendQuota, sendBudget } from '#functions/mail/send-budget.ts';

const counters = (): SendCounters => {
  const seconds = new Map<number, number>();
  return {
    async add(second) {
      seconds.set(second, (seconds.get(second) ?? 0) + 1);
      return seconds.get(second) ?? 0;
    },
  };
};
const quota =
  (q: Partial<SendQuota> = {}) =>
  async () => ({
    maxSendRate: 1,
    max24HourSend: 200,
    sentLast24Hours: 0,
    ...q,
  });
const AT = new Date('2026-12-01T16:00:00.000Z');

describe('the shared send budget', () => {
  it('lets MaxSendRate sends start in a second and gives the rest their turn, in order, at that rate', async () => {
    const budget = sendBudget(counters(), quota({ maxSendRate: 2 }));
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await budget.take(AT));
    expect(answers.slice(0, 2)).toEqual([{ ok: true }, { ok: true }]);
    expect(
      answers.slice(2).map((a) => (a.ok ? 'ok' : a.why === 'send rate' ? a.notBefore.getTime() : a.why)),
    ).toEqual([AT.getTime() + 1000, AT.getTime() + 1000, AT.getTime() + 2000, AT.getTime() + 2000]);
  });

  it('holds every send while the account’s 24-hour quota is used up, and paces at 1/s when SES does not say', async () => {
    expect(await sendBudget(counters(), quota({ sentLast24Hours: 200 })).take(AT)).toEqual({
      ok: false,
      why: 'daily send quota',
    });
    // -1: no daily limit.
    expect(await sendBudget(counters(), quota({ max24HourSend: -1, sentLast24Hours: 9e9 })).take(AT)).toEqual(
      {
        ok: true,
      },
    );
    const unknown = sendBudget(counters(), async () => undefined);
    expect(await unknown.take(AT)).toEqual({ ok: true });
    expect((await unknown.take(AT)).ok).toBe(false);
  });
});
