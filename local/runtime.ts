import './long-timers.ts';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { HandoffConfig } from '../functions/config/schema.ts';
import { dynamoStores } from '../functions/stores.ts';
import { type EdgeServer, edgeServer } from '../serve/edge.ts';
import { PortInUseError } from '../serve/ports.ts';
import { assertFolderFree, removeStackFile, type StackInfo, writeStackFile } from '../serve/stack-file.ts';
import { close, listen } from './aws-json.ts';
import { type Clock, openClock } from './clock.ts';
import { consoleFallback } from './console.ts';
import { privateDataDir } from './data-dir.ts';
import { startDynamoThread } from './dynamodb.ts';
import { startSes, sweepExpired } from './emulators.ts';
import { EventBus, type PutEventsEntry, rulesOf } from './events.ts';
import { sesProxy } from './fault-proxy.ts';
import { Faults } from './faults.ts';
import { LocalFunctions, type PoolOptions } from './functions.ts';
import { httpApiHandler, routesOf } from './http-api.ts';
import { DEFAULT_POOL } from './lambda-pool.ts';
import type { MeterReading } from './meter.ts';
import { secretsHandler } from './secrets.ts';
import { seedReps } from './seed.ts';
import { sesSimulator } from './ses-simulator.ts';
import { DEFAULT_START_RATE, LocalStepFunctions, type MachineSpec } from './sfn/api.ts';
import { sfnHandler } from './sfn/http.ts';
import type { RateLimit } from './sfn/throttle.ts';
import { type FormSettings, formSettingsOf, siteEnvironment } from './site.ts';
import { createTables } from './tables.ts';
import { functionsOf, type LocalNames, loadTemplate, stateMachinesOf } from './template.ts';

export interface LocalOptions {
  cdkOut: string;
  config: HandoffConfig;
  dataDir: string;
  /** API port; the others follow it (+1 Step Functions and console, +2 DynamoDB, +3 SES, +4 Secrets Manager). 0 = any free ports. */
  port: number;
  /**
   * Host names every port answers besides loopback, and whose pages may post the example form (a
   * forwarded dev environment: local/edge.ts, local/site.ts). Default none.
   */
  allowedHosts?: readonly string[];
  /** The clock's speed: 86400 = a virtual day per real second (local/clock.ts). */
  timeScale: number;
  /** Where the clock starts (epoch ms); default: where the data folder's clock stood, or now for a new one. */
  startAt?: number;
  /**
   * Compress work too (default false): the clock runs at the time scale while functions run, not only while
   * the stack waits. For fault and load tests, where runs are always at work (local/clock.ts).
   */
  scaleWork?: boolean;
  fresh?: boolean;
  logLevel?: string;
  /**
   * How often expired items (the template's TTL attribute, against the stack's clock) are deleted, in real
   * ms (default: every ten minutes of the clock's time, at most every five real seconds).
   */
  ttlSweepMs?: number;
  /** Lambda: concurrency and queue per function, workers per function (see local/lambda-pool.ts). */
  lambda?: Partial<PoolOptions>;
  /** StartExecution's token bucket (default 20/s, burst 100: local/sfn/throttle.ts). */
  startRate?: RateLimit;
  /** EventBridge delivery retries: count and first delay (default 3, 1000 ms). */
  events?: { retries?: number; retryDelayMs?: number };
  /** Tests: every Step Functions Retry waits this long instead of its interval and backoff. */
  retryIntervalMs?: number;
  /** Count DynamoDB request units (`npm run bench`): `stack.meter` (local/meter.ts). Off by default. */
  meter?: boolean;
  /** Where listeners and the event bus log a line (a refused request, a dropped event); default stderr. */
  log?: (line: string) => void;
  /** Called once every port listens, before any handler is attached (requests get 503 until it returns). */
  onListening?: (urls: LocalStack['urls']) => Promise<void> | void;
}

