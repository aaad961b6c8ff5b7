// What startLocal (local/runtime.ts) takes and what it gives: a local stack's options and its handle.
import type { HandoffConfig } from '../functions/config/schema.ts';
import type { StackInfo } from '../serve/stack-file.ts';
import type { Clock } from './clock.ts';
import type { DynamoEngine } from './dynamodb.ts';
import type { EventBus } from './events.ts';
import type { Faults } from './faults.ts';
import type { LocalFunctions, PoolOptions } from './functions.ts';
import type { MeterReading } from './meter.ts';
import type { SesQuotaLimits } from './ses-quota.ts';
import type { LocalStepFunctions } from './sfn/api.ts';
import type { RateLimit } from './sfn/throttle.ts';
import type { FormSettings } from './site.ts';

export interface LocalOptions {
  cdkOut: string;
  config: HandoffConfig;
  dataDir: string;
  /** API port; the others follow it (+1 Step Functions and console, +2 DynamoDB, +3 SES, +4 Secrets Manager, +5 CloudFormation). 0 = any free ports. */
  port: number;
  /**
   * The DynamoDB behind the stack's DynamoDB port: dynalite (default, in process) or DynamoDB Local, AWS's
   * own emulator on Java (local/dynamodb-local.ts). A data folder keeps the one it was started with.
   */
  dynamodb?: DynamoEngine;
  /**
   * Host names every port answers besides loopback, and whose pages may post the example form (a
   * forwarded dev environment: serve/edge.ts, local/site.ts). Default none.
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
  /**
   * The SES account's send quota, which GetSendQuota answers and sends beyond are throttled by
   * (local/ses-quota.ts). Default 14/s and 50,000 a day, a new production account's; the sandbox's is
   * SANDBOX_QUOTA (1/s, 200 a day), which the SES probe and test use.
   */
  sesQuota?: SesQuotaLimits;
  /** Count DynamoDB request units (`npm run bench`): `stack.meter` (local/meter.ts). Off by default. */
  meter?: boolean;
  /**
   * Run the template's schedule rules (the hourly reconcile, the weekly reminders); default true. The
   * bench turns them off: they cost per hour, not per lead, and would run between a path's steps.
   */
  schedules?: boolean;
  /** Where listeners and the event bus log a line (a refused request, a dropped event); default stderr. */
  log?: (line: string) => void;
  /** Called once every port listens, before any handler is attached (requests get 503 until it returns). */
  onListening?: (urls: LocalStack['urls']) => Promise<void> | void;
}

/** This process's memory in bytes: RSS, what V8 holds per thread, and the rest (native: code, LevelDB, sockets). */
export interface MemoryReading {
  rss: number;
  /**
   * RSS split as Linux counts it (/proc/self/status; absent elsewhere): anonymous memory, and file-backed
   * pages, mostly LevelDB's table files that dynalite's store maps into memory (they grow with the data and
   * the kernel may drop them at will).
   */
  anon?: number;
  file?: number;
  /** The main thread: engine, HTTP edges, SES, events. `external` counts Buffers and ArrayBuffers. */
  main: { heap: number; used: number; external: number };
  /** The DynamoDB thread's V8 heap, held and used (dynalite; LevelDB's memory is native: under `native`). */
  dynamodb: { heap: number; used: number };
  /** Each function's workers' V8 heaps, by function id. */
  functions: Record<string, number>;
  /** RSS less all of the above. */
  native: number;
}

/** CPU time this process's threads have used since the stack started (user + system), µs. */
export interface CpuReading {
  /** The main thread since the process started (engine, HTTP edges, SES, events, and whatever else runs on it). */
  main: number;
  /** The DynamoDB thread (dynalite and its edge, the meter, IAM checks of DynamoDB calls). */
  dynamodb: number;
  /** Each function's workers, by function id (the ones retired included). */
  functions: Record<string, number>;
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
  /** Where this process's memory is now, by thread (docs/figures.md, "10,000 leads"). */
  memory(): Promise<MemoryReading>;
  /** Where this process's CPU time went, by thread (`npm run bench`'s "CPU per lead"). */
  cpu(): Promise<CpuReading>;
  /** What each function runs on: its worker's Node.js version beside the template's Lambda runtime. */
  runtimes: { functionId: string; node: string; lambda: string }[];
  env: Record<string, string>;
  /** The form settings SubmitLead runs with, placed at this stack's ports (local/site.ts). */
  forms?: FormSettings;
  stop(): Promise<void>;
}
