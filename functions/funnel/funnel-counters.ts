// What one funnel milestone adds to the counters (pure): its marker (so it is counted once), the
// dimension items it touches, and the numbers it adds to each. The handlers' incremental path
// (functions/funnel/milestones.ts) and the rebuild (funnel-history.ts) both go through here.
import type { RepsConfig } from '../config/schema.ts';
import { teamFor } from '../deal/assignment.ts';
import type { Lead } from '../lead/lead.ts';
import type { Route } from '../lead/scoring.ts';
import { bandOf, bucketOf, type DurationName, type Milestone } from './funnel.ts';

/** Who the run's lead is, fixed when the run captured it: attribution (UTM, form) and territory. */
export interface RunFacts {
  formType: string;
  source?: string;
  medium?: string;
  campaign?: string;
  territory: string;
}

/** The score a milestone is counted under (the latest before it): for scoring feedback. */
export interface ScoreFacts {
  total: number;
  grade: string;
  /** Reason labels without their age (`demo-request`, not `demo-request (2d ago)`), each once. */
  reasons: string[];
}

export interface MilestoneEvent {
  milestone: Milestone;
  at: string;
  /** The nurture cycle (0 until a "not now" loss recycles the lead): a win in cycle > 0 is a recycled win. */
  cycle: number;
  run: RunFacts;
  score?: ScoreFacts;
  rep?: string;
  amount?: number;
  lostReason?: string;
  /** The rep's rating given with this milestone's answer (accepted, won, lost): adds `rated:<rating>`. */
  rating?: string;
  /** Seconds, for the medians. */
  durations?: Partial<Record<DurationName, number>>;
  /** When the run was captured (its `captured` marker): the cohort the milestone counts in. */
  capturedAt?: string;
}

/** The value of a dimension the lead did not give (no UTM source). */
export const NONE = '(none)';

/** UTM fields count only with a source (as the timeline keeps them); the territory is the assignment rule's. */
export function runFactsOf(
  lead: Pick<Lead, 'formType' | 'utmSource' | 'utmMedium' | 'utmCampaign' | 'country' | 'companySize'>,
  reps: RepsConfig,
): RunFacts {
  return {
    formType: lead.formType,
    ...(lead.utmSource
      ? {
          source: lead.utmSource,
          ...(lead.utmMedium ? { medium: lead.utmMedium } : {}),
          ...(lead.utmCampaign ? { campaign: lead.utmCampaign } : {}),
        }
      : {}),
    territory: teamFor(lead, reps),
  };
}

/** `demo-request (2d ago)` → `demo-request`: engagement reasons carry their age, which is not a reason. */
export function reasonKey(label: string): string {
  return label.replace(/ \((today|\d+d ago)\)$/, '');
}

export function scoreFactsOf(score: {
  total: number;
  grade: string;
  reasons: { label: string }[];
}): ScoreFacts {
  return {
    total: score.total,
    grade: score.grade,
    reasons: [...new Set(score.reasons.map((r) => reasonKey(r.label)))].sort(),
  };
}

// ---- Markers: one per milestone of a run's cycle (captured, mql, sql) or of a deal (the rest). ----

const RUN_MILESTONES: readonly Milestone[] = ['captured', 'mql', 'sql'];

export interface MilestoneScope {
  execution: string;
  cycle?: number;
  dealId?: string;
}

/** The marker's key under the lead (`<run>#<cycle>#mql`, `<dealId>#won`); undefined without what it needs. */
export function markerOf(
  milestone: Milestone,
  { execution, cycle, dealId }: MilestoneScope,
): string | undefined {
  if (milestone === 'captured') return `${execution}#0#captured`;
  if (RUN_MILESTONES.includes(milestone))
    return cycle === undefined ? undefined : `${execution}#${cycle}#${milestone}`;
  return dealId ? `${dealId}#${milestone}` : undefined;
}

/**
 * The duration a milestone ends, and the earlier milestone it starts at: lead → assigned from the cycle's
 * start (captured, or the recycle that opened the cycle, counted as its MQL), assigned → accepted, and
 * accepted → closed for won and lost (stale closes are the SLA, not a duration worth a median).
 */
export function durationOf(
  milestone: Milestone,
  scope: MilestoneScope,
): { name: DurationName; from: Milestone; marker: string | undefined } | undefined {
  switch (milestone) {
    case 'assigned': {
      const from = (scope.cycle ?? 0) === 0 ? 'captured' : 'mql';
      return { name: 'leadToAssigned', from, marker: markerOf(from, scope) };
    }
    case 'accepted':
      return { name: 'assignedToAccepted', from: 'assigned', marker: markerOf('assigned', scope) };
    case 'won':
    case 'lost':
      return { name: 'acceptedToClosed', from: 'accepted', marker: markerOf('accepted', scope) };
    default:
      return undefined;
  }
}

export const secondsBetween = (from: string, to: string) =>
  Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);

// ---- Counters: items `FUNNEL#<day>` × `<dimension>#<value>`, numeric attributes. ----

