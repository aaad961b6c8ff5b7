// A Lambda sandbox as a worker thread (local/function-worker.mjs runs the bundle in it): the environment
// Lambda sets, the function's memory as the heap limit, no TypeScript loader. The pool that schedules
// invocations onto these is local/lambda-pool.ts.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { accessKeyIdOf } from './iam.ts';
import type { LocalFunction } from './template.ts';
import type { ClockSpec } from './virtual-date.mjs';

const WORKER = join(import.meta.dirname, 'function-worker.mjs');

/** Starts a worker for `f`'s bundle under `cdkOut`; `clock` is the stack's, absent the real one. */
export function sandboxWorker(
  cdkOut: string,
  f: LocalFunction,
  env: Record<string, string>,
  clock: ClockSpec | undefined,
): Worker {
  const [module = 'index', handlerName = 'handler'] = f.handler.split('.');
  return new Worker(WORKER, {
    workerData: {
      file: join(cdkOut, f.assetPath, `${module}.mjs`),
      handlerName,
      functionName: f.logicalId,
      arn: f.arn,
      memory: f.memorySize,
      timeoutSeconds: f.timeoutSeconds,
      clock,
    },
    env: {
      PATH: process.env.PATH ?? '',
      // What Lambda sets. Worker threads share the process's time zone whatever their env says, so the
      // local runtime also runs its process in UTC (local/runtime.ts).
      TZ: 'UTC',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      // The function's own key (local/iam.ts): its calls are checked against its role, as in AWS.
      AWS_ACCESS_KEY_ID: accessKeyIdOf(f.logicalId),
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SESSION_TOKEN: 'local',
      AWS_LAMBDA_FUNCTION_NAME: f.logicalId,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(f.memorySize),
      ...f.environment,
      ...env,
    },
    // The bundle is plain JS: no TypeScript loader (tsx) in the function's thread. HANDOFF_CPU_PROF_DIR:
    // each worker writes a V8 CPU profile there when it stops (docs/figures.md, "CPU profile", says how).
    execArgv: process.env.HANDOFF_CPU_PROF_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.HANDOFF_CPU_PROF_DIR}`]
      : [],
    // The function's memory bounds its heap (an overrun exits the worker: Runtime.ExitError, as an OOM
    // does in Lambda); a small young generation keeps ~26 isolates' memory modest under load.
    resourceLimits: { maxOldGenerationSizeMb: f.memorySize, maxYoungGenerationSizeMb: 8 },
    stdout: false,
    stderr: false,
  });
}
