import { describe, expect, it } from 'vitest';
import { shouldRecycle, transition } from '#functions/deal/deal.ts';
import { IllegalTransitionError, ValidationError } from '#functions/platform/errors.ts';

describe('deal transitions', () => {
  it('goes assigned → accepted → won with the amount', () => {
    const accepted = transition({ stage: 'assigned' }, { action: 'accept' });
    expect(accepted.stage).toBe('accepted');
    expect(transition(accepted, { action: 'won', amount: 12_500.456 })).toEqual({
      stage: 'won',
      amount: 12_500.46,
    });
  });

  it('can be lost straight from assigned, with its reason', () => {
    expect(transition({ stage: 'assigned' }, { action: 'lost', reason: 'no-budget' })).toEqual({
      stage: 'lost',
      lostReason: 'no-budget',
    });
  });

  it.each([
    { from: 'won', action: { action: 'lost', reason: 'other' } },
    { from: 'lost', action: { action: 'accept' } },
    { from: 'accepted', action: { action: 'accept' } },
    { from: 'stale', action: { action: 'won', amount: 1 } },
  ] as const)('rejects $from → $action.action with a typed error', ({ from, action }) => {
    expect(() => transition({ stage: from }, action)).toThrow(IllegalTransitionError);
  });

  it('requires a known lost reason and a non-negative amount', () => {
    // @ts-expect-error an unknown reason, as a tampered form would send
    expect(() => transition({ stage: 'accepted' }, { action: 'lost', reason: 'meh' })).toThrow(
      ValidationError,
    );
    expect(() => transition({ stage: 'accepted' }, { action: 'won', amount: -5 })).toThrow(ValidationError);
    expect(() => transition({ stage: 'accepted' }, { action: 'won', amount: Number.NaN })).toThrow(
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

describe('deal outcomes', () => {
  it('reads the outcome a deal records, and what it answers to each wait', async () => {
    const { answerFor, outcomeOf } = await import('#functions/deal/deal.ts');
    expect(outcomeOf({ stage: 'won', amount: 10 })).toEqual({ action: 'won', amount: 10 });
    expect(outcomeOf({ stage: 'lost', lostReason: 'timing' })).toEqual({ action: 'lost', reason: 'timing' });
    expect(outcomeOf({ stage: 'assigned' })).toBeUndefined();
    expect(answerFor({ stage: 'accepted' }, 'acceptance')).toEqual({ action: 'accept' });
    expect(answerFor({ stage: 'accepted' }, 'outcome')).toBeUndefined();
    expect(answerFor({ stage: 'won', amount: 5 }, 'acceptance')).toEqual({ action: 'won', amount: 5 });
    expect(answerFor({ stage: 'assigned' }, 'acceptance')).toBeUndefined();
  });
});
