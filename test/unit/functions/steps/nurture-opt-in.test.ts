// Double opt-in (config/nurture.json doubleOptIn), through the real Nurture, AwaitSignal and /confirm
// handlers on in-memory stores: an unconfirmed lead gets one email, the confirmation, however often it is
// woken or its form re-sent; the click wakes the run and the sequence starts at once; no click ends the
// run. Confirmations are first contacts: their bounces trip the first-contact breaker only.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler as confirmWith } from '#functions/api/confirm.ts';
import { createHandler as sesEventsWith } from '#functions/events/ses-events.ts';
import { signLink } from '#functions/mail/links.ts';
import { sfnRuns } from '#functions/platform/runs.ts';
import { createHandler as awaitSignalWith } from '#functions/steps/await-signal.ts';
import type { StepInput, StepOutput } from '#functions/steps/contracts.ts';
import { createHandler as nurtureWith } from '#functions/steps/nurture.ts';
import { config } from '#test/fixtures/config.ts';
import { aLambdaContext, anHttpEvent } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { parseMime } from '#test/fixtures/mail.ts';
import { type MemoryStores, memoryStores } from '#test/fixtures/memory-stores.ts';

const KEY = 'k'.repeat(40);
const ses = mockClient(SESClient);
const secrets = mockClient(SecretsManagerClient);
const sfn = mockClient(SFNClient);
const lead = aLead({ formType: 'newsletter', timeZone: 'America/Chicago' });
// Saturday 03:00 in Chicago: outside business hours, as a form at night is.
const SATURDAY_NIGHT = new Date('2026-11-28T09:00:00.000Z');
const WEEK_S = 7 * 86_400;
const optIn = { enabled: true, confirmWithinDays: 7 };
const runs = sfnRuns();
let db: MemoryStores;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: SATURDAY_NIGHT });
  db = memoryStores();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
  ses.on(SendRawEmailCommand).resolves({ MessageId: 'm-1' });
  sfn.on(SendTaskSuccessCommand).resolves({});
  await db.leads.capture(lead, 'run-1', SATURDAY_NIGHT.toISOString());
  await db.leads.setStage(lead.id, 'nurturing', SATURDAY_NIGHT.toISOString());
});
afterEach(() => {
  vi.useRealTimers();
  ses.reset();
  secrets.reset();
  sfn.reset();
});

type State = StepInput<'nurture'>['nurture'];
const nurture = (state: State = { cycle: 0, step: 0 }, wake: unknown = null, on = optIn) =>
  nurtureWith({ ...db, doubleOptIn: on })({ leadId: lead.id, nurture: state, wake }, aLambdaContext());
/** What the run carries on to the next Nurture step. */
const carried = (out: StepOutput<'nurture'>): State => {
  const { next: _, waitSeconds: __, ...state } = out;
  return state;
};
const sent = () =>
  ses.commandCalls(SendRawEmailCommand).map((c) => ({
    mail: parseMime(Buffer.from(c.args[0].input.RawMessage?.Data ?? '').toString('utf8')),
    tags: Object.fromEntries((c.args[0].input.Tags ?? []).map((t) => [t.Name, t.Value])),
  }));
const confirmLinkOf = (text: string) => {
  const url = /https?:\/\/\S+\/confirm\?t=\S+/.exec(text)?.[0];
  if (!url) throw new Error('no confirmation link in the email');
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};
const click = (path: string, method: 'GET' | 'POST' = 'POST') =>
  confirmWith({ ...db, runs })(anHttpEvent(method, path), aLambdaContext());
const park = (token: string) =>
  awaitSignalWith({ ...db, runs })({ taskToken: token, leadId: lead.id }, aLambdaContext());

