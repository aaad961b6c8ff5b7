// The backtest (`npm run backtest`): replays closed journeys through two sets of scoring rules and compares
// what each would have decided. Pure: the script reads the leads and their timelines, this decides.
import { type ScoringConfig, scoringSchema } from '../functions/config/schema.ts';
import { isEnded, LEAD_STAGES, type LeadStage } from '../functions/lead/lead-stage.ts';
import {
  type ClosedLead,
  closedDeals,
  type DealClose,
  type Journey,
  journeyStart,
  OUTCOMES,
  type Outcome,
  recordedOutcome,
  replayJourney,
  scoreAt,
} from './journey.ts';

/** A usage or input problem (unknown flag, bad --since, invalid rules): the script exits 2 with the message. */
export class BacktestInputError extends Error {
  override name = 'BacktestInputError';
}

/**
 * Closed = the journey ended: the lead's run is over and only a new submission starts another (won, lost,
 * stale, disqualified, nurtured, not-emailable, unsubscribed, bounced, complained). Not `failed`: a failed
 * run may be redriven, so its outcome is not known yet.
 */
export const CLOSED_STAGES: readonly LeadStage[] = LEAD_STAGES.filter(isEnded);

const DAY_MS = 86_400_000;

/** `90d` or `12w` → days. Anything else is an input error naming what was given. */
export function parseSince(text: string): number {
  const m = /^(\d{1,5})([dw])$/.exec(text.trim());
  const days = m ? Number(m[1]) * (m[2] === 'w' ? 7 : 1) : 0;
  if (!m || days < 1 || days > 36_500) {
    throw new BacktestInputError(
      `--since must be a number of days or weeks such as 90d or 12w (1d to 36500d), not "${text}"`,
    );
  }
  return days;
}

/** The cutoff time for `--since` days before `now`. */
export function cutoffFor(days: number, now: Date): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString();
}

/** Parses a candidate scoring.json; every problem names the file, the field and what is wrong. */
export function parseRules(text: string, file: string): ScoringConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BacktestInputError(
      `Invalid candidate rules:\n  ${file}: (file): not valid JSON: ${(e as Error).message}`,
    );
  }
  const result = scoringSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (i) => `${file}: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`,
  );
  throw new BacktestInputError(`Invalid candidate rules:\n  ${problems.join('\n  ')}`);
}

/** Whether the backtest replays this lead: its journey ended, at or after `since`. */
export function isClosedSince(lead: Pick<ClosedLead, 'stage' | 'updatedAt'>, since: string): boolean {
  return CLOSED_STAGES.includes(lead.stage) && lead.updatedAt >= since;
}

export interface GradeRate {
  grade: string;
  won: number;
  /** Closed deals (won + lost + stale) of leads with this grade at hand-off. */
  closed: number;
  /** won / closed, or null when no deal has this grade. */
  rate: number | null;
}

export interface LeadChange {
  leadId: string;
  current: Outcome;
  candidate: Outcome;
  /** candidate − current time to sales, when both hand the lead to sales (negative: sooner). */
  shiftMs?: number;
  won: boolean;
}

export interface BacktestResult {
  since: string;
  rules: { current: string; candidate: string };
  /** Closed leads replayed, and how many of them ended in each stage. */
  leads: number;
  byStage: Partial<Record<LeadStage, number>>;
  /** routing[current][candidate] = leads. */
  routing: Record<Outcome, Record<Outcome, number>>;
  changed: number;
  timing: {
    /** Leads both rule sets hand to sales. */
    compared: number;
    sooner: { count: number; medianMs: number | null };
    later: { count: number; medianMs: number | null };
    same: number;
  };
  /** Leads with a won deal that the candidate would disqualify at capture (exit 1 unless --allow). */
  wonDisqualified: string[];
  /** Leads with a won deal that the candidate would keep in nurture (never hand to sales). */
  wonKeptInNurture: string[];
  deals: number;
  /**
   * Closed deals graded by each rule set at its hand-off. The candidate's rates leave out the deals of leads
   * it would not have handed to sales (a deal it would never have had cannot count for its grades); those
   * are counted in `notHandedOverByCandidate` (closed deals, and how many of them were won).
   */
  winRate: {
    current: GradeRate[];
    candidate: GradeRate[];
    notHandedOverByCandidate: { closed: number; won: number };
  };
  /** Does replaying the current rules reproduce the recorded route? */
  replayCheck: { matches: number; differs: number; scoredWithOtherRules: number };
  /** Inputs the replay had to do without. */
  gaps: {
    leadsWithoutEvents: number;
    formsWithoutType: number;
    dealsWithoutAssignment: number;
    dealsWithoutCloseEvent: number;
  };
  /** Leads whose route or time to sales changes, sorted by lead id. */
  changes: LeadChange[];
}

const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

function winRates(deals: { grade: string; outcome: DealClose }[], rules: ScoringConfig): GradeRate[] {
  const grades = [...rules.grades].sort((a, b) => b.min - a.min).map((g) => g.grade);
  return grades.map((grade) => {
    const mine = deals.filter((d) => d.grade === grade);
    const won = mine.filter((d) => d.outcome === 'won').length;
    return { grade, won, closed: mine.length, rate: mine.length ? won / mine.length : null };
  });
}

