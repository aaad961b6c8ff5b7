// npm run bench: measures Handoff and writes docs/performance.md (the tables, the machine, the command) and
// docs/performance.json (the same figures; `npm run cost` prices the measured paths from it). Prints the
// tables as it goes and, last, the goals table. Figures only: no pass/fail (the CI budgets are tests).
//  1. per function: bundle size and cold import as a ratio to an empty module (scripts/bench-bundles.ts);
//  2. per journey path: transitions, Lambda invocations and GB-s, DynamoDB units, emails, counted from real
//     runs in the local runtime (scripts/bench-paths.ts), and their AWS cost (scripts/cost.ts);
//  3. the local stack: throughput end to end beside dynalite's raw PutItem rate, POST /leads latency at 50
//     concurrent (autocannon), peak RSS (scripts/bench-local.ts).
// Env: BENCH_COLD_RUNS (11), BENCH_SKIP (comma list of bundles,paths,local), BENCH_NO_SYNTH=1 (reuse cdk.out).
// A little over 300 lines: the run, the sections kept from an earlier run and the goals table are one
// document's assembly; the measuring lives in the bench-*.ts modules.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { type BundlesReport, bundlesMarkdown, measureBundles } from './bench-bundles.ts';
import { type LocalStackFigures, localStackMarkdown } from './bench-local.ts';
import { measurePaths, nurtureArrival, type PathFigures } from './bench-paths.ts';
import { costMarkdown, costReport, DEFAULT_MIX, type MeasuredPath } from './cost.ts';

const root = join(import.meta.dirname, '..');
const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
const started = performance.now();
const stamp = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const machine = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memGiB: Math.round(totalmem() / 2 ** 30),
  loadAvg: loadavg().map((n) => Number(n.toFixed(2))),
  command: `npm run bench${process.env.BENCH_SKIP ? ` (BENCH_SKIP=${process.env.BENCH_SKIP})` : ''}`,
};
const say = (text: string) => process.stderr.write(`[bench ${stamp()}] ${text}\n`);

if (process.env.BENCH_NO_SYNTH !== '1' || !existsSync(join(root, 'cdk.out', 'Handoff.template.json'))) {
  say('synthesizing the app (cdk synth) …');
  execFileSync('npx', ['cdk', 'synth', '--quiet'], { cwd: root, stdio: 'inherit' });
}

let bundles: BundlesReport | undefined;
if (!skip.has('bundles')) {
  say('1/3 bundles and cold imports …');
  bundles = await measureBundles({ runs: Number(process.env.BENCH_COLD_RUNS ?? 11), progress: true });
}
let paths: PathFigures[] | undefined;
if (!skip.has('paths')) {
  say('2/3 journey paths, one lead each, in the local runtime …');
  paths = await measurePaths(true);
}
let local: LocalStackFigures | undefined;
if (!skip.has('local')) {
  say('3/3 local stack: dynalite, POST /leads under autocannon, end to end …');
  // In a process of its own: its RSS is then the local stack's, not the stacks of the sections before.
  const child = spawnSync(
    join(root, 'node_modules', '.bin', 'tsx'),
    [join(root, 'scripts', 'bench-local.ts')],
    {
      cwd: root,
      env: { ...process.env, BENCH_JSON: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 16 * 2 ** 20,
    },
  );
  if (child.status !== 0) throw new Error(`the local-stack bench failed (exit ${child.status})`);
  local = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as LocalStackFigures;
}

// A section left out (BENCH_SKIP) keeps the figures of the run that last measured it, and says so.
const jsonFile = join(root, 'docs', 'performance.json');
const previous = existsSync(jsonFile)
  ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, unknown>)
  : {};
const previousDates = (previous.measuredOn ?? {}) as Record<string, string>;
const fallbackDate = ((previous.machine as { date?: string } | undefined)?.date ?? '').slice(0, 10);
const measuredOn: Record<string, string> = {};
const kept: string[] = [];
const today = machine.date.slice(0, 10);
/** This run's figures for `section`, or else the previous run's, noted as kept. */
function freshOrKept<T>(section: 'bundles' | 'local', label: string, fresh: T | undefined): T | undefined {
  if (fresh) {
    measuredOn[section] = today;
    return fresh;
  }
  if (!previous[section]) return undefined;
  measuredOn[section] = previousDates[section] ?? fallbackDate;
  kept.push(`${label} (${measuredOn[section]})`);
  return previous[section] as T;
}
bundles = freshOrKept('bundles', 'bundles and cold imports', bundles);
local = freshOrKept('local', 'local stack', local);