describe('double opt-in', () => {
  it('sends one confirmation at once, at night, and nothing else however often the run wakes or the form comes again', async () => {
    const first = await nurture();
    expect(first).toMatchObject({ cycle: 0, step: 0, next: 'wait' });
    expect(first.waitSeconds).toBe(WEEK_S);
    expect(Date.parse(String(first.confirmBy))).toBe(SATURDAY_NIGHT.getTime() + WEEK_S * 1000);
    const [confirmation] = sent();
    expect(sent()).toHaveLength(1);
    expect(confirmation?.tags).toMatchObject({ kind: 'confirm', stream: 'first-contact', leadId: lead.id });
    expect(confirmation?.mail.to).toContain(lead.email);
    expect(confirmation?.mail.text).toContain('/confirm?t=');
    // One-click unsubscribe on it too: whoever's address was used can stop it at once.
    expect(confirmation?.mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');

    // A form re-sent a day later wakes the wait: still the one email, the same deadline.
    vi.setSystemTime(new Date(SATURDAY_NIGHT.getTime() + 86_400_000));
    const woken = await nurture(carried(first), { signal: 'form' });
    expect(woken).toMatchObject({ next: 'wait', confirmBy: first.confirmBy });
    // A second run of the lead (its first ended) joins the open round instead of sending another.
    const secondRun = await nurture({ cycle: 0, step: 0 });
    expect(secondRun).toMatchObject({ next: 'wait', confirmBy: first.confirmBy });
    expect(sent()).toHaveLength(1);
    const events = (await db.leads.listEvents(lead.id)).filter((e) => e.type === 'confirmation-sent');
    expect(events).toHaveLength(1);
  });

  it('ends the run as unconfirmed when the week passes without a click, with the lead not emailable', async () => {
    const first = await nurture();
    vi.setSystemTime(new Date(Date.parse(String(first.confirmBy))));
    const out = await nurture(carried(first), { Error: 'States.Timeout' });
    expect(out.next).toBe('unconfirmed');
    expect((await db.leads.get(lead.id))?.stage).toBe('not-emailable');
    expect(sent()).toHaveLength(1);
    // A form after the round lapsed starts a new run (captured again) and a new round: one new
    // confirmation, a new deadline.
    vi.setSystemTime(new Date(Date.parse(String(first.confirmBy)) + 86_400_000));
    await db.leads.setStage(lead.id, 'captured', new Date().toISOString());
    const again = await nurture({ cycle: 0, step: 0 });
    expect(sent()).toHaveLength(2);
    expect(Date.parse(String(again.confirmBy))).toBe(Date.now() + WEEK_S * 1000);
  });

  it('starts the sequence at once when the link is clicked: the page GET changes nothing, the POST wakes the run', async () => {
    const first = await nurture();
    expect(await park('tok-1')).toEqual({ parked: true });
    const link = confirmLinkOf(sent()[0]?.mail.text ?? '');

    const page = await click(link, 'GET');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post"');
    expect((await db.confirmations.get(lead.id))?.confirmedAt).toBeUndefined();
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);

    vi.setSystemTime(new Date(SATURDAY_NIGHT.getTime() + 3_600_000));
    const done = await click(link);
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('confirmed');
    expect((await db.confirmations.get(lead.id))?.confirmedAt).toBe(new Date().toISOString());
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'tok-1', output: JSON.stringify({ signal: 'confirm' }) },
    ]);
    expect((await db.leads.listEvents(lead.id)).map((e) => e.type)).toContain('confirmed');

    // The woken run sends the first nurture email now (04:00 on a Sunday: it answers the form), as known mail.
    const out = await nurture(carried(first), { signal: 'confirm' });
    expect(out).toMatchObject({ step: 1, next: 'wait' });
    expect(out.confirmBy).toBeUndefined();
    const [, welcome] = sent();
    expect(welcome?.mail.subject).toContain('Welcome');
    expect(welcome?.tags).toMatchObject({ kind: 'nurture', stream: 'known' });

    // A second click changes nothing: confirmed once.
    await click(link);
    expect((await db.leads.listEvents(lead.id)).filter((e) => e.type === 'confirmed')).toHaveLength(1);
  });

  it('refuses a changed, expired or other kind of link, and writes nothing', async () => {
    await nurture();
    const link = confirmLinkOf(sent()[0]?.mail.text ?? '');
    expect((await click(`${link.slice(0, -3)}AAA`)).statusCode).toBe(403);
    const unsubscribe = signLink(
      { action: 'unsubscribe', subject: lead.id, audience: 'lead', exp: Math.floor(Date.now() / 1000) + 60 },
      KEY,
    );
    expect((await click(`/confirm?t=${unsubscribe}`)).statusCode).toBe(403);
    vi.setSystemTime(new Date(SATURDAY_NIGHT.getTime() + WEEK_S * 1000 + 1000));
    const expired = await click(link);
    expect(expired.statusCode).toBe(403);
    expect(expired.body).toContain('Send the form again');
    expect((await db.confirmations.get(lead.id))?.confirmedAt).toBeUndefined();
  });

  it('confirms nothing for an address that has unsubscribed since, and wakes no run', async () => {
    await nurture();
    const link = confirmLinkOf(sent()[0]?.mail.text ?? '');
    await db.suppression.suppress(lead.email, 'unsubscribed', 'page', new Date().toISOString());
    const res = await click(link);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('does not receive emails');
    expect((await db.confirmations.get(lead.id))?.confirmedAt).toBeUndefined();
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('asks nothing of a lead with opt-in off: the answer to the form goes, counted as a first contact', async () => {
    const out = await nurture({ cycle: 0, step: 0 }, null, { enabled: false, confirmWithinDays: 7 });
    expect(out).toMatchObject({ step: 1, next: 'wait' });
    expect(sent()[0]?.tags).toMatchObject({ kind: 'nurture', stream: 'first-contact' });
  });

  it('sends no confirmation to a lead without marketing consent', async () => {
    const noConsent = aLead({ email: 'no.consent@example.org', consent: false });
    await db.leads.capture(noConsent, 'run-2', SATURDAY_NIGHT.toISOString());
    await db.leads.setStage(noConsent.id, 'nurturing', SATURDAY_NIGHT.toISOString());
    const out = await nurtureWith({ ...db, doubleOptIn: optIn })(
      { leadId: noConsent.id, nurture: { cycle: 0, step: 0 }, wake: null },
      aLambdaContext(),
    );
    expect(out.next).toBe('not-emailable');
    expect(sent()).toHaveLength(0);
  });
});

