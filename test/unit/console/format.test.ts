import { describe, expect, it } from 'vitest';
import { hours } from '#console/public/lib/format.js';

describe('console format: median durations (hours)', () => {
  it('says "< 1 s" below a second, never "0 ms"', () => {
    expect(hours(0)).toBe('< 1 s');
    expect(hours(0.4 / 3600)).toBe('< 1 s');
    expect(hours(0.000_2)).toBe('< 1 s');
  });

  it('uses seconds, minutes, hours and days, one decimal under 10', () => {
    expect(hours(1 / 3600)).toBe('1 s');
    expect(hours(42 / 3600)).toBe('42 s');
    expect(hours(270 / 3600)).toBe('4.5 min');
    expect(hours(12 / 60)).toBe('12 min');
    expect(hours(2.25)).toBe('2.3 h');
    expect(hours(15)).toBe('15 h');
    expect(hours(3.1 * 24)).toBe('3.1 d');
    expect(hours(40 * 24)).toBe('40 d');
  });

  it('shows a dash without a median', () => {
    expect(hours(null)).toBe('—');
    expect(hours(undefined)).toBe('—');
  });
});
