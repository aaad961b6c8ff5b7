import { describe, expect, it } from 'vitest';
import {
  afterConfirmation,
  decideNurture,
  firstContactOf,
  type NurtureFacts,
  PAUSED_RECHECK_MS,
} from '#functions/lead/nurture.ts';

const now = new Date('2026-11-25T16:00:00.000Z');
const facts = (o: Partial<NurtureFacts> = {}): NurtureFacts => ({
  now,
  state: { cycle: 0, step: 1, nextSendAt: '2026-11-27T16:00:00Z' },
  steps: 4,
  dueByTimer: false,
  suppressed: undefined,
  consent: true,
  optIn: 'off',
  route: 'nurture',
  breakerTripped: false,
  firstSlot: now,
  pausedSlot: new Date(now.getTime() + PAUSED_RECHECK_MS),
  ...o,
});

describe('the nurture decision', () => {
  it('ends on a suppressed address, by why: unsubscribed, bounced or complained', () => {
    expect(decideNurture(facts({ suppressed: 'unsubscribed' }))).toEqual({
      action: 'end',
      next: 'unsubscribed',
    });
    expect(decideNurture(facts({ suppressed: 'bounced' }))).toEqual({ action: 'end', next: 'bounced' });
    expect(decideNurture(facts({ suppressed: 'complained' }))).toEqual({ action: 'end', next: 'complained' });
    expect(decideNurture(facts({ consent: false }))).toEqual({ action: 'end', next: 'not-emailable' });
  });

  it('hands a lead who became sales-ready to sales at once, whatever the schedule', () => {
    expect(decideNurture(facts({ route: 'sales-ready' }))).toEqual({ action: 'sales-ready' });
  });

  it('keeps waiting for the due time when a signal woke it early', () => {
    expect(decideNurture(facts())).toEqual({
      action: 'wait',
      until: new Date('2026-11-27T16:00:00Z'),
      why: 'not due',
    });
  });

  it('sends when its timer ended the wait, and the first email of a cycle at once in business hours', () => {
    expect(decideNurture(facts({ dueByTimer: true }))).toEqual({ action: 'send' });
    expect(decideNurture(facts({ state: { cycle: 1, step: 0 } }))).toEqual({ action: 'send' });
  });

  it('holds a recycled lead’s first email until business hours open, but not the one answering the form', () => {
    const opens = new Date('2026-11-26T15:00:00.000Z');
    expect(decideNurture(facts({ state: { cycle: 1, step: 0 }, firstSlot: opens }))).toEqual({
      action: 'wait',
      until: opens,
      why: 'business hours',
    });
    // The person who sent the form is waiting for it: at once, at any hour.
    expect(decideNurture(facts({ state: { cycle: 0, step: 0 }, firstSlot: opens }))).toEqual({
      action: 'send',
    });
  });

  it('pauses a due send while the breaker is tripped: the lead waits, nothing is skipped', () => {
    expect(decideNurture(facts({ dueByTimer: true, breakerTripped: true }))).toEqual({
      action: 'wait',
      until: new Date(now.getTime() + PAUSED_RECHECK_MS),
      why: 'sending paused',
    });
  });

  it('looks again after a pause inside business hours, since the timer that ends the wait is trusted', () => {
    const tomorrowNine = new Date('2026-11-26T09:00:00.000Z');
    expect(
      decideNurture(facts({ dueByTimer: true, breakerTripped: true, pausedSlot: tomorrowNine })),
    ).toEqual({ action: 'wait', until: tomorrowNine, why: 'sending paused' });
  });

  it('ends the sequence when the wait after its last email is over', () => {
    expect(
      decideNurture(
        facts({ dueByTimer: true, state: { cycle: 0, step: 4, nextSendAt: '2026-11-25T15:00:00Z' } }),
      ),
    ).toEqual({
      action: 'end',
      next: 'done',
    });
  });
});

describe('the nurture decision with double opt-in', () => {
  const fresh = { cycle: 0, step: 0 };
  const waiting = {
    cycle: 0,
    step: 0,
    nextSendAt: '2026-12-02T16:00:00Z',
    confirmBy: '2026-12-02T16:00:00Z',
  };

  it('sends an unconfirmed lead the confirmation, at any hour, and nothing else', () => {
    const night = facts({ state: fresh, optIn: 'unconfirmed', firstSlot: new Date('2026-11-26T09:00:00Z') });
    expect(decideNurture(night)).toEqual({ action: 'confirm' });
  });

  it('waits for the click until the confirmation lapses, whatever wakes it, then ends as unconfirmed', () => {
    expect(decideNurture(facts({ state: waiting, optIn: 'unconfirmed' }))).toEqual({
      action: 'wait',
      until: new Date('2026-12-02T16:00:00Z'),
      why: 'awaiting confirmation',
    });
    expect(decideNurture(facts({ state: waiting, optIn: 'unconfirmed', dueByTimer: true }))).toEqual({
      action: 'end',
      next: 'unconfirmed',
    });
    const later = new Date('2026-12-02T16:00:00Z');
    expect(decideNurture(facts({ state: waiting, optIn: 'unconfirmed', now: later }))).toEqual({
      action: 'end',
      next: 'unconfirmed',
    });
  });

  it('holds the confirmation while the first-contact breaker is tripped', () => {
    const paused = decideNurture(facts({ state: fresh, optIn: 'unconfirmed', breakerTripped: true }));
    expect(paused).toMatchObject({ action: 'wait', why: 'sending paused' });
  });

  it('lets suppression, no consent and sales-readiness win over the confirmation', () => {
    expect(decideNurture(facts({ state: waiting, optIn: 'unconfirmed', suppressed: 'bounced' }))).toEqual({
      action: 'end',
      next: 'bounced',
    });
    expect(decideNurture(facts({ state: fresh, optIn: 'unconfirmed', route: 'sales-ready' }))).toEqual({
      action: 'sales-ready',
    });
  });

  it('starts the sequence at once when the lead confirms: the first email answers the form', () => {
    const state = afterConfirmation(waiting, 'confirmed');
    expect(state).toEqual({ cycle: 0, step: 0 });
    const night = new Date('2026-11-25T23:00:00Z');
    expect(decideNurture(facts({ state, optIn: 'confirmed', now: night, firstSlot: now }))).toEqual({
      action: 'send',
    });
    // Nothing to undo for a lead confirmed long ago, or with opt-in off.
    expect(afterConfirmation(waiting, 'off')).toBe(waiting);
  });

  it('counts the confirmation, and with opt-in off the answer to the form, as first contact', () => {
    expect(firstContactOf('unconfirmed', { cycle: 0, step: 2 })).toBe(true);
    expect(firstContactOf('off', fresh)).toBe(true);
    expect(firstContactOf('off', { cycle: 0, step: 1 })).toBe(false);
    expect(firstContactOf('off', { cycle: 1, step: 0 })).toBe(false);
    // A confirmed address has vouched for itself: its first nurture email is known mail.
    expect(firstContactOf('confirmed', fresh)).toBe(false);
  });
});
