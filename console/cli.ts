// npm run console -- --stack Handoff [--region r] [--port n]: the admin console against a deployed stack,
// with your default AWS credentials. The same console as `npm start` serves; only the endpoints differ.
// Without --stack it points at the console the running local stack already serves (its stack.json).
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { config } from '../functions/config/bundled.ts';
import { dynamoStores } from '../functions/stores.ts';
import { edgeServer } from '../serve/edge.ts';
import { listen } from '../serve/ports.ts';
import { liveStack, StackFileError } from '../serve/stack-file.ts';
import { createConsole } from './server.ts';
import { resolveStack, StackError, stackErrorOf } from './stack.ts';

const USAGE = `Usage: npm run console -- --stack <name> [--region <region>] [--port <port>]
       npm run console -- [--data <folder>]

  --stack NAME     the deployed Handoff stack (its StateMachineArn, TableName and ApiUrl outputs)
  (no --stack)     the local stack: prints where \`npm start\` serves its console (read from the data
                   folder's stack.json; --data FOLDER, default .handoff)
  --region REGION  its region (default: AWS_REGION or your profile's region)
  --port N         local port (default 4000); the console listens on 127.0.0.1 only
  -h, --help       this help

Credentials come from the AWS SDK's default chain (AWS_PROFILE, SSO, environment, instance role). The
console needs states:ListExecutions, DescribeExecution, GetExecutionHistory, DescribeStateMachine,
StopExecution, RedriveExecution and dynamodb:GetItem/Query on the table.`;

async function main() {
  let values: { stack?: string; region?: string; port: string; data: string; help: boolean };
  try {
    values = parseArgs({
      options: {
        stack: { type: 'string' },
        region: { type: 'string' },
        port: { type: 'string', default: '4000' },
        data: { type: 'string', default: '.handoff' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values as typeof values;
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) return console.log(USAGE);
  if (!values.stack) return localConsole(resolve(values.data));
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return usage(`--port must be a whole number from 0 to 65535, not "${values.port}"`);
  const endpoints = Object.keys(process.env).filter((k) => k.startsWith('AWS_ENDPOINT_URL'));
  if (endpoints.length)
    console.warn(`Note: ${endpoints.join(', ')} set: the SDK sends those services there, not to AWS.`);

  const region = values.region;
  const cfn = new CloudFormationClient(region ? { region } : {});
  const target = await resolveStack(cfn, values.stack);
  const sfn = new SFNClient({ region: target.region });
  try {
    await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: target.stateMachineArn }));
  } catch (e) {
    throw stackErrorOf(e, target.stackName, target.region);
  }
  const stores = dynamoStores(target.tableName, new DynamoDBClient({ region: target.region }), {
    retentionDays: config.app.data.leadRetentionDays,
  });
  // A token in the printed URL (kept in an HttpOnly cookie) keeps other local users and pages off your
  // AWS credentials.
  const token = randomBytes(24).toString('base64url');
  const edge = edgeServer('console');
  edge.open(
    createConsole({
      sfn,
      stores,
      stateMachineArn: target.stateMachineArn,
      ...(target.apiUrl ? { apiUrl: target.apiUrl } : {}),
      token,
      label: `${target.stackName} · ${target.region}`,
      stateCacheMs: 15_000,
    }),
  );
  const bound = await listen(edge.server, port);
  console.log(`Handoff console for stack ${target.stackName} in ${target.region}

  Open   http://127.0.0.1:${bound}/?token=${token}
  State machine  ${target.stateMachineArn}
  Table          ${target.tableName}${target.apiUrl ? `\n  API            ${target.apiUrl}` : ''}

Listening on 127.0.0.1 only. Ctrl-C stops it.`);
  const stop = () => {
    edge.server.close();
    edge.server.closeAllConnections?.();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** No --stack: the local stack serves the same console itself; say where, or why there is none. */
async function localConsole(dataDir: string): Promise<void> {
  try {
    const info = await liveStack(dataDir);
    console.log(
      `The local stack (pid ${info.pid}, time scale ${info.timeScale}×) serves its console itself: open ${info.urls.console}\n` +
        'For a deployed stack: npm run console -- --stack <name>',
    );
  } catch (e) {
    if (!(e instanceof StackFileError)) throw e;
    if (e.reason === 'missing') return usage(`--stack is required (${e.message})`);
    console.error(e.message);
    process.exit(1);
  }
}

function usage(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

main().catch((e) => {
  console.error(e instanceof StackError ? e.message : e instanceof Error ? e.message : e);
  process.exit(1);
});
