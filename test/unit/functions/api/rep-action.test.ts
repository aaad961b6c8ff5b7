import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskSuccessCommand, SFNClient, TaskDoesNotExist, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '#functions/api/rep-action.ts';
import { type LinkClaims, signLink } from '#functions/mail/links.ts';
import { sfnRuns } from '#functions/platform/runs.ts';
import type { DealRecord } from '#functions/stores.ts';
import { aDeal } from '#test/fixtures/deals.ts';
import { aLambdaContext, anHttpEvent } from '#test/fixtures/lambda.ts';
import { type MemoryStores, memoryStores } from '#test/fixtures/memory-stores.ts';

const KEY = 'unit-test-signing-key-0123456789abcdef';
const sfn = mockClient(SFNClient);
const secrets = mockClient(SecretsManagerClient);
let db: MemoryStores;
const runs = sfnRuns();

beforeEach(() => {
  db = memoryStores();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
  sfn.on(SendTaskSuccessCommand).resolves({});
});
afterEach(() => {
  sfn.reset();
  secrets.reset();
});

const link = (action: 'accept' | 'won' | 'lost', o: Partial<LinkClaims> = {}) =>
  `/deals/action?t=${signLink({ action, subject: aDeal().dealId, audience: 'rep-ava', exp: Date.now() / 1000 + 3600, ...o }, KEY)}`;
const call = (method: string, url: string, body?: string) =>
  createHandler({ ...db, runs })(
    anHttpEvent(method, url, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      ...(body ? { body } : {}),
    }),
    aLambdaContext(),
  );
const givenDeal = (o: Partial<DealRecord> = {}) => db.deals.create(aDeal(o));
const deal = async () => db.deals.get(aDeal().dealId);
const resumed = () => sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input);

describe('rep action links', () => {
  it('only shows a confirmation page on GET: a mail scanner changes nothing', async () => {
    await givenDeal();
    const res = await call('GET', link('accept'));
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<form method="post"');
    expect(await deal()).toEqual(aDeal());
    expect(resumed()).toHaveLength(0);
  });

  it('accepts on POST: moves the deal, drops the token, then resumes the run with it', async () => {
    await givenDeal();
    const res = await call('POST', link('accept'));
    expect(res.statusCode).toBe(200);
    expect((await deal())?.stage).toBe('accepted');
    expect((await deal())?.taskToken).toBeUndefined();
    expect(resumed()).toEqual([{ taskToken: 'task-token-1', output: JSON.stringify({ action: 'accept' }) }]);
  });

  it('reports a win with its amount', async () => {
    await givenDeal({ stage: 'accepted' });
    const res = await call('POST', link('won'), 'amount=12500.5');
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(String(resumed()[0]?.output))).toEqual({ action: 'won', amount: 12500.5 });
    expect((await deal())?.amount).toBe(12500.5);
  });

  it('requires an amount for a win and a known reason for a loss', async () => {
    await givenDeal({ stage: 'accepted' });
    expect((await call('POST', link('won'), 'amount=')).statusCode).toBe(400);
    expect((await call('POST', link('lost'), 'reason=meh')).statusCode).toBe(400);
    expect(resumed()).toHaveLength(0);
    expect((await deal())?.stage).toBe('accepted');
  });

  it.each([
    ['tampered', () => `${link('accept').slice(0, -3)}AAA`],
    ['expired', () => link('accept', { exp: Date.now() / 1000 - 1 })],
    ['for another rep', () => link('accept', { audience: 'rep-ben' })],
  ])('refuses a %s link with a clear page and changes nothing', async (_, url) => {
    await givenDeal();
    const res = await call('POST', url());
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.headers?.['content-type']).toContain('text/html');
    expect(await deal()).toEqual(aDeal());
    expect(resumed()).toHaveLength(0);
  });

  it('treats a replayed link as already done', async () => {
    await givenDeal({ stage: 'accepted', taskToken: undefined });
    const res = await call('POST', link('accept'));
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('Already done');
    expect(resumed()).toHaveLength(0);
  });

  it('lets only one of two simultaneous clicks act', async () => {
    await givenDeal();
    const [a, b] = await Promise.all([call('POST', link('accept')), call('POST', link('accept'))]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
    expect(resumed()).toHaveLength(1);
  });

  it.each([
    ['timed out', () => new TaskTimedOut({ message: 'timed out', $metadata: {} })],
    ['gone', () => new TaskDoesNotExist({ message: 'gone', $metadata: {} })],
  ])('answers 410 and leaves the deal as it was when the wait has %s', async (_, error) => {
    await givenDeal();
    sfn.on(SendTaskSuccessCommand).rejects(error());
    const res = await call('POST', link('lost'), 'reason=no-budget');
    expect(res.statusCode).toBe(410);
    expect(res.body).toContain('journey has ended');
    expect(await deal()).toMatchObject({ stage: 'assigned', taskToken: 'task-token-1' });
  });

  it('answers 410 on a deal whose run has failed, on GET and POST, and changes nothing', async () => {
    await givenDeal({ runEnd: 'FAILED', runEndedAt: '2026-11-26T11:00:00.000Z', taskToken: undefined });
    const get = await call('GET', link('accept'));
    const post = await call('POST', link('accept'));
    expect([get.statusCode, post.statusCode]).toEqual([410, 410]);
    expect(post.body).toContain('stopped on an error');
    expect((await deal())?.stage).toBe('assigned');
    expect(resumed()).toHaveLength(0);
  });

  it.each(['1e20', '-1', 'abc'])('refuses the amount %s with 400', async (amount) => {
    await givenDeal({ stage: 'accepted' });
    const res = await call('POST', link('won'), `amount=${amount}`);
    expect(res.statusCode).toBe(400);
    expect((await deal())?.stage).toBe('accepted');
  });

  it('undoes its claim when the run cannot be resumed, so the rep can try again', async () => {
    await givenDeal();
    sfn.on(SendTaskSuccessCommand).rejects(new Error('throttled'));
    const res = await call('POST', link('accept'));
    expect(res.statusCode).toBe(500);
    expect(await deal()).toMatchObject({ stage: 'assigned', taskToken: 'task-token-1' });
  });

  it('escapes the token it echoes into the form', async () => {
    await givenDeal();
    const res = await call('GET', link('won'));
    expect(res.body).not.toMatch(/<script/i);
    expect(res.headers?.['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers).toMatchObject({ 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' });
  });
});

