// A closed lead's journey as the backtest replays it: its stored timeline, what a set of scoring rules would
// have decided along it (replayJourney), what was decided (recordedOutcome) and its closed deals. Pure.
import type { ScoringConfig } from '../functions/config/schema.ts';
import type { Lead } from '../functions/lead/lead.ts';
import type { LeadStage } from '../functions/lead/lead-stage.ts';
import { engagementOf, routeLead, type Score, scoreLead } from '../functions/lead/scoring.ts';

/** Deal outcomes that close a deal; win rate = won / all of these. */
export const DEAL_CLOSES = ['won', 'lost', 'stale'] as const;
export type DealClose = (typeof DEAL_CLOSES)[number];
export const isDealClose = (s: unknown): s is DealClose => DEAL_CLOSES.includes(s as DealClose);

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
