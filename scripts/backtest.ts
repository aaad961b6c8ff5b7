// npm run backtest -- --rules <scoring.json> [--since 90d] [--allow] [--json] [--table <name> [--region <r>]]
// Replays every closed lead's stored inputs (profile, timeline) through a candidate scoring.json and the
// current rules, and prints what would change. Exit 0 ok · 1 the candidate disqualifies a won lead (unless
// --allow) · 2 usage or input error · 3 the leads could not be read. See docs/backtest.md.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  BacktestInputError,
  type BacktestResult,
  backtest,
  CLOSED_STAGES,
  cutoffFor,
  type GradeRate,
  isClosedSince,
  type Journey,
  OUTCOMES,
  type Outcome,
  parseRules,
  parseSince,
} from '../analytics/backtest.ts';
import { config } from '../functions/config/bundled.ts';
import type { ScoringConfig } from '../functions/config/schema.ts';
import { dynamoStores, type LeadRecord, type LeadStore } from '../functions/stores.ts';
import { locateWithClock, StackFileError } from '../serve/stack-file.ts';

const EXIT = { ok: 0, wonDisqualified: 1, usage: 2, source: 3 } as const;
const PROGRESS_EVERY = 500;
const CONCURRENCY = 8;
const USAGE = `Usage: npm run backtest -- --rules <scoring.json> [--since 90d] [--allow] [--json]
                            [--table <TableName> [--region <region>]] [--api <url>] [--data <folder>]

  --rules FILE    the candidate scoring rules (same schema as config/scoring.json)
  --since N       closed leads whose journey ended in the last N days (90d) or weeks (12w); default 90d
  --allow         exit 0 even when the candidate would disqualify a won lead
  --json          print the result as JSON (the report's figures and the leads that change)
  --table NAME    read a deployed stack's table with your AWS credentials (SDK default chain)
  --region R      the table's region (default: AWS_REGION or your AWS config)
  --api URL       the local stack's API (DynamoDB listens on its port + 2); AWS_ENDPOINT_URL_DYNAMODB, as
                  npm start prints it, is used when --api is not given
  --data FOLDER   without --api or AWS_ENDPOINT_URL_DYNAMODB: the data folder of the \`npm start\` to read
                  (its --data; default .handoff), whose stack.json says where it listens (with none there,
                  http://127.0.0.1:3000)

Without --table it reads the local stack started by \`npm start\`.
Exit codes: 0 ok · 1 the candidate disqualifies a won lead · 2 usage or input error · 3 leads not readable`;

class SourceError extends Error {}

interface Options {
  rulesFile: string;
  candidate: ScoringConfig;
  sinceText: string;
  /** `--since` in days, counted back from the source's now (the local stack's clock, or the machine's). */
  days: number;
  allow: boolean;
  json: boolean;
  table?: string;
  region?: string;
  api?: string;
  data: string;
}

const FLAGS = {
  rules: { type: 'string' },
  since: { type: 'string', default: '90d' },
  allow: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  table: { type: 'string' },
  region: { type: 'string' },
  api: { type: 'string' },
  data: { type: 'string', default: '.handoff' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function options(argv: string[]): Options {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof FLAGS; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true }));
  } catch (e) {
    throw new BacktestInputError(`${(e as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(EXIT.ok);
  }
  if (!values.rules) throw new BacktestInputError(`--rules <scoring.json> is required\n\n${USAGE}`);
  if (values.region && !values.table)
    throw new BacktestInputError('--region goes with --table (an AWS table)');
  if (values.api && values.table)
    throw new BacktestInputError('--api (local stack) and --table (AWS) exclude each other');
  let text: string;
  try {
    text = readFileSync(values.rules, 'utf8');
  } catch (e) {
    throw new BacktestInputError(
      `Invalid candidate rules:\n  ${values.rules}: (file): cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const candidate = parseRules(text, values.rules);
  const days = parseSince(values.since);
  return {
    rulesFile: values.rules,
    candidate,
    sinceText: values.since,
    days,
    allow: values.allow,
    json: values.json,
    ...(values.table ? { table: values.table } : {}),
    ...(values.region ? { region: values.region } : {}),
    ...(values.api ? { api: values.api } : {}),
    data: values.data,
  };
}

/** The table to read: a deployed one (--table, the SDK's credentials) or the local stack's. */
async function source(o: Options): Promise<{ leads: LeadStore; where: string; now: Date }> {
  if (o.table) {
    const client = new DynamoDBClient(o.region ? { region: o.region } : {});
    try {
      await client.config.region();
    } catch {
      throw new BacktestInputError(`No AWS region for table ${o.table}: pass --region or set AWS_REGION`);
    }
    return {
      leads: dynamoStores(o.table, client).leads,
      where: `table ${o.table} (${await client.config.region()})`,
      now: new Date(),
    };
  }
  let endpoint = o.api ? undefined : process.env.AWS_ENDPOINT_URL_DYNAMODB;
  let now = new Date();
  if (!endpoint) {
    if (o.api && !URL.canParse(o.api))
      throw new BacktestInputError(`--api must be a URL such as http://127.0.0.1:3000, not "${o.api}"`);
    try {
      const located = await locateWithClock({ ...(o.api ? { api: o.api } : {}), dataDir: resolve(o.data) });
      endpoint = located.urls.dynamodb;
      now = located.now;
    } catch (e) {
      if (e instanceof StackFileError) throw new SourceError(e.message);
      throw e;
    }
  }
  const client = new DynamoDBClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  });
  let tables: string[];
  try {
    tables = (await client.send(new ListTablesCommand({}))).TableNames ?? [];
  } catch (e) {
    throw new SourceError(
      `No local Handoff stack answers at ${endpoint} (${(e as Error).message || (e as Error).name}).\n` +
        'Start one with `npm start` (or set AWS_ENDPOINT_URL_DYNAMODB as it prints), or pass --table <TableName> ' +
        'to read a deployed stack with your AWS credentials.',
    );
  }
  const table = tables[0];
  if (!table) throw new SourceError(`The local stack at ${endpoint} has no table yet.`);
  return {
    leads: dynamoStores(table, client).leads,
    where: `local stack (DynamoDB ${endpoint}, table ${table})`,
    now,
  };
}

