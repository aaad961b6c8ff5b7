// The phases of startLocal (local/runtime.ts) after the ports listen: start the functions, wire the events
// and the state machines to them, and expose every port's handler.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { dynamoStores } from '../functions/stores.ts';
import type { openClock } from './clock.ts';
import {
  cloudFormationAsks,
  cloudFormationDenied,
  cloudFormationHandler,
  outputsOf,
  stackIdOf,
} from './cloudformation.ts';
import { consoleFallback } from './console.ts';
import { EventBus, rulesOf } from './events.ts';
import { sesProxy } from './fault-proxy.ts';
import { Faults } from './faults.ts';
import { FunctionError, LocalFunctions } from './functions.ts';
import { httpApiHandler, routesOf } from './http-api.ts';
import { IamEnforcer, iamModelOf } from './iam.ts';
import {
  awsJsonDenied,
  iamCheck,
  iamGuard,
  secretsAsks,
  sesAsks,
  sesQueryDenied,
  sfnAsks,
} from './iam-requests.ts';
import { DEFAULT_POOL } from './lambda-pool.ts';
import type { Listeners } from './listeners.ts';
import type { LocalOptions } from './runtime-options.ts';
import { secretsHandler } from './secrets.ts';
import { PRODUCTION_START_QUOTA } from './ses-quota.ts';
import { receiptTargetsOf, receivingHandler } from './ses-receiving.ts';
import { sesSimulator } from './ses-simulator.ts';
import { DEFAULT_START_RATE, LocalStepFunctions, type MachineSpec } from './sfn/api.ts';
import { sfnHandler } from './sfn/http.ts';
import type { TaskInvoker } from './sfn/task-handlers.ts';
import { DEFAULT_ADMIT_RATE } from './sfn/throttle.ts';
import { formSettingsOf, siteEnvironment } from './site.ts';
import { type CfnTemplate, functionsOf, type LocalNames, STACK_NAME, stateMachinesOf } from './template.ts';

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** A workflow function with this many invocations waiting holds new runs back (they start when it has room). */
const BUSY_QUEUE = 150;

export type Functions = Awaited<ReturnType<typeof startFunctions>>;
/** The stack's clock: the one `openClock` opened on the data folder. */
export type StackClock = ReturnType<typeof openClock>['clock'];

/** The template's functions on worker pools, with the stack's endpoints and its pages' form settings. */
export async function startFunctions(
  opts: LocalOptions,
  template: CfnTemplate,
  names: LocalNames,
  { urls, sfnHttp }: Listeners,
  clock: StackClock,
) {
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
  const site = { port: opts.port, consolePort: sfnHttp.port, allowedHosts: opts.allowedHosts ?? [] };
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
  return { env, functionList, forms, faults, functions };
}

/** The event bus (the template's rules to their targets) and the state machines, on the functions. */
export function wireEvents(
  opts: LocalOptions,
  template: CfnTemplate,
  names: LocalNames,
  fns: Functions,
  clock: StackClock,
) {
  const now = () => clock.now();
  const { functions, functionList } = fns;
  // One enforcer for the stack's main thread (its decisions cached once); the DynamoDB thread has its own.
  const iam = new IamEnforcer(iamModelOf(template, names), { log: opts.log ?? console.error });
  const events = new EventBus(rulesOf(template, names), functions, {
    region: REGION,
    account: ACCOUNT,
    ...opts.events,
    ...(opts.log ? { log: opts.log } : {}),
    now,
    dataDir: opts.dataDir,
    authorize: (fn, rule) => iam.serviceDenial('events.amazonaws.com', fn, rule),
  });

  const machines: MachineSpec[] = stateMachinesOf(template, names).map((m) => ({
    arn: m.arn,
    name: m.logicalId,
    definition: m.definition,
    createdAt: now(),
  }));
  const definitions = JSON.stringify(machines.map((m) => m.definition));
  const workflowFunctions = new Set(functionList.filter((f) => definitions.includes(f.arn)).map((f) => f.id));
  // Runs wait to start while a workflow function has this many invocations waiting (at most half its queue).
  const busyQueue = Math.max(
    1,
    Math.min(BUSY_QUEUE, Math.floor((opts.lambda?.queue ?? DEFAULT_POOL.queue) / 2)),
  );
  const sfn = new LocalStepFunctions(machines, machineInvoker(functions, iam), {
    dataDir: opts.dataDir,
    clock,
    region: REGION,
    account: ACCOUNT,
    startRate: opts.startRate ?? DEFAULT_START_RATE,
    admitRate: DEFAULT_ADMIT_RATE,
    // A machine this local does not scale like Lambda: while any function the workflow invokes has
    // `busyQueue` invocations waiting, new runs are accepted but wait to start (LocalStepFunctions.admit),
    // so the runs in flight are not starved and nothing is refused that AWS would take.
    busy: () => functions.stats().some((s) => workflowFunctions.has(s.functionId) && s.queued >= busyQueue),
    events,
    // Work compressed by the time scale would reach the execution's timeout (docs/local-fidelity.md).
    executionTimeouts: !opts.scaleWork,
    ...(opts.retryIntervalMs !== undefined ? { retryIntervalMs: opts.retryIntervalMs } : {}),
  });
  return { events, sfn, machines, iam };
}

