// The funnel above the pure math: recording milestones (idempotency, failures), the handlers that record
// them, the reports and their admin routes. One file over 300 lines because the reports and the routes are
// checked against the same hand-counted three-lead fixture (`threeLeads`).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler as adminWith } from '#functions/api/admin.ts';
import { createHandler as repActionWith } from '#functions/api/rep-action.ts';
import { bucketBounds, bucketOf } from '#functions/funnel/funnel.ts';
import { runFactsOf, type ScoreFacts } from '#functions/funnel/funnel-counters.ts';
import { type MilestoneContext, recordMilestones } from '#functions/funnel/milestones.ts';
import { repFeedbackReport } from '#functions/funnel/rep-feedback-report.ts';
import { funnelReport, reportQuery, scoringFeedbackReport } from '#functions/funnel/reports.ts';
import { signLink } from '#functions/mail/links.ts';
import { ValidationError } from '#functions/platform/errors.ts';
import { metrics } from '#functions/platform/observability.ts';
import { sfnRuns } from '#functions/platform/runs.ts';
import { createHandler as captureWith } from '#functions/steps/capture.ts';
import { createHandler as closeWith } from '#functions/steps/close-deal.ts';
import { config } from '#test/fixtures/config.ts';
import { aDeal } from '#test/fixtures/deals.ts';
import { aLambdaContext, anHttpEvent } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { captureInput, type MemoryStores, memoryStores } from '#test/fixtures/memory-stores.ts';