const progress = (line: string) => process.stderr.write(`${line}\n`);
const count = (n: number) => n.toLocaleString('en-US');
/** `1 lead`, `2 leads`. */
const many = (n: number, one: string, more = `${one}s`) => `${count(n)} ${n === 1 ? one : more}`;

/** The closed leads (stage index, one query per ended stage) and their timelines, a few at a time. */
async function closedJourneys(leads: LeadStore, since: string): Promise<Journey[]> {
  const closed: LeadRecord[] = [];
  let scanned = 0;
  for (const stage of CLOSED_STAGES) {
    for await (const lead of leads.listByStage(stage)) {
      scanned += 1;
      if (isClosedSince(lead, since)) closed.push(lead);
      if (scanned % PROGRESS_EVERY === 0)
        progress(`… ${count(scanned)} ended leads read, ${count(closed.length)} in range`);
    }
  }
  const journeys: Journey[] = new Array(closed.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < closed.length) {
      const i = next++;
      const lead = closed[i] as LeadRecord;
      journeys[i] = { lead, events: await leads.listEvents(lead.id) };
      done += 1;
      if (done % PROGRESS_EVERY === 0)
        progress(`… timelines of ${count(done)} of ${count(closed.length)} closed leads read`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return journeys;
}

// ---- The report ----

const LABEL: Record<Outcome, string> = {
  sales: 'to sales',
  nurture: 'to nurture',
  disqualified: 'disqualified',
};
const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
const pct = (r: number | null) => (r === null ? '' : `${Math.round(r * 100)}%`);

function duration(ms: number): string {
  const round1 = (x: number) => (x >= 10 ? Math.round(x).toString() : x.toFixed(1).replace(/\.0$/, ''));
  if (ms < 90 * 60_000) return `${Math.max(1, Math.round(ms / 60_000))} min`;
  if (ms < 48 * 3_600_000) return `${round1(ms / 3_600_000)} h`;
  return `${round1(ms / 86_400_000)} d`;
}

function table(rows: string[][], align: ('l' | 'r')[]): string[] {
  const widths = align.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map(
    (r) =>
      `  ${r
        .map((cell, c) => (align[c] === 'r' ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
        .join('   ')
        .trimEnd()}`,
  );
}

function rateCell(g: GradeRate | undefined): string {
  if (!g) return '';
  return g.closed ? `${g.won}/${g.closed}  ${pct(g.rate).padStart(4)}` : '—';
}

function report(r: BacktestResult, o: Options, where: string): string {
  const lines: string[] = [];
  const out = (s = '') => lines.push(s);
  out(
    `Backtest of candidate rules "${r.rules.candidate}" (${o.rulesFile}) against current rules "${r.rules.current}" (config/scoring.json)`,
  );
  out(`Source: ${where}`);
  const stages = Object.entries(r.byStage)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([s, n]) => `${s} ${count(n ?? 0)}`)
    .join(' · ');
  out(`Closed leads since ${when(r.since)} (${o.sinceText}): ${count(r.leads)} — ${stages}`);
  const other = r.replayCheck.scoredWithOtherRules;
  out(
    `Replaying the current rules reproduces the recorded route of ${count(r.replayCheck.matches)} of ${many(r.leads, 'lead')}` +
      (r.replayCheck.differs ? ` (${count(r.replayCheck.differs)} differ)` : '') +
      (other ? `; ${many(other, 'lead was', 'leads were')} last scored under another rules version` : '') +
      '.',
  );

  out();
  out('Routing (rows: current rules · columns: candidate)');
  const rows = OUTCOMES.map((c) => {
    const row = OUTCOMES.map((x) => r.routing[c][x]);
    return [LABEL[c], ...row.map(count), count(row.reduce((a, b) => a + b, 0))];
  });
  const totals = OUTCOMES.map((x) => OUTCOMES.reduce((s, c) => s + r.routing[c][x], 0));
  lines.push(
    ...table(
      [
        ['', ...OUTCOMES.map((x) => LABEL[x]), 'total'],
        ...rows,
        ['total', ...totals.map(count), count(r.leads)],
      ],
      ['l', 'r', 'r', 'r', 'r'],
    ),
  );
  out(`  ${count(r.changed)} of ${many(r.leads, 'lead')} ${r.changed === 1 ? 'changes' : 'change'} route`);

  out();
  const t = r.timing;
  out(`Time to sales (${many(t.compared, 'lead')} both rule sets hand to sales)`);
  lines.push(
    ...table(
      [
        [
          'sooner',
          count(t.sooner.count),
          t.sooner.medianMs === null ? '' : `median ${duration(t.sooner.medianMs)} earlier`,
        ],
        [
          'later',
          count(t.later.count),
          t.later.medianMs === null ? '' : `median ${duration(t.later.medianMs)} later`,
        ],
        ['same time', count(t.same), ''],
      ],
      ['l', 'r', 'l'],
    ),
  );

  out();
  out(`Won deals the candidate would disqualify: ${count(r.wonDisqualified.length)}`);
  for (const id of r.wonDisqualified) out(`  ${id}`);
  out(
    `Won deals the candidate would keep in nurture (never hand to sales): ${count(r.wonKeptInNurture.length)}`,
  );
  for (const id of r.wonKeptInNurture) out(`  ${id}`);

  out();
  out(`Win rate per grade (won / closed deals, each graded at its hand-off; ${many(r.deals, 'deal')})`);
  const cur = r.winRate.current;
  const cand = r.winRate.candidate;
  const sameGrades = cur.map((g) => g.grade).join() === cand.map((g) => g.grade).join();
  const n = Math.max(cur.length, cand.length);
  const gradeRows = Array.from({ length: n }, (_, i) =>
    sameGrades
      ? [cur[i]?.grade ?? '', rateCell(cur[i]), rateCell(cand[i])]
      : [cur[i]?.grade ?? '', rateCell(cur[i]), cand[i]?.grade ?? '', rateCell(cand[i])],
  );
  lines.push(
    ...table(
      sameGrades
        ? [['grade', 'current', 'candidate'], ...gradeRows]
        : [['grade', 'current', 'grade', 'candidate'], ...gradeRows],
      sameGrades ? ['l', 'r', 'r'] : ['l', 'r', 'l', 'r'],
    ),
  );

  const left = r.winRate.notHandedOverByCandidate;
  if (left.closed) {
    out(
      `  ${many(left.won, 'won deal')} (of ${many(left.closed, 'closed deal')}) the candidate would not have handed to sales: ` +
        'not in its column',
    );
  }

  const g = r.gaps;
  const gaps = [
    g.leadsWithoutEvents &&
      `${many(g.leadsWithoutEvents, 'lead')} with no timeline events (scored on the profile alone)`,
    g.formsWithoutType && `${many(g.formsWithoutType, 'form event')} without a form type (count for nothing)`,
    g.dealsWithoutAssignment &&
      `${many(g.dealsWithoutAssignment, 'deal')} without an assignment event (hand-off estimated)`,
    g.dealsWithoutCloseEvent &&
      `${many(g.dealsWithoutCloseEvent, 'deal')} without a close event (outcome from the lead's stage)`,
  ].filter(Boolean);
  if (gaps.length) {
    out();
    out(`Inputs missing: ${gaps.join(' · ')}`);
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  const { leads, where, now } = await source(o);
  const since = cutoffFor(o.days, now);
  progress(`Reading closed leads from the ${where} …`);
  let journeys: Journey[];
  try {
    journeys = await closedJourneys(leads, since);
  } catch (e) {
    throw new SourceError(
      `Could not read the leads from the ${where}: ${(e as Error).name}: ${(e as Error).message}`,
    );
  }
  const result = backtest(journeys, config.scoring, o.candidate, since);
  const blocked = result.wonDisqualified.length > 0 && !o.allow;
  if (o.json) {
    console.log(
      JSON.stringify(
        {
          ...result,
          candidateFile: o.rulesFile,
          allow: o.allow,
          exitCode: blocked ? EXIT.wonDisqualified : EXIT.ok,
        },
        null,
        2,
      ),
    );
  } else if (result.leads === 0) {
    console.log(`No closed leads since ${when(since)} (${o.sinceText}) in the ${where}: nothing to replay.`);
  } else {
    console.log(report(result, o, where));
  }
  if (result.wonDisqualified.length === 0) return EXIT.ok;
  const verdict = `The candidate would disqualify ${result.wonDisqualified.length} won lead(s)`;
  if (o.allow) {
    progress(`${verdict}; allowed by --allow.`);
    return EXIT.ok;
  }
  progress(`${verdict}: exit 1 (pass --allow to accept).`);
  return EXIT.wonDisqualified;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof BacktestInputError) {
      console.error(e.message);
      process.exitCode = EXIT.usage;
    } else if (e instanceof SourceError) {
      console.error(e.message);
      process.exitCode = EXIT.source;
    } else {
      console.error(`Backtest failed: ${(e as Error).name}: ${(e as Error).message}`);
      process.exitCode = EXIT.source;
    }
  },
);
