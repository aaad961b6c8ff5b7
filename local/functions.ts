import type { Activity, ClockSpec } from './clock.ts';
import {
  DEFAULT_POOL,
  FunctionPool,
  type InvokeResult,
  type PoolOptions,
  type PoolStats,
} from './lambda-pool.ts';
import type { LocalFunction } from './template.ts';

export type { InvokeResult, PoolOptions, PoolStats } from './lambda-pool.ts';
export { DEFAULT_POOL } from './lambda-pool.ts';

/** A function invocation failed: `name` is the Lambda errorType, so ASL Retry/Catch match it. */
export class FunctionError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export interface LocalFunctionsOptions extends Partial<PoolOptions> {
  /** Fault injection: true makes this invocation's worker exit mid-invocation (`Runtime.ExitError`). */
  crash?: (fn: { id: string; logicalId: string }) => boolean;
  /**
   * Start one worker per function at `start()` (default false: each function's first worker starts on
   * its first invocation, a cold start, and idle workers are reaped, so an idle stack holds no isolates).
   */
  warm?: boolean;
  /**
   * The stack's clock (local/clock.ts): every worker's `Date` reads it, and each invocation, queued or
   * running, holds it at real speed (the time scale compresses waiting, not work). Absent: the real clock.
   */
  clock?: { readonly anchors: ClockSpec; activity(): Activity };
}

/**
 * Runs each Lambda function of the template from its bundled asset in worker threads, with its
 * template environment (plus the emulator endpoints), as Lambda does: a pool per function with a
 * concurrency limit, a bounded queue and throttling beyond it, the function's timeout counted from
 * the moment a worker takes the invocation (see FunctionPool).
 */
export class LocalFunctions {
  private readonly pools = new Map<string, FunctionPool>();
  readonly byArn = new Map<string, LocalFunction>();
  /** The Node.js version each function's worker reported when it started (`process.version`). */
  readonly nodeVersions = new Map<string, string>();
  readonly options: PoolOptions;

  constructor(
    cdkOut: string,
    functions: LocalFunction[],
    extraEnv: Record<string, string>,
    private readonly opts: LocalFunctionsOptions = {},
  ) {
    this.options = {
      concurrency: opts.concurrency ?? DEFAULT_POOL.concurrency,
      queue: opts.queue ?? DEFAULT_POOL.queue,
      maxWorkers: Math.max(
        1,
        Math.min(opts.maxWorkers ?? DEFAULT_POOL.maxWorkers, opts.concurrency ?? DEFAULT_POOL.concurrency),
      ),
      idleMs: opts.idleMs ?? DEFAULT_POOL.idleMs,
    };
    for (const f of functions) {
      this.byArn.set(f.arn, f);
      this.pools.set(
        f.arn,
        new FunctionPool(f, cdkOut, extraEnv, this.options, opts.crash, clockOf(opts.clock)),
      );
    }
  }

  /**
   * Warms one worker per function (with `warm: true`) and records each worker's Node.js version; without
   * warming, the version is this process's, which every worker thread runs on.
   */
  async start(): Promise<void> {
    if (this.opts.warm !== true) {
      for (const p of this.pools.values()) this.nodeVersions.set(p.fn.logicalId, process.version);
      return;
    }
    await Promise.all(
      [...this.pools.values()].map(async (p) => {
        this.nodeVersions.set(p.fn.logicalId, await p.warm());
      }),
    );
    // Imports run two at a time (the machine has two cores) so each is done sooner; a function that is
    // invoked meanwhile starts its own at once.
    const queue = [...this.pools.values()];
    const next = async (): Promise<void> => {
      const p = queue.shift();
      if (!p) return;
      await p.init();
      return next();
    };
    void Promise.all([next(), next()]);
  }

  private find(arn: string): FunctionPool | undefined {
    const f =
      this.byArn.get(arn) ??
      [...this.byArn.values()].find((x) => x.logicalId === arn || arn.endsWith(`:function:${x.logicalId}`));
    return f && this.pools.get(f.arn);
  }

  async invoke(arn: string, payload: unknown): Promise<InvokeResult> {
    const pool = this.find(arn);
    if (!pool) {
      return {
        ok: false,
        errorType: 'ResourceNotFoundException',
        errorMessage: `Function not found: ${arn}`,
      };
    }
    const first = !this.nodeVersions.has(pool.fn.logicalId);
    const work = this.opts.clock?.activity();
    const result = pool.invoke(payload).finally(() => work?.end());
    if (first) void pool.nodeVersion?.then((v) => v && this.nodeVersions.set(pool.fn.logicalId, v));
    return result;
  }

  /** Invokes and throws a FunctionError on a function error (for Step Functions tasks). */
  async call(arn: string, payload: unknown): Promise<unknown> {
    const r = await this.invoke(arn, payload);
    if (!r.ok) throw new FunctionError(r.errorType, r.errorMessage);
    return r.result;
  }

  /** Per function: workers, running and queued invocations, and what was throttled, timed out, crashed. */
  stats(): PoolStats[] {
    return [...this.pools.values()].map((p) => p.stats());
  }

  /** V8 heap held by each function's workers now, by function id (what `npm run test:load` breaks RSS into). */
  async heapBytes(): Promise<Record<string, number>> {
    const pools = [...this.pools.values()];
    const sizes = await Promise.all(pools.map((p) => p.heapBytes()));
    return Object.fromEntries(pools.map((p, i) => [p.fn.id, sizes[i] ?? 0]));
  }

  /** CPU time each function's workers have used (user + system, µs), by function id. */
  async cpuMicros(): Promise<Record<string, number>> {
    const pools = [...this.pools.values()];
    const used = await Promise.all(pools.map((p) => p.cpuMicros()));
    return Object.fromEntries(pools.map((p, i) => [p.fn.id, used[i] ?? 0]));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.stop()));
  }
}

/** The anchors a worker reads the clock from, at the moment it is asked (they change with the clock's speed). */
const clockOf = (clock?: { readonly anchors: ClockSpec }) => (clock ? () => clock.anchors : undefined);
