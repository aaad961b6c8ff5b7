import { describe, expect, it } from 'vitest';
import { milestonesFromHistory } from '#analytics/funnel-history.ts';
import {
  bandOf,
  bestThreshold,
  bucketBounds,
  bucketOf,
  conversions,
  isDay,
  MIN_CLOSED_FOR_CHANGE,
  MIN_LOWER_BOUND_GAIN,
  medianOf,
  wilson,
} from '#functions/funnel/funnel.ts';
import {
  allCountersOf,
  cohortCountersOf,
  countersOf,
  markerOf,
  reasonKey,
  runFactsOf,
  scoreFactsOf,
} from '#functions/funnel/funnel-counters.ts';
import { config } from '#test/fixtures/config.ts';
import { aLead } from '#test/fixtures/leads.ts';

describe('conversion', () => {
  it('divides each stage by the one before it in the same period, null when nothing entered it', () => {
    const counts = { captured: 20, mql: 10, sql: 6, assigned: 6, accepted: 4, won: 2, lost: 1 };
    expect(conversions(counts)).toEqual([
      { from: 'captured', to: 'mql', rate: 0.5 },
      { from: 'mql', to: 'sql', rate: 0.6 },
      { from: 'sql', to: 'assigned', rate: 1 },
      { from: 'assigned', to: 'accepted', rate: 0.6667 },
      { from: 'accepted', to: 'won', rate: 0.5 },
      { from: 'accepted', to: 'lost', rate: 0.25 },
    ]);
    expect(conversions({ ...counts, accepted: 0 }).at(-1)?.rate).toBeNull();
  });

  it('is a flow, not a cohort: more can be won in a period than were accepted in it', () => {
    const counts = { captured: 0, mql: 0, sql: 0, assigned: 0, accepted: 2, won: 3, lost: 0 };
    expect(conversions(counts).find((c) => c.to === 'won')?.rate).toBe(1.5);
  });
});

describe('duration histograms', () => {
  it('puts every duration in a bucket that contains it, four buckets per doubling', () => {
    for (const seconds of [0, 0.4, 1, 1.5, 2, 59.9, 60, 61, 3600, 86_400 * 3.3, 86_400 * 400]) {
      const [lo, hi] = bucketBounds(bucketOf(seconds));
      expect(seconds).toBeGreaterThanOrEqual(lo);
      expect(seconds).toBeLessThan(hi);
    }
    expect(bucketOf(16) - bucketOf(8)).toBe(4);
  });

  it('finds the median within half a bucket (under 10 %)', () => {
    const hist = (values: number[]) =>
      values.reduce<Record<number, number>>((h, v) => {
        h[bucketOf(v)] = (h[bucketOf(v)] ?? 0) + 1;
        return h;
      }, {});
    // 60 s, 120 s, 1 h: the middle one is 120 s, estimated as the geometric middle of its bucket.
    const [lo, hi] = bucketBounds(bucketOf(120));
    expect(medianOf(hist([60, 120, 3600]))).toBeCloseTo(Math.sqrt(lo * hi), 6);
    expect(Math.abs((medianOf(hist([60, 120, 3600])) ?? 0) / 120 - 1)).toBeLessThan(0.1);
    const hours = [2, 3, 5, 8, 13, 21, 34, 55, 89].map((h) => h * 3600);
    expect(Math.abs((medianOf(hist(hours)) ?? 0) / (13 * 3600) - 1)).toBeLessThan(0.1);
    expect(medianOf({})).toBeNull();
    expect(medianOf({ 0: 2 })).toBe(0.5);
  });
});

describe('Wilson score interval (95 %)', () => {
  it('matches the textbook values', () => {
    expect(wilson(5, 10)).toEqual({ count: 5, rate: 0.5, low: 0.2366, high: 0.7634 });
    expect(wilson(0, 10)).toEqual({ count: 0, rate: 0, low: 0, high: 0.2775 });
    expect(wilson(30, 300).low).toBeCloseTo(0.0711, 3);
  });

  it('trusts 3 cases less than 300 with the same rate, and says nothing about none', () => {
    const few = wilson(2, 3);
    const many = wilson(200, 300);
    expect(few.rate).toBe(many.rate);
    expect(few.high - few.low).toBeGreaterThan(3 * (many.high - many.low));
    expect(wilson(0, 0)).toEqual({ count: 0, rate: null, low: 0, high: 1 });
  });
});

