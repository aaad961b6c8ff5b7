import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import { type Harness, startHarness, submission } from '#test/fixtures/workflow-harness.ts';
import { RETRY } from '#workflows/tasks.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(inject('cdkOut'));
});
afterAll(async () => {
  await h?.close();
});

/** The lead as the data layer reads it (the harness's handlers share the table through TABLE_NAME). */
const leadItem = (leadId: string) => h.stores.leads.get(leadId);

const mailsTo = (to: string) => h.mails.filter((m) => m.to === to || m.to.endsWith(`<${to}>`));
/** The rep acts on the newest assignment email: `action` is the link's position (accept, won, lost). */
async function repActs(repEmailIndex: number, action: 'accept' | 'won' | 'lost', body?: string) {
  const assignment = h.mails.filter((m) => m.subject.startsWith('New lead'))[repEmailIndex];
  if (!assignment) throw new Error('no assignment email');
  const links = assignment.links.filter((l) => l.includes('/deals/action'));
  const url = links[['accept', 'won', 'lost'].indexOf(action)];
  if (!url) throw new Error(`no ${action} link`);
  // A GET (what mail scanners do) only shows a page; the POST acts.
  const page = await h.http('RepAction', 'GET', url);
  expect(page.statusCode).toBe(200);
  const res = await h.http('RepAction', 'POST', url, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    ...(body ? { body } : {}),
  });
  expect(res.statusCode).toBe(200);
}

const assignmentCount = () => h.mails.filter((m) => m.subject.startsWith('New lead')).length;

