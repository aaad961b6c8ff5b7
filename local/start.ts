// npm start: synthesize the CDK app when its output is stale, then run what was synthesized locally.
// First: a bad config says so before any import parses it (local/config-first.ts, evaluated here).
import './config-first.ts';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../functions/config/schema.ts';
import { buildApp } from '../infra/app.ts';
import { ENTRIES } from '../infra/stack.ts';
import { allowedHostNames } from '../serve/edge.ts';
import { explainPortInUse, PortInUseError, STACK_PORTS } from '../serve/ports.ts';
import { StackFileError } from '../serve/stack-file.ts';
import { ClockError, parseStartAt } from './clock.ts';
import { startConfig } from './config-first.ts';
import type { DynamoEngine } from './dynamodb.ts';
import { DynamoDbLocalError } from './dynamodb-local.ts';
import { DEFAULT_POOL } from './functions.ts';
import { exitUnlessLambdaNode } from './node-check.ts';
import { startLocal } from './runtime.ts';
import { burstFor, DEFAULT_START_RATE } from './sfn/throttle.ts';
import { majorOf } from './template.ts';

const root = join(import.meta.dirname, '..');
const USAGE = `Usage: npm start -- [options]

  --port N          API port (default 3000); Step Functions/console N+1, DynamoDB N+2, SES N+3, Secrets N+4,
                    CloudFormation (DescribeStacks) N+5
  --time-scale N    run the stack's clock N times faster: 86400 = a day per second (default 1). Waits,
                    rep SLAs and every date the functions, events, mailbox and console read follow it;
                    Lambda timeouts and retries stay real
  --start-at T      where the clock starts: an ISO 8601 instant with its offset (2026-12-04T17:30:00-05:00)
                    or "now" (default: where this data folder's clock stood when it stopped; now if new)
  --data DIR        data folder (default .handoff)
  --fresh           start with an empty data folder
  --dynamodb E      dynalite (default: in process) or local: DynamoDB Local, AWS's own emulator (needs
                    Java; from the amplify-dynamodb-simulator package). A data folder keeps the one it
                    started with
  --log-level L     functions' log level: DEBUG, INFO, WARN, ERROR, SILENT (default WARN)
  --synth           synthesize even if cdk.out looks current
  --allow-host NAME a host name to answer besides 127.0.0.1/localhost (repeatable; also
                    HANDOFF_ALLOWED_HOSTS=a,b): a codespace's or an SSH tunnel's name for this machine.
                    Its pages (http and https) may post the example form too

Lambda and Step Functions limits (as AWS applies them; defaults sized for 2 cores):
  --concurrency N   invocations of one function running at once (default ${DEFAULT_POOL.concurrency}), over up to
                    ${DEFAULT_POOL.maxWorkers} worker threads started on demand
  --queue N         invocations of one function waiting for a slot (default ${DEFAULT_POOL.queue}); beyond it
                    they are throttled (Lambda.TooManyRequestsException; the API answers 429)
  --start-rate N    StartExecution calls per second before ThrottlingException (default ${DEFAULT_START_RATE.perSecond},
                    burst ${DEFAULT_START_RATE.burst}: AWS's default quota; another rate gets five times it as burst).
                    Runs accepted while the functions are saturated wait to start: slower, never refused

Faults, while it runs (DynamoDB and SES errors, worker crashes), on the Step Functions port:
  curl -X POST <sfn>/_local/faults -H 'content-type: application/json' \
       -d '{"dynamodb":{"rate":0.1,"error":"ThrottlingException"}}'
  (GET reads the setting and what was injected, DELETE clears it)

  -h, --help        this help`;

function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

