import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { sesEventsOf } from '#local/ses-simulator.ts';
import { aLambdaContext } from '#test/fixtures/lambda.ts';
import { aFormSubmission } from '#test/fixtures/leads.ts';
import { type Harness, startHarness, submission } from '#test/fixtures/workflow-harness.ts';

// Each signal wakes a nurtured lead's parked wait at once (the synthesized definition, the real handlers):
// a form, a tracked click, an unsubscribe, a bounce and a complaint, each arriving while the run waits
// for its next send. `wakes` says how each wait ended: by that signal, not by the timer.
let h: Harness;
beforeAll(async () => {
  h = await startHarness(inject('cdkOut'));
});
afterAll(async () => {
  await h?.close();
});

const _forms = ['demo-request', 'pricing', 'contact', 'content-download', 'webinar', 'newsletter'];
const nurtured = (email: string) => submission({ email, formType: 'newsletter' });
const stores = () => h.stores;
const WAIT = 'Wait for a signal or the next send';
const mailsTo = (to: string) => h.mails.filter((m) => m.to === to || m.to.endsWith(`<${to}>`));
/**
 * The first wait after the lead's first email (the first wait may be for business hours, with no email
 * yet): runs `act` there once.
 */
const afterFirstEmail = (email: string, act: () => Promise<void>) => {
  let done = false;
  return async () => {
    if (done || mailsTo(email).length === 0) return;
    done = true;
    await act();
  };
};

/** What SES publishes for the lead's nurture email (the local simulator's events, as AWS sends them). */
async function sesSays(email: string, leadId: string) {
  const entries = sesEventsOf(
    {
      messageId: 'm-1',
      source: 'hello@handoff.example',
      destinations: [email],
      configurationSet: process.env.SES_CONFIGURATION_SET,
      tags: { leadId },
    },
    new Date(),
    'us-east-1',
    '000000000000',
  );
  for (const e of entries) {
    await h.handler('SesEvents')(
      { 'detail-type': e.DetailType, source: e.Source, detail: JSON.parse(String(e.Detail)) },
      aLambdaContext('SesEvents'),
    );
  }
}

