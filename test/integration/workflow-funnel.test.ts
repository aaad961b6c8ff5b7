import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rebuildFunnel } from '#analytics/funnel-rebuild.ts';
import type { Stores } from '#functions/stores.ts';
import { aFormSubmission } from '#test/fixtures/leads.ts';
import { type Harness, startHarness, submission } from '#test/fixtures/workflow-harness.ts';

// The funnel counted by the real handlers as runs of the synthesized definition go (incremental), checked
// against hand-counted figures, then against `npm run funnel:rebuild`'s recount from the leads.
let h: Harness;
let db: Stores;
beforeAll(async () => {
  h = await startHarness(inject('cdkOut'));
  db = h.stores;
});
afterAll(async () => {
  await h?.close();
});

const form = { 'content-type': 'application/x-www-form-urlencoded' };
/** The rep acts on the newest assignment email for `firstName`, as a double click: the second changes nothing. */
async function repActs(firstName: string, action: 'accept' | 'won' | 'lost', body?: string) {
  const mail = h.mails
    .filter((m) => m.subject.startsWith('New lead') && m.subject.includes(firstName))
    .at(-1);
  const url = mail?.links.filter((l) => l.includes('/deals/action'))[
    ['accept', 'won', 'lost'].indexOf(action)
  ];
  const post = () => h.http('RepAction', 'POST', String(url), { headers: form, ...(body ? { body } : {}) });
  expect((await post()).statusCode).toBe(200);
  expect((await post()).statusCode).toBe(409);
}
const today = () => new Date().toISOString().slice(0, 10);
const day = () => db.funnel.read(today(), ['']);
const all = async () => (await db.funnel.read(today(), ['all#']))[0]?.values ?? {};
const histogramCount = (values: Record<string, number>, name: string) =>
  Object.entries(values)
    .filter(([k]) => k.startsWith(`h:${name}:`))
    .reduce((s, [, n]) => s + n, 0);