async function main() {
  let args: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      options: {
        port: { type: 'string', default: '3000' },
        'time-scale': { type: 'string', default: '1' },
        'start-at': { type: 'string' },
        data: { type: 'string', default: '.handoff' },
        fresh: { type: 'boolean', default: false },
        dynamodb: { type: 'string', default: 'dynalite' },
        'log-level': { type: 'string', default: 'WARN' },
        synth: { type: 'boolean', default: false },
        'allow-host': { type: 'string', multiple: true, default: [] },
        concurrency: { type: 'string', default: String(DEFAULT_POOL.concurrency) },
        queue: { type: 'string', default: String(DEFAULT_POOL.queue) },
        'start-rate': { type: 'string', default: String(DEFAULT_START_RATE.perSecond) },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  try {
    args = parse();
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  const v = args.values;
  if (v.help) return console.log(USAGE);
  exitUnlessLambdaNode('npm start'); // before the slow synthesis: the functions would fail on another major
  const port = Number(v.port);
  const timeScale = Number(v['time-scale']);
  if (!Number.isInteger(port) || port < 0 || port > 65535 - (STACK_PORTS - 1))
    return fail(`--port must be a whole number from 0 to ${65535 - (STACK_PORTS - 1)}, not "${v.port}"`);
  const engines: Record<string, DynamoEngine> = { dynalite: 'dynalite', local: 'dynamodb-local' };
  const dynamodb = engines[String(v.dynamodb)];
  if (!dynamodb) return fail(`--dynamodb must be dynalite or local, not "${v.dynamodb}"`);
  if (!Number.isFinite(timeScale) || timeScale < 1 || timeScale > 10_000_000) {
    return fail(`--time-scale must be a number from 1 to 10000000, not "${v['time-scale']}"`);
  }
  let startAt: number | undefined;
  try {
    startAt = v['start-at'] === undefined ? undefined : parseStartAt(v['start-at']);
  } catch (e) {
    return fail((e as Error).message);
  }
  const concurrency = Number(v.concurrency);
  const queue = Number(v.queue);
  const startRate = Number(v['start-rate']);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)
    return fail(`--concurrency must be a whole number from 1 to 1000, not "${v.concurrency}"`);
  if (!Number.isInteger(queue) || queue < 0 || queue > 100_000)
    return fail(`--queue must be a whole number from 0 to 100000, not "${v.queue}"`);
  if (!Number.isFinite(startRate) || startRate <= 0 || startRate > 100_000)
    return fail(`--start-rate must be a number above 0 (per second), not "${v['start-rate']}"`);
  let allowedHosts: string[];
  try {
    allowedHosts = allowedHostNames([...(v['allow-host'] ?? []), process.env.HANDOFF_ALLOWED_HOSTS ?? '']);
  } catch (e) {
    return fail((e as Error).message);
  }
  const level = String(v['log-level']).toUpperCase();
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'].includes(level))
    return fail(`--log-level must be DEBUG, INFO, WARN, ERROR or SILENT`);

  const started = Date.now();
  const config = startConfig;
  const cdkOut = join(root, 'cdk.out');
  const templateFile = join(cdkOut, 'Handoff.template.json');
  const sources = Math.max(
    ...['infra', 'functions', 'workflows', 'config', 'package-lock.json'].map((p) => {
      const full = join(root, p);
      return existsSync(full) && statSync(full).isDirectory()
        ? newest(full)
        : existsSync(full)
          ? statSync(full).mtimeMs
          : 0;
    }),
  );
  if (v.synth || !existsSync(templateFile) || statSync(templateFile).mtimeMs < sources) {
    process.stdout.write(
      `Synthesizing the CDK app (bundling ${Object.keys(ENTRIES).length} functions, cdk-nag) … `,
    );
    const t = Date.now();
    buildApp(config, cdkOut).app.synth();
    console.log(`done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  } else {
    console.log('cdk.out is newer than the sources: using it (pass --synth to force)');
  }
  process.stdout.write('Starting emulators and functions … ');
  const dataDir = resolve(process.cwd(), String(v.data));
  const stack = await startLocal({
    cdkOut,
    config,
    dataDir,
    port,
    allowedHosts,
    timeScale,
    ...(startAt !== undefined ? { startAt } : {}),
    fresh: Boolean(v.fresh),
    dynamodb,
    logLevel: level,
    lambda: { concurrency, queue },
    startRate: { perSecond: startRate, burst: burstFor(startRate) },
  }).catch(async (e) => {
    if (
      !(
        e instanceof PortInUseError ||
        e instanceof StackFileError ||
        e instanceof ClockError ||
        e instanceof DynamoDbLocalError
      )
    )
      throw e;
    console.log('failed');
    console.error(e instanceof PortInUseError ? await explainPortInUse(e, port) : e.message);
    process.exit(1);
  });
  console.log('done');
  const u = stack.urls;
  const also = allowedHosts.length ? `\n  Also as      ${allowedHosts.join(', ')} (--allow-host)` : '';
  const lambdaRuntimes = [...new Set(stack.runtimes.map((r) => r.lambda))].join(', ');
  const mismatched = stack.runtimes.filter((r) => majorOf(r.node) !== majorOf(r.lambda));
  console.log(`
Handoff is running locally (ready in ${((Date.now() - started) / 1000).toFixed(1)} s, time scale ${timeScale}×)
  on Node.js ${process.version}; the functions' Lambda runtime is ${lambdaRuntimes}

  API          ${u.api}            POST ${u.api}/leads
  Console      ${u.console}  (runs, graph, leads, deals, funnel, scoring feedback: docs/console.md)
  Form         ${u.console}examples/contact-form.html  (the embeddable form, posting to this API)
  Mailbox      ${u.mailbox}
  DynamoDB     ${u.dynamodb}  (${dynamodb === 'dynamodb-local' ? 'DynamoDB Local, AWS’s emulator on Java: its own port listens on every interface' : 'dynalite'})
  Clock        ${clockLine(stack.clock.now(), timeScale, stack.clockResumed)}
  Data folder  ${shown(dataDir)}${v.fresh ? ' (fresh)' : ''}${stack.resumed ? `  — resumed ${stack.resumed} execution(s)` : ''}  (its stack.json: how npm run demo, backtest, funnel:rebuild find this stack)${also}
  Admin        curl -H 'Authorization: Bearer ${stack.adminToken}' ${u.api}/admin/leads/<leadId>
  State machine ${stack.stateMachineArn}
  Limits       ${concurrency} concurrent per function (queue ${queue}), StartExecution ${startRate}/s (burst ${burstFor(startRate)})
  Faults       ${u.sfn}/_local/faults  (see npm start -- --help)${rules(stack.events.rules.length)}

Point the AWS CLI or SDKs at the local stack:
  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  export AWS_ENDPOINT_URL_SFN=${u.sfn}
  export AWS_ENDPOINT_URL_DYNAMODB=${u.dynamodb}
  export AWS_ENDPOINT_URL_SES=${u.ses}
  export AWS_ENDPOINT_URL_CLOUDFORMATION=${u.cloudformation}
  then, for the console as it runs against AWS: npm run console -- --stack Handoff --port 0

Try: curl -s -X POST ${u.api}/leads -H 'content-type: application/json' \\
       -d '{"email":"ada@example.com","firstName":"Ada","formType":"demo-request","companySize":1200,"country":"US"}'
Ctrl-C stops everything; running executions resume on the next start.`);

  const consoleOrigin = new URL(u.console).origin;
  if (stack.forms && !stack.forms.allowedOrigins.includes(consoleOrigin)) {
    console.warn(
      `\nNote: the example form (${u.console}examples/contact-form.html) posts from ${consoleOrigin}, which forms.allowedOrigins (config/app.json) does not allow at the default port (http://127.0.0.1:3001), so the API answers 403 to it. Add that origin and restart.`,
    );
  }
  if (mismatched.length) {
    console.warn(
      `\nWarning: ${mismatched.length} function(s) run on Node ${mismatched[0]?.node} locally but ${mismatched[0]?.lambda} in Lambda. Run through npm (npm start), which puts the Node.js ${majorOf(mismatched[0]?.lambda ?? '')} from node_modules/.bin first on PATH.`,
    );
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping … ');
    await stack.stop();
    console.log('stopped. In-flight executions resume on the next npm start.');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** "2026-12-04T22:30:00Z, 86400× (a day a second), resumed from the data folder". */
function clockLine(now: number, scale: number, resumed: boolean): string {
  const speed = scale === 1 ? 'real time' : `${scale}×${scale === 86_400 ? ' (a day a second)' : ''}`;
  const lag = Date.now() - now;
  const behind =
    resumed && scale === 1 && lag > 60_000
      ? ` (${Math.round(lag / 60_000)} min behind the wall clock: --start-at now to catch up)`
      : '';
  return `${new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z')}, ${speed}${resumed ? ', resumed where it stopped' : ''}${behind}`;
}

function rules(n: number): string {
  return n ? `\n  Events       ${n} EventBridge rule(s) from the template` : '';
}

/** A path relative to the working directory when it is inside it, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

main().catch((e) => {
  if (e instanceof ConfigError || e instanceof ClockError) console.error(e.message);
  else console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
