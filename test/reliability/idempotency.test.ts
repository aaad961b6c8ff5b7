import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signLink } from '#functions/mail/links.ts';
import type { Stores } from '#functions/stores.ts';
import { config } from '#test/fixtures/config.ts';
import { aFormSubmission } from '#test/fixtures/leads.ts';
import { type Harness, SIGNING_KEY, startHarness, submission } from '#test/fixtures/workflow-harness.ts';

// At-least-once everywhere: Lambda may run a step twice, EventBridge may deliver twice, a browser may
// post twice. Each case replays and checks there is still one lead, one run, one email per step, one deal.
let h: Harness;
let db: Stores;
beforeAll(async () => {
  h = await startHarness(inject('cdkOut'));
  db = h.stores;
});
afterAll(async () => {
  await h?.close();
});

const mailsTo = (to: string) => h.mails.filter((m) => m.to === to);
const assignmentsFor = (name: string) =>
  h.mails.filter((m) => m.subject.startsWith('New lead') && m.subject.includes(name));
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('every step handler replayed with the same input', () => {
  it('a hot lead won with each step run twice: one lead, one deal, one assignment email, the rep’s slot back once', async () => {
    const { input, name, lead } = submission({ email: 'twice.hot@acme-robotics.com', firstName: 'Twice' });
    const loadsBefore = await db.reps.loads(config.reps.reps.map((r) => r.id));
    const result = await h.run(input, name, {
      replay: true,
      onWait: async (w) => {
        const mail = assignmentsFor('Twice').at(-1);
        const [accept, won] = mail?.links.filter((l) => l.includes('/deals/action')) ?? [];
        const url = w.waitingFor === 'acceptance' ? accept : won;
        expect(
          (await h.http('RepAction', 'POST', String(url), { headers: form, body: 'amount=900' })).statusCode,
        ).toBe(200);
        // The same click again (a double submit) changes nothing.
        expect(
          (await h.http('RepAction', 'POST', String(url), { headers: form, body: 'amount=900' })).statusCode,
        ).toBe(409);
        return undefined;
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.at(-1)).toBe('Deal closed');
    expect(assignmentsFor('Twice')).toHaveLength(1);
    const stored = await db.leads.get(lead.id);
    expect(stored?.stage).toBe('won');
    const deal = await db.deals.get(String(stored?.openDealId ?? (await closedDealOf(lead.id))));
    expect(deal).toMatchObject({ stage: 'won', amount: 900, attempt: 1 });
    const open = (loads: Record<string, { openDeals: number }>) =>
      config.reps.reps.map((r) => loads[r.id]?.openDeals ?? 0);
    expect(open(await db.reps.loads(config.reps.reps.map((r) => r.id)))).toEqual(open(loadsBefore));
    const events = (await db.leads.listEvents(lead.id)).map((e) => e.type);
    expect(events.filter((t) => t === 'form')).toHaveLength(1);
    expect(events.filter((t) => t === 'assigned')).toHaveLength(1);
    expect(events.filter((t) => t === 'closed')).toHaveLength(1);
  });

  it('a nurtured lead with each step run twice gets each nurture email once', async () => {
    const { input, name, lead } = submission({
      email: 'twice.warm@acme-robotics.com',
      formType: 'newsletter',
    });
    const result = await h.run(input, name, { replay: true });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.at(-1)).toBe('Nurtured (stays a marketing lead)');
    const subjects = mailsTo(lead.email).map((m) => m.subject);
    expect(subjects).toHaveLength(config.nurture.steps.length);
    expect(new Set(subjects).size).toBe(config.nurture.steps.length);
  });

  it('a run-ended event delivered twice marks the lead failed once and frees nothing twice', async () => {
    const { input, name, lead } = submission({
      email: 'twice.failed@acme-robotics.com',
      formType: 'newsletter',
    });
    const { SendRawEmailCommand } = await import('@aws-sdk/client-ses');
    h.ses.on(SendRawEmailCommand).rejects(Object.assign(new Error('boom'), { name: 'MessageRejected' }));
    const result = await h.run(input, name);
    h.ses.reset();
    const { parseMime } = await import('#test/fixtures/mail.ts');
    h.ses.on(SendRawEmailCommand).callsFake((i: { RawMessage: { Data: Uint8Array } }) => {
      h.mails.push(parseMime(Buffer.from(i.RawMessage.Data).toString('utf8')));
      return { MessageId: `msg-${h.mails.length}` };
    });
    expect(result.status).toBe('FAILED');
    // EventBridge redelivers the same event (same time) after the harness's first delivery.
    const failedAt = (await db.leads.listEvents(lead.id)).find((e) => e.type === 'failed')?.at;
    const again = await h.handler('RecordFailure')(
      {
        'detail-type': 'Step Functions Execution Status Change',
        time: failedAt,
        detail: { executionArn: `arn:x:${name}`, name, status: 'FAILED', input: JSON.stringify(input) },
      },
      {},
    );
    expect(again).toEqual({ recorded: true, released: false });
    expect((await db.leads.listEvents(lead.id)).filter((e) => e.type === 'failed')).toHaveLength(1);
  });
});

describe('every HTTP call sent twice', () => {
  it('POST /leads twice: one run', async () => {
    const body = JSON.stringify(aFormSubmission({ email: 'twice.post@acme-robotics.com' }));
    const headers = { 'content-type': 'application/json' };
    const a = await h.http('SubmitLead', 'POST', '/leads', { headers, body });
    const b = await h.http('SubmitLead', 'POST', '/leads', { headers, body });
    expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
    const names = h.sfnClient.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
    // Both asked for the same execution name: Step Functions starts it once (name idempotency).
    expect(names.slice(-2)).toHaveLength(2);
    expect(new Set(names.slice(-2)).size).toBe(1);
  });

  it('unsubscribe twice: suppressed once, one timeline event', async () => {
    const { input, name, lead } = submission({
      email: 'twice.unsub@acme-robotics.com',
      formType: 'newsletter',
    });
    await h.run(input, name);
    const t = signLink(
      { action: 'unsubscribe', subject: lead.id, audience: 'lead', exp: Date.now() / 1000 + 3600 },
      SIGNING_KEY,
    );
    for (let i = 0; i < 2; i++) {
      const res = await h.http('Unsubscribe', 'POST', `/unsubscribe?t=${t}`, {
        headers: form,
        body: 'List-Unsubscribe=One-Click',
      });
      expect(res.statusCode).toBe(200);
    }
    expect(await db.suppression.isSuppressed(lead.email)).toBe(true);
  });

  it('a tracked click twice in a minute: one engagement event', async () => {
    const { input, name, lead } = submission({
      email: 'twice.click@acme-robotics.com',
      formType: 'newsletter',
    });
    await h.run(input, name);
    const t = signLink(
      {
        action: 'click',
        subject: lead.id,
        audience: 'https://www.handoff.example/x',
        exp: Date.now() / 1000 + 3600,
        iat: Math.floor(Date.now() / 1000) - 3600,
      },
      SIGNING_KEY,
    );
    const headers = { 'user-agent': 'Mozilla/5.0 Chrome/130' };
    for (let i = 0; i < 2; i++)
      expect((await h.http('TrackClick', 'GET', `/c?t=${t}`, { headers })).statusCode).toBe(302);
    expect((await db.leads.listEvents(lead.id)).filter((e) => e.type === 'email-click')).toHaveLength(1);
  });
});

async function closedDealOf(leadId: string): Promise<string> {
  const closed = (await db.leads.listEvents(leadId)).find((e) => e.type === 'closed');
  return String(closed?.data?.dealId ?? '');
}