describe('first contacts have their own breaker', () => {
  const sesEvents = () => sesEventsWith({ ...db, runs });
  const event = (id: string, eventType: 'Send' | 'Bounce', stream?: string) => ({
    version: '0',
    id,
    'detail-type': eventType === 'Send' ? 'Email Sent' : 'Email Bounced',
    source: 'aws.ses',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: {
      eventType,
      mail: {
        timestamp: new Date().toISOString(),
        source: config.app.sender.fromAddress,
        messageId: `m-${id}`,
        destination: [`junk-${id}@example.net`],
        tags: { kind: ['confirm'], ...(stream ? { stream: [stream] } : {}) },
      },
      ...(eventType === 'Bounce'
        ? {
            bounce: {
              bounceType: 'Permanent',
              bounceSubType: 'General',
              bouncedRecipients: [{ emailAddress: `junk-${id}@example.net` }],
              timestamp: new Date().toISOString(),
              feedbackId: `f-${id}`,
            },
          }
        : {}),
    },
  });

  it('counts junk bounces on first contacts apart: they pause confirmations, never mail to confirmed leads', async () => {
    const { minVolume } = config.app.deliverability;
    const n = Math.max(minVolume, 100);
    for (let i = 0; i < n; i++) await sesEvents()(event(`s${i}`, 'Send', 'first-contact'), aLambdaContext());
    for (let i = 0; i < Math.ceil(n * 0.2); i++)
      await sesEvents()(event(`b${i}`, 'Bounce', 'first-contact'), aLambdaContext());
    expect((await db.firstContact.state()).tripped).toBe(true);
    expect((await db.deliverability.state()).tripped).toBe(false);

    // An unconfirmed lead's confirmation waits…
    const held = await nurture();
    expect(held).toMatchObject({ next: 'wait' });
    expect(held.confirmBy).toBeUndefined();
    expect(sent()).toHaveLength(0);
    // …while a confirmed lead's email goes.
    await db.confirmations.confirm(lead.id, SATURDAY_NIGHT.toISOString());
    const out = await nurture();
    expect(out).toMatchObject({ step: 1, next: 'wait' });
    expect(sent()).toHaveLength(1);
  });

  it('holds first contacts too while the main breaker is tripped: they bounce more, not less', async () => {
    for (let i = 0; i < 200; i++) await db.deliverability.count('sent', SATURDAY_NIGHT);
    for (let i = 0; i < 20; i++) await db.deliverability.count('bounced', SATURDAY_NIGHT);
    await db.deliverability.trip('bounce rate 9 %', SATURDAY_NIGHT.toISOString());
    expect(await nurture()).toMatchObject({ next: 'wait' });
    expect(sent()).toHaveLength(0);
  });

  it('counts untagged mail in the known stream, as before streams', async () => {
    await sesEvents()(event('s-known', 'Send'), aLambdaContext());
    expect((await db.deliverability.window(24, new Date())).sent).toBe(1);
    expect((await db.firstContact.window(24, new Date())).sent).toBe(0);
  });
});
