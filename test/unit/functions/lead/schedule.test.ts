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
