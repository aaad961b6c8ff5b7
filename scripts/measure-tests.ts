// npm run measure:tests: times what a developer waits for — synthesis, `npm run test:quick`, `npm test` —
// on this machine, counts the tests, and writes docs/test-times.md and docs/test-times.json. The README
// and docs point to that page instead of typing figures by hand (test time is a budget).
//
// Budgets: npm test ≤ 5 min and test:quick ≤ 60 s on 2 cores. This prints whether they held; it
// does not fail on a time (CI budgets check sizes and counts, never times).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const BUDGET = { test: 300, quick: 60 };

interface Timed {
  seconds: number;
  status: number | null;
}

function timed(what: string, cmd: string, args: string[]): Timed {
  process.stderr.write(`measure:tests: ${what} …\n`);
  const started = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: process.env });
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`measure:tests: ${what}: ${seconds.toFixed(1)} s (exit ${r.status})\n`);
  return { seconds, status: r.status };
}

function main(): void {
  const scratch = mkdtempSync(join(tmpdir(), 'handoff-measure-'));
  const load = loadavg()[0] ?? 0;
  const synth = timed('npx cdk synth --quiet into an empty folder', 'npx', [
    'cdk',
    'synth',
    '--quiet',
    '--output',
    join(scratch, 'cdk.out'),
  ]);
  const functions = Object.values(
    JSON.parse(readFileSync(join(scratch, 'cdk.out', 'Handoff.template.json'), 'utf8')).Resources as Record<
      string,
      { Type: string }
    >,
  ).filter((r) => r.Type === 'AWS::Lambda::Function').length;
  const quick = timed('npm run test:quick', 'npm', ['run', 'test:quick']);
  const report = join(scratch, 'vitest.json');
  const test = timed('npm test', 'npm', [
    'test',
    '--',
    '--reporter=dot',
    '--reporter=json',
    `--outputFile=${report}`,
  ]);
  const r = JSON.parse(readFileSync(report, 'utf8')) as {
    numTotalTests: number;
    numPassedTests: number;
    numFailedTests: number;
    testResults: { name: string; startTime: number; endTime: number }[];
  };
  rmSync(scratch, { recursive: true, force: true });

  const slowest = r.testResults
    .map((f) => ({ file: f.name.replace(`${root}/`, ''), seconds: (f.endTime - f.startTime) / 1000 }))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, 8);
  const figures = {
    measuredAt: new Date().toISOString(),
    machine: {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? '',
      node: process.version,
      loadBefore: load,
    },
    synth: { seconds: synth.seconds, functions },
    testQuick: { seconds: quick.seconds, ok: quick.status === 0, budget: BUDGET.quick },
    test: {
      seconds: test.seconds,
      ok: test.status === 0,
      budget: BUDGET.test,
      tests: r.numTotalTests,
      passed: r.numPassedTests,
      failed: r.numFailedTests,
      files: r.testResults.length,
    },
    slowest,
  };
  const s = (x: number) => `${x.toFixed(0)} s`;
  const held = (x: number, budget: number) =>
    x <= budget ? `within the ${s(budget)} budget` : `**over** the ${s(budget)} budget`;
  const md = `# Test and build times

Written by \`npm run measure:tests\` (scripts/measure-tests.ts) on ${figures.measuredAt.slice(0, 10)}: do not edit by
hand, run it again. Machine: ${figures.machine.cores} cores (${figures.machine.cpu}), Node.js ${figures.machine.node}, load
average ${load.toFixed(2)} before the first command.

| what | time | |
| --- | ---: | --- |
| \`npx cdk synth --quiet\` into an empty folder (${functions} functions bundled, config validated, cdk-nag) | ${s(synth.seconds)} | what \`npm start\` adds when \`cdk.out\` is stale |
| \`npm run test:quick\` (lint, typecheck, unit tests) | ${s(quick.seconds)} | ${held(quick.seconds, BUDGET.quick)}${quick.status === 0 ? '' : ', **failed**'} |
| \`npm test\` (the above, then synthesis and the synthesized tests) | ${s(test.seconds)} | ${held(test.seconds, BUDGET.test)}; ${r.numPassedTests} passed, ${r.numFailedTests} failed of ${r.numTotalTests} in ${r.testResults.length} files |

Slowest test files in that \`npm test\` (two run at once):

| file | time |
| --- | ---: |
${slowest.map((f) => `| \`${f.file}\` | ${f.seconds.toFixed(1)} s |`).join('\n')}

\`.ci/run\` adds \`npm ci\` and \`npm run test:clock\` (the time-sensitive files under \`faketime\` at Saturday
23:30 UTC in Pacific/Kiritimati).
`;
  const files = [join(root, 'docs', 'test-times.md'), join(root, 'docs', 'test-times.json')];
  writeFileSync(files[0] as string, md);
  writeFileSync(files[1] as string, `${JSON.stringify(figures, null, 2)}\n`);
  // In the repository's format, so `npm run lint` passes on what this wrote.
  spawnSync('npx', ['biome', 'format', '--write', ...files], { cwd: root, stdio: 'ignore' });
  console.log(md);
  if (test.status !== 0 || quick.status !== 0) process.exitCode = 1;
}

main();
