import { describe, expect, it } from 'vitest';
import {
  BacktestInputError,
  backtest,
  CLOSED_STAGES,
  cutoffFor,
  parseRules,
  parseSince,
} from '#analytics/backtest.ts';
import {
  type ClosedLead,
  closedDeals,
  type Journey,
  journeyStart,
  replayJourney,
  type StoredEvent,
} from '#analytics/journey.ts';
import type { ScoringConfig } from '#functions/config/schema.ts';
import type { LeadStage } from '#functions/lead/lead-stage.ts';
import { config } from '#test/fixtures/config.ts';
import { aLead } from '#test/fixtures/leads.ts';

const current = config.scoring;
const DAY = 86_400_000;
const T0 = Date.parse('2026-11-02T10:00:00.000Z');
/** `day` days after T0, as stored. */
const t = (day: number) => new Date(T0 + day * DAY).toISOString();
const SINCE = t(-90);

/** The current rules with some fields changed (a candidate scoring.json). */
const candidateWith = (change: (r: ScoringConfig) => void): ScoringConfig => {
  const rules = structuredClone(current);
  rules.version = 'candidate';
  change(rules);
  return rules;
};

const form = (at: string, formType: string, extra: Record<string, unknown> = {}): StoredEvent => ({
  type: 'form',
  at,
  data: { formType, executionName: 'run', merged: false, ...extra },
});
const click = (at: string): StoredEvent => ({
  type: 'email-click',
  at,
  data: { host: 'handoff.example', path: '/guide' },
});
const assigned = (at: string, dealId: string): StoredEvent => ({
  type: 'assigned',
  at,
  data: { dealId, repId: 'ava', team: 'enterprise-na' },
});
const closed = (
  at: string,
  dealId: string,
  stage: 'won' | 'lost' | 'stale',
  recycled = false,
): StoredEvent => ({
  type: 'closed',
  at,
  data: { dealId, stage, recycled, ...(stage === 'won' ? { amount: 1000 } : {}) },
});

let n = 0;
/** A closed lead (enterprise VP in the US: fit 90 under the current rules) and its timeline. */
function journey(
  stage: LeadStage,
  events: StoredEvent[],
  profile: Partial<ClosedLead> = {},
  endedAt = events
    .map((e) => e.at)
    .sort()
    .at(-1) ?? t(0),
): Journey {
  n += 1;
  const lead = aLead({ email: `lead.${n}@acme-robotics.com`, ...profile });
  return {
    lead: {
      ...lead,
      stage,
      updatedAt: endedAt,
      capturedAt: events[0]?.at ?? endedAt,
      score: { rulesVersion: current.version },
      ...profile,
    },
    events,
  };
}
/** A demo request handed straight to a rep, who closes the deal. */
const demoToDeal = (stage: 'won' | 'lost', profile: Partial<ClosedLead> = {}, day = 0) =>
  journey(
    stage,
    [
      form(t(day), 'demo-request'),
      assigned(t(day + 0.01), `dl-${n + 1}`),
      closed(t(day + 5), `dl-${n + 1}`, stage),
    ],
    profile,
  );

describe('parseSince', () => {
  it.each([
    ['90d', 90],
    ['1d', 1],
    ['12w', 84],
  ])('reads %s as %i days', (text, days) => {
    expect(parseSince(text)).toBe(days);
  });

  it.each(['3m', '90', 'd', '0d', '-5d', '1.5w', '90 days', ''])('rejects "%s" clearly', (text) => {
    expect(() => parseSince(text)).toThrow(BacktestInputError);
    expect(() => parseSince(text)).toThrow(/--since must be a number of days or weeks such as 90d or 12w/);
  });

  it('counts the cutoff back from now', () => {
    expect(cutoffFor(7, new Date(t(7)))).toBe(t(0));
  });
});