describe('what the rep says with an answer', () => {
  const funnelFacts = { formType: 'demo-request', source: 'google', campaign: 'q4', territory: 'emea' };
  const noteOf = async () => [...db.repNotes.kept.values()];

  it('offers a rating and a note on every answer', async () => {
    await givenDeal();
    for (const action of ['accept', 'won', 'lost'] as const) {
      const res = await call('GET', link(action));
      expect(res.body).toContain('name="rating" value="wrong-timing"');
      expect(res.body).toContain('<textarea id="note" name="note"');
    }
  });

  it('keeps the rating and note on the timeline and for marketing, grouped by the run’s attribution', async () => {
    await givenDeal({ seen: { total: 72, grade: 'B', reasons: ['demo-request'] } });
    const execution = aDeal().executionName;
    await db.funnel.mark(aDeal().leadId, `${execution}#0#captured`, {
      at: aDeal().createdAt,
      facts: funnelFacts,
    });
    const note = 'Wants SSO first; budget opens in Q2.\r\nTalk to the CTO.';
    const res = await call('POST', link('accept'), `rating=good-fit&note=${encodeURIComponent(note)}`);
    expect(res.statusCode).toBe(200);
    const [event] = await db.leads.listEvents(aDeal().leadId);
    expect(event).toMatchObject({
      type: 'rep-accept',
      data: { rating: 'good-fit', note: 'Wants SSO first; budget opens in Q2.\nTalk to the CTO.' },
    });
    expect(await noteOf()).toEqual([
      expect.objectContaining({
        action: 'accept',
        rating: 'good-fit',
        repId: 'rep-ava',
        formType: 'demo-request',
        source: 'google',
        campaign: 'q4',
        grade: 'B',
      }),
    ]);
  });

  it('leaves the rating of a won or lost answer on the deal, for "Close deal" to count with the outcome', async () => {
    await givenDeal({ stage: 'accepted' });
    expect((await call('POST', link('lost'), 'reason=timing&rating=wrong-timing')).statusCode).toBe(200);
    expect((await deal())?.closeRating).toBe('wrong-timing');
    expect((await noteOf())[0]).toMatchObject({ action: 'lost', rating: 'wrong-timing' });
    expect((await noteOf())[0]?.note).toBeUndefined();
  });

  it.each([
    ['an unknown rating', 'rating=great', /rating/],
    ['a note over 1,000 characters', `note=${'x'.repeat(1001)}`, /at most 1000/],
    [
      'a note with a text-direction override',
      `note=${encodeURIComponent('ok \u202e evil')}`,
      /text-direction/,
    ],
  ])('refuses %s with 400 and writes nothing', async (_, body, message) => {
    await givenDeal();
    const res = await call('POST', link('accept'), body);
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(message);
    expect(await deal()).toEqual(aDeal());
    expect(resumed()).toHaveLength(0);
    expect(await db.leads.listEvents(aDeal().leadId)).toEqual([]);
    expect(await noteOf()).toEqual([]);
  });

  it('takes a note of 1,000 characters however it is written (9 KB URL-encoded)', async () => {
    await givenDeal();
    const note = '漢'.repeat(1000);
    const res = await call('POST', link('accept'), `rating=wrong-fit&note=${encodeURIComponent(note)}`);
    expect(res.statusCode).toBe(200);
    expect((await noteOf())[0]?.note).toBe(note);
  });

  it('tells the rep when the note could not be kept, but the answer stands', async () => {
    await givenDeal();
    db.repNotes.put = async () => {
      throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    };
    const res = await call('POST', link('accept'), 'note=call%20back');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('could not be saved');
    expect((await deal())?.stage).toBe('accepted');
  });
});

