// The backtest (`npm run backtest`): replays closed journeys through two sets of scoring rules and compares
// what each would have decided. Pure: the script reads the leads and their timelines, this decides.
import { type ScoringConfig, scoringSchema } from '../functions/config/schema.ts';
import type { Lead } from '../functions/lead/lead.ts';
import { isEnded, LEAD_STAGES, type LeadStage } from '../functions/lead/lead-stage.ts';
import { engagementOf, routeLead, type Score, scoreLead } from '../functions/lead/scoring.ts';

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

/** Deal outcomes that close a deal; win rate = won / all of these. */
const DEAL_CLOSES = ['won', 'lost', 'stale'] as const;
type DealClose = (typeof DEAL_CLOSES)[number];
const isDealClose = (s: unknown): s is DealClose => DEAL_CLOSES.includes(s as DealClose);

/** A timeline event as stored (type, time, details). */
export interface StoredEvent {
  type: string;
  at: string;
  data?: Record<string, unknown>;
}

/** A closed lead as stored: its profile (the inputs of fit scoring) and where and when its journey ended. */
export interface ClosedLead extends Lead {
  stage: LeadStage;
  /** When the lead last changed stage: for a closed lead, when its journey ended. */
  updatedAt: string;
  capturedAt?: string;
  engagementSince?: string;
  /** The stored score; only its rules version is read (the replay scores afresh). */
  score?: { rulesVersion: string };
}

export interface Journey {
  lead: ClosedLead;
  events: StoredEvent[];
}

/** Where a replayed journey goes: handed to sales, kept in nurture, or disqualified at capture. */
export type Outcome = 'sales' | 'nurture' | 'disqualified';
export const OUTCOMES: readonly Outcome[] = ['sales', 'nurture', 'disqualified'];

export interface Replay {
  outcome: Outcome;
  /** The first moment the route became sales-ready (the capture, or a later form or click). */
  salesAt?: string;
}

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

const byTime = (a: StoredEvent, b: StoredEvent) => a.at.localeCompare(b.at);

/** A form that started a run (Capture): not one handed to a run in progress, nor one merged into it. */
const isCapture = (e: StoredEvent) =>
  e.type === 'form' && e.data?.delivered !== true && e.data?.merged !== true;

/**
 * When the journey being replayed began: the last capture on the timeline (a lead that comes back after an
 * ended journey starts a new run, and the lead's stage is that run's). Old data without one: the first
 * engagement, else when the lead was first captured.
 */
export function journeyStart({ lead, events }: Journey): string {
  const sorted = events.filter((e) => e.at <= lead.updatedAt).sort(byTime);
  return (
    sorted.filter(isCapture).at(-1)?.at ?? engagementOf(sorted)[0]?.at ?? lead.capturedAt ?? lead.updatedAt
  );
}

/** Engagement counts from the last recycle ("not now" loss) at or before `at`, as the nurture step does. */
function engagementSinceAt({ lead, events }: Journey, at: string): string {
  let since = '';
  for (const e of events) {
    if (e.type === 'closed' && e.data?.recycled === true && e.at <= at && e.at > since) since = e.at;
  }
  const stored = lead.engagementSince;
  return stored && stored <= at && stored > since ? stored : since;
}

/** The lead scored and routed by `rules` at `at`, from its profile and the engagement stored up to then. */
export function scoreAt(
  journey: Journey,
  rules: ScoringConfig,
  at: string,
  since = engagementSinceAt(journey, at),
): { score: Score; route: ReturnType<typeof routeLead> } {
  const engagement = engagementOf(
    journey.events.filter((e) => e.at <= at),
    since,
  );
  const score = scoreLead(journey.lead, engagement, rules, new Date(at));
  const route = routeLead(
    score,
    engagement.map((e) => e.type),
    rules,
  );
  return { score, route };
}

/**
 * Replays the journey as the workflow runs it: Capture & score decides at the start (disqualify, sales,
 * nurture); a nurtured lead is scored again on every form and click (each wakes its run) and goes to sales
 * the first time the route is sales-ready. Nurture never disqualifies. Between events a score only decays,
 * so the event times are the only moments a lead can become sales-ready.
 */
