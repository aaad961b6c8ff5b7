import { describe, expect, it } from 'vitest';
import { nextSendTime } from '#functions/lead/schedule.ts';

const hours = { startHour: 9, endHour: 17, days: [1, 2, 3, 4, 5], defaultTimeZone: 'UTC' };

describe('nextSendTime', () => {
  it('keeps a time that is already inside business hours', () => {
    // Thursday 2026-11-26 10:00 in New York = 15:00Z
    const from = new Date('2026-11-26T15:00:00Z');
    expect(nextSendTime(from, 0, 'America/New_York', hours).toISOString()).toBe('2026-11-26T15:00:00.000Z');
  });

  it('moves an evening send to the next morning in the lead’s time zone', () => {
    // Thursday 19:30 in Berlin (18:30Z) → Friday 09:00 Berlin = 08:00Z
    const from = new Date('2026-11-26T18:30:00Z');
    expect(nextSendTime(from, 0, 'Europe/Berlin', hours).toISOString()).toBe('2026-11-27T08:00:00.000Z');
  });

  it('skips the weekend', () => {
    // Friday 2026-11-27 18:00 Tokyo (09:00Z) + 1 day = Saturday → Monday 09:00 Tokyo = Monday 00:00Z
    const from = new Date('2026-11-27T09:00:00Z');
    expect(nextSendTime(from, 1, 'Asia/Tokyo', hours).toISOString()).toBe('2026-11-30T00:00:00.000Z');
  });

  it('adds the step delay before aligning', () => {
    const from = new Date('2026-11-23T14:00:00Z'); // Monday 14:00 UTC
    expect(nextSendTime(from, 2, 'UTC', hours).toISOString()).toBe('2026-11-25T14:00:00.000Z');
  });

  it('handles the spring DST change', () => {
    // Sunday 2027-03-14 is DST start in New York; Monday 09:00 EDT = 13:00Z
    const from = new Date('2027-03-14T12:00:00Z');
    expect(nextSendTime(from, 0, 'America/New_York', hours).toISOString()).toBe('2027-03-15T13:00:00.000Z');
  });
});

describe('nextSendTime: sends held for the opening are spread', () => {
  const spread = (key: string) => ({ key, windowMinutes: 120 });
  // Thursday 19:30 in Berlin → Friday's opening, 09:00 Berlin = 08:00Z.
  const from = new Date('2026-11-26T18:30:00Z');
  const opens = Date.parse('2026-11-27T08:00:00Z');

  it('lands each lead at its own offset in the window, the same every time, never on the opening itself', () => {
    const times = Array.from({ length: 200 }, (_, i) =>
      nextSendTime(from, 0, 'Europe/Berlin', hours, spread(`ld-${i}`)).getTime(),
    );
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(opens);
      expect(t).toBeLessThan(opens + 120 * 60_000);
    }
    // No second of the window holds more than a handful, and every quarter of it some.
    const perSecond = new Map<number, number>();
    for (const t of times)
      perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(2);
    for (let q = 0; q < 4; q++)
      expect(times.filter((t) => Math.floor((t - opens) / (30 * 60_000)) === q).length).toBeGreaterThan(20);
    expect(nextSendTime(from, 0, 'Europe/Berlin', hours, spread('ld-7')).getTime()).toBe(times[7]);
  });

  it('keeps a time already inside business hours as it is, and stays inside the open hours', () => {
    const inside = new Date('2026-11-26T15:00:00Z');
    expect(nextSendTime(inside, 0, 'America/New_York', hours, spread('ld-1')).toISOString()).toBe(
      '2026-11-26T15:00:00.000Z',
    );
    const short = { ...hours, startHour: 9, endHour: 10 };
    for (let i = 0; i < 50; i++) {
      const t = nextSendTime(from, 0, 'Europe/Berlin', short, { key: `ld-${i}`, windowMinutes: 480 });
      expect(t.getTime()).toBeLessThan(opens + 60 * 60_000);
    }
  });
});
