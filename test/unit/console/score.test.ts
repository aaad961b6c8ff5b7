import { describe, expect, it } from 'vitest';
import { eventFields, scoreLine } from '#console/public/lib/score.js';
import { scoreLead } from '#functions/lead/scoring.ts';
import { config } from '#test/fixtures/config.ts';
import { aLead } from '#test/fixtures/leads.ts';

describe('console score line', () => {
  it('says the total is the mean of fit and engagement (not their sum)', () => {
    expect(scoreLine({ total: 75, fit: 90, engagement: 60, flags: [], reasons: [] })).toBe(
      '75 = mean of fit 90 and engagement 60',
    );
  });

  it('adds up for a real score, penalties included', () => {
    const score = scoreLead(
      aLead({ email: 'someone@gmail.com', title: 'CTO', companySize: 5000 }),
      [{ type: 'demo-request', at: '2025-01-01T00:00:00Z' }],
      config.scoring,
      new Date('2025-01-01T00:00:00Z'),
    );
    const line = scoreLine(score);
    expect(line).toMatch(/^\d+ = mean of fit \d+ and engagement \d+/);
    expect(Math.abs(score.total - (score.fit + score.engagement) / 2)).toBeLessThanOrEqual(0.5);
    if (score.reasons.some((r) => r.kind === 'negative')) expect(line).toMatch(/penalties\)$/);
  });

  it('says a flagged lead is 0 because of its flags', () => {
    expect(scoreLine({ total: 0, fit: 80, engagement: 40, flags: ['competitor'] })).toBe(
      '0: flagged (competitor), so not scored',
    );
  });
});

describe('console timeline event data', () => {
  it('lists reasons as text, leaves out empty flags', () => {
    expect(
      eventFields({ total: 72, flags: [], reasons: ['Title: VP or director', 'pricing (today)'], extra: {} }),
    ).toEqual([
      ['total', '72', false],
      ['reasons', 'Title: VP or director · pricing (today)', false],
    ]);
    expect(eventFields({ cause: { a: 1 } })).toEqual([['cause', '{"a":1}', true]]);
  });
});
