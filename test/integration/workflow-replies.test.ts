import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import { replyAddress } from '#functions/mail/reply-address.ts';
import { receivedEvent, replyMime } from '#local/ses-receiving.ts';
import { aLambdaContext } from '#test/fixtures/lambda.ts';
import { type Harness, SIGNING_KEY, startHarness, submission } from '#test/fixtures/workflow-harness.ts';

// Replies to nurture emails (the synthesized definition, the real handlers): a person's reply stops the
// sequence and reaches a rep, whose email quotes it; an out-of-office is recorded and changes nothing but
// the next send's day. The reply arrives as SES receiving hands it over (SNS, the whole message in Base64).
let h: Harness;
beforeAll(async () => {
  h = await startHarness(inject('cdkOut'));
});
afterAll(async () => {
  await h?.close();
});

const mailsTo = (to: string) => h.mails.filter((m) => m.to === to || m.to.endsWith(`<${to}>`));
const nurtureMails = (to: string) => mailsTo(to).filter((m) => m.headers['reply-to']);

/** `from` answers the mail with `text` (and headers), through InboundReply as SES receiving calls it. */
async function reply(
  mail: { subject: string; headers: Record<string, string> },
  from: string,
  text: string,
  headers = {},
) {
  const to = String(mail.headers['reply-to']).replace(/^.*<|>.*$/g, '');
  const raw = replyMime({ from, to, subject: mail.subject, text, headers, now: new Date() });
  const event = receivedEvent(raw, [to], 'arn:aws:sns:us-east-1:000000000000:Inbound', new Date());
  return (await h.handler('InboundReply')(event, aLambdaContext('InboundReply'))) as {
    replies: { outcome: string }[];
  };
}

describe('replies to nurture emails', () => {
  it('a reply to email 2 stops the sequence and reaches a rep, whose email quotes it and names the email', async () => {
    const { lead, input, name } = submission({ email: 'replier@acme-robotics.com', formType: 'newsletter' });
    let answered = false;
    const result = await h.run(input, name, {
      onSignalWait: async () => {
        if (answered || nurtureMails(lead.email).length < 2) return;
        answered = true;
        const second = nurtureMails(lead.email)[1];
        expect(second?.headers['reply-to']).toMatch(
          /^r-[0-9a-f]{20}-0-1-[0-9a-f]{16}@reply\.handoff\.example$/,
        );
        const text =
          'Yes, we are evaluating tools this quarter.\nCan someone call me Tuesday?\n\nOn Mon, Handoff wrote:\n> We put together something';
        const { replies } = await reply(second as never, lead.email, text);
        expect(replies).toEqual([{ outcome: 'human' }]);
      },
      onWait: async () => 'timeout',
    });
    expect(answered).toBe(true);
    expect(result.wakes.filter((w) => w !== 'timer')).toEqual(['reply']);
    expect(result.path).toContain('Assign rep');
    // No third email: the sequence stopped at the reply.
    expect(nurtureMails(lead.email)).toHaveLength(2);
    const repMail = h.mails.find((m) => m.subject.startsWith('New lead') && m.text.includes(lead.email));
    expect(repMail?.text).toContain('They replied to nurture email 2');
    expect(repMail?.text).toContain('> Yes, we are evaluating tools this quarter.');
    expect(repMail?.text).toContain('> Can someone call me Tuesday?');
    // Their words only: the quoted email below the reply is cut.
    expect(repMail?.text).not.toContain('We put together something');
    const events = await h.stores.leads.listEvents(lead.id);
    expect(events.find((e) => e.type === 'replied')?.data).toMatchObject({ cycle: 0, step: 1 });
  });

  it('an out-of-office is recorded and wakes nothing; it holds the next email until its return day', async () => {
    const { lead, input, name } = submission({ email: 'away@acme-robotics.com', formType: 'newsletter' });
    const back = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
    let answered = false;
    let held: { until?: string; emails: number } | undefined;
    const result = await h.run(input, name, {
      onSignalWait: async () => {
        if (held) return;
        if (answered) {
          // The wait after the second email fell due: Nurture held it for the return day instead.
          held = {
            until: (await h.stores.leads.get(lead.id))?.snoozedUntil,
            emails: nurtureMails(lead.email).length,
          };
          // Done looking: the lead unsubscribes, which ends the run (no need to run the sequence out).
          const url = (nurtureMails(lead.email)[0]?.headers['list-unsubscribe'] ?? '').slice(1, -1);
          const res = await h.http('Unsubscribe', 'POST', url, {
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'List-Unsubscribe=One-Click',
          });
          expect(res.statusCode).toBe(200);
          return;
        }
        if (nurtureMails(lead.email).length < 1) return;
        answered = true;
        const { replies } = await reply(
          nurtureMails(lead.email)[0] as never,
          lead.email,
          `I am out of the office with limited access to email. I will be back on ${back}.`,
          { 'Auto-Submitted': 'auto-replied', 'X-Autoreply': 'yes' },
        );
        expect(replies).toEqual([{ outcome: 'out-of-office' }]);
      },
      onWait: async () => 'timeout',
    });
    const events = await h.stores.leads.listEvents(lead.id);
    expect(events.find((e) => e.type === 'auto-reply')?.data).toMatchObject({
      kind: 'out-of-office',
      returnDate: back,
    });
    expect(events.some((e) => e.type === 'replied')).toBe(false);
    // The second email was due and did not go: held for the return day.
    expect(held).toEqual({ until: back, emails: 1 });
    // No signal woke a wait until the unsubscribe (the out-of-office is not one).
    const signals = ['form', 'click', 'visit', 'reply', 'unsubscribe', 'bounce', 'complaint', 'confirm'];
    expect(result.wakes.filter((w) => signals.includes(w))).toEqual(['unsubscribe']);
    // Nothing sent it to sales.
    expect(h.mails.some((m) => m.subject.startsWith('New lead') && m.text.includes(lead.email))).toBe(false);
  });

  it('drops mail to an address it did not sign, and mail for a lead no longer kept', async () => {
    const forged = replyMime({
      from: 'x@acme-robotics.com',
      to: 'r-0123456789abcdef0123-0-1-0000000000000000@reply.handoff.example',
      subject: 'hi',
      text: 'hello',
      now: new Date(),
    });
    const event = receivedEvent(
      forged,
      ['r-0123456789abcdef0123-0-1-0000000000000000@reply.handoff.example'],
      'arn:aws:sns:us-east-1:000000000000:Inbound',
      new Date(),
    );
    const answer = (await h.handler('InboundReply')(event, aLambdaContext('InboundReply'))) as {
      replies: { outcome: string; why?: string }[];
    };
    expect(answer.replies).toEqual([{ outcome: 'dropped', why: 'no reply address of ours' }]);
    // Signed right, for a lead that is not (or no longer) kept: nothing is written under its id.
    const gone = leadIdFor('gone@acme-robotics.com');
    const to = String(replyAddress(gone, 0, 0, SIGNING_KEY, 'reply.handoff.example'));
    const raw = replyMime({
      from: 'gone@acme-robotics.com',
      to,
      subject: 'hi',
      text: 'hello',
      now: new Date(),
    });
    const late = (await h.handler('InboundReply')(
      receivedEvent(raw, [to], 'arn:aws:sns:us-east-1:000000000000:Inbound', new Date()),
      aLambdaContext('InboundReply'),
    )) as { replies: { outcome: string; why?: string }[] };
    expect(late.replies).toEqual([{ outcome: 'dropped', why: 'lead no longer kept' }]);
    expect(await h.stores.leads.listEvents(gone)).toEqual([]);
  });
});
