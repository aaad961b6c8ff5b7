// The local Lambda service, one pool per function: concurrency, queue, throttles, timeouts, crashes, idle reaping
// and what its workers cost (heap, CPU). One class a little over 300 lines: its states (sandboxes, waiting
// invocations, counts) are shared by every path, and splitting them would pass them around instead.
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { sandboxWorker } from './sandbox-worker.ts';
import type { LocalFunction } from './template.ts';
import { cpuMicrosOf, heapOf } from './thread-usage.ts';
import type { ClockSpec } from './virtual-date.mjs';

export type InvokeResult =
  | { ok: true; result: unknown }
  | { ok: false; errorType: string; errorMessage: string };

export interface PoolOptions {
  /** Invocations of one function running at once (Lambda's concurrency limit, per function). */
  concurrency: number;
  /** Invocations of one function waiting for a free slot; beyond it they are throttled. */
  queue: number;
  /** Worker threads per function, started on demand; each takes its share of the concurrency. */
  maxWorkers: number;
  /** A worker is stopped after this long idle (ms), the last one too: the next invocation starts one (a cold start). */
  idleMs: number;
}

/**
 * 8 concurrent invocations per function, over one worker on a machine of 2 cores or fewer and two above
 * that: with 18 functions a second worker per function only adds isolates to schedule (measured on 2
 * cores, 600 leads end to end: 1 worker 15.7 leads/s, 116 ms CPU a lead, 1,018 MiB peak RSS; 2 workers
 * 15.1 leads/s, 124 ms, 1,225 MiB). Idle workers are reaped after a minute. The queue holds what Lambda
 * would run at once and this machine cannot: an account's default concurrency is 1,000, so up to 1,000
 * invocations of a function are accepted (running or waiting, slower) before it throttles as Lambda does.
 */
export const DEFAULT_POOL: PoolOptions = {
  concurrency: 8,
  queue: 992,
  maxWorkers: availableParallelism() > 2 ? 2 : 1,
  idleMs: 60_000,
};

export interface PoolStats {
  functionId: string;
  /** The function's logical id in the template (its worker signs with accessKeyIdOf it: local/iam.ts). */
  logicalId: string;
  workers: number;
  running: number;
  queued: number;
  invocations: number;
  throttles: number;
  timeouts: number;
  crashes: number;
  /** Billed duration so far: each invocation's run time on its worker, rounded up to the ms (as Lambda bills). */
  billedMs: number;
  /** `billedMs` × the function's MemorySize, in GB-seconds. */
  gbSeconds: number;
}

interface Invocation {
  id: string;
  payload: unknown;
  resolve: (r: InvokeResult) => void;
}

interface Sandbox {
  worker: Worker;
  /** `init` arrived: the bundle is imported (or failed to, with this error). */
  ready: boolean;
  initError?: { errorType: string; errorMessage: string };
  running: Map<string, { inv: Invocation; timer: NodeJS.Timeout; started: number }>;
  retired: boolean;
  lastError?: string;
  idleTimer?: NodeJS.Timeout;
}

const fail = (errorType: string, errorMessage: string): InvokeResult => ({
  ok: false,
  errorType,
  errorMessage,
});

/**
 * One function's sandboxes, as Lambda runs them: at most `concurrency` invocations at once, spread over
 * up to `maxWorkers` worker threads started on demand; the rest wait in a bounded queue (queue time does
 * not count against the timeout, which starts when a worker takes the invocation) and beyond it are
 * throttled (`Lambda.TooManyRequestsException`). A timed-out invocation recycles its worker
 * (`Sandbox.Timedout` for everything on it); a worker that dies fails its invocations with
 * `Runtime.ExitError` and is replaced.
 */
export class FunctionPool {
  private readonly sandboxes: Sandbox[] = [];
  private readonly waiting: Invocation[] = [];
  private readonly counts = { invocations: 0, throttles: 0, timeouts: 0, crashes: 0, billedMs: 0 };
  private stopped = false;
  private retiredCpuMicros = 0;
  private readonly retiring = new Set<Worker>();
  private initSent = false;
  /** Resolves with the worker's Node.js version once the first worker has started. */
  nodeVersion?: Promise<string>;