describe('parseRules', () => {
  it('accepts the current scoring.json', () => {
    expect(parseRules(JSON.stringify(current), 'config/scoring.json').version).toBe(current.version);
  });

  it('names the file, the field and the problem of every error', () => {
    const bad = structuredClone(current) as unknown as Record<string, Record<string, unknown>>;
    (bad.thresholds as Record<string, unknown>).salesReady = 140;
    (bad.intent as Record<string, unknown>).halfLifeDays = -1;
    const error = (() => {
      try {
        parseRules(JSON.stringify(bad), 'candidate.json');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(BacktestInputError);
    expect(error?.message).toContain('candidate.json: thresholds.salesReady: must be at most 100');
    expect(error?.message).toContain('candidate.json: intent.halfLifeDays: must be positive');
  });

  it('reports a file that is not JSON', () => {
    expect(() => parseRules('{ "version": ', 'candidate.json')).toThrow(
      /candidate\.json: \(file\): not valid JSON/,
    );
  });
});

describe('replayJourney', () => {
  it('hands a demo request to sales at capture', () => {
    const j = demoToDeal('won');
    expect(replayJourney(j, current)).toEqual({ outcome: 'sales', salesAt: t(0) });
  });

  it('rescores a nurtured lead at each form and click and hands it over the first time it is sales-ready', () => {
    // content-download: (90 + 20) / 2 = 55 · +click two days on: (90 + 18 + 10) / 2 = 59 · pricing: 80.
    const j = journey('lost', [
      form(t(0), 'content-download'),
      click(t(2)),
      form(t(5), 'pricing', { delivered: true }),
      assigned(t(5.01), 'dl-x'),
      closed(t(9), 'dl-x', 'lost'),
    ]);
    expect(replayJourney(j, current)).toEqual({ outcome: 'sales', salesAt: t(5) });
    const lower = candidateWith((r) => {
      r.thresholds.salesReady = 58;
    });
    expect(replayJourney(j, lower)).toEqual({ outcome: 'sales', salesAt: t(2) });
  });

  it('disqualifies only at capture; a nurtured lead whose score fades stays in nurture', () => {
    const j = journey('nurtured', [form(t(0), 'newsletter'), click(t(40))], {
      title: 'Engineer',
      companySize: 20,
      industry: 'retail',
      country: 'BR',
    });
    // fit 5 + 10 = 15, newsletter 5: (15 + 5) / 2 = 10, right at the floor: nurture; a floor of 11 disqualifies.
    expect(replayJourney(j, current).outcome).toBe('nurture');
    const floor = candidateWith((r) => {
      r.thresholds.disqualifyBelow = 11;
    });
    expect(replayJourney(j, floor).outcome).toBe('disqualified');
  });

  it('replays a lead with no events on its profile alone', () => {
    const j = journey('nurtured', [], {}, t(30));
    expect(journeyStart(j)).toBe(t(30));
    expect(replayJourney(j, current)).toEqual({ outcome: 'nurture' });
    const fitOnly = candidateWith((r) => {
      r.thresholds.salesReady = 45;
    });
    expect(replayJourney(j, fitOnly)).toEqual({ outcome: 'sales', salesAt: t(30) });
  });

  it('replays the last run of a lead that came back: forms handed to a run or merged start none', () => {
    const j = journey('won', [
      form(t(-60), 'newsletter'),
      form(t(0), 'content-download'),
      form(t(0.5), 'contact', { merged: true }),
      form(t(1), 'demo-request', { delivered: true }),
      assigned(t(1.01), 'dl-y'),
      closed(t(3), 'dl-y', 'won'),
    ]);
    expect(journeyStart(j)).toBe(t(0));
    expect(replayJourney(j, current)).toEqual({ outcome: 'sales', salesAt: t(0.5) });
  });
});

describe('closedDeals', () => {
  it('grades each deal at its own hand-off, counting engagement only since a recycle', () => {
    const j = journey('won', [
      form(t(0), 'demo-request'),
      assigned(t(0.01), 'dl-1'),
      closed(t(3), 'dl-1', 'lost', true),
      form(t(10), 'pricing', { delivered: true }),
      assigned(t(10.01), 'dl-2'),
      closed(t(20), 'dl-2', 'won'),
    ]);
    const deals = closedDeals(j, SINCE);
    expect(deals.map((d) => [d.dealId, d.outcome, d.handedAt])).toEqual([
      ['dl-1', 'lost', t(0.01)],
      ['dl-2', 'won', t(10.01)],
    ]);
    // Second hand-off: pricing only, (90 + 45) / 2 = 68, grade B. Had the old demo request counted, A.
    const result = backtest([j], current, current, SINCE);
    expect(result.winRate.current.find((g) => g.grade === 'B')).toEqual({
      grade: 'B',
      won: 1,
      closed: 2,
      rate: 0.5,
    });
    expect(result.winRate.current.find((g) => g.grade === 'A')?.closed).toBe(0);
  });

  it('falls back to the lead stage when the timeline has no close, and counts the gap', () => {
    const j = journey('stale', [form(t(0), 'demo-request'), assigned(t(0.01), 'dl-3')], {}, t(4));
    expect(closedDeals(j, SINCE)).toEqual([
      expect.objectContaining({
        outcome: 'stale',
        closedAt: t(4),
        handedAt: t(0.01),
        closeEventFound: false,
      }),
    ]);
    expect(backtest([j], current, current, SINCE).gaps.dealsWithoutCloseEvent).toBe(1);
  });
});

describe('backtest', () => {
  it('lists won leads the candidate would disqualify, by id only', () => {
    const won = demoToDeal('won');
    const lost = demoToDeal('lost', { email: 'sam@other-corp.com', emailDomain: 'other-corp.com' });
    const candidate = candidateWith((r) => {
      r.negative.competitorDomains.push('acme-robotics.com');
    });
    const result = backtest([won, lost], current, candidate, SINCE);
    expect(result.wonDisqualified).toEqual([won.lead.id]);
    expect(result.winRate.notHandedOverByCandidate).toEqual({ closed: 1, won: 1 });
    // The won deal the candidate would never have had is not in its win rates: only the lost one is.
    const candidateClosed = result.winRate.candidate.reduce((n, g) => n + g.closed, 0);
    const candidateWon = result.winRate.candidate.reduce((n, g) => n + g.won, 0);
    expect({ candidateClosed, candidateWon }).toEqual({ candidateClosed: 1, candidateWon: 0 });
    expect(result.winRate.candidate.find((g) => g.grade === 'D')).toMatchObject({ won: 0, closed: 0 });
    expect(result.winRate.current.reduce((n, g) => n + g.closed, 0)).toBe(2);
    expect(result.routing.sales).toEqual({ sales: 1, nurture: 0, disqualified: 1 });
    expect(result.changed).toBe(1);
    expect(result.changes).toEqual([
      { leadId: won.lead.id, current: 'sales', candidate: 'disqualified', won: true },
    ]);
    expect(JSON.stringify(result)).not.toMatch(/@|acme-robotics\.com|Jordan/);
  });

  it('counts leads that reach sales sooner and later, with the median shift', () => {
    const nurtured = (clickDay: number) =>
      journey('lost', [
        form(t(0), 'content-download'),
        click(t(clickDay)),
        form(t(5), 'pricing', { delivered: true }),
        assigned(t(5.01), `dl-s${clickDay}`),
        closed(t(9), `dl-s${clickDay}`, 'lost'),
      ]);
    // Pricing at capture: (90 + 45) / 2 = 68 ≥ 65; at 70 it waits for the click a day later: 72.
    const pricing = journey('won', [
      form(t(0), 'pricing'),
      click(t(1)),
      assigned(t(1.01), 'dl-p'),
      closed(t(8), 'dl-p', 'won'),
    ]);
    const candidate = candidateWith((r) => {
      r.thresholds.salesReady = 58;
      r.intent.formTypes.pricing = 35;
    });
    // The candidate reaches 58 at the click (day 1 or 3) for the two content leads instead of at pricing
    // (day 5); pricing at 35 still gives (90 + 35) / 2 = 63 ≥ 58 at capture, so that lead is unchanged.
    const result = backtest([nurtured(1), nurtured(3), pricing], current, candidate, SINCE);
    expect(result.timing.sooner).toEqual({ count: 2, medianMs: 3 * DAY });
    expect(result.timing.same).toBe(1);

    const stricter = candidateWith((r) => {
      r.thresholds.salesReady = 70;
    });
    const later = backtest([pricing], current, stricter, SINCE);
    expect(later.timing).toEqual({
      compared: 1,
      sooner: { count: 0, medianMs: null },
      later: { count: 1, medianMs: DAY },
      same: 0,
    });
    expect(later.changes).toEqual([
      { leadId: pricing.lead.id, current: 'sales', candidate: 'sales', shiftMs: DAY, won: true },
    ]);
  });

  it('gives the win rate per grade under each set of grades', () => {
    const deals = [
      demoToDeal('won'), // fit 90 + demo 60: 75, B
      demoToDeal('lost', { title: 'Engineering Manager', companySize: 300, industry: 'software' }), // 80: 70, B
      demoToDeal('won', { title: 'CEO', industry: 'software' }), // 100: 80, A
    ];
    const candidate = candidateWith((r) => {
      r.grades = [
        { grade: 'A', min: 70 },
        { grade: 'B', min: 50 },
        { grade: 'C', min: 0 },
      ];
    });
    const result = backtest(deals, current, candidate, SINCE);
    expect(result.deals).toBe(3);
    expect(result.winRate.current).toEqual([
      { grade: 'A', won: 1, closed: 1, rate: 1 },
      { grade: 'B', won: 1, closed: 2, rate: 0.5 },
      { grade: 'C', won: 0, closed: 0, rate: null },
      { grade: 'D', won: 0, closed: 0, rate: null },
    ]);
    expect(result.winRate.candidate).toEqual([
      { grade: 'A', won: 2, closed: 3, rate: 2 / 3 },
      { grade: 'B', won: 0, closed: 0, rate: null },
      { grade: 'C', won: 0, closed: 0, rate: null },
    ]);
  });

  it('replays only journeys that ended since the cutoff, in an ended stage', () => {
    const old = demoToDeal('won', {}, -200);
    const recent = demoToDeal('lost');
    const running = journey('nurturing', [form(t(0), 'content-download')]);
    const failed = journey('failed', [form(t(0), 'content-download')]);
    expect(CLOSED_STAGES).not.toContain('failed');
    const result = backtest([old, recent, running, failed], current, current, SINCE);
    expect(result.leads).toBe(1);
    expect(result.byStage).toEqual({ lost: 1 });
  });

  it('scores afresh a lead stored with reasons from an older rules version, and says so', () => {
    const j = journey('disqualified', [form(t(0), 'newsletter')], {
      email: 'x@mailinator.com',
      emailDomain: 'mailinator.com',
      score: { rulesVersion: '2025-01-1' },
    });
    const result = backtest([j], current, current, SINCE);
    expect(result.routing.disqualified.disqualified).toBe(1);
    expect(result.replayCheck).toEqual({ matches: 1, differs: 0, scoredWithOtherRules: 1 });
  });

  it('notices when replaying the current rules does not reproduce the recorded route', () => {
    // Recorded: handed to sales (a rep was assigned); the current rules keep a newsletter signup in nurture.
    const j = journey('lost', [
      form(t(0), 'newsletter'),
      assigned(t(0.01), 'dl-z'),
      closed(t(2), 'dl-z', 'lost'),
    ]);
    expect(backtest([j], current, current, SINCE).replayCheck).toMatchObject({ matches: 0, differs: 1 });
  });

  it('returns an empty result for an empty history', () => {
    const result = backtest([], current, current, SINCE);
    expect(result).toMatchObject({ leads: 0, changed: 0, deals: 0, wonDisqualified: [], changes: [] });
    expect(result.since).toBe(SINCE);
  });

  it('counts leads without events and forms without a type', () => {
    const result = backtest(
      [journey('nurtured', [], {}, t(1)), journey('nurtured', [{ type: 'form', at: t(0) }])],
      current,
      current,
      SINCE,
    );
    expect(result.gaps).toMatchObject({ leadsWithoutEvents: 1, formsWithoutType: 1 });
  });
});
