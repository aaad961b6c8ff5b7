import type { Route } from './scoring.ts';

/** Where a lead is in the journey; the lead item's `stage` (and the stage index) hold one of these. */
export const LEAD_STAGES = [
  'captured',
  'disqualified',
  'nurturing',
  'sales-ready',
  'assigned',
  'won',
  'lost',
  'stale',
  'nurtured',
  'not-emailable',
  'unsubscribed',
  'bounced',
  'complained',
  'failed',
] as const;
export type LeadStage = (typeof LEAD_STAGES)[number];

/** Stages in which a lead has a live run (a later submission for the lead belongs to that run). */
export const ACTIVE_STAGES: readonly LeadStage[] = ['captured', 'nurturing', 'sales-ready', 'assigned'];

/**
 * The lead-stage machine: which stage may follow which. A stage may always be written again (every step
 * is retried), and any stage may become `failed`; a failed run is redriven from the state that failed,
 * so `failed` may be followed by any stage.
 */
const NEXT: Record<LeadStage, readonly LeadStage[]> = {
  captured: ['disqualified', 'nurturing', 'sales-ready'],
  nurturing: ['sales-ready', 'nurtured', 'not-emailable', 'unsubscribed', 'bounced', 'complained'],
  'sales-ready': ['assigned'],
  assigned: ['won', 'lost', 'stale', 'nurturing'],
  disqualified: ['captured'],
  won: ['captured'],
  lost: ['captured'],
  stale: ['captured'],
  nurtured: ['captured'],
  'not-emailable': ['captured'],
  unsubscribed: ['captured'],
  bounced: ['captured'],
  complained: ['captured'],
  failed: LEAD_STAGES,
};

export function canMoveLead(from: LeadStage, to: LeadStage): boolean {
  return from === to || to === 'failed' || NEXT[from].includes(to);
}

/** Every stage `to` may be entered from (itself included): the store's write condition. */
export function predecessorsOf(to: LeadStage): LeadStage[] {
  return LEAD_STAGES.filter((from) => canMoveLead(from, to));
}

/** A run that has ended leaves the lead here: the only way on is a new submission (a new run, captured). */
export function isEnded(stage: LeadStage): boolean {
  return NEXT[stage].length === 1 && NEXT[stage][0] === 'captured';
}

// ---- Which stage an event leads to: the only place handlers learn it. ----

const ROUTED: Record<Route, LeadStage> = {
  disqualify: 'disqualified',
  'sales-ready': 'sales-ready',
  nurture: 'nurturing',
};

/** After scoring: the route decides. */
export function stageForRoute(route: Route): LeadStage {
  return ROUTED[route];
}

/** What the nurture step decided: keep waiting (and sending), hand to sales, or end the sequence. */
export type NurtureNext =
  | 'wait'
  | 'sales-ready'
  | 'done'
  | 'unsubscribed'
  | 'bounced'
  | 'complained'
  | 'not-emailable'
  /** Double opt-in: the confirmation link was not clicked in time; nothing more is sent. */
  | 'unconfirmed';

const AFTER_NURTURE: Record<NurtureNext, LeadStage> = {
  wait: 'nurturing',
  'sales-ready': 'sales-ready',
  done: 'nurtured',
  unsubscribed: 'unsubscribed',
  bounced: 'bounced',
  complained: 'complained',
  'not-emailable': 'not-emailable',
  // No confirmed consent: as not emailable as a lead that gave none (a new form starts a new round).
  unconfirmed: 'not-emailable',
};

/** Every nurture decision but `wait`: how a nurture sequence ends (handing the lead to sales included). */
export const NURTURE_ENDS = (Object.keys(AFTER_NURTURE) as NurtureNext[]).filter(
  (n): n is Exclude<NurtureNext, 'wait'> => n !== 'wait',
);

export function stageAfterNurture(next: NurtureNext): LeadStage {
  return AFTER_NURTURE[next];
}
