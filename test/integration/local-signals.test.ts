import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import { signLink } from '#functions/mail/links.ts';
import { unsubscribeUrlOf } from '#local/mailbox.ts';
import { config } from '#test/fixtures/config.ts';
import {
  adminApi,
  enteredStates,
  eventually,
  historyOf,
  postLead,
  runsOfLead,
  sfnOf,
  startTestStack,
  storesOf,
  type TestStack,
} from '#test/fixtures/local-stack.ts';

// The listening journey end to end through the local API (`npm start`'s runtime): signals wake a parked
// nurture wait, SES's mailbox simulator addresses bounce and complain, and erase removes a lead.
const WAIT = 'Wait for a signal or the next send';
const lastState = async (t: TestStack, leadId: string) => {
  const [run] = await runsOfLead(t, leadId);
  return enteredStates(await historyOf(t, run?.executionArn)).at(-1);
};
const parked = (t: TestStack, leadId: string) =>
  eventually(async () => ((await lastState(t, leadId)) === WAIT ? true : undefined), 30_000, 'the wait');
/**
 * How each nurture wait of the lead's run ended: the waking signal, or 'timer'. A wait that resumed at once
 * after an ending decision (`{ next }`) was woken by nothing and is left out.
 */
async function wakesOf(t: TestStack, leadId: string): Promise<string[]> {
  const [run] = await runsOfLead(t, leadId);
  const wakes: string[] = [];
  let inWait = false;
  for (const e of await historyOf(t, run?.executionArn)) {
    if (e.type?.endsWith('StateEntered')) inWait = e.stateEnteredEventDetails?.name === WAIT;
    if (inWait && e.type === 'TaskTimedOut') {
      wakes.push('timer');
      inWait = false;
    }
    if (inWait && e.type === 'TaskStateExited') {
      const out = JSON.parse(e.stateExitedEventDetails?.output ?? '{}') as {
        wake?: { signal?: string; next?: string };
      };
      if (out.wake?.next === undefined) wakes.push(String(out.wake?.signal));
      inWait = false;
    }
  }
  return wakes;
}
const loads = async (t: TestStack) => {
  const all = await storesOf(t).reps.loads(config.reps.reps.map((r) => r.id));
  return config.reps.reps.map((r) => all[r.id]?.openDeals ?? 0);
};

describe('local, at time scale 1 (no compression)', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack(inject('cdkOut'));
  });
  afterAll(async () => {
    await t?.stack.stop();
  });

  it('a demo request from a lead in nurture wakes its run: the assignment email is in the mailbox within seconds', async () => {
    const email = 'nurtured.then.hot@acme-robotics.com';
    const leadId = leadIdFor(email);
    expect((await postLead(t, { email, firstName: 'Noor', formType: 'newsletter' })).status).toBe(202);
    await parked(t, leadId);
    const asked = Date.now();
    expect((await postLead(t, { email, firstName: 'Noor', formType: 'demo-request' })).status).toBe(202);
    await eventually(
      async () =>
        (await t.mailbox()).find((m) => m.subject.startsWith('New lead') && m.subject.includes('Noor')),
      10_000,
      'the assignment email',
    );
    console.log(`demo request from a nurtured lead → assignment email: ${Date.now() - asked} ms`);
    expect(await wakesOf(t, leadId)).toEqual(['form']);
    expect(await runsOfLead(t, leadId)).toHaveLength(1); // handed to the run: no second, "merged" run

    // The same form again today starts nothing; the rep hears of new activity at most once a day.
    await eventually(async () =>
      (await lastState(t, leadId)) === 'Await rep acceptance' ? true : undefined,
    );
    for (const formType of ['demo-request', 'pricing', 'pricing'])
      expect((await postLead(t, { email, firstName: 'Noor', formType })).status).toBe(202);
    await eventually(async () =>
      (await t.mailbox()).some((m) => m.subject.startsWith('New activity')) ? true : undefined,
    );
    expect(await runsOfLead(t, leadId)).toHaveLength(1);
    expect((await t.mailbox()).filter((m) => m.subject.startsWith('New activity'))).toHaveLength(1);
  });

  it('erase: stops the run, frees the rep, deletes the lead and keeps only a hash in suppression', async () => {
    const before = await loads(t);
    const email = 'erase.me@acme-robotics.com';
    const leadId = leadIdFor(email);
    expect((await postLead(t, { email, formType: 'demo-request' })).status).toBe(202);
    await eventually(async () =>
      (await lastState(t, leadId)) === 'Await rep acceptance' ? true : undefined,
    );
    expect((await loads(t)).reduce((a, b) => a + b)).toBe(before.reduce((a, b) => a + b) + 1);

    const delivered = t.stack.events.counts.delivered;
    const erased = await adminApi(t, `/admin/leads/${leadId}`, { method: 'DELETE' });
    expect(erased.status).toBe(200);
    expect(await erased.json()).toMatchObject({ erased: true, runStopped: true });
    const [run] = await runsOfLead(t, leadId);
    const { status } = await sfnOf(t).send(
      new DescribeExecutionCommand({ executionArn: String(run?.executionArn) }),
    );
    expect(status).toBe('ABORTED');
    expect(await loads(t)).toEqual(before);
    expect(await storesOf(t).suppression.reasonFor(email)).toBe('erased');
    // The run's ABORTED status change reaches Record failure, which writes nothing back for an erased lead.
    await eventually(() => (t.stack.events.counts.delivered > delivered ? true : undefined));
    expect((await adminApi(t, `/admin/leads/${leadId}`)).status).toBe(404);
    expect(await storesOf(t).leads.listEvents(leadId)).toEqual([]);
    expect((await adminApi(t, `/admin/leads/${leadId}`, { method: 'DELETE' })).status).toBe(404);

    // The person signs up for the newsletter again: a new run, but the hash keeps them from being mailed.
    expect((await postLead(t, { email, formType: 'newsletter', consent: 'on' })).status).toBe(202);
    const again = await eventually(async () => {
      const runs = await runsOfLead(t, leadId);
      return runs.length === 2 && runs.every((r) => r.status !== 'RUNNING') ? runs : undefined;
    });
    expect(again.map((r) => r.status)).toEqual(expect.arrayContaining(['ABORTED', 'SUCCEEDED']));
    expect(await lastState(t, leadId)).toBe('Unsubscribed');
    expect((await t.mailbox()).filter((m) => m.destination.to.some((to) => to.includes(email)))).toEqual([]);
    expect(await storesOf(t).suppression.reasonFor(email)).toBe('erased');
  });
});

