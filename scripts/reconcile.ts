// npm run reconcile [-- --apply] [--dry-run] [--table <TableName> --state-machine <arn> [--region <r>]] [--api <url>] [--data <folder>]
// Finds what a lost "Execution Status Change" event left behind (docs/operations.md, "Long waits and
// reconcile"): leads whose stage disagrees with their run, open deals whose ended run still holds a rep's
// slot. Repairs them with Record failure's own code (functions/events/run-ended.ts) only with --apply; a
// dry run (the default, or --dry-run) prints what it would do. The local stack by default (its stack.json),
// a deployed stack with --table and --state-machine (its TableName and StateMachineArn outputs).
// Progress goes to stderr. Exit 0 ok · 1 failed · 2 usage error · 3 no stack answers.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStateMachinesCommand, SFNClient, type SFNClientConfig } from '@aws-sdk/client-sfn';
import { leadRetention } from '../functions/config/bundled.ts';
import { type Finding, reconcileRuns } from '../functions/events/reconcile-runs.ts';
import { sfnRunLookup, sfnRuns } from '../functions/platform/runs.ts';
import { dynamoStores } from '../functions/stores.ts';
import { locateWithClock, StackFileError } from '../serve/stack-file.ts';

const EXIT = { ok: 0, failed: 1, usage: 2, source: 3 } as const;
const USAGE = `Usage: npm run reconcile -- [--apply | --dry-run] [--table <TableName> --state-machine <arn> [--region <r>]]
                         [--api <url>] [--data <folder>]
  (default)          a dry run: prints what it finds and what it would do, changes nothing
  --apply            repairs: marks leads of ended runs failed, gives held rep slots back, points a lead
                     at the run it continued as (what Record failure would have done)
  --dry-run          a dry run, said explicitly (the default; it wins over --apply)
  --table NAME       a deployed stack's table (the TableName output), with your AWS credentials
  --state-machine A  that stack's state machine (the StateMachineArn output); goes with --table
  --region R         their region (default: AWS_REGION or your AWS config)
  --api URL          the local stack's API URL
  --data FOLDER      without --api: the data folder of the \`npm start\` to reconcile (default .handoff)

Progress goes to stderr (every 500 leads or deals), findings and the summary to stdout.
Exit codes: 0 ok · 1 reconcile failed · 2 usage error · 3 no stack answers`;

class UsageError extends Error {}
class SourceError extends Error {}

function options() {
  try {
    const { values } = parseArgs({
      options: {
        apply: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        table: { type: 'string' },
        'state-machine': { type: 'string' },
        region: { type: 'string' },
        api: { type: 'string' },
        data: { type: 'string', default: '.handoff' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(EXIT.ok);
    }
    if (Boolean(values.table) !== Boolean(values['state-machine']))
      throw new UsageError('--table and --state-machine go together (a deployed stack)');
    if (values.region && !values.table) throw new UsageError('--region goes with --table (a deployed stack)');
    if (
      values['state-machine'] &&
      !/^arn:aws[a-z-]*:states:[^:]+:\d{12}:stateMachine:.+$/.test(values['state-machine'])
    )
      throw new UsageError(`--state-machine must be a state machine ARN, not "${values['state-machine']}"`);
    return values;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const hint = /Unexpected argument/.test((e as Error).message)
      ? ' (with npm run, put -- before the options: npm run reconcile -- --apply)'
      : '';
    throw new UsageError(`${(e as Error).message}${hint}`);
  }
}

type Options = ReturnType<typeof options>;

async function target(o: Options) {
  if (o.table && o['state-machine']) {
    const config = o.region ? { region: o.region } : {};
    return {
      dynamo: new DynamoDBClient(config),
      sfn: config as SFNClientConfig,
      table: o.table,
      stateMachineArn: o['state-machine'],
      where: `table ${o.table}, state machine ${o['state-machine']}`,
      now: new Date(),
    };
  }
  if (o.api && !URL.canParse(o.api))
    throw new UsageError(`--api must be a URL such as http://127.0.0.1:3000, not "${o.api}"`);
  let located: Awaited<ReturnType<typeof locateWithClock>>;
  try {
    located = await locateWithClock({ ...(o.api ? { api: o.api } : {}), dataDir: resolve(o.data) });
  } catch (e) {
    if (e instanceof StackFileError) throw new SourceError(e.message);
    throw e;
  }
  const local = {
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  };
  const dynamo = new DynamoDBClient({ ...local, endpoint: located.urls.dynamodb });
  const sfn: SFNClientConfig = { ...local, endpoint: located.urls.sfn };
  try {
    const table = (await dynamo.send(new ListTablesCommand({}))).TableNames?.[0];
    const probe = new SFNClient(sfn);
    const machine = (await probe.send(new ListStateMachinesCommand({}))).stateMachines?.[0]?.stateMachineArn;
    probe.destroy();
    if (!table || !machine)
      throw new SourceError(`The local stack at ${located.urls.api} has no table or state machine yet.`);
    return {
      dynamo,
      sfn,
      table,
      stateMachineArn: machine,
      where: `local stack at ${located.urls.api}`,
      now: located.now,
    };
  } catch (e) {
    if (e instanceof SourceError) throw e;
    throw new SourceError(
      `No local Handoff stack answers at ${located.urls.api} (${(e as Error).message || (e as Error).name}).\n` +
        'Start one with `npm start`, or pass --table and --state-machine to reconcile a deployed stack.',
    );
  }
}

const line = (f: Finding) =>
  `  ${f.kind.padEnd(19)} ${f.leadId ?? ''}${f.dealId ? ` deal ${f.dealId}` : ''}${f.run ? ` run ${f.run}` : ''}${f.status ? ` (${f.status})` : ''}: ${f.action}`;

async function main() {
  const o = options();
  const dryRun = o['dry-run'] || !o.apply;
  const t = await target(o);
  console.log(
    `Reconciling the ${t.where}${dryRun ? ' (dry run: nothing is changed; --apply repairs)' : ''} …`,
  );
  const started = Date.now();
  const stores = dynamoStores(t.table, t.dynamo, leadRetention);
  const r = await reconcileRuns(
    {
      ...stores,
      runs: sfnRuns({ client: t.sfn }),
      lookup: sfnRunLookup({ stateMachineArn: t.stateMachineArn, client: t.sfn }),
    },
    { dryRun, now: t.now, progress: (l) => process.stderr.write(`${l}\n`) },
  );
  for (const f of r.findings) console.log(line(f));
  console.log(
    `Done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${r.leadsChecked} active leads and ${r.dealsChecked} open deals checked, ` +
      `${r.findings.length} ${r.findings.length === 1 ? 'finding' : 'findings'}${dryRun && r.findings.length ? ' (dry run: run again with --apply to repair)' : ''}.`,
  );
  t.dynamo.destroy();
}

main().catch((e) => {
  if (e instanceof UsageError) {
    console.error(`${e.message}\n\n${USAGE}`);
    process.exit(EXIT.usage);
  }
  if (e instanceof SourceError) {
    console.error(e.message);
    process.exit(EXIT.source);
  }
  console.error(`reconcile failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(EXIT.failed);
});