  constructor(
    readonly fn: LocalFunction,
    private readonly cdkOut: string,
    private readonly env: Record<string, string>,
    private readonly opts: PoolOptions,
    private readonly crash: (fn: LocalFunction) => boolean = () => false,
    /** The stack's clock: each worker's `Date` reads it (local/virtual-date.mjs); absent, the real one. */
    private readonly clock?: () => ClockSpec,
  ) {}

  /**
   * Starts one worker ahead of demand (a warm sandbox) and resolves with its Node.js version once it has
   * booted; its init (importing the bundle) waits for `init()`.
   */
  warm(): Promise<string> {
    if (!this.sandboxes.length) this.spawn(true);
    return this.nodeVersion as Promise<string>;
  }

  /** Lets warm workers import their bundles (once); resolves when they have (or failed to, or 10 s passed). */
  init(): Promise<void> {
    if (!this.initSent) {
      this.initSent = true;
      for (const s of this.sandboxes) s.worker.postMessage({ init: true });
    }
    const deadline = Date.now() + 10_000;
    const wait = async () => {
      while (this.sandboxes.some((s) => !s.ready) && Date.now() < deadline && !this.stopped)
        await new Promise((r) => setTimeout(r, 10));
    };
    return wait();
  }

  invoke(payload: unknown): Promise<InvokeResult> {
    if (this.stopped) return Promise.resolve(fail('Runtime.ExitError', 'The local runtime is stopping'));
    if (this.running() + this.waiting.length >= this.opts.concurrency + this.opts.queue) {
      this.counts.throttles += 1;
      return Promise.resolve(
        fail(
          'Lambda.TooManyRequestsException',
          `Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: TooManyRequestsException; function ${this.fn.id}: ${this.opts.concurrency} running, ${this.waiting.length} queued)`,
        ),
      );
    }
    this.counts.invocations += 1;
    if (!this.initSent) void this.init(); // a warm worker still waiting its turn to import starts now: it has work

    return new Promise((resolve) => {
      this.waiting.push({ id: randomUUID(), payload: JSON.parse(JSON.stringify(payload ?? null)), resolve });
      this.pump();
    });
  }

  stats(): PoolStats {
    return {
      functionId: this.fn.id,
      logicalId: this.fn.logicalId,
      workers: this.sandboxes.length,
      running: this.running(),
      queued: this.waiting.length,
      ...this.counts,
      gbSeconds: (this.counts.billedMs / 1000) * (this.fn.memorySize / 1024),
    };
  }

  /** V8 heap held by this function's workers now (total_heap_size summed; a worker that has exited counts 0). */
  heapBytes(): Promise<number> {
    return heapOf(this.sandboxes.map((s) => s.worker));
  }