/**
 * The state machine invokes a task's function as its role: without `lambda:InvokeFunction` on that ARN the
 * task fails with Lambda.AWSLambdaException and AWS's AccessDenied message, as the Lambda integration does.
 */
function machineInvoker(functions: LocalFunctions, iam: IamEnforcer): TaskInvoker {
  return {
    async call(arn, payload, ctx) {
      const machine = ctx?.executionArn.split(':')[6];
      const denied = machine
        ? await iam.machineDenial(machine, [{ action: 'lambda:InvokeFunction', resources: [arn] }])
        : undefined;
      if (denied)
        throw new FunctionError('Lambda.AWSLambdaException', `${denied} (Service: Lambda, Status Code: 403)`);
      return functions.call(arn, payload);
    },
  };
}

/** A stack id's UUID that stays the same for a data folder, as a stack's id stays across updates. */
function uuidOf(dataDir: string): string {
  const h = createHash('sha256').update(resolvePath(dataDir)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * Attaches every port's handler (until now each answered 503): DynamoDB, SES and its simulator, Secrets
 * Manager, Step Functions with the console, and the HTTP API with the admin token.
 */
export function exposeApi(
  opts: LocalOptions,
  template: CfnTemplate,
  names: LocalNames,
  s: {
    ports: Listeners;
    fns: Functions;
    events: EventBus;
    sfn: LocalStepFunctions;
    stores: ReturnType<typeof dynamoStores>;
    stateMachineArn: string;
    clock: StackClock;
    iam: IamEnforcer;
  },
) {
  const { ports, fns, events, sfn, clock } = s;
  const now = () => clock.now();
  const tokenFile = join(opts.dataDir, 'admin-token');
  if (!existsSync(tokenFile))
    writeFileSync(tokenFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  const adminToken = readFileSync(tokenFile, 'utf8').trim();
  const secretArns = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret')
    .map(([id]) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}`);

  const { iam } = s;
  ports.db.open(fns.faults.shared, { meter: opts.meter ?? false, iam: iam.model });
  const meter = opts.meter ? { read: () => ports.db.readMeter() } : undefined;
  // Sends to SES's simulator addresses bounce or complain, and every send publishes its events, as in AWS.
  const simulator = sesSimulator(ports.ses.handler, (e) => events.putEventsDurably(e), {
    region: REGION,
    account: ACCOUNT,
    now,
    // IAM (local/iam.ts) where the simulator reads the body; elsewhere before the fault switch.
    check: iamCheck(iam, sesAsks(iam.model), sesQueryDenied),
    quota: opts.sesQuota ?? PRODUCTION_START_QUOTA,
  });
  // SES receiving (the replies' receipt rule): POST /_handoff/inbound on the same port, as SNS delivers it.
  const receiving = receivingHandler(
    sesProxy(simulator, fns.faults),
    receiptTargetsOf(template, names),
    (arn, payload) => fns.functions.invoke(arn, payload),
    (fn, topic) => iam.serviceDenial('sns.amazonaws.com', fn, topic),
    now,
  );
  ports.sesEdge.open(receiving);
  const secretArnOf = (id: string) => secretArns.find((a) => a === id || a.endsWith(`:secret:${id}`));
  ports.secretsEdge.open(
    iamGuard(
      secretsHandler(opts.dataDir, secretArns),
      iam,
      iamCheck(iam, secretsAsks(secretArnOf), awsJsonDenied),
    ),
  );
  // DescribeStacks answers the template's outputs, resolved here: the console's AWS mode (console/stack.ts).
  const stack = {
    StackName: STACK_NAME,
    StackId: stackIdOf(STACK_NAME, names, uuidOf(opts.dataDir)),
    CreationTime: new Date(now()),
    Outputs: outputsOf(template, names),
  };
  ports.cloudFormationEdge.open(
    iamGuard(
      cloudFormationHandler(stack),
      iam,
      iamCheck(iam, cloudFormationAsks(stack), cloudFormationDenied),
    ),
  );
  // The console reads through the same SDK clients it uses against AWS: Step Functions on this stack's
  // endpoint, DynamoDB directly (behind no fault switch, so injected faults do not blind it).
  const consoleSfn = new SFNClient({
    endpoint: ports.urls.sfn,
    region: REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const consoleHandler = consoleFallback({
    sfn,
    faults: fns.faults,
    client: consoleSfn,
    stores: s.stores,
    stateMachineArn: s.stateMachineArn,
    apiUrl: ports.urls.api,
    clock,
    allowedHosts: opts.allowedHosts ?? [],
    ...(fns.forms ? { forms: fns.forms } : {}),
  });
  ports.sfnHttp.open(
    iamGuard(
      sfnHandler(sfn, consoleHandler),
      iam,
      iamCheck(
        iam,
        sfnAsks((t) => sfn.executionOfToken(t)),
        awsJsonDenied,
      ),
    ),
  );
  ports.api.open(
    httpApiHandler(routesOf(template, names), fns.functions, adminToken, now, (fn, source) =>
      iam.serviceDenial('apigateway.amazonaws.com', fn, source),
    ),
  );
  return { adminToken, meter, consoleSfn };
}
