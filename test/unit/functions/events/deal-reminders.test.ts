import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reminderMarker, reminderWeek } from '#functions/deal/reminders.ts';
import { createHandler } from '#functions/events/deal-reminders.ts';
import { verifyLink } from '#functions/mail/links.ts';
import type { MailMessage } from '#functions/mail/mime.ts';
import { aDeal } from '#test/fixtures/deals.ts';
import { aLambdaContext } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { type MemoryStores, memoryStores } from '#test/fixtures/memory-stores.ts';

const KEY = 'unit-test-signing-key-0123456789abcdef';
const secrets = mockClient(SecretsManagerClient);
let db: MemoryStores;
let sent: MailMessage[];
let failFor: string | undefined;

/** The schedule rule's event, as EventBridge delivers it (Monday 2026-12-14, 14:00 UTC). */
const scheduled = (time = '2026-12-14T14:00:00Z') => ({
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time,
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/DealReminders'],
  detail: {},
});
const run = (event = scheduled()) =>
  createHandler({
    ...db,
    send: async (m) => {
      if (m.to === failFor) throw new Error('SES is down');
      sent.push(m);
    },
  })(event, aLambdaContext());

const lead = aLead({ firstName: 'Kim', lastName: 'Lee', company: 'Acme Robotics' });
beforeEach(async () => {
  db = memoryStores();
  sent = [];
  failFor = undefined;
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
  await db.leads.capture(lead, 'run-1', '2026-11-26T10:00:00.000Z');
  const deal = (dealId: string, o: Parameters<typeof aDeal>[0] = {}) =>
    db.deals.create(aDeal({ dealId, leadId: lead.id, stage: 'accepted', tokenFor: 'outcome', ...o }));
  await deal('dl-ava-1');
  await deal('dl-ava-2', { createdAt: '2026-11-20T10:00:00.000Z' });
  await deal('dl-ben-1', { repId: 'rep-ben' });
  await deal('dl-ava-new', { stage: 'assigned' }); // not accepted yet: the assignment email is fresh
  await deal('dl-ava-won', { stage: 'won' });
  await deal('dl-ava-failed', { runEnd: 'FAILED' }); // its run has ended: links answer 410
});
afterEach(() => secrets.reset());

const dealsIn = (m?: MailMessage) =>
  (m?.text.match(/deals\/action\?t=[\w.-]+/g) ?? [])
    .map((u) => verifyLink(u.split('t=')[1] ?? '', KEY, new Date()))
    .filter((c) => c.action === 'won')
    .map((c) => c.subject);

describe('weekly deal reminders', () => {
  it('emails each rep one reminder listing their open deals, oldest first, with fresh won and lost links', async () => {
    expect(await run()).toEqual({ week: '2026-12-14', reps: 2, deals: 3, skipped: 0 });
    const ava = sent.find((m) => m.to === 'ava@sales.handoff.example');
    const ben = sent.find((m) => m.to === 'ben@sales.handoff.example');
    expect(sent).toHaveLength(2);
    expect(dealsIn(ava)).toEqual(['dl-ava-2', 'dl-ava-1']);
    expect(dealsIn(ben)).toEqual(['dl-ben-1']);
    expect(ava?.text).toContain('Kim Lee at Acme Robotics');
    expect(ava?.text).toMatch(/Stop these weekly reminders: https:\/\/api\.handoff\.test\/deals\/action\?t=/);
  });

  it('sends once per deal and week: a retried or doubled invocation sends nothing more', async () => {
    await run();
    expect(await run()).toMatchObject({ reps: 0, deals: 0, skipped: 3 });
    // The same week, later (a late redelivery): still nothing.
    expect(await run(scheduled('2026-12-16T09:00:00Z'))).toMatchObject({ reps: 0, skipped: 3 });
    expect(sent).toHaveLength(2);
    // Next week's run reminds again.
    expect(await run(scheduled('2026-12-21T14:00:00Z'))).toMatchObject({ week: '2026-12-21', reps: 2 });
    expect(sent).toHaveLength(4);
  });

  it('gives the claims back when a send fails, so the retry sends that reminder (and only that one)', async () => {
    failFor = 'ben@sales.handoff.example';
    await expect(run()).rejects.toThrow('SES is down');
    expect(sent.map((m) => m.to)).toEqual(['ava@sales.handoff.example']);
    failFor = undefined;
    expect(await run()).toMatchObject({ reps: 1, deals: 1, skipped: 2 });
    expect(sent.map((m) => m.to)).toEqual(['ava@sales.handoff.example', 'ben@sales.handoff.example']);
  });

  it('skips a rep who turned the reminders off, and reminds them again once they turn them back on', async () => {
    await db.reps.setReminders('rep-ava', false, '2026-12-10T10:00:00.000Z');
    expect(await run()).toMatchObject({ reps: 1, deals: 1 });
    expect(sent.map((m) => m.to)).toEqual(['ben@sales.handoff.example']);
    await db.reps.setReminders('rep-ava', true, '2026-12-15T10:00:00.000Z');
    await run(scheduled('2026-12-21T14:00:00Z'));
    expect(sent.map((m) => m.to)).toContain('ava@sales.handoff.example');
  });

  it('names the week by its Monday (UTC) and the marker by week and deal', () => {
    expect(reminderWeek(new Date('2026-12-14T14:00:00Z'))).toBe('2026-12-14');
    expect(reminderWeek(new Date('2026-12-20T23:59:59Z'))).toBe('2026-12-14');
    expect(reminderWeek(new Date('2026-12-21T00:00:00Z'))).toBe('2026-12-21');
    expect(reminderWeek(new Date('2027-01-01T12:00:00Z'))).toBe('2026-12-28');
    expect(reminderMarker('dl-1', '2026-12-14')).toBe('reminder#2026-12-14#dl-1');
  });

  it('refuses an event that is not the schedule’s', async () => {
    await expect(run({ ...scheduled(), 'detail-type': 'Something Else' })).rejects.toThrow();
    expect(sent).toHaveLength(0);
  });
});
