import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler } from '#functions/api/track-visit.ts';
import { engagementOf, scoreLead } from '#functions/lead/scoring.ts';
import { signLink, visitorId } from '#functions/mail/links.ts';
import { config } from '#test/fixtures/config.ts';
import { aLambdaContext, anHttpEvent } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { type MemoryStores, memoryStores } from '#test/fixtures/memory-stores.ts';
import { fakeRuns } from '#test/fixtures/runs.ts';

const KEY = 'unit-test-signing-key-0123456789abcdef';
const secrets = mockClient(SecretsManagerClient);
const lead = aLead({ formType: 'newsletter' });
const BROWSER = 'Mozilla/5.0 (Macintosh) Safari/605';
let db: MemoryStores;
const { runs } = fakeRuns();

beforeEach(async () => {
  db = memoryStores();
  await db.leads.capture(lead, 'run-1', '2026-11-26T10:00:00.000Z');
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
});
afterEach(() => {
  secrets.reset();
});

const visitor = (leadId = lead.id) => visitorId(leadId, KEY, new Date(), 365);
const post = (body: unknown, headers: Record<string, string> = {}) =>
  createHandler({ ...db, runs })(
    anHttpEvent('POST', '/events', {
      headers: { 'content-type': 'application/json', 'user-agent': BROWSER, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
    aLambdaContext(),
  );
const visits = async () => (await db.leads.listEvents(lead.id)).filter((e) => e.type === 'page-visit');

describe('POST /events (site page views)', () => {
  it('records a high-intent page on the timeline, path normalised, and wakes the lead', async () => {
    const res = await post(
      { v: visitor(), url: 'https://www.handoff.example/Pricing/?utm_source=x#plans' },
      { origin: 'https://www.handoff.example' },
    );
    expect(res.statusCode).toBe(204);
    expect((await visits()).map((e) => e.data)).toEqual([{ host: 'www.handoff.example', path: '/pricing' }]);
    // Nothing parked: the signal waits on the lead, and its next wait takes it instead of parking.
    expect(await db.signals.park(lead.id, 'token-1', new Date().toISOString())).toEqual({
      parked: false,
      signal: 'visit',
    });
  });

  it('records one visit a lead and minute, however often the page is loaded', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // Within one minute (a fixed clock: a run near a minute's end must not see two).
      vi.setSystemTime(new Date('2026-12-07T10:15:05Z'));
      for (let i = 0; i < 5; i++) await post({ v: visitor(), url: 'https://www.handoff.example/demo' });
      expect(await visits()).toHaveLength(1);
      vi.setSystemTime(new Date('2026-12-07T10:16:05Z'));
      await post({ v: visitor(), url: 'https://www.handoff.example/demo' });
      expect(await visits()).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    ['another page of the site', { url: 'https://www.handoff.example/blog/post' }, {}],
    ['a bot', {}, { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1)' }],
    ['a headless browser', {}, { 'user-agent': 'Mozilla/5.0 HeadlessChrome/130' }],
    ['no user agent', {}, { 'user-agent': '' }],
  ])('takes %s with 204 and records nothing', async (_, body, headers) => {
    const res = await post({ v: visitor(), url: 'https://www.handoff.example/pricing', ...body }, headers);
    expect(res.statusCode).toBe(204);
    expect(await visits()).toEqual([]);
  });

  it('records nothing for a lead no longer kept (erased): no item under its id', async () => {
    await db.leads.erase(lead.id);
    expect((await post({ v: visitor(), url: 'https://www.handoff.example/pricing' })).statusCode).toBe(204);
    expect(await db.leads.listEvents(lead.id)).toEqual([]);
  });

  it.each([
    ['a forged id', { v: `${visitor().slice(0, -4)}AAAA`, url: 'https://www.handoff.example/pricing' }, 403],
    [
      'an id signed for something else (a click)',
      {
        v: signLink(
          { action: 'click', subject: lead.id, audience: 'site', exp: Date.now() / 1000 + 60 },
          KEY,
        ),
        url: 'https://www.handoff.example/pricing',
      },
      403,
    ],
    ['no id', { url: 'https://www.handoff.example/pricing' }, 400],
    ['a page of another site', { v: 'x', url: 'https://evil.example/pricing' }, 400],
    ['a plain-http page', { v: 'x', url: 'http://www.handoff.example/pricing' }, 400],
    ['no URL', { v: 'x' }, 400],
  ])('refuses %s (%#) and records nothing', async (_, body, status) => {
    const res = await post(body);
    expect(res.statusCode).toBe(status);
    expect(String(res.headers?.['content-type'])).toContain('application/json');
    expect(await visits()).toEqual([]);
  });

  it('refuses a body over 2 KB, malformed JSON and another origin before anything is read', async () => {
    expect(
      (await post({ v: visitor(), url: `https://www.handoff.example/pricing?${'x'.repeat(2100)}` }))
        .statusCode,
    ).toBe(413);
    expect((await post('{"v":')).statusCode).toBe(400);
    const foreign = await post(
      { v: visitor(), url: 'https://www.handoff.example/pricing' },
      { origin: 'https://evil.example' },
    );
    expect(foreign.statusCode).toBe(403);
    expect(await visits()).toEqual([]);
  });

  it('answers the CORS preflight for the company’s sites', async () => {
    const res = await createHandler({ ...db, runs })(
      anHttpEvent('OPTIONS', '/events', {
        headers: { origin: 'https://www.handoff.example', 'access-control-request-method': 'POST' },
      }),
      aLambdaContext(),
    );
    expect(res.statusCode).toBe(204);
    expect(res.headers?.['Access-Control-Allow-Origin']).toBe('https://www.handoff.example');
  });
});

describe('a visit in the score', () => {
  it('adds the configured points of its page, decaying like every engagement', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    const events = engagementOf([
      { type: 'form', at: '2026-12-01T10:00:00.000Z', data: { formType: 'newsletter' } },
      {
        type: 'page-visit',
        at: '2026-12-01T11:00:00.000Z',
        data: { host: 'www.handoff.example', path: '/pricing' },
      },
      {
        type: 'page-visit',
        at: '2026-11-17T12:00:00.000Z',
        data: { host: 'www.handoff.example', path: '/demo' },
      },
    ]);
    const reasons = scoreLead(lead, events, config.scoring, now).reasons.filter(
      (r) => r.kind === 'engagement',
    );
    expect(reasons.map((r) => [r.label, r.points])).toEqual([
      ['newsletter (today)', config.scoring.intent.formTypes.newsletter],
      ['visit /pricing (today)', config.scoring.intent.pages['/pricing']],
      // 14 days old: half of /demo's points (halfLifeDays 14).
      ['visit /demo (14d ago)', Math.round((config.scoring.intent.pages['/demo'] ?? 0) / 2)],
    ]);
  });
});
