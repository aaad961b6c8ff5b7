import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '#test/fixtures/root.ts';

// `npm run cost` prices the paths `npm run bench` measured (a counts file like docs/performance.json).
const counts = join(mkdtempSync(join(tmpdir(), 'handoff-cost-')), 'performance.json');
const path = (transitions: number, emails: number, timerRounds = 0) => ({
  transitions,
  lambdaInvocations: 10,
  lambdaGbSeconds: 0.5,
  dynamoWrites: 40,
  dynamoReads: 20,
  emails,
  timerRounds,
  roundStates: timerRounds ? 2 : 0,
});
writeFileSync(
  counts,
  JSON.stringify({
    paths: { 'nurture-completed': path(16, 4, 5), 'hot-won': path(9, 1), disqualified: path(3, 0) },
  }),
);
const cost = (...args: string[]) =>
  spawnSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts/cost.ts'), ...args], {
    encoding: 'utf8',
    cwd: root,
  });

describe('npm run cost', () => {
  it('prices each measured path per 1,000 leads, today and on the two alternatives, and a mix', () => {
    const r = cost(
      '--counts',
      counts,
      '--mix',
      'nurture-completed=0.5,hot-won=0.3,disqualified=0.2',
      '--json',
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      per1000Leads: Record<
        string,
        { paths: Record<string, { usd: Record<string, number> }>; mix: { total: number } }
      >;
    };
    const nurture = out.per1000Leads.today?.paths['nurture-completed']?.usd ?? {};
    // 16 transitions × $0.025/1k, 4 emails × $0.10/1k, per 1,000 leads.
    expect(nurture.transitions).toBeCloseTo(0.4, 9);
    expect(nurture.ses).toBeCloseTo(0.4, 9);
    const parts = ['transitions', 'lambda', 'dynamo', 'ses', 'scheduler', 'express'];
    expect(nurture.total).toBeCloseTo(
      parts.reduce((a, k) => a + (nurture[k] ?? 0), 0),
      9,
    );
    // Scheduler for the timers: 5 rounds × 2 states fewer, 5 Scheduler invocations more.
    const scheduler = out.per1000Leads.schedulerWaits?.paths['nurture-completed']?.usd ?? {};
    expect(scheduler.transitions).toBeCloseTo(0.15, 9);
    expect(out.per1000Leads.schedulerWaits?.mix.total).toBeLessThan(out.per1000Leads.today?.mix.total ?? 0);
    const table = cost('--counts', counts, '--mix', 'nurture-completed=1');
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/\| nurture-completed \|.*\*\*\$0\.\d{3}\*\*/);
  });

  it.each([
    [['--mix', 'nurture-completed=0.5,hot-won=0.4'], /sum to 1/],
    [['--mix', 'everything=1'], /unknown path "everything"/],
    [['--mix', 'hot-won=-1'], /bad mix entry/],
    [['--bogus'], /Unknown option/],
  ])('rejects %j with the usage and exit 2', (args, message) => {
    const r = cost('--counts', counts, ...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('Usage: npm run cost');
  });

  it('asks for a mix when the counts lack a path of the default mix', () => {
    const r = cost('--counts', counts);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no nurture-qualified, .*hot-lost-recycled.* for the default mix: pass --mix/);
  });

  it('says to run the bench first when there are no measured counts', () => {
    const r = cost('--counts', join(tmpdir(), 'no-such-performance.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('run `npm run bench` first');
  });
});