let db: MemoryStores;
const runs = sfnRuns();
beforeEach(() => {
  db = memoryStores();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const D1 = '2026-11-02';
const D2 = '2026-11-03';
const at = (day: string, hour: number) => `${day}T${String(hour).padStart(2, '0')}:00:00.000Z`;
const counters = (day: string, key = 'all#all') => db.funnel.days.get(day)?.[key] ?? {};

/**
 * Three leads over two days, by hand:
 *   L1 google/cpc demo request, A 85: captured+MQL+SQL D1 09, assigned (Ava) D1 10, accepted D1 12, won $1,000 D2 12
 *   L2 no UTM, pricing, DE, B 62: captured+MQL D1 09, SQL D2 09, assigned (Fay) D2 13, lost "no budget" D2 15
 *      without accepting first (the rep's outcome is their response: accepted, implied)
 *   L3 newsletter: captured D2 08, disqualified
 */
async function threeLeads() {
  const l1 = aLead({ email: 'l1@acme-robotics.com', utmSource: 'google', utmMedium: 'cpc' });
  const l2 = aLead({ email: 'l2@beta-gmbh.de', country: 'DE', formType: 'pricing', companySize: 300 });
  const l3 = aLead({ email: 'l3@gamma.example', formType: 'newsletter', country: 'BR' });
  const a85: ScoreFacts = { total: 85, grade: 'A', reasons: ['Title: VP or director', 'demo-request'] };
  const b62: ScoreFacts = { total: 62, grade: 'B', reasons: ['Country: DE'] };
  const record = (
    ctx: Omit<MilestoneContext, 'execution'> & { execution?: string },
    ms: Parameters<typeof recordMilestones>[2],
  ) => recordMilestones(db, { execution: `run-${ctx.leadId}`, cycle: 0, ...ctx }, ms);
  const run1 = runFactsOf(l1, config.reps);
  await record({ leadId: l1.id, at: at(D1, 9), run: run1, score: a85 }, ['captured', 'mql', 'sql']);
  await record({ leadId: l1.id, at: at(D1, 10), dealId: 'dl-1', rep: 'rep-ava', score: a85 }, ['assigned']);
  await record({ leadId: l1.id, at: at(D1, 12), dealId: 'dl-1', rep: 'rep-ava', score: a85 }, ['accepted']);
  await record({ leadId: l1.id, at: at(D2, 12), dealId: 'dl-1', rep: 'rep-ava', score: a85, amount: 1000 }, [
    'accepted',
    'won',
  ]);
  await record({ leadId: l2.id, at: at(D1, 9), run: runFactsOf(l2, config.reps), score: b62 }, [
    'captured',
    'mql',
  ]);
  await record({ leadId: l2.id, at: at(D2, 9), score: b62 }, ['mql', 'sql']);
  await record({ leadId: l2.id, at: at(D2, 13), dealId: 'dl-2', rep: 'rep-fay', score: b62 }, ['assigned']);
  await record(
    { leadId: l2.id, at: at(D2, 15), dealId: 'dl-2', rep: 'rep-fay', score: b62, lostReason: 'no-budget' },
    ['accepted', 'lost'],
  );
  await record({ leadId: l3.id, at: at(D2, 8), run: runFactsOf(l3, config.reps) }, ['captured']);
  return { l1, l2, l3 };
}

/** The scope of a lead's first run captured at `when`: what the capture step records milestones with. */
const capturedOn = (lead: ReturnType<typeof aLead>, when: string) => ({
  leadId: lead.id,
  execution: 'run-1',
  cycle: 0,
  at: when,
  run: runFactsOf(lead, config.reps),
});

describe('recording milestones', () => {
  it('counts a milestone once however often it is recorded (a retried step, a redelivered event)', async () => {
    const lead = aLead();
    const ctx = capturedOn(lead, at(D1, 9));
    const emitted = vi.spyOn(metrics, 'addMetric');
    expect(await recordMilestones(db, ctx, ['captured', 'mql'])).toEqual(['captured', 'mql']);
    expect(await recordMilestones(db, { ...ctx, at: at(D2, 9) }, ['captured', 'mql', 'sql'])).toEqual([
      'sql',
    ]);
    expect(counters(D1)).toEqual({ captured: 1, mql: 1 });
    expect(counters(D2)).toEqual({ sql: 1 });
    expect(emitted.mock.calls.map((c) => c[0])).toEqual(['LeadsCaptured', 'LeadsMQL', 'LeadsSQL']);
  });

  it('writes a step’s counters in one add and reads the earlier markers it needs in one call (none on a retry)', async () => {
    const lead = aLead();
    const ctx = capturedOn(lead, at(D1, 9));
    const add = vi.spyOn(db.funnel, 'add');
    const marker = vi.spyOn(db.funnel, 'marker');
    const markers = vi.spyOn(db.funnel, 'markers');
    await recordMilestones(db, ctx, ['captured', 'mql', 'sql']);
    expect(add).toHaveBeenCalledTimes(1);
    expect(markers).not.toHaveBeenCalled(); // Capture knows who the lead is
    const deal = { leadId: lead.id, execution: 'run-1', cycle: 0, dealId: 'dl-9', rep: 'rep-ava' };
    // Assigned: the run's facts and the duration's start are the same `captured` marker, read once.
    await recordMilestones(db, { ...deal, at: at(D1, 10) }, ['assigned']);
    expect(markers).toHaveBeenLastCalledWith(lead.id, ['run-1#0#captured', 'run-1#0#captured']);
    await recordMilestones(db, { ...deal, at: at(D1, 14), amount: 500 }, ['accepted', 'won']);
    await recordMilestones(db, { ...deal, at: at(D1, 14), amount: 500 }, ['accepted', 'won']);
    expect(marker).not.toHaveBeenCalled();
    expect(markers).toHaveBeenCalledTimes(2);
    expect(add).toHaveBeenCalledTimes(3);
    expect(counters(D1)).toMatchObject({ captured: 1, assigned: 1, accepted: 1, won: 1, revenueWon: 500 });
    // lead → assigned measured from the captured marker (1 h); accepted in the same call as won: no duration.
    expect(counters(D1)[`h:leadToAssigned:${bucketOf(3600)}`]).toBe(1);
    expect(Object.keys(counters(D1)).filter((k) => k.startsWith('h:acceptedToClosed'))).toEqual([]);
  });

  it('keeps the marker when the counters fail: logged and counted, never retried into a double count', async () => {
    const lead = aLead();
    const ctx = capturedOn(lead, at(D1, 9));
    vi.spyOn(db.funnel, 'add').mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'));
    const emitted = vi.spyOn(metrics, 'addMetric');
    expect(await recordMilestones(db, ctx, ['captured'])).toEqual(['captured']);
    expect(emitted).toHaveBeenCalledWith('FunnelCounterErrors', 'Count', 1);
    expect(await recordMilestones(db, ctx, ['captured'])).toEqual([]);
    expect(counters(D1)).toEqual({});
  });

  it('throws when the marker cannot be written, so the step retries and nothing is counted', async () => {
    const lead = aLead();
    vi.spyOn(db.funnel, 'mark').mockRejectedValueOnce(new Error('ThrottlingException'));
    const ctx = capturedOn(lead, at(D1, 9));
    await expect(recordMilestones(db, ctx, ['captured'])).rejects.toThrow('ThrottlingException');
    expect(counters(D1)).toEqual({});
  });

  it('a marker write that fails mid-step still counts the milestones marked before it; the retry counts the rest once', async () => {
    const lead = aLead();
    const ctx = capturedOn(lead, at(D1, 9));
    const mark = db.funnel.mark.bind(db.funnel);
    vi.spyOn(db.funnel, 'mark').mockImplementation(async (id, marker, value) => {
      if (marker.endsWith('#sql')) throw new Error('ThrottlingException');
      return mark(id, marker, value);
    });
    await expect(recordMilestones(db, ctx, ['captured', 'mql', 'sql'])).rejects.toThrow(
      'ThrottlingException',
    );
    expect(counters(D1)).toEqual({ captured: 1, mql: 1 });
    vi.mocked(db.funnel.mark).mockRestore();
    expect(await recordMilestones(db, ctx, ['captured', 'mql', 'sql'])).toEqual(['sql']);
    expect(counters(D1)).toEqual({ captured: 1, mql: 1, sql: 1 });
  });

  it('a milestone marked whose earlier markers cannot be read is reported for a rebuild, never silently lost', async () => {
    const lead = aLead();
    await recordMilestones(db, capturedOn(lead, at(D1, 9)), ['captured']);
    vi.spyOn(db.funnel, 'markers').mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'));
    const emitted = vi.spyOn(metrics, 'addMetric');
    const deal = { leadId: lead.id, execution: 'run-1', cycle: 0, dealId: 'dl-7', rep: 'rep-ava' };
    await expect(recordMilestones(db, { ...deal, at: at(D1, 10) }, ['assigned'])).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
    expect(emitted).toHaveBeenCalledWith('FunnelCounterErrors', 'Count', 1);
  });

  it('Capture run twice counts the lead once; Close deal replayed counts one win, an implied acceptance, no accepted → closed time', async () => {
    const hot = aLead({ formType: 'demo-request' });
    const input = await captureInput(db, hot, 'run-1', at(D1, 9));
    await captureWith(db)(input, aLambdaContext());
    await captureWith(db)(input, aLambdaContext());
    const today = new Date().toISOString().slice(0, 10);
    expect(counters(today)).toMatchObject({ captured: 1, mql: 1, sql: 1 });
    expect(counters(today, 'formType#demo-request')).toMatchObject({ captured: 1 });

    await db.leads.setStage(hot.id, 'assigned', at(D1, 10));
    const deal = { leadId: hot.id, executionName: 'run-1', repId: 'rep-ava', attempt: 1, previousReps: [] };
    await db.deals.create({
      ...deal,
      dealId: 'dl-1',
      stage: 'assigned',
      createdAt: at(D1, 10),
      updatedAt: at(D1, 10),
    });
    const close = {
      leadId: hot.id,
      dealId: 'dl-1',
      cycle: 1,
      outcome: { action: 'won' as const, amount: 900 },
    };
    await closeWith({ ...db, runs })(close, aLambdaContext());
    await closeWith({ ...db, runs })(close, aLambdaContext());
    const won = counters(today, 'rep#rep-ava');
    expect(won).toMatchObject({ accepted: 1, won: 1, revenueWon: 900, recycledWon: 1 });
    expect(Object.keys(won).filter((k) => k.startsWith('h:acceptedToClosed'))).toEqual([]);
  });

  it('a recycled loss opens the next cycle at MQL; erasing the lead removes its markers', async () => {
    const lead = aLead({ formType: 'contact' });
    await captureWith(db)(await captureInput(db, lead, 'run-1', at(D1, 9)), aLambdaContext());
    await db.leads.setStage(lead.id, 'sales-ready', at(D1, 10));
    await db.leads.setStage(lead.id, 'assigned', at(D1, 10));
    const deal = { leadId: lead.id, executionName: 'run-1', repId: 'rep-ava', attempt: 1, previousReps: [] };
    await db.deals.create({
      ...deal,
      dealId: 'dl-1',
      stage: 'accepted',
      createdAt: at(D1, 10),
      updatedAt: at(D1, 10),
    });
    await closeWith({ ...db, runs })(
      { leadId: lead.id, dealId: 'dl-1', cycle: 0, outcome: { action: 'lost', reason: 'not-now' } },
      aLambdaContext(),
    );
    expect(await db.funnel.marker(lead.id, 'run-1#1#mql')).toBeDefined();
    const today = new Date().toISOString().slice(0, 10);
    expect(counters(today)).toMatchObject({ captured: 1, mql: 2, lost: 1, 'lost:not-now': 1 });
    await db.leads.erase(lead.id);
    expect(await db.funnel.marker(lead.id, 'run-1#0#captured')).toBeUndefined();
    expect(await db.funnel.marker(lead.id, 'run-1#1#mql')).toBeUndefined();
  });
});

describe('the rep’s accept link', () => {
  const KEY = 'unit-test-signing-key-0123456789abcdef';
  const sfn = mockClient(SFNClient);
  const secrets = mockClient(SecretsManagerClient);
  beforeEach(() => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
    sfn.on(SendTaskSuccessCommand).resolves({});
  });
  afterEach(() => {
    sfn.reset();
    secrets.reset();
  });

  it('counts the acceptance once, with the rep’s response time from the assignment; a second click counts nothing', async () => {
    const lead = aLead();
    const assignedAt = new Date(Date.now() - 2 * 3600_000).toISOString();
    await recordMilestones(db, capturedOn(lead, assignedAt), ['captured']);
    await db.leads.capture(lead, 'run-1', assignedAt);
    const deal = aDeal({ leadId: lead.id, executionName: 'run-1', dealId: 'dl-1', createdAt: assignedAt });
    await db.deals.create(deal);
    await recordMilestones(
      db,
      { leadId: lead.id, execution: 'run-1', cycle: 0, dealId: 'dl-1', at: assignedAt, rep: 'rep-ava' },
      ['assigned'],
    );
    const url = `/deals/action?t=${signLink({ action: 'accept', subject: 'dl-1', audience: 'rep-ava', exp: Date.now() / 1000 + 3600 }, KEY)}`;
    const post = () =>
      repActionWith({ ...db, runs })(
        anHttpEvent('POST', url, { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        aLambdaContext(),
      );
    expect((await post()).statusCode).toBe(200);
    expect((await post()).statusCode).toBe(409);
    const today = new Date().toISOString().slice(0, 10);
    const ava = counters(today, 'rep#rep-ava');
    expect(ava.accepted).toBe(1);
    const [bucket] = Object.keys(ava).filter((k) => k.startsWith('h:assignedToAccepted:'));
    const [lo, hi] = bucketBounds(Number(bucket?.split(':')[2]));
    expect(2 * 3600).toBeGreaterThanOrEqual(lo);
    expect(2 * 3600).toBeLessThan(hi * 1.01);
  });
});

describe('funnel report', () => {
  it('gives the hand-computed counts, conversions, medians, revenue and lost reasons', async () => {
    await threeLeads();
    const report = await funnelReport(db, { from: D1, to: D2 });
    expect(report.stages).toEqual(['captured', 'mql', 'sql', 'assigned', 'accepted', 'won', 'lost']);
    expect(report.total.counts).toEqual({
      captured: 3,
      mql: 2,
      sql: 2,
      assigned: 2,
      accepted: 2,
      won: 1,
      lost: 1,
      stale: 0,
    });
    expect(report.total.conversion.map((c) => c.rate)).toEqual([0.6667, 1, 1, 1, 0.5, 0.5]);
    expect(report.total.revenueWon).toBe(1000);
    expect(report.total.lostReasons).toEqual({ 'no-budget': 1 });
    expect(report.total.recycledWon).toBe(0);
    // Lead → assigned: 1 h (L1) and 28 h (L2, from its capture); the histogram median sits between them.
    const { leadToAssigned, assignedToAccepted, acceptedToClosed } = report.total.medianHours;
    expect(leadToAssigned).toBe(Math.round((bucketBounds(bucketOf(3600))[1] / 3600) * 1e6) / 1e6);
    // Assigned → accepted: 2 h both (L2's implied by its loss); accepted → closed: L1's 24 h only.
    expect(Math.abs((assignedToAccepted ?? 0) / 2 - 1)).toBeLessThan(0.1);
    expect(Math.abs((acceptedToClosed ?? 0) / 24 - 1)).toBeLessThan(0.1);
    expect(report.rows).toEqual([]);
    expect(report.days).toEqual([
      { day: D1, counts: { captured: 2, mql: 2, sql: 1, assigned: 1, accepted: 1, won: 0, lost: 0 } },
      { day: D2, counts: { captured: 1, mql: 0, sql: 1, assigned: 1, accepted: 1, won: 1, lost: 1 } },
    ]);
  });

  it('breaks the funnel down by a dimension, one row per value', async () => {
    await threeLeads();
    const bySource = await funnelReport(db, { from: D1, to: D2, by: 'source' });
    expect(
      bySource.rows.map((r) => [r.key, r.counts.captured, r.counts.won, r.counts.lost, r.revenueWon]),
    ).toEqual([
      ['(none)', 2, 0, 1, 0],
      ['google', 1, 1, 0, 1000],
    ]);
    const byRep = await funnelReport(db, { from: D1, to: D2, by: 'rep' });
    expect(
      byRep.rows.map((r) => [r.key, r.counts.assigned, r.counts.accepted, r.counts.won, r.counts.lost]),
    ).toEqual([
      ['rep-ava', 1, 1, 1, 0],
      ['rep-fay', 1, 1, 0, 1],
    ]);
    const byTerritory = await funnelReport(db, { from: D1, to: D2, by: 'territory' });
    expect(byTerritory.rows.map((r) => [r.key, r.counts.captured])).toEqual([
      ['enterprise-na', 1],
      ['emea', 1],
      ['commercial', 1],
    ]);
    // Most captured first, then most assigned, then most won.
    // A day outside the range is not read.
    expect((await funnelReport(db, { from: D2, to: D2 })).total.counts.captured).toBe(1);
  });

  it('gives scoring feedback: outcome rates with Wilson intervals by grade, band and reason, and the best threshold', async () => {
    await threeLeads();
    const feedback = await scoringFeedbackReport(db, { from: D1, to: D2 });
    expect(feedback.byGrade.map((g) => [g.key, g.closed, g.won.rate, g.lost.rate])).toEqual([
      ['A', 1, 1, 0],
      ['B', 1, 0, 1],
      // Every configured grade, in grade order, those with no closed deal too.
      ['C', 0, null, null],
      ['D', 0, null, null],
    ]);
    expect(feedback.byGrade[0]?.won).toEqual({ count: 1, rate: 1, low: 0.2065, high: 1 });
    expect(feedback.byBand.map((b) => b.key)).toEqual(['60-69', '80-89']);
    expect(feedback.byReason.map((r) => [r.key, r.closed, r.won.count])).toEqual([
      ['Country: DE', 1, 0],
      ['demo-request', 1, 1],
      ['Title: VP or director', 1, 1],
    ]);
    expect(feedback.threshold.current).toBe(config.scoring.thresholds.salesReady);
    expect(feedback.threshold.table.find((r) => r.threshold === 60)).toMatchObject({ assigned: 2, won: 1 });
    // 1 of 1 at ≥ 70 has a higher lower bound than 1 of 2 at ≥ 60, but 2 closed deals are no evidence.
    expect(feedback.threshold.best).toBe(feedback.threshold.current);
    expect(feedback.threshold.reason).toBe(
      'not enough closed deals to recommend a change (n = 2; at least 30 needed)',
    );
    expect(feedback.threshold.rule).toMatch(/Wilson lower bound/);
  });

  it('puts the ratings reps gave beside the outcomes, and what reps say by source, campaign and form', async () => {
    await db.funnel.add(D1, {
      'grade#A': { won: 1, 'rated:good-fit': 2 },
      'grade#B': { lost: 1, 'rated:wrong-timing': 1 },
      'source#google': { won: 1, 'rated:good-fit': 2 },
      'source#(none)': { lost: 1, 'rated:wrong-timing': 1 },
      'campaign#q4': { won: 1, 'rated:good-fit': 2 },
      'formType#demo-request': { captured: 3 },
    });
    const feedback = await scoringFeedbackReport(db, { from: D1, to: D2 });
    expect(feedback.byGrade.map((g) => [g.key, g.ratings])).toEqual([
      ['A', { 'good-fit': 2, 'wrong-fit': 0, 'wrong-timing': 0 }],
      ['B', { 'good-fit': 0, 'wrong-fit': 0, 'wrong-timing': 1 }],
      ['C', { 'good-fit': 0, 'wrong-fit': 0, 'wrong-timing': 0 }],
      ['D', { 'good-fit': 0, 'wrong-fit': 0, 'wrong-timing': 0 }],
    ]);
    const base = { leadId: 'ld-1', dealId: 'dl-1', repId: 'rep-ava', formType: 'demo-request' } as const;
    for (const [i, at] of [
      `${D1}T09:00:00.000Z`,
      `${D2}T09:00:00.000Z`,
      '2026-11-05T09:00:00.000Z',
    ].entries())
      await db.repNotes.put({ ...base, dealId: `dl-${i}`, action: 'won', at, note: `note ${i}` });
    const reps = await repFeedbackReport(db, { from: D1, to: D2 });
    expect(reps.by.source.map((r) => [r.key, r.rated, r.won, r.lost])).toEqual([
      ['google', 2, 1, 0],
      ['(none)', 1, 0, 1],
    ]);
    expect(reps.by.campaign.map((r) => r.key)).toEqual(['q4']);
    // A value with no rating and no closed deal is left out.
    expect(reps.by.formType).toEqual([]);
    // The range's notes only, newest first.
    expect(reps.notes.map((n) => n.note)).toEqual(['note 1', 'note 0']);
    expect(reps.notesTruncated).toBe(false);
  });
});

describe('GET /admin/funnel and /admin/scoring-feedback', () => {
  const get = async (url: string) => {
    const res = await adminWith(db)(anHttpEvent('GET', url), aLambdaContext());
    return { status: res.statusCode, body: JSON.parse(String(res.body)) };
  };

  it('answers the report for the range and dimension asked', async () => {
    await threeLeads();
    const { status, body } = await get(`/admin/funnel?from=${D1}&to=${D2}&by=rep`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ from: D1, to: D2, by: 'rep', total: { counts: { captured: 3, won: 1 } } });
    expect(body.rows).toHaveLength(2);
    const feedback = await get(`/admin/scoring-feedback?from=${D1}&to=${D2}`);
    expect(feedback.status).toBe(200);
    expect(feedback.body.byGrade).toHaveLength(config.scoring.grades.length);
  });

  it('defaults to the last 30 days up to today', async () => {
    const { status, body } = await get('/admin/funnel');
    expect(status).toBe(200);
    expect(body.days).toHaveLength(30);
    expect(body.to).toBe(new Date().toISOString().slice(0, 10));
    expect(reportQuery({}, new Date('2026-03-01T12:00:00Z'))).toEqual({
      from: '2026-01-31',
      to: '2026-03-01',
    });
  });

  it.each([
    ['/admin/funnel?from=2026-02-30&to=2026-03-02', 'from', 'must be a date as YYYY-MM-DD, not "2026-02-30"'],
    ['/admin/funnel?from=yesterday', 'from', 'must be a date as YYYY-MM-DD, not "yesterday"'],
    ['/admin/funnel?from=2026-11-03&to=2026-11-02', 'from', 'must not be after to'],
    [
      '/admin/funnel?from=2025-01-01&to=2026-01-02',
      'to',
      'must be at most 365 days after from (a range of at most 366 days)',
    ],
    [
      '/admin/funnel?from=2023-03-01&to=2024-03-01',
      'to',
      'must be at most 365 days after from (a range of at most 366 days)',
    ],
    [
      '/admin/funnel?by=colour',
      'by',
      'must be one of: source, medium, campaign, formType, territory, rep, grade, band, reason',
    ],
    ['/admin/scoring-feedback?to=2026-11-2', 'to', 'must be a date as YYYY-MM-DD, not "2026-11-2"'],
    ['/admin/scoring-feedback?to=', 'to', 'must be a date as YYYY-MM-DD (it is empty)'],
  ])('answers 400 for %s', async (url, field, message) => {
    const { status, body } = await get(url);
    expect(status).toBe(400);
    expect(body.fields[field]).toEqual([message]);
    // Only the field that is wrong (an empty or bad `to` is not reported as a `from` error).
    expect(Object.keys(body.fields)).toEqual([field]);
  });

  it('reportQuery: the message and the check agree at the edge (365 days after from is the last allowed)', () => {
    expect(reportQuery({ from: '2023-03-01', to: '2024-02-29' })).toEqual({
      from: '2023-03-01',
      to: '2024-02-29',
    });
    expect(() => reportQuery({ to: '' })).toThrow(ValidationError);
    try {
      reportQuery({ to: '' });
    } catch (e) {
      expect((e as ValidationError).fieldErrors).toEqual({
        to: ['must be a date as YYYY-MM-DD (it is empty)'],
      });
    }
  });

  it('accepts a range of exactly 366 days', async () => {
    expect((await get('/admin/funnel?from=2024-01-01&to=2024-12-31')).status).toBe(200);
  });
});
