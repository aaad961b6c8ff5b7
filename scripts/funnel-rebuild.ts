// npm run funnel:rebuild [-- --table <TableName> [--region <r>]] [--api <url>] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
// Recomputes the funnel counters from the leads (docs/funnel.md): the local stack's table by default, a
// deployed one with --table and your AWS credentials. Idempotent; run it when no leads are moving.
import { parseArgs } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { config } from '../functions/shared/config.ts';
import { dynamoStores } from '../functions/shared/data/index.ts';
import { isDay } from '../functions/shared/domain/funnel.ts';
import { rebuildFunnel } from '../functions/shared/funnel-rebuild.ts';

const USAGE = `Usage: npm run funnel:rebuild -- [--table <TableName> [--region <region>]] [--api <url>]
                              [--from YYYY-MM-DD] [--to YYYY-MM-DD]
  (no --table)    the local stack started by \`npm start\` (DynamoDB on the API port + 2)
  --table NAME    a deployed stack's table (the TableName output), with your AWS credentials
  --region R      the table's region (default: AWS_REGION or your AWS config)
  --api URL       the local stack's API URL (default http://127.0.0.1:3000)
  --from, --to    only replace the counters of these UTC days (default: the first day any lead's
                  milestones fall on, up to today); days outside are left as they are`;

class UsageError extends Error {}

function options() {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      options: {
        table: { type: 'string' },
        region: { type: 'string' },
        api: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  }
  try {
    parsed = parse();
  } catch (e) {
    throw new UsageError((e as Error).message);
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
  return v;
}

async function table(
  o: ReturnType<typeof options>,
): Promise<{ client: DynamoDBClient; name: string; where: string }> {
  if (o.table) {
    const client = new DynamoDBClient(o.region ? { region: o.region } : {});
    let region: string;
    try {
      region = await client.config.region();
    } catch {
      throw new UsageError(`No AWS region for table ${o.table}: pass --region or set AWS_REGION`);
    }
    return { client, name: o.table, where: `table ${o.table} (${region})` };
  }
  let api: URL;
  try {
    api = new URL(o.api ?? 'http://127.0.0.1:3000');
  } catch {
    throw new UsageError(`--api must be a URL such as http://127.0.0.1:3000, not "${o.api}"`);
  }
  const endpoint = `${api.protocol}//${api.hostname}:${Number(api.port || 80) + 2}`;
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
    throw new Error(
      `No local Handoff stack answers at ${endpoint} (${(e as Error).message || (e as Error).name}).\n` +
        'Start one with `npm start`, or pass --table <TableName> to rebuild a deployed stack’s funnel.',
    );
  }
  if (!name) throw new Error(`The local stack at ${endpoint} has no table yet.`);
  return { client, name, where: `local stack (DynamoDB ${endpoint}, table ${name})` };
}

async function main() {
  const o = options();
  const { client, name, where } = await table(o);
  console.log(`Rebuilding the funnel counters of the ${where} from its leads …`);
  const started = Date.now();
  const stores = dynamoStores(name, client, { retentionDays: config.app.data.leadRetentionDays });
  const r = await rebuildFunnel(stores, {
    ...(o.from ? { from: o.from } : {}),
    ...(o.to ? { to: o.to } : {}),
    log: (line) => console.log(line),
  });
  console.log(
    `Done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${r.leads} leads, ${r.milestones} milestones ` +
      `(${r.markersWritten} markers were missing and written), ${r.days} days, ${r.itemsWritten} counter items ` +
      `written, ${r.itemsDeleted} removed.`,
  );
  client.destroy();
}

main().catch((e) => {
  if (e instanceof UsageError) console.error(`${e.message}\n\n${USAGE}`);
  else console.error(`funnel:rebuild failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
