import { DEAL_STAGES, LOST_REASONS } from '../lead/deal-vocabulary.ts';
import type { LeadStage } from '../lead/lead-stage.ts';
import { IllegalTransitionError, ValidationError } from '../platform/errors.ts';

export { DEAL_STAGES, LOST_REASONS };
export type DealStage = (typeof DEAL_STAGES)[number];
export type LostReason = (typeof LOST_REASONS)[number];

/**
 * The error a woken "Assign rep" catches to try again (a slot of its team is free): capacity.ts sends it, and
 * the workflow catches it by this name (through steps/contracts.ts, the run's shapes).
 */
export const CAPACITY_FREED = 'CapacityFreed';

/** The largest deal amount Handoff records (USD): a trillion, well inside DynamoDB's exact numbers. */
export const MAX_AMOUNT = 1_000_000_000_000;

const NEXT: Record<DealStage, readonly DealStage[]> = {
  assigned: ['accepted', 'won', 'lost', 'stale'],
  accepted: ['won', 'lost', 'stale'],
  won: [],
  lost: [],
  stale: [],
};

/**
 * What happened to a deal, in the one shape every party uses: the rep's link (RepAction), the run's
 * waits (AwaitOutcome answers with it, SendTaskSuccess carries it) and "Close deal".
 */
export type DealOutcome =
  | { action: 'accept' }
  | { action: 'won'; amount: number }
  | { action: 'lost'; reason: LostReason }
  | { action: 'stale' };

export interface DealState {
  stage: DealStage;
  amount?: number;
  lostReason?: LostReason;
}

const STAGE_OF: Record<DealOutcome['action'], DealStage> = {
  accept: 'accepted',
  won: 'won',
  lost: 'lost',
  stale: 'stale',
};

/** Pure deal state machine: returns the next state or throws a typed error. */
export function transition(deal: DealState, outcome: DealOutcome): DealState {
  const to = STAGE_OF[outcome.action];
  if (!NEXT[deal.stage].includes(to)) throw new IllegalTransitionError(deal.stage, to);
  switch (outcome.action) {
    case 'won':
      if (!Number.isFinite(outcome.amount) || outcome.amount < 0 || outcome.amount > MAX_AMOUNT) {
        throw new ValidationError({ amount: [`must be an amount from 0 to ${MAX_AMOUNT}`] });
      }
      return { stage: 'won', amount: Math.round(outcome.amount * 100) / 100 };
    case 'lost':
      if (!LOST_REASONS.includes(outcome.reason)) {
        throw new ValidationError({ reason: [`must be one of: ${LOST_REASONS.join(', ')}`] });
      }
      return { stage: 'lost', lostReason: outcome.reason };
    default:
      return { stage: to };
  }
}

/** The outcome a deal's state records (what resumes a waiting run). */
export function outcomeOf(deal: DealState): DealOutcome | undefined {
  switch (deal.stage) {
    case 'accepted':
      return { action: 'accept' };
    case 'won':
      return { action: 'won', amount: deal.amount ?? 0 };
    case 'lost':
      return deal.lostReason ? { action: 'lost', reason: deal.lostReason } : undefined;
    case 'stale':
      return { action: 'stale' };
    default:
      return undefined;
  }
}

/**
 * What a deal already answers to a run about to wait for the rep: a reported outcome ends either wait,
 * an acceptance only answers the wait for acceptance. Undefined: the run should park and wait.
 */
export function answerFor(deal: DealState, waitingFor: 'acceptance' | 'outcome'): DealOutcome | undefined {
  if (deal.stage === 'accepted' && waitingFor === 'outcome') return undefined;
  if (deal.stage === 'stale') return undefined;
  return outcomeOf(deal);
}

export function isClosed(stage: DealStage): boolean {
  return NEXT[stage].length === 0;
}

/** A "not now"-type loss sends the lead back to nurture instead of ending the journey. */
export function shouldRecycle(deal: DealState, recycleReasons: readonly string[]): boolean {
  return deal.stage === 'lost' && deal.lostReason !== undefined && recycleReasons.includes(deal.lostReason);
}

/** After "Close deal": a recycled loss goes back to nurture; a closed deal's stage is the lead's. */
export function stageAfterClose(dealStage: DealStage, recycled: boolean): LeadStage {
  if (recycled) return 'nurturing';
  return dealStage === 'assigned' || dealStage === 'accepted' ? 'assigned' : dealStage;
}
