// npm run funnel:rebuild [-- --table <TableName> [--region <r>]] [--api <url>] [--data <folder>] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--all]
// Recomputes the funnel counters from the leads (docs/funnel.md): the local stack's table by default, a
// deployed one with --table and your AWS credentials. Idempotent; run it when no leads are moving.
// Progress goes to stderr. Exit 0 ok · 1 the rebuild failed · 2 usage error · 3 no stack answers / no table.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { daysBetween, RebuildRangeError, rebuildFunnel } from '../analytics/funnel-rebuild.ts';
import { leadRetention } from '../functions/config/bundled.ts';
import type { LeaseClock } from '../functions/funnel/day-lease.ts';
import { isDay } from '../functions/funnel/funnel.ts';
import { dynamoStores } from '../functions/stores.ts';
import { locateWithClock, StackFileError, stackNow } from '../serve/stack-file.ts';

const MAX_DAYS = 366;
const EXIT = { ok: 0, failed: 1, usage: 2, source: 3 } as const;
const USAGE = `Usage: npm run funnel:rebuild -- [--table <TableName> [--region <region>]] [--api <url>]
                              [--data <folder>] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--all]
  (no --table)    the local stack started by \`npm start\`
  --table NAME    a deployed stack's table (the TableName output), with your AWS credentials
  --region R      the table's region (default: AWS_REGION or your AWS config)
  --api URL       the local stack's API URL (DynamoDB on its port + 2)
  --data FOLDER   without --api: the data folder of the \`npm start\` to rebuild (its --data; default
                  .handoff), whose stack.json says where it listens (with none there, http://127.0.0.1:3000)
  --from, --to    only replace the counters of these UTC days (default: the first day any lead's
                  milestones fall on, up to today); days outside are left as they are
  --all           no cap on the days replaced; without it at most ${MAX_DAYS} days are: a longer
                  --from … --to is refused, and without --from only the last ${MAX_DAYS} days up to
                  --to (or today) are replaced

Progress goes to stderr (every 500 leads and every 100 days), the summary to stdout.
Exit codes: 0 ok · 1 the rebuild failed · 2 usage error · 3 no stack answers (or it has no table)`;

class UsageError extends Error {}
/** The stack's table cannot be reached (exit 3, as \`npm run backtest\`). */
class SourceError extends Error {}

function options() {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      options: {
        table: { type: 'string' },
        region: { type: 'string' },
        api: { type: 'string' },
        data: { type: 'string', default: '.handoff' },
        from: { type: 'string' },
        to: { type: 'string' },
        all: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  }
  try {
    parsed = parse();
  } catch (e) {
    const hint = /Unexpected argument/.test((e as Error).message)
      ? ' (with npm run, put -- before the options: npm run funnel:rebuild -- --from YYYY-MM-DD)'
      : '';
    throw new UsageError(`${(e as Error).message}${hint}`);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (v.region && !v.table) throw new UsageError('--region goes with --table (a deployed table)');
  for (const k of ['from', 'to'] as const) {
    const day = v[k];
    if (day !== undefined && !isDay(day))
      throw new UsageError(`--${k} must be a day as YYYY-MM-DD, not "${day}"`);
  }
  if (v.from && v.to && v.from > v.to) throw new UsageError('--from must not be after --to');
  const last = v.to ?? new Date().toISOString().slice(0, 10);
  if (v.from && !v.all && daysBetween(v.from, last) > MAX_DAYS) {
    throw new UsageError(
      `--from ${v.from} to ${last} is ${daysBetween(v.from, last).toLocaleString('en-US')} days; at most ` +
        `${MAX_DAYS} are rebuilt unless you pass --all (each day is a query and its writes)`,
    );
  }
  return v;
}

async function table(
  o: ReturnType<typeof options>,
): Promise<{ client: DynamoDBClient; name: string; where: string; now: Date; clock: LeaseClock }> {
  if (o.table) {
    const client = new DynamoDBClient(o.region ? { region: o.region } : {});
    let region: string;
    try {
      region = await client.config.region();
    } catch {
      throw new UsageError(`No AWS region for table ${o.table}: pass --region or set AWS_REGION`);
    }
    return { client, name: o.table, where: `table ${o.table} (${region})`, now: new Date(), clock: Date.now };
  }
  if (o.api && !URL.canParse(o.api))
    throw new UsageError(`--api must be a URL such as http://127.0.0.1:3000, not "${o.api}"`);
  let located: Awaited<ReturnType<typeof locateWithClock>>;
  try {
    // "Today" is the local stack's (its clock may run ahead of the machine's: --time-scale, --start-at).
    located = await locateWithClock({ ...(o.api ? { api: o.api } : {}), dataDir: resolve(o.data) });
  } catch (e) {
    if (e instanceof StackFileError) throw new SourceError(e.message);
    throw e;
  }
  const endpoint = located.urls.dynamodb;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  });
  let name: string | undefined;
  try {
    name = (await client.send(new ListTablesCommand({}))).TableNames?.[0];
  } catch (e) {
    throw new SourceError(
      `No local Handoff stack answers at ${endpoint} (${(e as Error).message || (e as Error).name}).\n` +
        'Start one with `npm start`, or pass --table <TableName> to rebuild a deployed stack’s funnel.',
    );
  }
  if (!name) throw new SourceError(`The local stack at ${endpoint} has no table yet.`);
  return {
    client,
    name,
    where: `local stack (DynamoDB ${endpoint}, table ${name})`,
    now: located.now,
    // The day's lease compares times with CompactFunnel's, which runs on the stack's clock.
    clock: async () => (await stackNow(located.urls)).getTime(),
  };
}

async function main() {
  const o = options();
  const { client, name, where, now, clock } = await table(o);
  console.log(`Rebuilding the funnel counters of the ${where} from its leads …`);
  const started = Date.now();
  const stores = dynamoStores(name, client, { ...leadRetention, clock });
  const r = await rebuildFunnel(stores, {
    ...(o.from ? { from: o.from } : {}),
    ...(o.to ? { to: o.to } : {}),
    ...(o.all ? {} : { maxDays: MAX_DAYS }),
    now,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(
    `Done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${r.leads} leads, ${r.milestones} milestones ` +
      `(${r.markersWritten} markers were missing and written), ${r.days} ${r.days === 1 ? 'day' : 'days'}, ${r.itemsWritten} counter items ` +
      `written, ${r.itemsDeleted} removed.`,
  );
  client.destroy();
}

main().catch((e) => {
  if (e instanceof UsageError || e instanceof RebuildRangeError) {
    console.error(`${e.message}\n\n${USAGE}`);
    process.exit(EXIT.usage);
  }
  if (e instanceof SourceError) {
    console.error(e.message);
    process.exit(EXIT.source);
  }
  console.error(`funnel:rebuild failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(EXIT.failed);
});
