// "Outages are waits" end to end: SES answers ServiceUnavailable to everything for 20 s of the stack's clock,
// far longer than a task's retries (here 100 ms apart), while 20 newsletter leads ask for their welcome
// email; the sandbox's quota (1/s) paces the sends after it. No run fails, every lead gets it once, and the
// deferral is on the lead's timeline. `npm run probe:ses-outage` runs the same scenario at 300 leads, 120 s.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OUTAGE_STACK, runSesOutage } from '#scripts/ses-outage.ts';
import { startTestStack, type TestStack } from '#test/fixtures/local-stack.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack(inject('cdkOut'), { ...OUTAGE_STACK, retryIntervalMs: 100 });
});
afterAll(async () => {
  await t?.stack.stop();
});

describe('an SES outage parks nurture sends (local)', () => {
  it('fails no run and sends every welcome email once after the outage', async () => {
    const r = await runSesOutage(t.stack, {
      leads: 20,
      outageSeconds: 20,
      emailsPerLead: 1,
      timeoutMs: 90_000,
    });
    expect(r.failures).toEqual([]);
    expect(r.failedRuns).toBe(0);
    expect(r.sesErrors).toBeGreaterThan(0);
    expect(r.emails).toBe(20);
    expect(r.duplicates).toBe(0);
    // Parked with the reason on the timeline. (The budget paces the sends after it to the quota; a send that
    // still meets SES's throttle is parked the same way, so none is asserted away here.)
    expect(r.deferred['SES unavailable']).toBeGreaterThan(0);
  }, 150_000);
});