const measured: Record<string, MeasuredPath> | undefined = paths
  ? Object.fromEntries(
      paths.map((p) => [
        p.path,
        {
          transitions: p.transitions,
          lambdaInvocations: p.lambdaInvocations,
          lambdaGbSeconds: Number(p.lambdaGbSeconds.toFixed(4)),
          dynamoWrites: p.dynamoWrites,
          dynamoReads: p.dynamoReads,
          emails: p.emails,
          timerRounds: p.timerRounds,
          roundStates: p.roundStates,
        },
      ]),
    )
  : undefined;
const cost = measured ? costReport(measured, DEFAULT_MIX) : undefined;

const pathsMarkdown = (ps: PathFigures[]) =>
  [
    '| path | ends at | transitions | Lambda invocations | GB-s | DynamoDB WCU | DynamoDB RCU | DynamoDB calls | emails (nurture) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...ps.map(
      (p) =>
        `| ${p.path} | ${p.end} | ${p.transitions} | ${p.lambdaInvocations} | ${p.lambdaGbSeconds.toFixed(3)} | ${p.dynamoWrites} | ${p.dynamoReads} | ${p.dynamoCalls} | ${p.emails} (${p.nurtureEmails}) |`,
    ),
    '',
    'Invocations per function, per path:',
    '',
    ...ps.map(
      (p) =>
        `- ${p.path}: ${Object.entries(p.byFunction)
          .map(([f, n]) => `${f} ${n}`)
          .join(', ')}`,
    ),
    '',
    'DynamoDB calls per step (function), per path:',
    '',
    ...ps.map(
      (p) =>
        `- ${p.path}: ${Object.entries(p.dynamoCallsByFunction)
          .sort((a, b) => b[1] - a[1])
          .map(([f, n]) => `${f} ${n}`)
          .join(', ')}`,
    ),
    '',
    'Where the write units go (single-item writes by kind of item, all paths together):',
    '',
    ...Object.entries(
      ps.reduce<Record<string, number>>((acc, p) => {
        for (const [k, w] of Object.entries(p.writesByKind)) acc[k] = (acc[k] ?? 0) + w.units;
        return acc;
      }, {}),
    )
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `- \`${k}\`: ${n}`),
  ].join('\n');

// The performance goals (docs/performance.md), against what this run measured.
const nurtured = cost?.designs.today.perPath['nurture-completed']?.cost;
const hot = paths?.find((p) => p.path === 'hot-won');
const nurturePath = paths?.find((p) => p.path === 'nurture-completed');
const recycled = paths?.find((p) => p.path === 'hot-lost-recycled');
const worstClients = bundles?.functions
  .filter((f) => f.sdkClients)
  .sort((a, b) => (b.sdkClients?.ratio ?? 0) - (a.sdkClients?.ratio ?? 0))[0];
type Goal = [string, string, string, boolean | undefined];
/** A goal on a measured number: what it is, the target, the figure as printed, and whether it is met. */
function goal(
  what: string,
  target: string,
  x: number | undefined,
  show: (x: number) => string,
  met: (x: number) => boolean,
): Goal {
  return [what, target, x === undefined ? '–' : show(x), x === undefined ? undefined : met(x)];
}
// Issue 20's goals (docs/performance.md says which are wrong, with the measurement).
const goals: Goal[] = [
  goal('hot-won: DynamoDB calls', '≤ 60', hot?.dynamoCalls, String, (x) => x <= 60),
  goal('hot-won: DynamoDB write units', '≤ 50 WCU', hot?.dynamoWrites, String, (x) => x <= 50),
  goal('nurture-completed: DynamoDB calls', '≤ 50', nurturePath?.dynamoCalls, String, (x) => x <= 50),
  goal('hot-lost-recycled: DynamoDB calls', '≤ 90', recycled?.dynamoCalls, String, (x) => x <= 90),
  goal('hot path (form → won)', '≤ 10 transitions', hot?.transitions, String, (x) => x <= 10),
  goal(
    'nurture, transitions per email (states of one timer round)',
    '≤ 3',
    nurturePath?.roundStates,
    (x) => `${x} (${nurturePath?.transitions} for the run of ${nurturePath?.nurtureEmails} emails)`,
    (x) => x <= 3,
  ),
  goal(
    'cost per 1,000 nurtured leads (4 emails)',
    '≤ $0.80',
    nurtured ? nurtured.total * 1000 : undefined,
    (x) => `$${x.toFixed(3)} (GSI writes not counted)`,
    (x) => x <= 0.8,
  ),
  goal(
    'end to end, locally',
    '≥ 30 leads/s',
    local?.endToEnd.endToEndPerSecond,
    (x) => `${x.toFixed(1)} leads/s`,
    (x) => x >= 30,
  ),
  goal(
    'POST /leads p99 at 50 concurrent',
    '≤ 1 s',
    local?.post.allMs.p99,
    (x) => `${x.toFixed(0)} ms`,
    (x) => x <= 1000,
  ),
  goal(
    'CPU per lead, locally',
    '≤ 60 ms',
    local?.cpuMsPerLead,
    (x) => `${x.toFixed(0)} ms`,
    (x) => x <= 60,
  ),
  goal(
    'peak RSS in the bench',
    '≤ 600 MiB',
    local?.memory.peakRssMiB,
    (x) => `${x} MiB`,
    (x) => x <= 600,
  ),
  goal(
    'peak RSS in the bench, anonymous (less mapped files)',
    '≤ 600 MiB',
    local?.memory.peakAnonMiB,
    (x) => `${x} MiB`,
    (x) => x <= 600,
  ),
  goal(
    'cold import, worst function',
    '≤ 1.2× its SDK clients alone',
    worstClients?.sdkClients?.ratio,
    (x) => `${x.toFixed(2)}× (${worstClients?.functionId})`,
    (x) => x <= 1.2,
  ),
];
const goalsMarkdown = [
  '| goal | target | measured | met |',
  '|---|---|---:|---|',
  ...goals.map(
    ([what, target, value, met]) =>
      `| ${what} | ${target} | ${value} | ${met === undefined ? '–' : met ? 'yes' : '**no**'} |`,
  ),
].join('\n');