describe('funnel counters from workflow runs', () => {
  const leadIds: Record<string, string> = {};

  it('counts five journeys as they happen, once each, though every step of one ran twice', async () => {
    // Hot: a demo request from a Google ad, accepted and won; each step delivered twice.
    const hot = submission({
      email: 'hot.funnel@acme-robotics.com',
      firstName: 'Hotfunnel',
      utmSource: 'google',
      utmMedium: 'cpc',
      utmCampaign: 'q4-demo',
    });
    leadIds.hot = hot.lead.id;
    leadIds.hotRun = hot.name;
    const hotRun = await h.run(hot.input, hot.name, {
      replay: true,
      onWait: async (w) => {
        if (w.waitingFor === 'acceptance')
          await repActs('Hotfunnel', 'accept', 'rating=good-fit&note=Wants%20SSO%20first');
        else await repActs('Hotfunnel', 'won', 'amount=48000&rating=good-fit');
        return undefined;
      },
    });
    expect(hotRun.path.at(-1)).toBe('Deal closed');

    // Warm: a newsletter signup, nurtured until a demo request wakes it; the rep reports it lost without
    // accepting first (the outcome is the rep's response).
    const warm = submission({
      email: 'warm.funnel@acme-robotics.com',
      firstName: 'Warmfunnel',
      formType: 'newsletter',
    });
    leadIds.warm = warm.lead.id;
    const warmRun = await h.run(warm.input, warm.name, {
      onSignalWait: async (visit) => {
        if (visit !== 1) return;
        const res = await h.http('SubmitLead', 'POST', '/leads', {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(
            aFormSubmission({ email: warm.lead.email, firstName: 'Warmfunnel', formType: 'demo-request' }),
          ),
        });
        expect(res.statusCode).toBe(202);
      },
      onWait: async () => {
        await repActs('Warmfunnel', 'lost', 'reason=no-fit&rating=wrong-fit&note=Too%20small%20for%20us');
        return undefined;
      },
    });
    expect(warmRun.path.at(-1)).toBe('Deal closed');

    // Spam: disqualified at capture.
    const spam = submission({ email: 'free.funnel@mailinator.com', firstName: 'Spamfunnel' });
    leadIds.spam = spam.lead.id;
    expect((await h.run(spam.input, spam.name)).path.at(-1)).toBe('Disqualified');

    // Stale: no rep ever answers; reassigned until none is left, closed as stale.
    const stale = submission({ email: 'stale.funnel@acme-robotics.com', firstName: 'Stalefunnel' });
    leadIds.stale = stale.lead.id;
    const staleRun = await h.run(stale.input, stale.name, { onWait: async () => 'timeout' });
    expect(staleRun.path).toContain('Close as stale');

    // Recycled: accepted, lost "not now", back to nurture (cycle 1, an MQL again), then nurtured out.
    const recycled = submission({ email: 'recycle.funnel@acme-robotics.com', firstName: 'Recyclefunnel' });
    leadIds.recycled = recycled.lead.id;
    const recycledRun = await h.run(recycled.input, recycled.name, {
      onWait: async (w) => {
        if (w.waitingFor === 'acceptance') await repActs('Recyclefunnel', 'accept');
        else await repActs('Recyclefunnel', 'lost', 'reason=not-now');
        return undefined;
      },
    });
    expect(recycledRun.path).toContain('Recycle to nurture');

    const total = await all();
    expect({
      captured: total.captured,
      mql: total.mql,
      sql: total.sql,
      assigned: total.assigned,
      accepted: total.accepted,
      won: total.won,
      lost: total.lost,
      stale: total.stale,
      revenueWon: total.revenueWon,
      lostNoFit: total['lost:no-fit'],
      lostNotNow: total['lost:not-now'],
      ratedGoodFit: total['rated:good-fit'],
      ratedWrongFit: total['rated:wrong-fit'],
    }).toEqual({
      captured: 5,
      mql: 5, // hot, warm, stale, recycled, and recycled again in cycle 1
      sql: 4,
      assigned: 4,
      accepted: 3, // hot and recycled accepted; warm's loss implies it
      won: 1,
      lost: 2,
      stale: 1,
      revenueWon: 48_000,
      lostNoFit: 1,
      lostNotNow: 1,
      ratedGoodFit: 2, // hot's acceptance and its win, each an answer
      ratedWrongFit: 1, // warm's loss (not the acceptance it implied)
    });
    const wonRated = (await db.funnel.read(today(), ['all#']))[0]?.values;
    expect(wonRated?.['rated:good-fit']).toBe(2);
    expect(histogramCount(total, 'leadToAssigned')).toBe(4);
    expect(histogramCount(total, 'assignedToAccepted')).toBe(3);
    expect(histogramCount(total, 'acceptedToClosed')).toBe(2);
    const google = (await db.funnel.read(today(), ['campaign#q4-demo']))[0]?.values;
    expect(google).toMatchObject({ captured: 1, won: 1, revenueWon: 48_000 });
    expect(await db.funnel.read(today(), ['rep#'])).not.toEqual([]);
    // The same writes keep the cohort of the capture day: each stage once a run (recycled's second MQL is
    // not its cohort's again), so no stage outnumbers the captured.
    const cohort = (await db.funnel.read(today(), ['cohort#all']))[0]?.values ?? {};
    expect(
      Object.fromEntries(
        ['captured', 'mql', 'sql', 'assigned', 'accepted', 'won', 'revenueWon'].map((k) => [k, cohort[k]]),
      ),
    ).toEqual({ captured: 5, mql: 4, sql: 4, assigned: 4, accepted: 3, won: 1, revenueWon: 48_000 });
    expect(histogramCount(cohort, 'won')).toBe(1);
    expect((await db.funnel.read(today(), ['cohort-source#google']))[0]?.values).toMatchObject({
      captured: 1,
      won: 1,
    });
  });

  it('answers GET /admin/funnel and /admin/scoring-feedback from the counters', async () => {
    const res = await h.http('AdminRead', 'GET', `/admin/funnel?from=${today()}&to=${today()}&by=source`);
    expect(res.statusCode).toBe(200);
    const report = JSON.parse(String(res.body));
    expect(report.total.counts).toMatchObject({ captured: 5, won: 1, lost: 2, stale: 1 });
    expect(report.rows.map((r: { key: string }) => r.key).sort()).toEqual(['(none)', 'google']);
    const feedback = await h.http(
      'AdminRead',
      'GET',
      `/admin/scoring-feedback?from=${today()}&to=${today()}`,
    );
    expect(feedback.statusCode).toBe(200);
    const closed = JSON.parse(String(feedback.body)).byGrade.reduce(
      (s: number, g: { closed: number }) => s + g.closed,
      0,
    );
    expect(closed).toBe(4);
    // What reps said: ratings by source from the counters, notes from their index, newest first.
    const { reps } = JSON.parse(String(feedback.body));
    const google = reps.by.source.find((r: { key: string }) => r.key === 'google');
    expect(google).toMatchObject({ rated: 2, ratings: { 'good-fit': 2, 'wrong-fit': 0 }, won: 1 });
    expect(reps.by.formType.find((r: { key: string }) => r.key === 'newsletter')).toMatchObject({
      ratings: { 'wrong-fit': 1 },
      lost: 1,
    });
    expect(
      reps.notes.map((n: { action: string; note?: string }) => [n.action, n.note ?? null]).sort(),
    ).toEqual([
      ['accept', 'Wants SSO first'],
      ['lost', 'Too small for us'],
      ['won', null],
    ]);
    expect(reps.notes.find((n: { action: string }) => n.action === 'accept')).toMatchObject({
      source: 'google',
      campaign: 'q4-demo',
      formType: 'demo-request',
    });
    expect((await h.http('AdminRead', 'GET', '/admin/funnel?from=2026-02-30')).statusCode).toBe(400);
    const cohorts = await h.http(
      'AdminRead',
      'GET',
      `/admin/cohorts?from=${today()}&to=${today()}&by=formType`,
    );
    expect(cohorts.statusCode).toBe(200);
    const c = JSON.parse(String(cohorts.body));
    expect(c.total.counts).toMatchObject({ captured: 5, won: 1 });
    expect(c.total.reached.won).toBeCloseTo(0.2);
    expect(Object.values(c.total.reached).every((r) => typeof r === 'number' && r <= 1)).toBe(true);
    expect(c.rows.map((r: { key: string }) => r.key)).toContain('newsletter');
    const refused = await h.http('AdminRead', 'GET', '/admin/cohorts?by=rep');
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(String(refused.body)).fields.by[0]).toMatch(/source, campaign, formType/);
  });

  it('rebuilds the same counters from the leads, twice, and repairs counters that drifted', async () => {
    const incremental = await day();
    const first = await rebuildFunnel(db);
    expect(first.markersWritten).toBe(0); // every milestone the rebuild finds, the handlers had marked
    expect(await day()).toEqual(incremental);
    await rebuildFunnel(db);
    expect(await day()).toEqual(incremental);
    // Counters that went wrong (a lost ADD, a manual edit) come back from the leads.
    await db.funnel.add(today(), { 'all#all': { won: 3 }, 'source#nowhere': { captured: 1 } });
    expect(await day()).not.toEqual(incremental);
    await rebuildFunnel(db);
    expect(await day()).toEqual(incremental);
  });

  it('erasing a lead removes its markers and its reps’ notes; a rebuild then no longer counts it', async () => {
    const hot = String(leadIds.hot);
    const captured = `${leadIds.hotRun}#0#captured`;
    const notesOf = async (leadId: string) =>
      (await db.repNotes.list(today(), today(), 100)).filter((n) => n.leadId === leadId);
    expect(await db.funnel.marker(hot, captured)).toMatchObject({ facts: { source: 'google' } });
    expect(await notesOf(hot)).toHaveLength(2);
    expect(await db.leads.erase(hot)).toBeGreaterThan(8);
    expect(await db.funnel.marker(hot, captured)).toBeUndefined();
    expect(await notesOf(hot)).toEqual([]);
    expect(await notesOf(String(leadIds.warm))).toHaveLength(1);
    const before = await all();
    await rebuildFunnel(db);
    const after = await all();
    expect(after).toMatchObject({ captured: Number(before.captured) - 1, lost: before.lost });
    expect(after.won ?? 0).toBe(0);
    expect(after.revenueWon ?? 0).toBe(0);
  });
});