describe('the rep’s reminder links', () => {
  const reminders = (action: 'reminders-off' | 'reminders-on', o: Partial<LinkClaims> = {}) =>
    `/deals/action?t=${signLink({ action, subject: 'rep-ava', audience: 'reminders', exp: Date.now() / 1000 + 3600, ...o }, KEY)}`;
  const off = async () => db.reps.remindersOff(['rep-ava']);

  it('GET only asks; POST turns the reminders off and offers a signed link to turn them back on', async () => {
    const asked = await call('GET', reminders('reminders-off'));
    expect(asked.statusCode).toBe(200);
    expect(asked.body).toContain('<form method="post"');
    expect(await off()).toEqual(new Set());

    const done = await call('POST', reminders('reminders-off'));
    expect(done.statusCode).toBe(200);
    expect(await off()).toEqual(new Set(['rep-ava']));
    const back = /action="\?t=([^"]+)"/.exec(String(done.body))?.[1] ?? '';
    expect(back).not.toBe('');
    expect((await call('POST', `/deals/action?t=${back}`)).statusCode).toBe(200);
    expect(await off()).toEqual(new Set());
  });

  it('refuses an expired or tampered reminder link, and one for a rep who is not in config/reps.json', async () => {
    expect((await call('POST', reminders('reminders-off', { exp: Date.now() / 1000 - 1 }))).statusCode).toBe(
      403,
    );
    expect((await call('POST', `${reminders('reminders-off').slice(0, -3)}AAA`)).statusCode).toBe(403);
    expect((await call('POST', reminders('reminders-off', { subject: 'rep-nobody' }))).statusCode).toBe(404);
    expect(await off()).toEqual(new Set());
  });

  it('a reminder link cannot act on a deal, nor a deal link on the reminders', async () => {
    await givenDeal({ stage: 'accepted' });
    const asDeal = reminders('reminders-off', { subject: aDeal().dealId, audience: 'rep-ava' });
    expect((await call('POST', asDeal)).statusCode).toBe(404);
    expect((await deal())?.stage).toBe('accepted');
    expect(resumed()).toHaveLength(0);
    // A won link posted as is stays a won link (its form wants an amount): reminders unchanged.
    expect((await call('POST', link('won'))).statusCode).toBe(400);
    expect(await off()).toEqual(new Set());
  });
});
