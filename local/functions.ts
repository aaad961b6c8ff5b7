import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LocalFunction } from './template.ts';

export type InvokeResult =
  | { ok: true; result: unknown }
  | { ok: false; errorType: string; errorMessage: string };

const WORKER = join(import.meta.dirname, 'function-worker.mjs');

/** A function invocation failed: `name` is the Lambda errorType, so ASL Retry/Catch match it. */
export class FunctionError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * Runs each Lambda function of the template from its bundled asset in its own worker thread, with
 * its template environment (plus the emulator endpoints). Honours each function's timeout: a run
 * that overstays is terminated (the worker restarts cold) and fails with `Sandbox.Timedout`.
 */
export class LocalFunctions {
  private readonly workers = new Map<string, Worker>();
  private readonly pending = new Map<string, { resolve: (r: InvokeResult) => void; arn: string }>();
  readonly byArn = new Map<string, LocalFunction>();
  /** The Node.js version each function's worker reported when it started (`process.version`). */
  readonly nodeVersions = new Map<string, string>();

  constructor(
    private readonly cdkOut: string,
    functions: LocalFunction[],
    private readonly extraEnv: Record<string, string>,
  ) {
    for (const f of functions) this.byArn.set(f.arn, f);
  }

  async start(): Promise<void> {
    await Promise.all([...this.byArn.values()].map((f) => this.spawn(f)));
  }

  private spawn(f: LocalFunction): Promise<void> {
    const [module = 'index', handlerName = 'handler'] = f.handler.split('.');
    const worker = new Worker(WORKER, {
      workerData: {
        file: join(this.cdkOut, f.assetPath, `${module}.mjs`),
        handlerName,
        functionName: f.logicalId,
        arn: f.arn,
        memory: 512,
        timeoutSeconds: f.timeoutSeconds,
      },
      env: {
        PATH: process.env.PATH ?? '',
        TZ: process.env.TZ ?? 'UTC',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_LAMBDA_FUNCTION_NAME: f.logicalId,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
        ...f.environment,
        ...this.extraEnv,
      },
      // The bundle is plain JS: no TypeScript loader (tsx) in the function's thread.
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    this.workers.set(f.arn, worker);
    worker.on('message', (msg: { id?: string; ready?: boolean } & InvokeResult) => {
      if (!msg.id) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      p.resolve(
        msg.ok
          ? { ok: true, result: msg.result }
          : { ok: false, errorType: msg.errorType, errorMessage: msg.errorMessage },
      );
    });
    worker.on('error', (e) => this.failAll(f.arn, 'Runtime.ExitError', e.message));
    return new Promise((resolve, reject) => {
      worker.once('message', (msg: { node?: string }) => {
        this.nodeVersions.set(f.logicalId, String(msg.node));
        resolve();
      });
      worker.once('error', reject);
    });
  }

  private failAll(arn: string, errorType: string, errorMessage: string) {
    for (const [id, p] of this.pending) {
      if (p.arn !== arn) continue;
      this.pending.delete(id);
      p.resolve({ ok: false, errorType, errorMessage });
    }
  }

  async invoke(arn: string, payload: unknown): Promise<InvokeResult> {
    const f =
      this.byArn.get(arn) ??
      [...this.byArn.values()].find((x) => x.logicalId === arn || arn.endsWith(`:function:${x.logicalId}`));
    const worker = f && this.workers.get(f.arn);
    if (!f || !worker) {
      return {
        ok: false,
        errorType: 'ResourceNotFoundException',
        errorMessage: `Function not found: ${arn}`,
      };
    }
    const id = randomUUID();
    const result = new Promise<InvokeResult>((resolve) => this.pending.set(id, { resolve, arn: f.arn }));
    worker.postMessage({ id, payload: JSON.parse(JSON.stringify(payload ?? null)) });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<InvokeResult>((resolve) => {
      timer = setTimeout(async () => {
        this.pending.delete(id);
        // Like Lambda, a timed-out sandbox is torn down and the next invocation starts cold; but one
        // worker serves concurrent invocations here, so it is only recycled when no other is in flight.
        const others = [...this.pending.values()].some((p) => p.arn === f.arn);
        if (!others) {
          await worker.terminate();
          await this.spawn(f);
        }
        resolve({
          ok: false,
          errorType: 'Sandbox.Timedout',
          errorMessage: `Task timed out after ${f.timeoutSeconds}.00 seconds`,
        });
      }, f.timeoutSeconds * 1000);
    });
    try {
      return await Promise.race([result, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Invokes and throws a FunctionError on a function error (for Step Functions tasks). */
  async call(arn: string, payload: unknown): Promise<unknown> {
    const r = await this.invoke(arn, payload);
    if (!r.ok) throw new FunctionError(r.errorType, r.errorMessage);
    return r.result;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.terminate()));
    this.workers.clear();
  }
}