describe('best sales-ready threshold', () => {
  it('maximises the Wilson lower bound of won per closed assignment among leads scoring ≥ t', () => {
    const bands = [
      { band: '40-49', won: 1, closed: 20 },
      { band: '60-69', won: 12, closed: 40 },
      { band: '70-79', won: 20, closed: 40 },
      { band: '90-100', won: 2, closed: 2 },
    ];
    const { best, reason, table } = bestThreshold(bands, 65);
    expect(table.map((r) => [r.threshold, r.assigned, r.won])).toEqual([
      [0, 102, 35],
      [10, 102, 35],
      [20, 102, 35],
      [30, 102, 35],
      [40, 102, 35],
      [50, 82, 34],
      [60, 82, 34],
      [70, 42, 22],
      [80, 2, 2],
      [90, 2, 2],
    ]);
    // 2 of 2 at ≥ 80 is a 100 % rate, but its lower bound (0.34) loses to 22 of 42 (0.38).
    expect(table.find((r) => r.threshold === 90)?.rate).toBe(1);
    expect(best).toBe(70);
    expect(reason).toMatch(/^≥ 70 wins .* against .* at the current threshold \(n = 82\)$/);
  });

  it('keeps the current threshold without closed deals', () => {
    expect(bestThreshold([], 65)).toMatchObject({ best: 65, reason: 'no closed deals in the period' });
  });

  it('keeps the current threshold when a few closed deals cannot tell thresholds apart (the demo: 1 of 2)', () => {
    const { best, reason, table } = bestThreshold(
      [
        { band: '60-69', won: 0, closed: 1 },
        { band: '70-79', won: 1, closed: 1 },
      ],
      65,
    );
    // ≥ 70 has the higher lower bound (1 of 1), yet 2 deals are no evidence for a change.
    expect(table.find((r) => r.threshold === 70)?.low).toBeGreaterThan(
      Number(table.find((r) => r.threshold === 60)?.low),
    );
    expect(best).toBe(65);
    expect(reason).toBe('not enough closed deals to recommend a change (n = 2; at least 30 needed)');
  });

  it('keeps the current threshold when another is better by less than the margin', () => {
    const bands = [
      { band: '60-69', won: 10, closed: 40 },
      { band: '70-79', won: 16, closed: 40 },
    ];
    const { best, reason, table } = bestThreshold(bands, 65);
    const low = (t: number) => Number(table.find((r) => r.threshold === t)?.low);
    expect(low(70)).toBeGreaterThan(low(60));
    expect(low(70) - low(60)).toBeLessThan(MIN_LOWER_BOUND_GAIN);
    expect(best).toBe(65);
    expect(reason).toMatch(/^no threshold beats the current one by 5 points/);
  });

  it('needs the minimum of closed assignments at the recommended threshold itself', () => {
    // ≥ 80: 20 of 20 beats ≥ 60 (5 of 60) by far, but 20 < 30 closed assignments.
    const bands = [
      { band: '60-69', won: 5, closed: 60 },
      { band: '80-89', won: 20, closed: 20 },
    ];
    const { best, table } = bestThreshold(bands, 65);
    expect(table.find((r) => r.threshold === 80)?.assigned).toBeLessThan(MIN_CLOSED_FOR_CHANGE);
    expect(best).not.toBe(80);
  });
});

