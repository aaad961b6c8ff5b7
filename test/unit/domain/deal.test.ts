import { describe, expect, it } from 'vitest';
import { shouldRecycle, transition } from '../../../functions/shared/domain/deal.ts';
import { IllegalTransitionError, ValidationError } from '../../../functions/shared/domain/errors.ts';

describe('deal transitions', () => {
  it('goes assigned → accepted → won with the amount', () => {
    const accepted = transition({ stage: 'assigned' }, { type: 'accept' });
    expect(accepted.stage).toBe('accepted');
    expect(transition(accepted, { type: 'won', amount: 12_500.456 })).toEqual({
      stage: 'won',
      amount: 12_500.46,
    });
  });

  it('can be lost straight from assigned, with its reason', () => {
    expect(transition({ stage: 'assigned' }, { type: 'lost', reason: 'no-budget' })).toEqual({
      stage: 'lost',
      lostReason: 'no-budget',
    });
  });

  it.each([
    { from: 'won', action: { type: 'lost', reason: 'other' } },
    { from: 'lost', action: { type: 'accept' } },
    { from: 'accepted', action: { type: 'accept' } },
    { from: 'stale', action: { type: 'won', amount: 1 } },
  ] as const)('rejects $from → $action.type with a typed error', ({ from, action }) => {
    expect(() => transition({ stage: from }, action)).toThrow(IllegalTransitionError);
  });

  it('requires a known lost reason and a non-negative amount', () => {
    // @ts-expect-error an unknown reason, as a tampered form would send
    expect(() => transition({ stage: 'accepted' }, { type: 'lost', reason: 'meh' })).toThrow(ValidationError);
    expect(() => transition({ stage: 'accepted' }, { type: 'won', amount: -5 })).toThrow(ValidationError);
    expect(() => transition({ stage: 'accepted' }, { type: 'won', amount: Number.NaN })).toThrow(
      ValidationError,
    );
  });
});

describe('shouldRecycle', () => {
  const reasons = ['not-now', 'timing'];
  it('recycles a "not now" loss', () => {
    expect(shouldRecycle({ stage: 'lost', lostReason: 'not-now' }, reasons)).toBe(true);
  });
  it('does not recycle a loss to a competitor, a win or a stale deal', () => {
    expect(shouldRecycle({ stage: 'lost', lostReason: 'chose-competitor' }, reasons)).toBe(false);
    expect(shouldRecycle({ stage: 'won', amount: 1 }, reasons)).toBe(false);
    expect(shouldRecycle({ stage: 'stale' }, reasons)).toBe(false);
  });
});
