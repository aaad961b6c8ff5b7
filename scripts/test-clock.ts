// npm run test:clock: the tests at other hours, days and time zones. Runs vitest under
// `faketime` (libfaketime: the machine's clock says another instant for the whole process tree) so a test
// that only passes on weekdays, in business hours or in UTC shows up before CI meets that hour.
//
//   npm run test:clock            the time-sensitive files at Saturday 23:30 UTC, in Pacific/Kiritimati (UTC+14,
//                                 where it is already Sunday 13:30): what .ci/run does
//   npm run test:clock -- --report FILE   also writes {numPassedTests, numFailedTests} over all runs (.ci/run)
//   npm run test:clock -- --all   the whole suite at Saturday 23:30 UTC, Sunday 12:00 UTC, Monday 10:00 UTC and
//                                 Saturday 23:30 UTC in Pacific/Kiritimati, one after the other (~4 × npm test)
//
// Exit code: 0 all passed · 1 a run failed · 2 usage, faketime is missing, or a listed test path is.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** What reads the date or the hour: the local stack, the workflow, business hours, the funnel, the console's times. */
export const TIME_SENSITIVE = [
  'test/integration',
  'test/reliability',
  'test/unit/analytics',
  'test/unit/functions/api',
  'test/unit/functions/deal',
  'test/unit/functions/events',
  'test/unit/functions/funnel',
  'test/unit/functions/lead',
  'test/unit/functions/mail/links.test.ts',
  'test/unit/functions/platform/http.test.ts',
  'test/unit/functions/steps',
  'test/unit/console/format.test.ts',
  'test/unit/local/clock.test.ts',
];

/**
 * Left out of the time-sensitive run: what they prove is not about the hour (IAM decisions, the console's
 * AWS mode, transient faults retried), their stacks start at TEST_START whatever the machine's clock says,
 * and together they take about three of CI's fifteen minutes (the fault test alone 150–200 s of a worker).
 * `--all` still runs them at every moment.
 */
export const CLOCK_EXCLUDED = ['test/integration/local-iam*.test.ts', 'test/reliability/faults.test.ts'];

export interface Moment {
  /** The machine's clock, in UTC. */
  at: string;
  /** The process's time zone. */
  tz: string;
}

export const CI_MOMENT: Moment = { at: '2026-12-05 23:30:00', tz: 'Pacific/Kiritimati' };
export const ALL_MOMENTS: Moment[] = [
  { at: '2026-12-05 23:30:00', tz: 'UTC' },
  { at: '2026-12-06 12:00:00', tz: 'UTC' },
  { at: '2026-12-07 10:00:00', tz: 'UTC' },
  CI_MOMENT,
];

/**
 * The command for one moment: faketime parses the instant in UTC (its own TZ), then the tests run in the
 * moment's time zone. libfaketime's clock starts at that instant and runs on at real speed.
 */
export function commandFor(
  m: Moment,
  files: string[],
): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  return {
    cmd: 'faketime',
    // The unit and synthesized projects: the DynamoDB Local lane tests the emulator, not the hour (and its JVM
    // would run under faketime too).
    args: [
      m.at,
      'env',
      `TZ=${m.tz}`,
      'vitest',
      'run',
      '--project',
      'unit',
      '--project',
      'synthesized',
      ...files,
      ...(files.length ? CLOCK_EXCLUDED.flatMap((g) => ['--exclude', g]) : []),
    ],
    env: { ...process.env, TZ: 'UTC' },
  };
}

function main(): number {
  let all = false;
  let summary: string | undefined;
  try {
    ({
      values: { all = false, report: summary },
    } = parseArgs({ options: { all: { type: 'boolean' }, report: { type: 'string' } }, strict: true }));
  } catch (e) {
    console.error(`${(e as Error).message}\nUsage: npm run test:clock [-- --all] [-- --report FILE]`);
    return 2;
  }
  const files = all ? [] : TIME_SENSITIVE;
  // vitest takes each path as a filter and runs what the others match, so a moved file would drop out unseen.
  const missing = files.filter((f) => !existsSync(join(import.meta.dirname, '..', f)));
  if (missing.length) {
    console.error(
      `npm run test:clock: no such test file or folder: ${missing.join(', ')} (scripts/test-clock.ts)`,
    );
    return 2;
  }
  if (spawnSync('faketime', ['-h'], { stdio: 'ignore' }).error) {
    console.error(
      'npm run test:clock needs faketime (Debian/Ubuntu: apt-get install faketime; macOS: brew install libfaketime)',
    );
    return 2;
  }
  const moments = all ? ALL_MOMENTS : [CI_MOMENT];
  const out = mkdtempSync(join(tmpdir(), 'handoff-clock-'));
  const results: string[] = [];
  const totals = { numPassedTests: 0, numFailedTests: 0 };
  let failed = false;
  for (const [i, m] of moments.entries()) {
    const report = join(out, `${i}.json`);
    const { cmd, args, env } = commandFor(m, [
      ...files,
      '--reporter=dot',
      '--reporter=json',
      `--outputFile=${report}`,
    ]);
    process.stderr.write(
      `\n[${i + 1}/${moments.length}] the clock at ${m.at} UTC, TZ=${m.tz}: vitest ${all ? '(all)' : 'time-sensitive files'} …\n`,
    );
    const started = Date.now();
    const run = spawnSync(cmd, args, { env, stdio: 'inherit' });
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    let line = `${m.at} UTC, TZ=${m.tz}: `;
    try {
      const r = JSON.parse(readFileSync(report, 'utf8')) as {
        numPassedTests: number;
        numFailedTests: number;
      };
      line += `${r.numPassedTests} passed, ${r.numFailedTests} failed in ${secs} s`;
      totals.numPassedTests += r.numPassedTests;
      totals.numFailedTests += r.numFailedTests;
      failed ||= r.numFailedTests > 0 || run.status !== 0;
    } catch {
      line += `no report (exit ${run.status ?? run.signal}) after ${secs} s`;
      totals.numFailedTests += 1;
      failed = true;
    }
    results.push(line);
  }
  rmSync(out, { recursive: true, force: true });
  if (summary) writeFileSync(summary, JSON.stringify(totals));
  console.log(`\n${results.join('\n')}`);
  return failed ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(main());
