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
  backtest,
  CLOSED_STAGES,
  cutoffFor,
  isClosedSince,
  parseRules,
  parseSince,
} from '../analytics/backtest.ts';
import type { Journey } from '../analytics/journey.ts';
import { config } from '../functions/config/bundled.ts';
import type { ScoringConfig } from '../functions/config/schema.ts';
import { dynamoStores, type LeadRecord, type LeadStore } from '../functions/stores.ts';
import { locateWithClock, StackFileError } from '../serve/stack-file.ts';
import { count, report, when } from './backtest-report.ts';

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
