import './long-timers.ts';
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoStores } from '../functions/stores.ts';
import { assertFolderFree, removeStackFile, writeStackFile } from '../serve/stack-file.ts';
import { openClock } from './clock.ts';
import { privateDataDir } from './data-dir.ts';
import { ttlSweeper } from './emulators.ts';
import type { PutEventsEntry } from './events.ts';
import { listenAll } from './listeners.ts';
import type { LocalOptions, LocalStack } from './runtime-options.ts';
import {
  ACCOUNT,
  exposeApi,
  LOCAL_CREDENTIALS,
  REGION,
  startFunctions,
  wireEvents,
} from './runtime-phases.ts';
import { seedReps } from './seed.ts';
import { createTables } from './tables.ts';
import { type CfnTemplate, type LocalNames, loadTemplate } from './template.ts';
import { ownCpuMicros } from './thread-usage.ts';

export type { LocalOptions, LocalStack } from './runtime-options.ts';

/**
 * Starts the synthesized app on embedded emulators: tables, functions, state machine, HTTP routes,
 * EventBridge rules. Every port listens first and answers 503 until the whole stack is ready.
 */
export async function startLocal(opts: LocalOptions): Promise<LocalStack> {
  const { clock, clockResumed, release } = openClockAndFolder(opts);
  const now = () => clock.now();
  const template = loadTemplate(opts.cdkOut);
  const ports = await startEmulators(opts, now, release);
  const { urls } = ports;
  const names = localNames(template, urls.api);
  const { dbClient, tables, tableName } = await openTables(ports.db.url, template, opts);

  const fns = await startFunctions(opts, template, names, ports, clock);
  const { events, sfn, machines, iam } = wireEvents(opts, template, names, fns, clock);
  // After a crash the clock file may be up to a second behind the last history written: never go back.
  clock.catchUp(sfn.latest());

  // dynalite has no UpdateTimeToLive: delete expired items on the template's TTL attribute ourselves.
  // DynamoDB's own TTL takes up to a couple of days, so every ten minutes is plenty; under a fast clock,
  // every five real seconds (a full scan each time) is often enough.
  const ttlAttr = tables[0]?.ttlAttribute;
  const sweeper = ttlAttr
    ? ttlSweeper(dbClient, tableName, ttlAttr, now, opts.ttlSweepMs ?? Math.max(5_000, 600_000 / clock.scale))
    : undefined;

  // Ready: the clock runs from here (booting took no business time), every handler is attached, then what
  // was running resumes (its invocations reach open ports).
  clock.run();
  const stateMachineArn = machines[0]?.arn ?? '';
  const stores = dynamoStores(tableName, dbClient, { retentionDays: opts.config.app.data.leadRetentionDays });
  const exposed = exposeApi(opts, template, names, {
    ports,
    fns,
    events,
    sfn,
    stores,
    stateMachineArn,
    clock,
    iam,
  });
  const resumed = sfn.resumeAll();
  const redelivered = events.redeliver();
  if (redelivered)
    (opts.log ?? console.error)(`events: delivering ${redelivered} event(s) accepted before the last stop`);
  // Schedule rules (the weekly deal reminders, the hourly reconcile) fire on the stack's clock from here.
  if (opts.schedules !== false) events.startSchedules(clock);
  // How the scripts find this stack (serve/stack-file.ts); removed at stop.
  writeStackFile(opts.dataDir, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    timeScale: opts.timeScale,
    urls,
    stateMachineArn,
    tableName,
  });
  const { functions, functionList, forms } = fns;
  return {
    urls,
    stateMachineArn,
    tableName,
    adminToken: exposed.adminToken,
    resumed,
    clock,
    clockResumed,
    sfn,
    functions,
    faults: fns.faults,
    events,
    ...(exposed.meter ? { meter: exposed.meter } : {}),
    putEvents: (entries: PutEventsEntry[]) => events.putEventsDurably(entries),
    runtimes: functionList.map((f) => ({
      functionId: f.id,
      node: functions.nodeVersions.get(f.logicalId) ?? '',
      lambda: f.runtime,
    })),
    env: fns.env,
    async memory() {
      const [dynamodb, byFunction] = await Promise.all([ports.db.heap(), functions.heapBytes()]);
      const m = process.memoryUsage();
      const split = rssSplit();
      const fnTotal = Object.values(byFunction).reduce((a, b) => a + b, 0);
      return {
        rss: m.rss,
        ...split,
        main: { heap: m.heapTotal, used: m.heapUsed, external: m.external },
        dynamodb: { heap: dynamodb.total, used: dynamodb.used },
        functions: byFunction,
        native: m.rss - m.heapTotal - m.external - dynamodb.total - fnTotal,
      };
    },
    async cpu() {
      const [dynamodb, byFunction] = await Promise.all([ports.db.cpuMicros(), functions.cpuMicros()]);
      return { main: ownCpuMicros(), dynamodb, functions: byFunction };
    },
    ...(forms ? { forms } : {}),
    async stop() {
      removeStackFile(opts.dataDir);
      await sweeper?.stop();
      events.stop();
      await sfn.shutdown();
      await functions.stop();
      await events.close();
      await ports.stop();
      dbClient.destroy();
      exposed.consoleSfn.destroy();
      release();
    },
  };
}

/** The data folder (private, free, fresh if asked) and the stack's one clock, continued from it. */
function openClockAndFolder(opts: LocalOptions) {
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
  return {
    clock: opened.clock,
    clockResumed: opened.resumed,
    /** Closes the clock and restores the umask: at stop, or when starting fails. */
    release() {
      opened.close();
      restoreUmask();
    },
  };
}

/** Every port listens (each answers 503 until exposeApi), DynamoDB and SES start; then `onListening`. */
async function startEmulators(opts: LocalOptions, now: () => number, release: () => void) {
  const ports = await listenAll({
    dataDir: opts.dataDir,
    port: opts.port,
    allowedHosts: opts.allowedHosts ?? [],
    dynamodb: opts.dynamodb,
    log: opts.log,
    now,
    release,
  });
  try {
    await opts.onListening?.(ports.urls);
  } catch (e) {
    await ports.stop();
    release();
    throw e;
  }
  return ports;
}

/** The template's names in this region and account, its HTTP APIs at this stack's API port. */
function localNames(template: CfnTemplate, api: string): LocalNames {
  const apiIds = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api');
  return {
    region: REGION,
    account: ACCOUNT,
    overrides: Object.fromEntries(apiIds.map(([id]) => [`${id}.ApiEndpoint`, api])),
  };
}

/** The template's tables in dynalite (reached directly, not through the edge), with the reps seeded. */
async function openTables(dynaliteUrl: string, template: CfnTemplate, opts: LocalOptions) {
  const dbClient = new DynamoDBClient({
    endpoint: dynaliteUrl,
    region: REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const tables = await createTables(dbClient, template);
  const tableName = tables[0]?.logicalId ?? '';
  await seedReps(dbClient, tableName, opts.config.reps.reps);
  return { dbClient, tables, tableName };
}

/** RssAnon and RssFile of this process, in bytes, from /proc/self/status (Linux); {} where there is none. */
function rssSplit(): { anon?: number; file?: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (field: string) =>
      Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1]) * 1024;
    const anon = kb('RssAnon');
    const file = kb('RssFile');
    return Number.isFinite(anon) && Number.isFinite(file) ? { anon, file } : {};
  } catch {
    return {};
  }
}