describe('funnel counters', () => {
  const lead = aLead({ utmSource: 'google', utmMedium: 'cpc', utmCampaign: 'q4', formType: 'pricing' });
  const run = runFactsOf(lead, config.reps);
  const score = scoreFactsOf({
    total: 72,
    grade: 'B',
    reasons: [
      { label: 'Title: VP or director' },
      { label: 'pricing (today)' },
      { label: 'email-click (3d ago)' },
      { label: 'email-click (5d ago)' },
    ],
  });

  it('keys bands, reasons and days so a report reads them back', () => {
    expect([bandOf(0), bandOf(9), bandOf(65), bandOf(99), bandOf(100)]).toEqual([
      '0-9',
      '0-9',
      '60-69',
      '90-100',
      '90-100',
    ]);
    expect(reasonKey('demo-request (12d ago)')).toBe('demo-request');
    expect(score.reasons).toEqual(['Title: VP or director', 'email-click', 'pricing']);
    expect(run).toEqual({
      formType: 'pricing',
      source: 'google',
      medium: 'cpc',
      campaign: 'q4',
      territory: 'enterprise-na',
    });
    expect(isDay('2026-02-28')).toBe(true);
    expect(isDay('2026-02-30')).toBe(false);
    expect(isDay('2026-13-01')).toBe(false);
  });

  it('counts a milestone in its run’s cohort too, on the capture day: each stage once a run', () => {
    const base = { at: '2026-12-03T10:00:00.000Z', run, capturedAt: '2026-11-30T10:00:00.000Z' };
    const sql = cohortCountersOf({ ...base, milestone: 'sql', cycle: 0 });
    expect(sql?.day).toBe('2026-11-30');
    expect(Object.keys(sql?.items ?? {}).sort()).toEqual([
      'cohort#all',
      'cohort-campaign#q4',
      'cohort-formType#pricing',
      'cohort-source#google',
    ]);
    // 3 days after the capture: in the bucket that holds 259,200 s.
    expect(sql?.items['cohort#all']).toEqual({ sql: 1, [`h:sql:${bucketOf(259_200)}`]: 1 });
    // A later cycle's stages were reached in cycle 0 already; its win counts (a run wins once).
    expect(cohortCountersOf({ ...base, milestone: 'mql', cycle: 1 })).toBeUndefined();
    expect(
      cohortCountersOf({ ...base, milestone: 'won', cycle: 1, amount: 900 })?.items['cohort#all'],
    ).toMatchObject({
      won: 1,
      revenueWon: 900,
    });
    // Not a stage a cohort reaches, or no capture time (a run older than the markers): nothing.
    expect(cohortCountersOf({ ...base, milestone: 'lost', cycle: 0 })).toBeUndefined();
    expect(cohortCountersOf({ at: base.at, run, milestone: 'sql', cycle: 0 })).toBeUndefined();
    // The flow's day and the cohort's: two writes' worth, or one day when the capture was the same day.
    expect(allCountersOf({ ...base, milestone: 'sql', cycle: 0 }).map((c) => c.day)).toEqual([
      '2026-12-03',
      '2026-11-30',
    ]);
  });

  it('adds a won deal to the total and to each dimension value: revenue, a recycled win, the duration', () => {
    const { day, items } = countersOf({
      milestone: 'won',
      at: '2026-11-27T23:59:59.000Z',
      cycle: 1,
      run,
      score,
      rep: 'rep-ava',
      amount: 48_000,
      durations: { acceptedToClosed: 3600 },
    });
    expect(day).toBe('2026-11-27');
    expect(Object.keys(items).sort()).toEqual(
      [
        'all#all',
        'source#google',
        'medium#cpc',
        'campaign#q4',
        'formType#pricing',
        'territory#enterprise-na',
        'rep#rep-ava',
        'grade#B',
        'band#70-79',
        'reason#Title: VP or director',
        'reason#email-click',
        'reason#pricing',
      ].sort(),
    );
    expect(items['all#all']).toEqual({
      won: 1,
      revenueWon: 48_000,
      recycledWon: 1,
      [`h:acceptedToClosed:${bucketOf(3600)}`]: 1,
    });
    const lost = countersOf({
      milestone: 'lost',
      at: '2026-11-27T10:00:00Z',
      cycle: 0,
      run,
      lostReason: 'no-budget',
    });
    expect(lost.items['source#google']).toEqual({ lost: 1, 'lost:no-budget': 1 });
    expect(lost.items['rep#rep-ava']).toBeUndefined();
  });

  it('marks run milestones per run and cycle, deal milestones per deal', () => {
    expect(markerOf('captured', { execution: 'run-1', cycle: 3 })).toBe('run-1#0#captured');
    expect(markerOf('mql', { execution: 'run-1', cycle: 1 })).toBe('run-1#1#mql');
    expect(markerOf('won', { execution: 'run-1', dealId: 'dl-1' })).toBe('dl-1#won');
    expect(markerOf('won', { execution: 'run-1' })).toBeUndefined();
  });
});

