import { describe, expect, it } from 'vitest';
import { stageAfterClose } from '#functions/deal/deal.ts';
import {
  canMoveLead,
  isEnded,
  LEAD_STAGES,
  predecessorsOf,
  stageAfterNurture,
  stageForRoute,
} from '#functions/lead/lead-stage.ts';

describe('lead-stage machine', () => {
  it('walks the happy path: captured → sales-ready → assigned → won, then a new run starts over', () => {
    const steps = [
      ['captured', 'sales-ready'],
      ['sales-ready', 'assigned'],
      ['assigned', 'won'],
      ['won', 'captured'],
    ] as const;
    for (const [from, to] of steps) expect(canMoveLead(from, to), `${from} → ${to}`).toBe(true);
  });

  it('recycles a "not now" loss to nurture, and lets a nurtured lead qualify later', () => {
    expect(canMoveLead('assigned', 'nurturing')).toBe(true);
    expect(canMoveLead('nurturing', 'sales-ready')).toBe(true);
  });

  it.each([
    ['captured', 'won'],
    ['nurturing', 'assigned'],
    ['won', 'nurturing'],
    ['disqualified', 'sales-ready'],
    ['unsubscribed', 'nurturing'],
  ] as const)('refuses %s → %s', (from, to) => {
    expect(canMoveLead(from, to)).toBe(false);
  });

  it('allows writing the same stage again (retries) and failing from anywhere; a failed run is redriven', () => {
    for (const s of LEAD_STAGES) {
      expect(canMoveLead(s, s)).toBe(true);
      expect(canMoveLead(s, 'failed')).toBe(true);
      expect(canMoveLead('failed', s)).toBe(true);
    }
  });

  it('lists the predecessors of a stage as the store’s write condition', () => {
    expect(predecessorsOf('assigned').sort()).toEqual(['assigned', 'failed', 'sales-ready']);
    expect(predecessorsOf('captured')).toContain('nurtured');
    expect(predecessorsOf('captured')).not.toContain('assigned');
  });

  it('knows which stages end a run', () => {
    expect(LEAD_STAGES.filter(isEnded).sort()).toEqual(
      [
        'bounced',
        'complained',
        'disqualified',
        'lost',
        'not-emailable',
        'nurtured',
        'stale',
        'unsubscribed',
        'won',
      ].sort(),
    );
  });

  it('decides the stage after each event', () => {
    expect(stageForRoute('disqualify')).toBe('disqualified');
    expect(stageForRoute('nurture')).toBe('nurturing');
    expect(stageAfterNurture('done')).toBe('nurtured');
    expect(stageAfterNurture('wait')).toBe('nurturing');
    expect(stageAfterNurture('bounced')).toBe('bounced');
    expect(stageAfterNurture('complained')).toBe('complained');
    expect(stageAfterNurture('not-emailable')).toBe('not-emailable');
    expect(stageAfterClose('lost', true)).toBe('nurturing');
    expect(stageAfterClose('lost', false)).toBe('lost');
    expect(stageAfterClose('accepted', false)).toBe('assigned');
  });
});