describe('signals wake a parked nurture wait at once', () => {
  it('a form (demo request) from a nurtured lead goes to its run, which assigns a rep: no second run', async () => {
    const { lead, input, name } = nurtured('form.signal@acme-robotics.com');
    const starts = h.sfnClient.commandCalls(StartExecutionCommand).length;
    const result = await h.run(input, name, {
      onSignalWait: async (visit) => {
        if (visit !== 1) return;
        const res = await h.http('SubmitLead', 'POST', '/leads', {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(aFormSubmission({ email: lead.email, formType: 'demo-request' })),
        });
        expect(res.statusCode).toBe(202);
      },
      onWait: async () => 'timeout',
    });
    expect(result.wakes[0]).toBe('form');
    // Woken: "Next?" sends it back to Nurture, which finds it sales-ready; its wait resumes at once.
    const woke = result.path.indexOf(WAIT);
    expect(result.path.slice(woke + 1, woke + 6)).toEqual(['Next?', 'Nurture', WAIT, 'Next?', 'Assign rep']);
    expect(h.sfnClient.commandCalls(StartExecutionCommand)).toHaveLength(starts);
  });

  it('a tracked click from a browser, days after the send, wakes the wait (and the score is looked at now)', async () => {
    const { lead, input, name } = nurtured('click.signal@acme-robotics.com');
    const result = await h.run(input, name, {
      onSignalWait: afterFirstEmail(lead.email, async () => {
        const click = mailsTo(lead.email)
          .at(-1)
          ?.links.find((l) => l.includes('/c?t='));
        vi.useFakeTimers({ toFake: ['Date'] });
        try {
          vi.setSystemTime(Date.now() + 86_400_000);
          const res = await h.http('TrackClick', 'GET', String(click), {
            headers: { 'user-agent': 'Mozilla/5.0 (Macintosh) Safari/605' },
          });
          expect(res.statusCode).toBe(302);
        } finally {
          vi.useRealTimers();
        }
      }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.wakes).toContain('click');
    expect(result.wakes.filter((w) => w !== 'timer')).toEqual(['click']);
    // The woken wait (the n-th wait, as every wait before the run's last one was woken by something)
    // costs "Next?", Nurture and the next wait: the states a wake that continues adds.
    const waits = result.path.flatMap((s, i) => (s === WAIT ? [i] : []));
    const [clickWait, nextWait] = waits.slice(result.wakes.indexOf('click'));
    const wake = result.path.slice(Number(clickWait) + 1, Number(nextWait) + 1);
    console.log(`transitions: a signal wake that continues ${wake.length} states (${wake.join(', ')})`);
    expect(wake).toEqual(['Next?', 'Nurture', WAIT]);
    expect((await stores().leads.listEvents(lead.id)).some((e) => e.type === 'email-click')).toBe(true);
  });

  it('three pricing-page visits, with the visitor id a tracked click handed over, take a nurtured lead to a rep', async () => {
    const { lead, input, name } = nurtured('visits.signal@acme-robotics.com');
    const browser = { 'user-agent': 'Mozilla/5.0 (Macintosh) Safari/605' };
    const base = Date.now() + 86_400_000; // a day after the send: no scanner
    const at = async <T>(ms: number, act: () => Promise<T>) => {
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(ms);
        return await act();
      } finally {
        vi.useRealTimers();
      }
    };
    let step = 0;
    let visitor = '';
    const result = await h.run(input, name, {
      onSignalWait: async () => {
        if (mailsTo(lead.email).length === 0 || step > 3) return;
        if (step === 0) {
          const click = mailsTo(lead.email)
            .at(-1)
            ?.links.find((l) => l.includes('/c?t='));
          const res = await at(base, () => h.http('TrackClick', 'GET', String(click), { headers: browser }));
          visitor = new URL(String(res.headers?.location)).searchParams.get('hv') ?? '';
          expect(visitor).not.toBe('');
        } else {
          // A minute apart (one visit a lead and minute is recorded), as the snippet posts them.
          const res = await at(base + step * 60_000, () =>
            h.http('TrackVisit', 'POST', '/events', {
              headers: {
                ...browser,
                'content-type': 'application/json',
                origin: 'https://www.handoff.example',
              },
              body: JSON.stringify({ v: visitor, url: 'https://www.handoff.example/Pricing/' }),
            }),
          );
          expect(res.statusCode).toBe(204);
        }
        step += 1;
      },
      onWait: async () => 'timeout',
    });
    // The click and the first two visits each woke the run, which rescored the lead and nurtured on
    // (48 → 53 → 58 → 63); the third took it over the threshold (68 ≥ 65), to a rep.
    expect(result.wakes.filter((w) => w !== 'timer')).toEqual(['click', 'visit', 'visit', 'visit']);
    const thirdWake = result.path.lastIndexOf(WAIT, result.path.indexOf('Assign rep'));
    expect(result.path.slice(thirdWake - 3)).toContain('Assign rep');
    expect(result.path.filter((st) => st === 'Assign rep')).toHaveLength(1);
    const visits = (await stores().leads.listEvents(lead.id)).filter((e) => e.type === 'page-visit');
    expect(visits.map((v) => v.data)).toEqual(
      Array(3).fill({ host: 'www.handoff.example', path: '/pricing' }),
    );
    const scored = (await stores().leads.get(lead.id))?.score;
    expect(scored?.reasons.filter((r) => r.label.startsWith('visit /pricing'))).toHaveLength(3);
  });

  it('a one-click unsubscribe ends the run as Unsubscribed, with no further email', async () => {
    const { lead, input, name } = nurtured('unsubscribe.signal@acme-robotics.com');
    const result = await h.run(input, name, {
      onSignalWait: afterFirstEmail(lead.email, async () => {
        const url = (mailsTo(lead.email).at(-1)?.headers['list-unsubscribe'] ?? '').slice(1, -1);
        const res = await h.http('Unsubscribe', 'POST', url, {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
        });
        expect(res.statusCode).toBe(200);
      }),
    });
    expect(result.wakes.at(-1)).toBe('unsubscribe');
    expect(result.path.slice(-6)).toEqual([WAIT, 'Next?', 'Nurture', WAIT, 'Next?', 'Unsubscribed']);
    expect(mailsTo(lead.email)).toHaveLength(1);
    expect((await stores().leads.get(lead.id))?.stage).toBe('unsubscribed');
  });

  it.each([
    ['bounce', 'Bounced', 'bounce@simulator.amazonses.com', 'bounced'],
    ['complaint', 'Complained', 'complaint@simulator.amazonses.com', 'complained'],
  ])('a %s from SES suppresses the address and ends the run as %s', async (signal, end, email, stage) => {
    const { lead, input, name } = nurtured(email);
    const result = await h.run(input, name, {
      onSignalWait: afterFirstEmail(email, () => sesSays(email, lead.id)),
    });
    expect(result.wakes.at(-1)).toBe(signal);
    expect(result.path.slice(-6)).toEqual([WAIT, 'Next?', 'Nurture', WAIT, 'Next?', end]);
    expect(mailsTo(lead.email)).toHaveLength(1);
    const db = stores();
    expect((await db.leads.get(lead.id))?.stage).toBe(stage);
    expect(await db.suppression.reasonFor(email)).toBe(stage);
  });
});