describe('milestones from a lead’s history (the rebuild)', () => {
  const lead = aLead({ formType: 'content-download' });
  const t = (minutes: number) => new Date(Date.UTC(2026, 10, 27, 9, minutes)).toISOString();
  const deals = new Map([
    ['dl-1', { repId: 'rep-ben', lostReason: 'not-now' }],
    ['dl-2', { repId: 'rep-ava', amount: 900 }],
  ]);
  const events = [
    { type: 'form', at: t(0), data: { formType: 'content-download', executionName: 'run-1', merged: false } },
    {
      type: 'scored',
      at: t(1),
      data: { total: 40, grade: 'C', route: 'nurture', reasons: ['x'], territory: 'emea' },
    },
    {
      type: 'nurture-decided',
      at: t(10),
      data: { next: 'sales-ready', total: 70, grade: 'B', reasons: ['y'] },
    },
    { type: 'assigned', at: t(12), data: { dealId: 'dl-1', repId: 'rep-ava' } },
    { type: 'reassigned', at: t(20), data: { dealId: 'dl-1', from: 'rep-ava', to: 'rep-ben' } },
    { type: 'rep-accept', at: t(22), data: { dealId: 'dl-1', repId: 'rep-ben' } },
    {
      type: 'closed',
      at: t(30),
      data: { dealId: 'dl-1', stage: 'lost', lostReason: 'not-now', recycled: true },
    },
    {
      type: 'nurture-decided',
      at: t(40),
      data: { next: 'sales-ready', total: 80, grade: 'A', reasons: ['z'] },
    },
    { type: 'assigned', at: t(41), data: { dealId: 'dl-2', repId: 'rep-ava' } },
    { type: 'closed', at: t(45), data: { dealId: 'dl-2', stage: 'won', amount: 900, recycled: false } },
    // A later submission merged into the run, and one delivered to it: neither starts a run.
    { type: 'form', at: t(46), data: { formType: 'pricing', executionName: 'run-2', merged: true } },
  ];
  const derived = milestonesFromHistory(lead, events, deals, { reps: config.reps, gradeOf: () => '?' });

  it('finds each milestone once, with the cycle a recycle opened', () => {
    expect(derived.map((m) => m.marker)).toEqual([
      'run-1#0#captured',
      'run-1#0#mql',
      'run-1#0#sql',
      'dl-1#assigned',
      'dl-1#accepted',
      'dl-1#lost',
      'run-1#1#mql',
      'run-1#1#sql',
      'dl-2#assigned',
      'dl-2#accepted',
      'dl-2#won',
    ]);
    expect(derived[0]?.facts).toEqual({ formType: 'content-download', territory: 'emea' });
    const won = derived.at(-1)?.event;
    expect(won).toMatchObject({
      cycle: 1,
      rep: 'rep-ava',
      amount: 900,
      score: { grade: 'A', reasons: ['z'] },
    });
  });

  it('measures durations from the milestone that starts them; an acceptance implied by a win has none after it', () => {
    const durations = Object.fromEntries(derived.map((m) => [m.marker, m.event.durations]));
    expect(durations['dl-1#assigned']).toEqual({ leadToAssigned: 11 * 60 });
    expect(durations['dl-1#accepted']).toEqual({ assignedToAccepted: 10 * 60 });
    expect(durations['dl-1#lost']).toEqual({ acceptedToClosed: 8 * 60 });
    // Cycle 1 starts at the recycle (its MQL), not at the first capture.
    expect(durations['dl-2#assigned']).toEqual({ leadToAssigned: 11 * 60 });
    expect(durations['dl-2#accepted']).toEqual({ assignedToAccepted: 4 * 60 });
    expect(durations['dl-2#won']).toEqual({});
  });

  it('grades a deal with the score its rep was shown, not one a later form gave the lead', () => {
    const shown = (total: number, grade: string, reasons: string[]) => ({
      total,
      fit: total,
      engagement: 0,
      grade,
      reasons,
      profile: { formType: 'demo-request' },
    });
    const history = [
      { type: 'form', at: t(0), data: { formType: 'demo-request', executionName: 'run-9', merged: false } },
      {
        type: 'scored',
        at: t(1),
        data: { total: 70, grade: 'B', route: 'sales-ready', reasons: ['demo'], territory: 'emea' },
      },
      {
        type: 'assigned',
        at: t(2),
        data: { dealId: 'dl-9', repId: 'rep-ava', seen: shown(70, 'B', ['demo']) },
      },
      // A later form re-scores the lead while the deal is open (the run's score moves on).
      {
        type: 'scored',
        at: t(3),
        data: { total: 95, grade: 'A', route: 'sales-ready', reasons: ['pricing'] },
      },
      {
        type: 'nurture-decided',
        at: t(4),
        data: { next: 'sales-ready', total: 95, grade: 'A', reasons: ['x'] },
      },
      {
        type: 'reassigned',
        at: t(5),
        data: { dealId: 'dl-9', from: 'rep-ava', to: 'rep-ben', seen: shown(80, 'A', ['seen-by-ben']) },
      },
      { type: 'rep-accept', at: t(6), data: { dealId: 'dl-9', repId: 'rep-ben' } },
      { type: 'closed', at: t(7), data: { dealId: 'dl-9', stage: 'won', amount: 10, recycled: false } },
    ];
    const out = milestonesFromHistory(lead, history, new Map([['dl-9', { repId: 'rep-ben' }]]), {
      reps: config.reps,
      gradeOf: () => '?',
    });
    const score = (marker: string) => out.find((m) => m.marker === marker)?.event.score;
    expect(score('dl-9#assigned')).toEqual({ total: 70, grade: 'B', reasons: ['demo'] });
    // Ben was shown the reassignment's snapshot: his acceptance and the win are graded with it.
    expect(score('dl-9#accepted')).toEqual({ total: 80, grade: 'A', reasons: ['seen-by-ben'] });
    expect(score('dl-9#won')).toEqual({ total: 80, grade: 'A', reasons: ['seen-by-ben'] });
  });
});