  /** CPU time this function's workers have used (user + system, µs), the retired ones' included. */
  async cpuMicros(): Promise<number> {
    const retired = this.retiredCpuMicros;
    return retired + (await cpuMicrosOf([...this.sandboxes.map((s) => s.worker), ...this.retiring]));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // A worker stopped mid-import prints module-loading warnings: let inits finish first (briefly).
    const deadline = Date.now() + 3000;
    while (this.sandboxes.some((s) => !s.ready) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    for (const inv of this.waiting.splice(0)) inv.resolve(fail('Runtime.ExitError', 'The runtime stopped'));
    await Promise.all([...this.sandboxes].map((s) => this.retire(s, 'Runtime.ExitError', 'stopped')));
  }

  private running(): number {
    return this.sandboxes.reduce((n, s) => n + s.running.size, 0);
  }

  /** Moves queued invocations onto workers with a free slot, starting a worker when all are full. */
  private pump(): void {
    const share = Math.ceil(this.opts.concurrency / this.opts.maxWorkers);
    while (this.waiting.length && this.running() < this.opts.concurrency) {
      const free = this.sandboxes
        .filter((s) => s.ready && s.running.size < share)
        .sort((a, b) => a.running.size - b.running.size)[0];
      if (!free) {
        const starting = this.sandboxes.some((s) => !s.ready);
        if (!starting && this.sandboxes.length < this.opts.maxWorkers && !this.stopped) this.spawn();
        return;
      }
      this.dispatch(free, this.waiting.shift() as Invocation);
    }
  }

  private dispatch(s: Sandbox, inv: Invocation): void {
    if (s.initError) {
      // Like Lambda after a failed init: this invocation fails with it, and the next one starts a new sandbox.
      inv.resolve(fail(s.initError.errorType, s.initError.errorMessage));
      void this.retire(s);
      return;
    }
    clearTimeout(s.idleTimer);
    const ms = this.fn.timeoutSeconds * 1000;
    const timer = setTimeout(() => this.timedOut(s, inv.id), ms);
    s.running.set(inv.id, { inv, timer, started: performance.now() });
    // The clock's anchors travel with each invocation: a worker started before the clock ran (warm) reads
    // it from its first invocation on.
    s.worker.postMessage({
      id: inv.id,
      payload: inv.payload,
      crash: this.crash(this.fn) || undefined,
      clock: this.clock?.(),
    });
  }

  private timedOut(s: Sandbox, id: string): void {
    this.counts.timeouts += 1;
    const message = `Task timed out after ${this.fn.timeoutSeconds.toFixed(2)} seconds`;
    const own = s.running.get(id);
    s.running.delete(id);
    own?.inv.resolve(fail('Sandbox.Timedout', message));
    // Lambda tears a timed-out sandbox down; whatever else ran on this worker goes with it.
    void this.retire(s, 'Sandbox.Timedout', `${message} (another invocation on this sandbox timed out)`);
  }

  private settle(s: Sandbox, msg: { id: string } & InvokeResult): void {
    const entry = s.running.get(msg.id);
    if (!entry) return;
    clearTimeout(entry.timer);
    s.running.delete(msg.id);
    this.counts.billedMs += Math.ceil(performance.now() - entry.started);
    entry.inv.resolve(msg.ok ? { ok: true, result: msg.result } : fail(msg.errorType, msg.errorMessage));
    this.pump();
    this.reapWhenIdle(s);
  }

  /** Lambda reaps idle sandboxes: a worker with nothing to run is stopped after `idleMs`. */
  private reapWhenIdle(s: Sandbox): void {
    if (s.running.size > 0 || s.retired || this.stopped) return;
    clearTimeout(s.idleTimer);
    s.idleTimer = setTimeout(() => {
      if (s.running.size === 0 && !this.waiting.length) void this.retire(s);
    }, this.opts.idleMs);
    s.idleTimer.unref();
  }

  /** Takes a sandbox out of the pool, failing what runs on it, and stops its worker. */
  private async retire(s: Sandbox, errorType = 'Runtime.ExitError', message = ''): Promise<void> {
    if (s.retired) return;
    s.retired = true;
    clearTimeout(s.idleTimer);
    this.sandboxes.splice(this.sandboxes.indexOf(s), 1);
    for (const { inv, timer } of s.running.values()) {
      clearTimeout(timer);
      inv.resolve(fail(errorType, message));
    }
    s.running.clear();
    this.pump();
    // Its CPU is read before it stops (an exited worker reads 0); meanwhile it counts as retiring, so a
    // reading in between neither misses nor doubles it. The worker stops even if the reading fails.
    this.retiring.add(s.worker);
    try {
      this.retiredCpuMicros += await cpuMicrosOf([s.worker]);
    } finally {
      this.retiring.delete(s.worker);
      await s.worker.terminate();
    }
  }

  private spawn(deferInit = false): void {
    const worker = sandboxWorker(this.cdkOut, this.fn, this.env, this.clock?.());
    const s: Sandbox = { worker, ready: false, running: new Map(), retired: false };
    this.sandboxes.push(s);
    let version: (v: string) => void = () => undefined;
    const node = new Promise<string>((r) => {
      version = r;
    });
    this.nodeVersion ??= node;
    worker.on(
      'message',
      (msg: { id?: string; node?: string; init?: { ok: boolean } & Sandbox['initError'] }) => {
        if (msg.node) {
          version(msg.node);
          if (!deferInit) worker.postMessage({ init: true });
        } else if (msg.init) {
          s.ready = true;
          if (!msg.init.ok)
            s.initError = {
              errorType: String(msg.init.errorType),
              errorMessage: String(msg.init.errorMessage),
            };
          this.pump();
          this.reapWhenIdle(s);
        } else if (msg.id) this.settle(s, msg as { id: string } & InvokeResult);
      },
    );
    worker.on('error', (e) => {
      s.lastError = e.message;
    });
    worker.on('exit', (code) => {
      version('');
      if (s.retired) return;
      this.counts.crashes += 1;
      const why = s.lastError
        ? `Error: ${s.lastError}`
        : `Error: Runtime exited with error: exit status ${code}`;
      void this.retire(s, 'Runtime.ExitError', `RequestId: local ${why}`);
    });
  }
}
