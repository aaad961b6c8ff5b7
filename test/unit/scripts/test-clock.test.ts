import { describe, expect, it } from 'vitest';
import { ALL_MOMENTS, CI_MOMENT, commandFor, TIME_SENSITIVE } from '#scripts/test-clock.ts';

describe('npm run test:clock', () => {
  it('runs vitest under faketime at the moment, parsed in UTC, with the tests in the moment’s time zone', () => {
    const { cmd, args, env } = commandFor(CI_MOMENT, ['test/integration']);
    expect(cmd).toBe('faketime');
    expect(args).toEqual([
      '2026-12-05 23:30:00',
      'env',
      'TZ=Pacific/Kiritimati',
      'vitest',
      'run',
      '--project',
      'unit',
      '--project',
      'synthesized',
      'test/integration',
      '--exclude',
      'test/integration/local-iam*.test.ts',
      '--exclude',
      'test/reliability/faults.test.ts',
    ]);
    expect(env.TZ).toBe('UTC');
    // --all: the whole suite, nothing left out.
    expect(commandFor(CI_MOMENT, []).args).not.toContain('--exclude');
  });

  it('covers a Saturday night, a Sunday noon, a Monday morning and a time zone 14 hours ahead', () => {
    const days = ALL_MOMENTS.map((m) => new Date(`${m.at.replace(' ', 'T')}Z`).getUTCDay());
    expect(days).toEqual([6, 0, 1, 6]);
    expect(ALL_MOMENTS.map((m) => m.tz)).toContain('Pacific/Kiritimati');
    expect(TIME_SENSITIVE).toContain('test/integration');
  });
});