const doc = [
  '# Performance (measured)',
  '',
  '<!-- Written by `npm run bench` (scripts/bench.ts); edits here are overwritten. docs/cost.md explains the cost model, docs/scaling.md the limits in AWS. -->',
  '',
  `Measured ${machine.date.slice(0, 10)} with \`${machine.command}\` on ${machine.cpus} × ${machine.cpuModel}, ${machine.memGiB} GiB, Node.js ${machine.node}; load average at the start ${machine.loadAvg.join(' / ')}. The whole run took ${stamp()}.${kept.length ? ` Not measured in this run (BENCH_SKIP), so kept from the run that did: ${kept.join('; ')}.` : ''}`,
  '',
  '## Goals',
  '',
  goalsMarkdown,
  '',
  "The goals are issue 20's, checked by eye. Where the local stack's CPU goes: docs/figures.md, \"CPU per lead, by thread\" and \"CPU profile\". The 10,000-lead load's peak RSS (goal ≤ 1.5 GiB) is `npm run test:load`'s figure (docs/figures.md), not this run's.",
  '',
  ...(bundles ? ['## Functions: bundle and cold import', '', bundlesMarkdown(bundles), ''] : []),
  ...(paths
    ? [
        '## Journey paths: one lead each, counted from real runs in the local runtime',
        '',
        "Each path is one lead driven through the local API as a form, a rep and SES would drive it, alone on the stack; everything the stack did until it was quiet again is counted for it. Transitions: the states its run entered (GetExecutionHistory). Invocations: every function invoked meanwhile, the API and SES-event functions included. GB-s: billed duration on the local worker (rounded up to the ms) × MemorySize, so a local figure. DynamoDB units: dynalite's consumed capacity (local/meter.ts); a write refused by its condition counts 1 WCU as in DynamoDB; **writes to the two GSIs are not counted** by dynalite (DynamoDB bills them: each write to a lead or deal profile writes 1–2 index entries more). Sales paths ran at time scale 1 (the acceptance SLA ended with the local `expireTask`; the capacity wait ended by its recheck after a slot was freed outside the count), nurture paths at a day a second; one warm-up lead ran first on each stack. Schedule rules (the hourly reconcile, the weekly reminders) are off on the bench's stacks: they cost per hour, not per lead. DynamoDB calls per step: each function's worker signs with its own access key, which the meter counts by.",
        '',
        `The nurture paths' leads arrived ${nurtureArrival}. The answer to the form goes at once at any hour; later emails wait for the lead's business hours, and a recycled lead's first email sent outside them waits one round more (2 transitions, 2 invocations).`,
        '',
        pathsMarkdown(paths),
        '',
      ]
    : []),
  ...(cost
    ? ['## AWS cost per 1,000 leads, per path and for the stated mix', '', costMarkdown(cost), '']
    : []),
  ...(local ? ['## Local stack', '', localStackMarkdown(local), ''] : []),
].join('\n');

console.log(doc);
writeFileSync(join(root, 'docs', 'performance.md'), doc);
writeFileSync(
  jsonFile,
  `${JSON.stringify(
    {
      ...previous,
      machine,
      measuredOn: { ...previousDates, ...measuredOn, ...(measured ? { paths: today } : {}) },
      ...(measured ? { paths: measured } : {}),
      ...(bundles ? { bundles } : {}),
      ...(local ? { local } : {}),
    },
    null,
    2,
  )}\n`,
);
execFileSync('npx', ['biome', 'format', '--write', 'docs/performance.md', 'docs/performance.json'], {
  cwd: root,
  stdio: 'ignore',
});
say(`wrote docs/performance.md and docs/performance.json (${stamp()})`);
process.exit(0);
