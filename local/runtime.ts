import './long-timers.ts';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import * as sesModule from 'aws-ses-v2-local';
import dynalite from 'dynalite';
import type { HandoffConfig } from '../functions/shared/config-schema.ts';
import { close, listen } from './aws-json.ts';
import { consolePage } from './console.ts';
import { LocalFunctions } from './functions.ts';
import { httpApiHandler, routesOf } from './http-api.ts';
import { secretsHandler } from './secrets.ts';
import { seedReps } from './seed.ts';
import { LocalStepFunctions, type MachineSpec, sfnHandler } from './sfn/api.ts';
import { createTables } from './tables.ts';
import { functionsOf, type LocalNames, loadTemplate, stateMachinesOf } from './template.ts';

export interface LocalOptions {
  cdkOut: string;
  config: HandoffConfig;
  dataDir: string;
  /** API port; the others follow it (+1 Step Functions and console, +2 DynamoDB, +3 SES, +4 Secrets Manager). 0 = any free ports. */
  port: number;
  timeScale: number;
  fresh?: boolean;
  logLevel?: string;
  /** How often expired items (the template's TTL attribute) are deleted, in ms. */
  ttlSweepMs?: number;
}

export interface LocalStack {
  urls: {
    api: string;
    console: string;
    mailbox: string;
    sfn: string;
    dynamodb: string;
    ses: string;
    secrets: string;
  };
  stateMachineArn: string;
  tableName: string;
  adminToken: string;
  resumed: number;
  sfn: LocalStepFunctions;
  /** What each function runs on: its worker's Node.js version beside the template's Lambda runtime. */
  runtimes: { functionId: string; node: string; lambda: string }[];
  env: Record<string, string>;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

/** Starts the synthesized app on embedded emulators: tables, functions, state machine, HTTP routes. */
export async function startLocal(opts: LocalOptions): Promise<LocalStack> {
  if (opts.fresh) rmSync(opts.dataDir, { recursive: true, force: true });
  mkdirSync(opts.dataDir, { recursive: true });
  const portFor = (offset: number) => (opts.port === 0 ? 0 : opts.port + offset);
  const servers: Server[] = [];
  const template = loadTemplate(opts.cdkOut);

  const url = (port: number) => `http://127.0.0.1:${port}`;
  const serve = async (handler: RequestListener | undefined, offset: number) => {
    const server = createServer(handler);
    servers.push(server);
    return { server, port: await listen(server, portFor(offset)) };
  };

  // DynamoDB: dynalite, persisted under the data folder.
  const db = dynalite({
    path: join(opts.dataDir, 'dynamodb'),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  servers.push(db);
  const dbPort = await listen(db, portFor(2));
  // SES: aws-ses-v2-local (v1 and v2 APIs; its mailbox viewer at /).
  const ses = await sesServer()({ host: '127.0.0.1', port: opts.port === 0 ? await freePort() : portFor(3) });
  servers.push(ses);
  const sesPort = (ses.address() as AddressInfo).port;
  // Secrets Manager: GetSecretValue for the template's generated secrets.
  const secretArns = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret')
    .map(([id]) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}`);
  const secrets = await serve(secretsHandler(opts.dataDir, secretArns), 4);
  // The API and Step Functions servers listen before the functions start: their URLs are in the functions' environment.
  const api = await serve(undefined, 0);
  const sfnHttp = await serve(undefined, 1);

  const apiIds = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api');
  const names: LocalNames = {
    region: REGION,
    account: ACCOUNT,
    overrides: Object.fromEntries(apiIds.map(([id]) => [`${id}.ApiEndpoint`, url(api.port)])),
  };

  const dbClient = new DynamoDBClient({
    endpoint: url(dbPort),
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tables = await createTables(dbClient, template);
  const tableName = tables[0]?.logicalId ?? '';
  await seedReps(dbClient, tableName, opts.config.reps.reps);

  const env = {
    AWS_ENDPOINT_URL_DYNAMODB: url(dbPort),
    AWS_ENDPOINT_URL_SES: url(sesPort),
    AWS_ENDPOINT_URL_SFN: url(sfnHttp.port),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: url(secrets.port),
    POWERTOOLS_LOG_LEVEL: opts.logLevel ?? 'WARN',
    // Metrics are CloudWatch EMF lines on stdout: meaningful in Lambda, noise in a terminal.
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const functionList = functionsOf(template, names);
  const functions = new LocalFunctions(opts.cdkOut, functionList, env);
  await functions.start();

  const machines: MachineSpec[] = stateMachinesOf(template, names).map((m) => ({
    arn: m.arn,
    name: m.logicalId,
    definition: m.definition,
    createdAt: Date.now(),
  }));
  const sfn = new LocalStepFunctions(machines, functions, {
    dataDir: opts.dataDir,
    timeScale: opts.timeScale,
    region: REGION,
    account: ACCOUNT,
  });
  sfnHttp.server.on(
    'request',
    sfnHandler(sfn, (req, res) => consolePage(req, res, sfn)),
  );

  const tokenFile = join(opts.dataDir, 'admin-token');
  if (!existsSync(tokenFile))
    writeFileSync(tokenFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  const adminToken = readFileSync(tokenFile, 'utf8').trim();
  api.server.on('request', httpApiHandler(routesOf(template, names), functions, adminToken));

  // dynalite has no UpdateTimeToLive: delete expired items on the template's TTL attribute ourselves.
  const ttlAttr = tables[0]?.ttlAttribute;
  const sweep = ttlAttr
    ? setInterval(
        () => void sweepExpired(dbClient, tableName, ttlAttr).catch(() => undefined),
        opts.ttlSweepMs ?? 60_000,
      )
    : undefined;
  sweep?.unref();

  const resumed = sfn.resumeAll();
  return {
    urls: {
      api: url(api.port),
      console: `${url(sfnHttp.port)}/`,
      mailbox: `${url(sesPort)}/`,
      sfn: url(sfnHttp.port),
      dynamodb: url(dbPort),
      ses: url(sesPort),
      secrets: url(secrets.port),
    },
    stateMachineArn: machines[0]?.arn ?? '',
    tableName,
    adminToken,
    resumed,
    sfn,
    runtimes: functionList.map((f) => ({
      functionId: f.id,
      node: functions.nodeVersions.get(f.logicalId) ?? '',
      lambda: f.runtime,
    })),
    env,
    async stop() {
      if (sweep) clearInterval(sweep);
      await sfn.shutdown();
      await functions.stop();
      await Promise.all(servers.map((s) => close(s)));
    },
  };
}

export async function sweepExpired(db: DynamoDBClient, table: string, attr: string): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  let deleted = 0;
  let ExclusiveStartKey: Record<string, never> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#t < :now',
        ExpressionAttributeNames: { '#t': attr },
        ExpressionAttributeValues: { ':now': { N: String(now) } },
        ProjectionExpression: 'pk, sk',
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      await db.send(
        new DeleteItemCommand({ TableName: table, Key: { pk: item.pk as never, sk: item.sk as never } }),
      );
      deleted += 1;
    }
    ExclusiveStartKey = page.LastEvaluatedKey as never;
  } while (ExclusiveStartKey);
  return deleted;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** aws-ses-v2-local is CommonJS with `exports.default`: Node's ESM interop nests it one level deeper. */
function sesServer(): (config: { host: string; port: number }) => Promise<Server> {
  const m = sesModule as unknown as { default: unknown };
  const fn = typeof m.default === 'function' ? m.default : (m.default as { default: unknown }).default;
  return fn as (config: { host: string; port: number }) => Promise<Server>;
}
