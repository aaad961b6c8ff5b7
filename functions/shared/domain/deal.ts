import { IllegalTransitionError, ValidationError } from './errors.ts';

export const DEAL_STAGES = ['assigned', 'accepted', 'won', 'lost', 'stale'] as const;
export type DealStage = (typeof DEAL_STAGES)[number];

export const LOST_REASONS = [
  'not-now',
  'no-budget',
  'timing',
  'chose-competitor',
  'no-fit',
  'no-response',
  'other',
] as const;
export type LostReason = (typeof LOST_REASONS)[number];

const NEXT: Record<DealStage, readonly DealStage[]> = {
  assigned: ['accepted', 'won', 'lost', 'stale'],
  accepted: ['won', 'lost', 'stale'],
  won: [],
  lost: [],
  stale: [],
};

export type DealAction =
  | { type: 'accept' }
  | { type: 'won'; amount: number }
  | { type: 'lost'; reason: LostReason; note?: string }
  | { type: 'stale' };

export interface DealState {
  stage: DealStage;
  amount?: number;
  lostReason?: LostReason;
}

/** Pure deal state machine: returns the next state or throws a typed error. */
export function transition(deal: DealState, action: DealAction): DealState {
  const to: DealStage = action.type === 'accept' ? 'accepted' : action.type;
  if (!NEXT[deal.stage].includes(to)) throw new IllegalTransitionError(deal.stage, to);
  switch (action.type) {
    case 'won':
      if (!Number.isFinite(action.amount) || action.amount < 0) {
        throw new ValidationError({ amount: ['must be a positive amount'] });
      }
      return { stage: 'won', amount: Math.round(action.amount * 100) / 100 };
    case 'lost':
      if (!LOST_REASONS.includes(action.reason)) {
        throw new ValidationError({ reason: [`must be one of: ${LOST_REASONS.join(', ')}`] });
      }
      return { stage: 'lost', lostReason: action.reason };
    default:
      return { stage: to };
  }
}

export function isClosed(stage: DealStage): boolean {
  return NEXT[stage].length === 0;
}

/** A "not now"-type loss sends the lead back to nurture instead of ending the journey. */
export function shouldRecycle(deal: DealState, recycleReasons: readonly string[]): boolean {
  return deal.stage === 'lost' && deal.lostReason !== undefined && recycleReasons.includes(deal.lostReason);
}
