// What the demo tells about a nurture email its stack's time scale cannot show in time (scripts/demo-scale.ts).
import { describe, expect, it } from 'vitest';
import { businessHours, duration, realSeconds } from '#scripts/demo-scale.ts';

describe('the demo at a time scale', () => {
  it('turns a held welcome email into real waiting at the stack time scale', () => {
    const held = { sent: false as const, waitSeconds: 171_000 };
    expect(realSeconds(held, 1)).toBe(171_000);
    expect(realSeconds(held, 86_400)).toBeCloseTo(1.98, 2);
    expect(realSeconds(held, undefined)).toBeUndefined();
    expect(realSeconds({ sent: true }, 1)).toBe(0);
  });

  it('says durations and business hours as people read them', () => {
    expect(duration(171_000)).toBe('1 d 23 h');
    expect(duration(86_400)).toBe('1 d');
    expect(duration(3_900)).toBe('1 h 5 min');
    expect(duration(360)).toBe('6 min');
    expect(duration(12.4)).toBe('12 s');
    expect(businessHours({ startHour: 9, endHour: 17, days: [1, 2, 3, 4, 5], defaultTimeZone: 'UTC' })).toBe(
      'Mon–Fri 09:00–17:00',
    );
    expect(businessHours({ startHour: 8, endHour: 12, days: [6, 1], defaultTimeZone: 'UTC' })).toBe(
      'Mon, Sat 08:00–12:00',
    );
  });
});
