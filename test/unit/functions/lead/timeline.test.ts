import { describe, expect, it } from 'vitest';
import { checkedEvent, type TimelineEvent, TimelineEventError, timeline } from '#functions/lead/timeline.ts';

const AT = '2026-11-27T10:15:42.123Z';
const tagged = { formType: 'pricing', utmSource: 'linkedin', utmMedium: '', utmCampaign: 'q4' };

describe('timeline builders', () => {
  it('builds the form event one way for the run it started, a merged run and a run it was handed to', () => {
    expect(timeline.form(AT, tagged, 'run-1', 'captured')).toEqual({
      type: 'form',
      at: AT,
      // An empty medium is left out, as the funnel's run facts leave it out.
      data: {
        formType: 'pricing',
        executionName: 'run-1',
        merged: false,
        utmSource: 'linkedin',
        utmCampaign: 'q4',
      },
    });
    expect(timeline.form(AT, tagged, 'run-2', 'merged').data).toMatchObject({ merged: true });
    // Handed to the active run: `delivered`, and no `merged` (the funnel rebuild starts runs on merged: false).
    const delivered = timeline.form(AT, tagged, 'run-1', 'delivered').data;
    expect(delivered).toMatchObject({ delivered: true });
    expect(delivered).not.toHaveProperty('merged');
  });

  it('keeps UTM fields only with a source', () => {
    const data = timeline.form(AT, { formType: 'contact', utmMedium: 'email' }, 'run-1', 'captured').data;
    expect(data).not.toHaveProperty('utmMedium');
  });

  it('stamps a click to its minute, so repeated hits make one event', () => {
    const url = new URL('https://www.handoff.example/pricing?x=1');
    expect(timeline.emailClick(url, new Date(AT))).toEqual({
      type: 'email-click',
      at: '2026-11-27T10:15:00.000Z',
      data: { host: 'www.handoff.example', path: '/pricing' },
    });
  });

  it('records a close with what the deal has: no amount on a loss, no reason on a win', () => {
    expect(timeline.closed(AT, { dealId: 'dl-1', stage: 'won', amount: 1200 }, false).data).toEqual({
      dealId: 'dl-1',
      stage: 'won',
      amount: 1200,
      recycled: false,
    });
    expect(timeline.closed(AT, { dealId: 'dl-1', stage: 'lost', lostReason: 'not-now' }, true).data).toEqual({
      dealId: 'dl-1',
      stage: 'lost',
      lostReason: 'not-now',
      recycled: true,
    });
  });

  it('names the rep’s answer after the action', () => {
    expect(timeline.repAnswered(AT, 'won', { dealId: 'dl-1', repId: 'rep-1' }).type).toBe('rep-won');
  });

  it('builds events the union accepts', () => {
    const events: TimelineEvent[] = [
      timeline.form(AT, tagged, 'run-1', 'captured'),
      timeline.scored(AT, { total: 72, fit: 80, engagement: 64, grade: 'B', flags: [] }, 'sales-ready', {
        reasons: ['Title: VP'],
        territory: 'enterprise-na',
      }),
      timeline.nurtureDecided(AT, 'done', { total: 30, grade: 'C', reasons: [] }),
      timeline.emailed(AT, { template: 'welcome', cycle: 0, step: 1 }),
      timeline.unsubscribed(AT, 'one-click'),
      timeline.bounced(AT),
      timeline.complained(AT),
      timeline.failed(AT, { errorType: 'States.Timeout', status: 'TIMED_OUT' }),
      timeline.assigned(AT, { dealId: 'dl-1', repId: 'rep-1', team: 'enterprise-na' }),
      timeline.reassigned(AT, { dealId: 'dl-1', from: 'rep-1', to: 'rep-2' }),
      timeline.waitingForRep(AT, 'enterprise-na'),
      timeline.redriven(AT, 'dl-1'),
    ];
    for (const e of events) expect(checkedEvent(e)).toEqual(e);
  });
});

describe('checkedEvent', () => {
  it('refuses an event whose data does not match its type, naming the field', () => {
    const click = { type: 'rep-click', at: AT, data: { dealId: 'dl-1', repId: 'rep-1' } };
    expect(() => checkedEvent(click as unknown as TimelineEvent)).toThrow(TimelineEventError);
    const unscored = { type: 'scored', at: AT, data: { total: 5 } } as unknown as TimelineEvent;
    expect(() => checkedEvent(unscored)).toThrow(/scored is malformed.*grade/);
    const local = { ...timeline.bounced(AT), at: '27/11/2026' };
    expect(() => checkedEvent(local)).toThrow(TimelineEventError);
  });
});