describe('local, six hours a second: each signal after the first nurture email', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack(inject('cdkOut'), { timeScale: 6 * 3600 });
  });
  afterAll(async () => {
    await t?.stack.stop();
  });
  /**
   * Posts a newsletter lead and waits until its first nurture email is out and (unless SES's events will
   * have moved it on already) the run waits again.
   */
  async function nurturedAndEmailed(email: string, { waitsAgain = true } = {}) {
    const leadId = leadIdFor(email);
    expect((await postLead(t, { email, formType: 'newsletter' })).status).toBe(202);
    const mail = await eventually(
      async () => (await t.mailbox()).find((m) => m.destination.to.some((to) => to.includes(email))),
      30_000,
      'the first nurture email',
    );
    if (waitsAgain) await parked(t, leadId);
    return { leadId, mail };
  }

  it.each([
    ['bounce@simulator.amazonses.com', 'Bounced', 'bounced', 'bounce'],
    ['complaint@simulator.amazonses.com', 'Complained', 'complained', 'complaint'],
  ])('%s: SES’s event suppresses the address and ends the run as %s', async (email, end, reason, signal) => {
    const { leadId } = await nurturedAndEmailed(email, { waitsAgain: false });
    await eventually(async () => ((await lastState(t, leadId)) === end ? true : undefined), 15_000, end);
    expect((await wakesOf(t, leadId)).at(-1)).toBe(signal);
    expect(await storesOf(t).suppression.reasonFor(email)).toBe(reason);
    expect((await storesOf(t).leads.get(leadId))?.stage).toBe(reason);
  });

  it('a one-click unsubscribe from the email ends the run as Unsubscribed', async () => {
    const { leadId, mail } = await nurturedAndEmailed('unsubscribe.e2e@acme-robotics.com');
    const res = await fetch(String(unsubscribeUrlOf(mail)), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    await eventually(async () => ((await lastState(t, leadId)) === 'Unsubscribed' ? true : undefined));
    expect((await wakesOf(t, leadId)).at(-1)).toBe('unsubscribe');
  });

  it('a tracked click, a minute after the send, wakes the wait and the run waits on', async () => {
    const { leadId, mail } = await nurturedAndEmailed('click.e2e@acme-robotics.com');
    const link = t.linksIn(mail).find((l) => l.includes('/c?t='));
    // Clicks within scannerGraceSeconds of the send count as a mail scanner's. Rather than sleep, the test
    // re-signs the email's own link as issued a minute earlier, with the stack's link key.
    const key = Object.values(
      JSON.parse(readFileSync(join(t.dataDir, 'secrets.json'), 'utf8')) as Record<string, string>,
    )[0];
    const token = new URL(String(link)).searchParams.get('t') ?? '';
    const [action, subject, audience, exp, iat] = JSON.parse(
      Buffer.from(token.split('.')[0] ?? '', 'base64url').toString(),
    ) as [never, string, string, number, number];
    const older = signLink({ action, subject, audience, exp, iat: iat - 60 }, String(key));
    const res = await fetch(`${t.stack.urls.api}/c?t=${older}`, {
      redirect: 'manual',
      headers: { 'user-agent': 'Mozilla/5.0 (Macintosh) Safari/605' },
    });
    expect(res.status).toBe(302);
    await eventually(async () => ((await wakesOf(t, leadId)).includes('click') ? true : undefined));
    expect((await storesOf(t).leads.listEvents(leadId)).some((e) => e.type === 'email-click')).toBe(true);
  });
});