describe('lead-to-close workflow (synthesized definition, real handlers)', () => {
  it('HotLead: a demo request is assigned, accepted and won', async () => {
    const { input, name, lead } = submission({ email: 'hot.one@acme-robotics.com' });
    const before = assignmentCount();
    const result = await h.run(input, name, {
      onWait: async (w) => {
        if (w.waitingFor === 'acceptance') await repActs(before, 'accept');
        else await repActs(before, 'won', 'amount=48000');
        return undefined;
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    console.log(`transitions: hot path form → won ${result.path.length} states`);
    // 10 state transitions from form to won (the first: new or continued run).
    expect(result.path).toEqual([
      'New or continued run?',
      'Capture & score lead',
      'Route lead',
      'Assign rep',
      'Await rep acceptance',
      'Rep accepted?',
      'Await deal outcome',
      'Close deal',
      'Recycle?',
      'Deal closed',
    ]);
    expect((await leadItem(lead.id))?.stage).toBe('won');
    // Enterprise in the US → enterprise-na team; the rep was emailed once, with escaped lead fields.
    const mail = h.mails.filter((m) => m.subject.startsWith('New lead'))[before];
    expect(mail?.to).toMatch(/@sales\.handoff\.example$/);
    expect(['ava@sales.handoff.example', 'ben@sales.handoff.example']).toContain(mail?.to);
  });

  it('WarmLead: nurtured, then qualifies on engagement and is assigned', async () => {
    let clicked = false;
    const { input, name, lead } = submission({
      email: 'warm.one@acme-robotics.com',
      formType: 'content-download',
    });
    const result = await h.run(input, name, {
      beforeTask: async (state) => {
        // After the first nurture email, before the next look: two days later the lead clicks, from a real browser.
        if (state !== 'Nurture' || mailsTo(lead.email).length !== 1 || clicked) return;
        clicked = true;
        const mail = mailsTo(lead.email).at(-1);
        const click = mail?.links.find((l) => l.includes('/c?t='));
        expect(click).toBeDefined();
        const { vi } = await import('vitest');
        vi.useFakeTimers({ toFake: ['Date'] });
        try {
          for (const minutes of [0, 7, 19]) {
            vi.setSystemTime(Date.now() + 2 * 86_400_000 + minutes * 60_000);
            const res = await h.http('TrackClick', 'GET', String(click), {
              headers: { 'user-agent': 'Mozilla/5.0 (Macintosh) Safari/605' },
            });
            expect(res.statusCode).toBe(302);
            vi.setSystemTime(Date.now() - 2 * 86_400_000 - minutes * 60_000);
          }
        } finally {
          vi.useRealTimers();
        }
      },
      onWait: async () => {
        await repActs(assignmentCount() - 1, 'lost', 'reason=chose-competitor');
        return undefined;
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.slice(0, 5)).toEqual([
      'New or continued run?',
      'Capture & score lead',
      'Route lead',
      'Nurture',
      'Wait for a signal or the next send',
    ]);
    // Sales-ready: the wait resumes at once, and "Next?" sends the lead to sales.
    const assigned = result.path.indexOf('Assign rep');
    expect(result.path.slice(assigned - 3, assigned + 2)).toEqual([
      'Nurture',
      'Wait for a signal or the next send',
      'Next?',
      'Assign rep',
      'Await rep acceptance',
    ]);
    expect(result.path.filter((s) => s === 'Next?')).toHaveLength(1);
    expect(result.path.at(-1)).toBe('Deal closed');
    const nurture = mailsTo(lead.email);
    expect(nurture).toHaveLength(1);
    expect(nurture[0]?.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
  });

  it('Unsubscribe: one-click unsubscribe mid-nurture ends the run', async () => {
    const { input, name, lead } = submission({ email: 'leaving@acme-robotics.com', formType: 'newsletter' });
    const result = await h.run(input, name, {
      beforeTask: async (state) => {
        if (state !== 'Nurture' || mailsTo(lead.email).length !== 1) return;
        const header = mailsTo(lead.email).at(-1)?.headers['list-unsubscribe'] ?? '';
        const url = header.slice(1, -1);
        const res = await h.http('Unsubscribe', 'POST', url, {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
        });
        expect(res.statusCode).toBe(200);
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.slice(-4)).toEqual([
      'Nurture',
      'Wait for a signal or the next send',
      'Next?',
      'Unsubscribed',
    ]);
    expect(mailsTo(lead.email)).toHaveLength(1);
    expect((await leadItem(lead.id))?.stage).toBe('unsubscribed');
  });

  it('Spam: a disposable address is disqualified without any email', async () => {
    const { input, name, lead } = submission({ email: 'free.stuff@mailinator.com' });
    const sent = h.mails.length;
    const result = await h.run(input, name);
    expect(result.status).toBe('SUCCEEDED');
    console.log(`transitions: disqualified ${result.path.length} states`);
    expect(result.path).toEqual([
      'New or continued run?',
      'Capture & score lead',
      'Route lead',
      'Disqualified',
    ]);
    expect(h.mails.length).toBe(sent);
    expect((await leadItem(lead.id))?.stage).toBe('disqualified');
  });

  it('SlaTimeout: reassigned after the SLA, lost "not now", recycled to nurture', async () => {
    const { input, name, lead } = submission({ email: 'slow.deal@acme-robotics.com' });
    const first = assignmentCount();
    const result = await h.run(input, name, {
      onWait: async (w) => {
        if (w.attempt === 1) return 'timeout';
        await repActs(first + 1, 'lost', 'reason=not-now');
        return undefined;
      },
    });
    expect(result, JSON.stringify(result)).toMatchObject({ status: 'SUCCEEDED' });
    expect(result.path).toEqual(
      expect.arrayContaining([
        'Reassignments left?',
        'Reassign rep',
        'Close deal',
        'Recycle?',
        'Recycle to nurture',
      ]),
    );
    const afterRecycle = result.path.slice(result.path.indexOf('Recycle to nurture'));
    expect(afterRecycle.slice(1, 3)).toEqual(['Nurture', 'Wait for a signal or the next send']);
    expect(result.path.at(-1)).toBe('Nurtured (stays a marketing lead)');
    const [a, b] = h.mails.filter((m) => m.subject.startsWith('New lead')).slice(first);
    expect(a?.to).not.toBe(b?.to);
    expect(b?.subject).toContain('reassigned to you');
    expect((await leadItem(lead.id))?.stage).toBe('nurtured');
  });

  it('FailingStep: a step that keeps failing is retried, then fails the run at that state, and is recorded', async () => {
    const { SendRawEmailCommand } = await import('@aws-sdk/client-ses');
    // A demo request: Assign rep emails the rep, and that send keeps failing with an error the workflow
    // retries as transient. (A nurture send that SES throttles or cannot take parks the run instead:
    // test/integration/local-ses-outage.test.ts.)
    const { input, name, lead } = submission({
      email: 'unlucky@acme-robotics.com',
      formType: 'demo-request',
    });
    const failing = Object.assign(new Error('Something transient, every time.'), {
      name: 'TransientError',
      $metadata: { httpStatusCode: 400 },
    });
    let attempts = 0;
    h.ses.on(SendRawEmailCommand).callsFake(() => {
      attempts += 1;
      throw failing;
    });
    const result = await h.run(input, name);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('TransientError');
    expect(result.path.at(-1)).toBe('Assign rep');
    expect(result.path).not.toContain('Record failure');
    expect(attempts).toBe(Number(RETRY.maxAttempts) + 1); // the first try and the transient retrier's
    expect((await leadItem(lead.id))?.stage).toBe('failed');
    expect(leadIdFor(lead.email)).toBe(lead.id);
  });
});
