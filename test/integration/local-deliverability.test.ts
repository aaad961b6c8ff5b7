import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import { loadTemplate } from '#local/template.ts';
import {
  adminApi,
  credentials,
  enteredStates,
  eventually,
  historyOf,
  postLead,
  runsOfLead,
  startTestStack,
  storesOf,
  type TestStack,
} from '#test/fixtures/local-stack.ts';

// The deliverability breaker end to end, driven by SES's mailbox simulator addresses (the same sends
// behave the same in AWS): bounces over the limit trip it, nurture sends pause while runs wait, sends
// resume when the rates recover, and an admin's reset closes it and restarts the window.
let t: TestStack;
let ses: SESClient;
let configurationSet = '';
beforeAll(async () => {
  // Half an hour a second, from Tuesday 09:00 in Chicago (the lead's time zone): a paused run looks again
  // every business hour (2 s here), the business day lasts 16 s and the breaker's 24-hour window 48 s.
  t = await startTestStack(inject('cdkOut'), {
    timeScale: 1800,
    startAt: Date.parse('2026-12-01T09:00:00-06:00'),
  });
  // A sender that keeps SES's rate, as a real one must: the test sends in a tight loop, SES's simulator
  // throttles beyond MaxSendRate (14/s) of the stack's clock, which runs at real speed while the sends'
  // events are handled, and three attempts were not always enough on a busy machine (CI, once). Adaptive
  // retries slow the client down to the rate it is given.
  ses = new SESClient({
    endpoint: t.stack.urls.ses,
    region: 'us-east-1',
    credentials,
    retryMode: 'adaptive',
    maxAttempts: 10,
  });
  const template = loadTemplate(inject('cdkOut'));
  configurationSet =
    Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::SES::ConfigurationSet')?.[0] ?? '';
});
afterAll(async () => {
  await t?.stack.stop();
});

/** Mail through the stack's configuration set, as any of Handoff's emails goes. */
const send = async (to: string, n: number) => {
  for (let i = 0; i < n; i++)
    await ses.send(
      new SendEmailCommand({
        Source: 'hello@handoff.example',
        Destination: { ToAddresses: [to] },
        Message: { Subject: { Data: 'Hello' }, Body: { Text: { Data: 'Hello' } } },
        ConfigurationSetName: configurationSet,
      }),
    );
};
interface Deliverability {
  tripped: boolean;
  reason?: string;
  rates: { sent: number; bounceRate: number };
}
const breaker = async () => (await (await adminApi(t, '/admin/deliverability')).json()) as Deliverability;
const untilBreaker = (tripped: boolean) =>
  eventually(async () => {
    const b = await breaker();
    return b.tripped === tripped ? b : undefined;
  });

describe('deliverability breaker (local, SES mailbox simulator)', () => {
  it('trips on bounces, pauses nurture sends without dropping runs, resumes when rates recover; an admin resets it', async () => {
    expect(configurationSet).not.toBe('');
    await send('success@simulator.amazonses.com', 96);
    await send('bounce@simulator.amazonses.com', 5);
    const tripped = await untilBreaker(true);
    expect(tripped.reason).toMatch(/^bounce rate \d+\.\d % over 24 h \(limit 4\.0 %/);
    expect(tripped.rates.sent).toBeGreaterThanOrEqual(100);

    // Paused: a nurtured lead's run keeps looking (hourly) and waiting; no email goes out, nothing is dropped.
    const email = 'paused.lead@acme-robotics.com';
    const leadId = leadIdFor(email);
    expect((await postLead(t, { email, formType: 'newsletter' })).status).toBe(202);
    const looks = async () => {
      const [run] = await runsOfLead(t, leadId);
      return enteredStates(await historyOf(t, run?.executionArn)).filter((s) => s === 'Nurture').length;
    };
    await eventually(async () => ((await looks()) >= 3 ? true : undefined), 30_000, 'paused looks');
    const toLead = async () =>
      (await t.mailbox()).filter((m) => m.destination.to.some((a) => a.includes(email)));
    expect(await toLead()).toEqual([]);
    expect((await storesOf(t).leads.get(leadId))?.stage).toBe('nurturing');
    const [run] = await runsOfLead(t, leadId);
    expect(run?.status).toBe('RUNNING');

    // Recovered: enough good mail brings the bounce rate under the limit; the paused run's next look sends.
    await send('success@simulator.amazonses.com', 30);
    // Within the next business hour (or the next morning, 32 s away, on a slow machine).
    await eventually(
      async () => ((await toLead()).length === 1 ? true : undefined),
      45_000,
      'the paused email',
    );
    expect((await untilBreaker(false)).rates.bounceRate).toBeLessThan(0.04);

    // Tripped again, then reset by an admin: closed, and the window starts afresh (what tripped it is gone).
    // Enough volume to trip on its own, whatever part of the first batch has left the 24-hour window.
    await send('success@simulator.amazonses.com', 100);
    await send('bounce@simulator.amazonses.com', 10);
    await untilBreaker(true);
    // Every SES event delivered before the reset (the sends answered once their events were on the bus).
    // Only events': schedule rules keep firing (the hourly reconcile every 2 s here), so a full drain never ends.
    await t.stack.events.drain('events');
    const reset = await adminApi(t, '/admin/deliverability/reset', { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(await reset.json()).toMatchObject({ reset: true, state: { tripped: false } });
    const after = await breaker();
    expect(after).toMatchObject({ tripped: false, rates: { bounceRate: 0 } });
  }, 150_000);
});
