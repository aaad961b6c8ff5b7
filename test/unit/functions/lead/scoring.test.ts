import { describe, expect, it } from 'vitest';
import { routeLead, scoreLead } from '#functions/lead/scoring.ts';
import { config } from '#test/fixtures/config.ts';
import { aLead } from '#test/fixtures/leads.ts';

const rules = config.scoring;
const now = new Date('2026-11-26T15:00:00Z');
const today = [{ type: 'demo-request', at: now.toISOString() }];

describe('scoreLead', () => {
  it.each([
    { name: 'enterprise VP in the US', lead: {}, fit: 25 + 30 + 15 + 20 },
    {
      name: 'student at a tiny company',
      lead: { title: 'Student', companySize: 3, industry: 'education', country: 'BR' },
      fit: 0,
    },
    {
      name: 'manager at a mid-market software company',
      lead: { title: 'Engineering Manager', companySize: 300, industry: 'software' },
      fit: 15 + 25 + 20 + 20,
    },
    {
      name: 'no optional fields',
      lead: { title: undefined, companySize: undefined, industry: undefined, country: undefined },
      fit: 0,
    },
    {
      name: 'free-mail address loses points',
      lead: { email: 'j@gmail.com', emailDomain: 'gmail.com' },
      fit: 90 - 15,
    },
  ])('scores fit for $name', ({ lead, fit }) => {
    expect(scoreLead(aLead(lead), [], rules, now).fit).toBe(fit);
  });

  it('explains every point with a reason and the rules version', () => {
    const score = scoreLead(aLead(), today, rules, now);
    const sum = score.reasons.filter((r) => r.kind !== 'negative').reduce((s, r) => s + r.points, 0);
    expect(sum).toBe(score.fit + score.engagement);
    expect(score.reasons.map((r) => r.label)).toContain('Title: VP or director');
    expect(score.reasons.map((r) => r.label)).toContain('demo-request (today)');
    expect(score.rulesVersion).toBe(rules.version);
  });

  it('halves engagement every half-life', () => {
    const at = new Date(now.getTime() - rules.intent.halfLifeDays * 86_400_000).toISOString();
    const fresh = scoreLead(aLead(), today, rules, now).engagement;
    const old = scoreLead(aLead(), [{ type: 'demo-request', at }], rules, now).engagement;
    expect(fresh).toBe(60);
    expect(old).toBe(30);
  });

  it('ignores unknown event types and caps each score at 100', () => {
    const many = Array.from({ length: 10 }, () => ({ type: 'reply', at: now.toISOString() }));
    const score = scoreLead(aLead(), [...many, { type: 'mystery', at: now.toISOString() }], rules, now);
    expect(score.engagement).toBe(100);
    expect(score.reasons.some((r) => r.label.startsWith('mystery'))).toBe(false);
  });

  it.each([
    {
      name: 'a disposable domain',
      lead: { email: 'x@mailinator.com', emailDomain: 'mailinator.com' },
      flag: 'disposable-domain',
    },
    {
      name: 'a competitor',
      lead: { email: 'spy@rivalcrm.example', emailDomain: 'rivalcrm.example' },
      flag: 'competitor',
    },
    { name: 'a test submission', lead: { firstName: 'test', company: 'asdf' }, flag: 'spam' },
    { name: 'a link in the message', lead: { message: 'cheap pills http://spam.example' }, flag: 'spam' },
  ])('flags $name and zeroes the total', ({ lead, flag }) => {
    const score = scoreLead(aLead(lead), today, rules, now);
    expect(score.flags).toContain(flag);
    expect(score.total).toBe(0);
  });

  it('grades by total', () => {
    expect(scoreLead(aLead(), today, rules, now).grade).toBe('B');
    expect(
      scoreLead(
        aLead({ title: 'Student', companySize: 2, industry: undefined, country: undefined }),
        [],
        rules,
        now,
      ).grade,
    ).toBe('D');
  });
});

describe('routeLead', () => {
  const route = (lead: Parameters<typeof aLead>[0], events: { type: string; at: string }[]) => {
    const score = scoreLead(aLead(lead), events, rules, now);
    return routeLead(
      score,
      events.map((e) => e.type),
      rules,
    );
  };

  it('routes a demo request straight to sales even from a modest fit', () => {
    expect(route({ title: 'Analyst', companySize: 20, industry: undefined }, today)).toBe('sales-ready');
  });

  it('routes a strong fit with strong intent to sales by score', () => {
    const events = [
      { type: 'pricing', at: now.toISOString() },
      { type: 'reply', at: now.toISOString() },
    ];
    const score = scoreLead(aLead(), events, rules, now);
    expect(score.total).toBeGreaterThanOrEqual(rules.thresholds.salesReady);
    expect(routeLead(score, ['pricing'], rules)).toBe('sales-ready');
  });

  it('nurtures a newsletter sign-up from a good-fit company', () => {
    expect(route({ formType: 'newsletter' }, [{ type: 'newsletter', at: now.toISOString() }])).toBe(
      'nurture',
    );
  });

  it('disqualifies below the floor', () => {
    const lead = {
      title: 'Student',
      companySize: 2,
      industry: undefined,
      country: undefined,
      formType: 'newsletter',
    };
    expect(route(lead, [{ type: 'newsletter', at: now.toISOString() }])).toBe('disqualify');
  });

  it('disqualifies spam even when it asks for a demo', () => {
    expect(route({ firstName: 'test' }, today)).toBe('disqualify');
  });

  it('treats exactly the sales threshold as sales-ready and one below as nurture', () => {
    const base = scoreLead(aLead({ formType: 'pricing' }), [], rules, now);
    expect(routeLead({ ...base, total: rules.thresholds.salesReady, flags: [] }, ['pricing'], rules)).toBe(
      'sales-ready',
    );
    expect(
      routeLead({ ...base, total: rules.thresholds.salesReady - 1, flags: [] }, ['pricing'], rules),
    ).toBe('nurture');
    expect(
      routeLead({ ...base, total: rules.thresholds.disqualifyBelow, flags: [] }, ['pricing'], rules),
    ).toBe('nurture');
    expect(
      routeLead({ ...base, total: rules.thresholds.disqualifyBelow - 1, flags: [] }, ['pricing'], rules),
    ).toBe('disqualify');
  });
});