/** The counter items (sort keys) a milestone adds to: the total, and one per dimension value. */
export function dimensionKeys(e: MilestoneEvent): string[] {
  const keys = [
    'all#all',
    `source#${e.run.source ?? NONE}`,
    `medium#${e.run.medium ?? NONE}`,
    `campaign#${e.run.campaign ?? NONE}`,
    `formType#${e.run.formType}`,
    `territory#${e.run.territory}`,
  ];
  if (e.rep) keys.push(`rep#${e.rep}`);
  if (e.score) {
    keys.push(`grade#${e.score.grade}`, `band#${bandOf(e.score.total)}`);
    for (const reason of new Set(e.score.reasons)) keys.push(`reason#${reason}`);
  }
  return keys;
}

/** What the milestone adds to each item: its count, revenue, the lost reason, a recycled win, durations. */
export function incrementsOf(e: MilestoneEvent): Record<string, number> {
  const add: Record<string, number> = { [e.milestone]: 1 };
  if (e.milestone === 'won') {
    if (e.amount) add.revenueWon = e.amount;
    if (e.cycle > 0) add.recycledWon = 1;
  }
  if (e.milestone === 'lost') add[`lost:${e.lostReason ?? 'other'}`] = 1;
  if (e.rating) add[`rated:${e.rating}`] = 1;
  for (const [name, seconds] of Object.entries(e.durations ?? {})) add[`h:${name}:${bucketOf(seconds)}`] = 1;
  return add;
}

export type CounterItems = Record<string, Record<string, number>>;

/** The day (UTC, of the transition) and the increments per counter item. */
export function countersOf(e: MilestoneEvent): { day: string; items: CounterItems } {
  const add = incrementsOf(e);
  return { day: e.at.slice(0, 10), items: Object.fromEntries(dimensionKeys(e).map((k) => [k, { ...add }])) };
}

// ---- Cohorts: what the leads captured on a day went on to reach, counted on that day. ----

/** The stages a cohort counts, each at most once a run. */
export const COHORT_STAGES = ['captured', 'mql', 'sql', 'assigned', 'accepted', 'won'] as const;
export type CohortStage = (typeof COHORT_STAGES)[number];
/** What a cohort report may break the cohort down by (besides the total). */
export const COHORT_DIMENSIONS = ['source', 'campaign', 'formType'] as const;
export type CohortDimension = (typeof COHORT_DIMENSIONS)[number];

/** A cohort's counter item: `cohort#all`, `cohort-source#google`. */
export const cohortKey = (dimension: CohortDimension | 'all', value = 'all') =>
  dimension === 'all' ? 'cohort#all' : `cohort-${dimension}#${value}`;

/**
 * What a milestone adds to its run's cohort, on the day the run was captured: the stage, the time from the
 * capture (a histogram `h:<stage>:<bucket>`), and a win's revenue. Each stage counts once a run: a later
 * cycle only follows a loss, which followed an assignment and an acceptance in cycle 0 (so every stage but
 * a win was reached there first), and a run wins at most once. None without the capture's time (a run
 * older than the funnel's markers).
 */
export function cohortCountersOf(e: MilestoneEvent): { day: string; items: CounterItems } | undefined {
  if (!e.capturedAt || !(COHORT_STAGES as readonly string[]).includes(e.milestone)) return undefined;
  if (e.cycle > 0 && e.milestone !== 'won') return undefined;
  const add: Record<string, number> = { [e.milestone]: 1 };
  if (e.milestone !== 'captured') add[`h:${e.milestone}:${bucketOf(secondsBetween(e.capturedAt, e.at))}`] = 1;
  if (e.milestone === 'won' && e.amount) add.revenueWon = e.amount;
  const values: Record<CohortDimension, string> = {
    source: e.run.source ?? NONE,
    campaign: e.run.campaign ?? NONE,
    formType: e.run.formType,
  };
  const keys = [cohortKey('all'), ...COHORT_DIMENSIONS.map((d) => cohortKey(d, values[d]))];
  return { day: e.capturedAt.slice(0, 10), items: Object.fromEntries(keys.map((k) => [k, { ...add }])) };
}

/** Every counter a milestone adds to: its day's (the flow) and its run's capture day's (the cohort). */
export function allCountersOf(e: MilestoneEvent): { day: string; items: CounterItems }[] {
  const cohort = cohortCountersOf(e);
  return cohort ? [countersOf(e), cohort] : [countersOf(e)];
}

/** Adds `items` into `into` (amounts kept to the cent, as DynamoDB's exact ADD keeps them). */
export function sumInto(into: CounterItems, items: CounterItems): CounterItems {
  for (const [key, values] of Object.entries(items)) {
    const target = into[key] ?? {};
    into[key] = target;
    for (const [attr, n] of Object.entries(values))
      target[attr] = Math.round(((target[attr] ?? 0) + n) * 100) / 100;
  }
  return into;
}

/** What scoring's route means for the funnel: every captured lead not disqualified is an MQL; sales-ready is an SQL. */
export const ROUTE_MILESTONES: Record<Route, Milestone[]> = {
  disqualify: ['captured'],
  nurture: ['captured', 'mql'],
  'sales-ready': ['captured', 'mql', 'sql'],
};

/** The CloudWatch metric each milestone's first recording emits (the dashboard's top line). */
export const TOP_LINE_METRICS: Partial<Record<Milestone, string>> = {
  captured: 'LeadsCaptured',
  mql: 'LeadsMQL',
  sql: 'LeadsSQL',
  assigned: 'DealsAssigned',
  accepted: 'DealsAccepted',
  won: 'DealsWon',
  lost: 'DealsLost',
  stale: 'DealsStale',
};
