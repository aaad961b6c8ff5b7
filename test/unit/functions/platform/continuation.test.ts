import { describe, expect, it } from 'vitest';
import {
  CONTINUE_AFTER,
  continuationDue,
  continuationLimits,
  continuationName,
} from '#functions/platform/continuation.ts';

const now = new Date('2026-12-01T16:00:00Z');
const limits = { loops: 3, days: 2 };

describe('when a waiting run continues as a new execution', () => {
  it('continues at the loop limit or the age limit, whichever comes first', () => {
    expect(continuationDue({ loops: 2 }, now, limits)).toBe(false);
    expect(continuationDue({ loops: 3 }, now, limits)).toBe(true);
    expect(continuationDue({ startedAt: '2026-11-29T16:00:01Z' }, now, limits)).toBe(false);
    expect(continuationDue({ startedAt: '2026-11-29T16:00:00Z' }, now, limits)).toBe(true);
    expect(continuationDue({ loops: 1, startedAt: '2026-11-01T00:00:00.000Z' }, now, limits)).toBe(true);
    // A run that says neither (started before either was sent) never continues.
    expect(continuationDue({}, now, limits)).toBe(false);
  });

  it('reads the limits the template sets, and falls back to the defaults on nonsense', () => {
    expect(continuationLimits({ CONTINUE_AFTER_LOOPS: '2', CONTINUE_AFTER_DAYS: '0.5' })).toEqual({
      loops: 2,
      days: 0.5,
    });
    expect(continuationLimits({ CONTINUE_AFTER_LOOPS: 'x', CONTINUE_AFTER_DAYS: '-1' })).toEqual(
      CONTINUE_AFTER,
    );
    expect(continuationLimits({})).toEqual(CONTINUE_AFTER);
  });

  it('names the nth run of a chain <root>-c<n>, within 80 characters', () => {
    expect(continuationName('ld-0123456789abcdef0123-newsletter-20261201', 2)).toBe(
      'ld-0123456789abcdef0123-newsletter-20261201-c2',
    );
    const long = `ld-0123456789abcdef0123-${'x'.repeat(56)}`;
    expect(long).toHaveLength(80);
    const name = continuationName(long, 12);
    expect(name).toHaveLength(80);
    expect(name.endsWith('-c12')).toBe(true);
    expect(name.startsWith('ld-0123456789abcdef0123-')).toBe(true);
  });
});