/**
 * Replays every journey that ended at or after `since` through the current and the candidate rules and
 * compares: routes, time to sales, won leads the candidate would lose, and win rate per grade at hand-off.
 */
export function backtest(
  journeys: Iterable<Journey>,
  current: ScoringConfig,
  candidate: ScoringConfig,
  since: string,
): BacktestResult {
  const routing = Object.fromEntries(
    OUTCOMES.map((c) => [c, Object.fromEntries(OUTCOMES.map((n) => [n, 0]))]),
  ) as BacktestResult['routing'];
  const byStage: BacktestResult['byStage'] = {};
  const sooner: number[] = [];
  const later: number[] = [];
  let same = 0;
  const changes: LeadChange[] = [];
  const wonDisqualified: string[] = [];
  const wonKeptInNurture: string[] = [];
  const graded: { current: string; candidate?: string; outcome: DealClose }[] = [];
  const notHandedOverByCandidate = { closed: 0, won: 0 };
  const replayCheck = { matches: 0, differs: 0, scoredWithOtherRules: 0 };
  const gaps = {
    leadsWithoutEvents: 0,
    formsWithoutType: 0,
    dealsWithoutAssignment: 0,
    dealsWithoutCloseEvent: 0,
  };
  let leads = 0;

  for (const journey of journeys) {
    const { lead, events } = journey;
    if (!isClosedSince(lead, since)) continue;
    leads += 1;
    byStage[lead.stage] = (byStage[lead.stage] ?? 0) + 1;
    if (!events.length) gaps.leadsWithoutEvents += 1;
    gaps.formsWithoutType += events.filter((e) => e.type === 'form' && !e.data?.formType).length;
    if (lead.score && lead.score.rulesVersion !== current.version) replayCheck.scoredWithOtherRules += 1;

    const now = replayJourney(journey, current);
    const next = replayJourney(journey, candidate);
    routing[now.outcome][next.outcome] += 1;
    if (now.outcome === recordedOutcome(journey)) replayCheck.matches += 1;
    else replayCheck.differs += 1;

    const start = journeyStart(journey);
    const deals = closedDeals(journey, since);
    const won =
      lead.stage === 'won' ||
      events.some((e) => e.type === 'closed' && e.data?.stage === 'won' && e.at >= start);
    if (won && next.outcome === 'disqualified') wonDisqualified.push(lead.id);
    if (won && next.outcome === 'nurture') wonKeptInNurture.push(lead.id);

    let shiftMs: number | undefined;
    if (now.salesAt && next.salesAt) {
      shiftMs = Date.parse(next.salesAt) - Date.parse(now.salesAt);
      if (shiftMs < 0) sooner.push(-shiftMs);
      else if (shiftMs > 0) later.push(shiftMs);
      else same += 1;
    }
    if (now.outcome !== next.outcome || shiftMs) {
      changes.push({
        leadId: lead.id,
        current: now.outcome,
        candidate: next.outcome,
        ...(shiftMs ? { shiftMs } : {}),
        won,
      });
    }

    const handedOver = next.outcome === 'sales';
    for (const deal of deals) {
      if (!deal.assignmentFound) gaps.dealsWithoutAssignment += 1;
      if (!deal.closeEventFound) gaps.dealsWithoutCloseEvent += 1;
      if (!handedOver) {
        notHandedOverByCandidate.closed += 1;
        if (deal.outcome === 'won') notHandedOverByCandidate.won += 1;
      }
      graded.push({
        current: scoreAt(journey, current, deal.handedAt).score.grade,
        ...(handedOver ? { candidate: scoreAt(journey, candidate, deal.handedAt).score.grade } : {}),
        outcome: deal.outcome,
      });
    }
  }

  const byId = (a: string, b: string) => a.localeCompare(b);
  return {
    since,
    rules: { current: current.version, candidate: candidate.version },
    leads,
    byStage,
    routing,
    changed: OUTCOMES.reduce(
      (n, c) => n + OUTCOMES.reduce((m, x) => m + (x === c ? 0 : routing[c][x]), 0),
      0,
    ),
    timing: {
      compared: sooner.length + later.length + same,
      sooner: { count: sooner.length, medianMs: median(sooner) },
      later: { count: later.length, medianMs: median(later) },
      same,
    },
    wonDisqualified: wonDisqualified.sort(byId),
    wonKeptInNurture: wonKeptInNurture.sort(byId),
    deals: graded.length,
    winRate: {
      current: winRates(
        graded.map((d) => ({ grade: d.current, outcome: d.outcome })),
        current,
      ),
      candidate: winRates(
        graded.flatMap((d) => (d.candidate ? [{ grade: d.candidate, outcome: d.outcome }] : [])),
        candidate,
      ),
      notHandedOverByCandidate,
    },
    replayCheck,
    gaps,
    changes: changes.sort((a, b) => byId(a.leadId, b.leadId)),
  };
}
