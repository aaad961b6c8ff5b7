import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import { replyToOf } from '#local/mailbox.ts';
import { INBOUND_PATH, replyMime } from '#local/ses-receiving.ts';
import {
  enteredStates,
  eventually,
  historyOf,
  postLead,
  runsOfLead,
  startTestStack,
  storesOf,
  type TestStack,
} from '#test/fixtures/local-stack.ts';
import { root } from '#test/fixtures/root.ts';

// Replies through the local stack as through AWS: the mailbox's email has a signed Reply-To, and the reply
// goes in through SES receiving's rule (POST /_handoff/inbound on the SES port), SNS's event, the local
// IAM (SNS may invoke InboundReply for its topic only) and the Lambda pool — at time scale 1, so "within
// seconds" is real seconds.
const WAIT = 'Wait for a signal or the next send';
const run = promisify(execFile);

describe('replies on the local stack, at time scale 1', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack(inject('cdkOut'));
  });
  afterAll(async () => {
    await t?.stack.stop();
  });

  async function nurturedAndEmailed(email: string) {
    const leadId = leadIdFor(email);
    expect((await postLead(t, { email, formType: 'newsletter' })).status).toBe(202);
    const mail = await eventually(
      async () => (await t.mailbox()).find((m) => m.destination.to.some((to) => to.includes(email))),
      30_000,
      'the first nurture email',
    );
    await eventually(
      async () => {
        const [r] = await runsOfLead(t, leadId);
        return enteredStates(await historyOf(t, r?.executionArn)).at(-1) === WAIT ? true : undefined;
      },
      30_000,
      'the wait',
    );
    return { leadId, mail };
  }

  it('a reply reaches a rep, quoted in the assignment email (the latency is printed)', async () => {
    const email = 'local.replier@acme-robotics.com';
    const { leadId, mail } = await nurturedAndEmailed(email);
    const replyTo = String(replyToOf(mail));
    expect(replyTo).toMatch(/@reply\.handoff\.example$/);
    const raw = replyMime({
      from: email,
      to: replyTo,
      subject: mail.subject,
      text: 'Please call me.',
      now: new Date(),
    });
    const started = Date.now();
    const res = await fetch(new URL(INBOUND_PATH, t.stack.urls.ses), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ raw, recipients: [replyTo] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ delivered: 1 });
    const assignment = await eventually(
      async () =>
        (await t.mailbox()).find(
          (m) => m.subject.startsWith('New lead') && (m.body.text ?? '').includes(email),
        ),
      30_000,
      'the assignment email',
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(`reply → assignment email: ${seconds.toFixed(1)} s`);
    expect(assignment.body.text).toContain('They replied to nurture email 1');
    expect(assignment.body.text).toContain('> Please call me.');
    expect((await storesOf(t).leads.listEvents(leadId)).some((e) => e.type === 'replied')).toBe(true);
  }, 60_000);

  it('npm run reply -- --out-of-office: recorded, and the run goes on waiting', async () => {
    const email = 'local.away@acme-robotics.com';
    const { leadId } = await nurturedAndEmailed(email);
    const { stdout } = await run(
      'npx',
      [
        'tsx',
        'scripts/reply.ts',
        '--to',
        email,
        '--out-of-office',
        '--back',
        '2026-12-30',
        '--data',
        t.dataDir,
      ],
      { cwd: root },
    );
    expect(stdout).toMatch(/out of office/);
    const events = await eventually(
      async () => {
        const all = await storesOf(t).leads.listEvents(leadId);
        return all.some((e) => e.type === 'auto-reply') ? all : undefined;
      },
      10_000,
      'the auto-reply',
    );
    expect(events.find((e) => e.type === 'auto-reply')?.data).toMatchObject({ kind: 'out-of-office' });
    const [r] = await runsOfLead(t, leadId);
    expect(enteredStates(await historyOf(t, r?.executionArn)).at(-1)).toBe(WAIT);
    expect(
      (await t.mailbox()).some(
        (m) => m.subject.startsWith('New lead') && (m.body.text ?? '').includes(email),
      ),
    ).toBe(false);
  }, 60_000);

  it('refuses what SES would not take: no JSON, no recipients, a message over 150 KB; drops mail to no rule', async () => {
    const post = (body: string) =>
      fetch(new URL(INBOUND_PATH, t.stack.urls.ses), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    expect((await post('{')).status).toBe(400);
    expect((await post(JSON.stringify({ raw: 'x', recipients: [] }))).status).toBe(400);
    expect(
      (await post(JSON.stringify({ raw: 'x'.repeat(160 * 1024), recipients: ['a@reply.handoff.example'] })))
        .status,
    ).toBe(413);
    const nobody = await post(
      JSON.stringify({ raw: 'Subject: x\r\n\r\nhi', recipients: ['someone@elsewhere.example'] }),
    );
    expect(await nobody.json()).toMatchObject({ delivered: 0 });
  });
});
