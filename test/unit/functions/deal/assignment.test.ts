import { describe, expect, it } from 'vitest';
import type { Rep } from '#functions/config/schema.ts';
import { NoRepAvailableError, pickRep, rotation, teamFor } from '#functions/deal/assignment.ts';
import { config } from '#test/fixtures/config.ts';

const now = new Date('2026-11-26T15:00:00Z');
const rep = (id: string, o: Partial<Rep> = {}): Rep => ({
  id,
  name: id,
  email: `${id}@x.example`,
  team: 't',
  capacity: 10,
  weight: 1,
  active: true,
  ...o,
});

describe('teamFor', () => {
  it.each([
    { lead: { country: 'US', companySize: 5000 }, team: 'enterprise-na' },
    { lead: { country: 'US', companySize: 50 }, team: 'commercial' },
    { lead: { country: 'DE', companySize: 5000 }, team: 'emea' },
    { lead: { country: 'GB' }, team: 'emea' },
    { lead: { country: 'BR', companySize: 5000 }, team: 'commercial' },
    { lead: {}, team: 'commercial' },
  ])('sends $lead to $team', ({ lead, team }) => {
    expect(teamFor(lead, config.reps)).toBe(team);
  });
});

describe('pickRep', () => {
  const assignN = (reps: Rep[], n: number, loads: Record<string, { openDeals: number }> = {}, start = 1) =>
    Array.from({ length: n }, (_, i) => pickRep({ team: 't', reps, loads, position: start + i, now }).id);

  it('rotates fairly by weight', () => {
    const picks = assignN([rep('a', { weight: 2 }), rep('b'), rep('c')], 400);
    const count = (id: string) => picks.filter((p) => p === id).length;
    expect(count('a')).toBe(200);
    expect(count('b')).toBe(100);
    expect(count('c')).toBe(100);
  });

  it('spreads a heavier rep across the rotation instead of back to back', () => {
    expect(rotation([rep('a', { weight: 2 }), rep('b'), rep('c')])).toEqual(['a', 'b', 'c', 'a']);
  });

  it.each([
    { why: 'inactive', o: { active: false } },
    { why: 'out of office', o: { outOfOffice: { from: '2026-11-20', to: '2026-11-30' } } },
  ])('skips a rep who is $why', ({ o }) => {
    const picks = assignN([rep('a'), rep('b', o), rep('c')], 30);
    expect(picks).not.toContain('b');
    expect(new Set(picks)).toEqual(new Set(['a', 'c']));
  });

  it('skips a rep at capacity', () => {
    expect(assignN([rep('a', { capacity: 2 }), rep('b')], 10, { a: { openDeals: 2 } })).toEqual(
      Array(10).fill('b'),
    );
  });

  it('does not hand a returning rep a backlog burst', () => {
    const reps = [rep('a'), rep('b'), rep('c', { outOfOffice: { from: '2026-11-01', to: '2026-11-25' } })];
    // c was away for positions 1..30; now back, the next 9 picks are evenly shared.
    const after = assignN(reps, 9, {}, 31);
    expect(after.filter((p) => p === 'c')).toHaveLength(3);
    expect(after.slice(0, 3)).not.toEqual(['c', 'c', 'c']);
  });

  it('avoids the previous owner on reassignment, but falls back to them when alone', () => {
    const reps = [rep('a'), rep('b')];
    expect(pickRep({ team: 't', reps, loads: {}, position: 0, now, exclude: ['a'] }).id).toBe('b');
    expect(pickRep({ team: 't', reps: [rep('a')], loads: {}, position: 0, now, exclude: ['a'] }).id).toBe(
      'a',
    );
  });

  it('hands a lapsed lead to an earlier owner before giving it back to the rep who let it lapse', () => {
    const reps = [rep('a'), rep('b')];
    // a had it first, b holds it now and let the SLA lapse; a is next in rotation after b either way.
    for (const position of [0, 1]) {
      const picked = pickRep({ team: 't', reps, loads: {}, position, now, exclude: ['a', 'b'], holder: 'b' });
      expect(picked.id).toBe('a');
    }
    // The holder keeps it only when no one else can take it.
    const full = { a: { openDeals: 10 } };
    expect(
      pickRep({ team: 't', reps, loads: full, position: 0, now, exclude: ['a', 'b'], holder: 'b' }).id,
    ).toBe('b');
  });

  it('raises a typed error when nobody can take the lead', () => {
    expect(() =>
      pickRep({ team: 't', reps: [rep('a', { active: false })], loads: {}, position: 0, now }),
    ).toThrow(NoRepAvailableError);
  });
});