export function replayJourney(journey: Journey, rules: ScoringConfig): Replay {
  const start = journeyStart(journey);
  const since = engagementSinceAt(journey, start);
  const first = scoreAt(journey, rules, start, since).route;
  if (first === 'disqualify') return { outcome: 'disqualified' };
  if (first === 'sales-ready') return { outcome: 'sales', salesAt: start };
  const later = [
    ...new Set(
      engagementOf(journey.events, since)
        .map((e) => e.at)
        .filter((at) => at > start && at <= journey.lead.updatedAt),
    ),
  ].sort();
  for (const at of later) {
    if (scoreAt(journey, rules, at, since).route === 'sales-ready') return { outcome: 'sales', salesAt: at };
  }
  return { outcome: 'nurture' };
}

/** What the stored history says the journey did (to check that replaying the current rules reproduces it). */
export function recordedOutcome(journey: Journey): Outcome {
  if (journey.lead.stage === 'disqualified') return 'disqualified';
  if (isDealClose(journey.lead.stage)) return 'sales';
  const start = journeyStart(journey);
  const toSales = journey.events.some(
    (e) =>
      e.at >= start &&
      (e.type === 'assigned' ||
        (e.type === 'scored' && e.data?.route === 'sales-ready') ||
        (e.type === 'nurture-decided' && e.data?.next === 'sales-ready')),
  );
  return toSales ? 'sales' : 'nurture';
}

export interface ClosedDeal {
  leadId: string;
  dealId?: string;
  outcome: DealClose;
  closedAt: string;
  /** When the lead was handed to the rep (its assignment); where the grade is taken. */
  handedAt: string;
  /** False when the timeline has no assignment for the deal (the hand-off time is then estimated). */
  assignmentFound: boolean;
  /** False when the timeline has no `closed` event (the deal's outcome is the lead's stage). */
  closeEventFound: boolean;
}

/** The journey's deals that closed at or after `since` (won, lost, stale), each with its hand-off time. */
export function closedDeals(journey: Journey, since: string): ClosedDeal[] {
  const { lead, events } = journey;
  const sorted = [...events].sort(byTime);
  const start = journeyStart(journey);
  const handoff = (dealId: unknown, closedAt: string): { at: string; found: boolean } => {
    const assigned = sorted.filter((e) => e.type === 'assigned' && e.at <= closedAt);
    const hit = assigned.find((e) => dealId !== undefined && e.data?.dealId === dealId) ?? assigned.at(-1);
    if (hit) return { at: hit.at, found: true };
    const ready = sorted.filter(
      (e) =>
        e.at <= closedAt &&
        ((e.type === 'scored' && e.data?.route === 'sales-ready') ||
          (e.type === 'nurture-decided' && e.data?.next === 'sales-ready')),
    );
    return { at: ready.at(-1)?.at ?? start, found: false };
  };
  const deals: ClosedDeal[] = sorted
    .filter((e) => e.type === 'closed' && isDealClose(e.data?.stage) && e.at >= since)
    .map((e) => {
      const h = handoff(e.data?.dealId, e.at);
      return {
        leadId: lead.id,
        ...(typeof e.data?.dealId === 'string' ? { dealId: e.data.dealId } : {}),
        outcome: e.data?.stage as DealClose,
        closedAt: e.at,
        handedAt: h.at,
        assignmentFound: h.found,
        closeEventFound: true,
      };
    });
  const stage = lead.stage;
  if (isDealClose(stage) && lead.updatedAt >= since && !deals.some((d) => d.closedAt >= start)) {
    const h = handoff(undefined, lead.updatedAt);
    deals.push({
      leadId: lead.id,
      outcome: stage,
      closedAt: lead.updatedAt,
      handedAt: h.at,
      assignmentFound: h.found,
      closeEventFound: false,
    });
  }
  return deals;
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