export interface LocalStack {
  urls: StackInfo['urls'];
  stateMachineArn: string;
  tableName: string;
  adminToken: string;
  resumed: number;
  /** The stack's one clock: what its functions' `Date`, the engine, events, SES and the console read. */
  clock: Clock;
  /** The clock continued from the data folder (no --start-at), rather than starting fresh. */
  clockResumed: boolean;
  sfn: LocalStepFunctions;
  functions: LocalFunctions;
  /** The fault switch (also `/_local/faults` on the Step Functions port). */
  faults: Faults;
  /** EventBridge PutEvents on the default bus: rules from the template, delivered to their targets; answers once stored. */
  putEvents: EventBus['putEventsDurably'];
  events: EventBus;
  /** DynamoDB request units consumed so far (read from the DynamoDB thread), when started with `meter: true`. */
  meter?: { read(): Promise<MeterReading> };
  /** What each function runs on: its worker's Node.js version beside the template's Lambda runtime. */
  runtimes: { functionId: string; node: string; lambda: string }[];
  env: Record<string, string>;
  /** The form settings SubmitLead runs with, placed at this stack's ports (local/site.ts). */
  forms?: FormSettings;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const url = (port: number) => `http://127.0.0.1:${port}`;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Starts the synthesized app on embedded emulators: tables, functions, state machine, HTTP routes,
 * EventBridge rules. Every port listens first and answers 503 until the whole stack is ready.
 */
export async function startLocal(opts: LocalOptions): Promise<LocalStack> {
  assertFolderFree(opts.dataDir);
  const restoreUmask = privateDataDir(opts.dataDir, opts.fresh);
  // Lambda runs in UTC, and worker threads share their process's time zone (their env's TZ is ignored).
  process.env.TZ = 'UTC';
  let opened: ReturnType<typeof openClock>;
  try {
    opened = openClock(opts.dataDir, {
      scale: opts.timeScale,
      ...(opts.startAt !== undefined ? { startAt: opts.startAt } : {}),
      ...(opts.scaleWork ? { busyScale: opts.timeScale } : {}),
    });
  } catch (e) {
    restoreUmask();
    throw e;
  }
  const clock = opened.clock;
  const now = () => clock.now();
  const portFor = (offset: number) => (opts.port === 0 ? 0 : opts.port + offset);
  const servers: Server[] = [];
  const template = loadTemplate(opts.cdkOut);
  const allowedHosts = opts.allowedHosts ?? [];
  const failStart = async (e: unknown, service: string): Promise<never> => {
    await Promise.all(servers.map((s) => close(s)));
    opened.close();
    restoreUmask();
    if (e instanceof PortInUseError) e.service = service;
    throw e;
  };
  const serve = async (name: string, offset: number): Promise<EdgeServer & { port: number }> => {
    const edge = edgeServer(name, opts.log, { allowedHosts });
    const port = await listen(edge.server, portFor(offset)).catch((e) => failStart(e, name));
    servers.push(edge.server);
    return { ...edge, port };
  };

  // Public ports first (their URLs go into the functions' environment); each answers 503 until ready.
  // All five are bound before this process opens any port of its own choosing (dynalite's and SES's
  // internal ones, outgoing connections): one of those could otherwise land on N+2 … N+4.
  const api = await serve('api', 0);
  const sfnHttp = await serve('sfn', 1);
  const sesEdge = await serve('ses', 3);
  const secretsEdge = await serve('secrets', 4);
  // DynamoDB's edge, fault switch and dynalite run on their own thread (local/dynamodb-thread.ts), which
  // binds its public port before dynalite's internal one.
  const db = await startDynamoThread({
    dataDir: opts.dataDir,
    port: portFor(2),
    allowedHosts,
    ...(opts.log ? { log: opts.log } : {}),
  }).catch((e) => failStart(e, 'dynamodb'));
  // The emulators themselves listen on internal ports, behind the fault proxies.
  const ses = await startSes(now);
  servers.push(ses.server);
  const urls = {
    api: url(api.port),
    console: `${url(sfnHttp.port)}/`,
    mailbox: `${url(sesEdge.port)}/`,
    sfn: url(sfnHttp.port),
    dynamodb: url(db.port),
    ses: url(sesEdge.port),
    secrets: url(secretsEdge.port),
  };
  // dynalite closes its database last, once the requests already inside it have finished.
  const stopServers = async () => {
    await Promise.all([...servers.map((s) => close(s)), db.stop()]);
  };
  try {
    await opts.onListening?.(urls);
  } catch (e) {
    await stopServers();
    opened.close();
    restoreUmask();
    throw e;
  }

  const apiIds = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api');
  const names: LocalNames = {
    region: REGION,
    account: ACCOUNT,
    overrides: Object.fromEntries(apiIds.map(([id]) => [`${id}.ApiEndpoint`, urls.api])),
  };
  const dbClient = new DynamoDBClient({
    endpoint: db.url,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tables = await createTables(dbClient, template);
  const tableName = tables[0]?.logicalId ?? '';
  await seedReps(dbClient, tableName, opts.config.reps.reps);

  const env = {
    AWS_ENDPOINT_URL_DYNAMODB: urls.dynamodb,
    AWS_ENDPOINT_URL_SES: urls.ses,
    AWS_ENDPOINT_URL_SFN: urls.sfn,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: urls.secrets,
    POWERTOOLS_LOG_LEVEL: opts.logLevel ?? 'WARN',
    // Metrics are CloudWatch EMF lines on stdout: meaningful in Lambda, noise in a terminal.
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  // The form settings go where this stack's pages really are (local/site.ts).
  const site = { port: opts.port, consolePort: sfnHttp.port, allowedHosts };
  const functionList = functionsOf(template, names).map((f) => ({
    ...f,
    environment: siteEnvironment(f.environment, site),
  }));
  const forms = formSettingsOf(functionList.map((f) => f.environment));
  const faults = new Faults(functionList);
  const functions = new LocalFunctions(opts.cdkOut, functionList, env, {
    ...opts.lambda,
    crash: (fn) => faults.crash(fn),
    clock,
  });
  await functions.start();
  const events = new EventBus(rulesOf(template, names), functions, {
    region: REGION,
    account: ACCOUNT,
    ...opts.events,
    ...(opts.log ? { log: opts.log } : {}),
    now,
    dataDir: opts.dataDir,
  });

  const machines: MachineSpec[] = stateMachinesOf(template, names).map((m) => ({
    arn: m.arn,
    name: m.logicalId,
    definition: m.definition,
    createdAt: now(),
  }));
  const definitions = JSON.stringify(machines.map((m) => m.definition));
  const workflowFunctions = new Set(functionList.filter((f) => definitions.includes(f.arn)).map((f) => f.id));
  const busyQueue = Math.max(1, Math.floor((opts.lambda?.queue ?? DEFAULT_POOL.queue) / 2));
  const sfn = new LocalStepFunctions(machines, functions, {
    dataDir: opts.dataDir,
    clock,
    region: REGION,
    account: ACCOUNT,
    startRate: opts.startRate ?? DEFAULT_START_RATE,
    // A machine this local does not scale like Lambda: while any function the workflow invokes has half its
    // queue waiting, new runs are throttled at StartExecution, so the runs in flight are not starved.
    busy: () => functions.stats().some((s) => workflowFunctions.has(s.functionId) && s.queued >= busyQueue),
    events,
    ...(opts.retryIntervalMs !== undefined ? { retryIntervalMs: opts.retryIntervalMs } : {}),
  });

  // After a crash the clock file may be up to a second behind the last history written: never go back.
  clock.catchUp(sfn.latest());

  const tokenFile = join(opts.dataDir, 'admin-token');
  if (!existsSync(tokenFile))
    writeFileSync(tokenFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  const adminToken = readFileSync(tokenFile, 'utf8').trim();
  const secretArns = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret')
    .map(([id]) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}`);

  // dynalite has no UpdateTimeToLive: delete expired items on the template's TTL attribute ourselves.
  const ttlAttr = tables[0]?.ttlAttribute;
  // One sweep at a time; stop waits for the one in progress (it talks to dynalite directly, not through
  // the edge). DynamoDB's own TTL takes up to a couple of days, so every ten minutes is plenty; under a
  // fast clock, every five real seconds (a full scan each time) is often enough.
  let sweeping: Promise<unknown> | undefined;
  const sweep = ttlAttr
    ? setInterval(
        () => {
          sweeping ??= sweepExpired(dbClient, tableName, ttlAttr, now())
            .catch(() => undefined)
            .finally(() => {
              sweeping = undefined;
            });
        },
        opts.ttlSweepMs ?? Math.max(5_000, 600_000 / clock.scale),
      )
    : undefined;
  sweep?.unref();

  // Ready: the clock runs from here (booting took no business time), every handler is attached, then what
  // was running resumes (its invocations reach open ports).
  clock.run();
  db.open(faults.shared, { meter: opts.meter ?? false });
  const meter = opts.meter ? { read: () => db.readMeter() } : undefined;
  // Sends to SES's simulator addresses bounce or complain, and every send publishes its events, as in AWS.
  const simulator = sesSimulator(ses.handler, (e) => events.putEventsDurably(e), {
    region: REGION,
    account: ACCOUNT,
    now,
  });
  sesEdge.open(sesProxy(simulator, faults));
  secretsEdge.open(secretsHandler(opts.dataDir, secretArns));
  // The console reads through the same SDK clients it uses against AWS: Step Functions on this stack's
  // endpoint, DynamoDB directly (behind no fault switch, so injected faults do not blind it).
  const consoleSfn = new SFNClient({ endpoint: urls.sfn, region: REGION, credentials: LOCAL_CREDENTIALS });
  const consoleHandler = consoleFallback({
    sfn,
    faults,
    client: consoleSfn,
    stores: dynamoStores(tableName, dbClient, { retentionDays: opts.config.app.data.leadRetentionDays }),
    stateMachineArn: machines[0]?.arn ?? '',
    apiUrl: urls.api,
    clock,
    allowedHosts,
    ...(forms ? { forms } : {}),
  });
  sfnHttp.open(sfnHandler(sfn, consoleHandler));
  api.open(httpApiHandler(routesOf(template, names), functions, adminToken, now));
  const resumed = sfn.resumeAll();
  const redelivered = events.redeliver();
  if (redelivered)
    (opts.log ?? console.error)(`events: delivering ${redelivered} event(s) accepted before the last stop`);
  const stateMachineArn = machines[0]?.arn ?? '';
  // How the scripts find this stack (local/stack-file.ts); removed at stop.
  writeStackFile(opts.dataDir, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    timeScale: opts.timeScale,
    urls,
    stateMachineArn,
    tableName,
  });
  return {
    urls,
    stateMachineArn,
    tableName,
    adminToken,
    resumed,
    clock,
    clockResumed: opened.resumed,
    sfn,
    functions,
    faults,
    events,
    ...(meter ? { meter } : {}),
    putEvents: (entries: PutEventsEntry[]) => events.putEventsDurably(entries),
    runtimes: functionList.map((f) => ({
      functionId: f.id,
      node: functions.nodeVersions.get(f.logicalId) ?? '',
      lambda: f.runtime,
    })),
    env,
    ...(forms ? { forms } : {}),
    async stop() {
      removeStackFile(opts.dataDir);
      if (sweep) clearInterval(sweep);
      await sweeping;
      events.stop();
      await sfn.shutdown();
      await functions.stop();
      await events.close();
      await stopServers();
      dbClient.destroy();
      consoleSfn.destroy();
      opened.close();
      restoreUmask();
    },
  };
}
