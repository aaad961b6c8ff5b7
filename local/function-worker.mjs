// One Lambda sandbox in a worker thread: imports its bundled asset at start (the init phase, which
// does not count against the function's timeout), then serves the invocations the pool sends it.
// Its process.env is the function's template environment (set by the parent).

import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { installVirtualDate, realNow } from './virtual-date.mjs';

const { file, handlerName, functionName, memory, timeoutSeconds, clock } = workerData;
// The stack's one clock: the function reads the virtual date (`--time-scale`, `--start-at`) through the
// ordinary `Date`, installed before its bundle is imported (module-scope code may read the date too). Each
// invocation brings the clock's current anchors (a held clock, scale 0, stands still until the stack runs).
const spec = clock ? { ...clock } : undefined;
if (spec) installVirtualDate(spec);
const errorOf = (e) => {
  const err = e instanceof Error ? e : new Error(String(e));
  return { errorType: err.name || 'Error', errorMessage: err.message };
};

// The init phase starts when the parent says so (after every warm worker has booted: importing 13
// bundles at once would slow each worker's boot).
let startInit;
const initStarted = new Promise((r) => {
  startInit = r;
});
const handlerPromise = initStarted.then(() =>
  import(pathToFileURL(file).href).then((mod) => {
    const fn = mod[handlerName];
    if (typeof fn !== 'function')
      throw Object.assign(new Error(`${file} does not export ${handlerName}`), {
        name: 'Runtime.HandlerNotFound',
      });
    return fn;
  }),
);
handlerPromise.catch(() => undefined);

parentPort.on('message', async ({ id, payload, crash, init, clock: now }) => {
  if (init) return startInit();
  if (spec && now) Object.assign(spec, now);
  // Lambda's timeout is compute time: real, whatever the clock says.
  const started = realNow();
  const context = {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: workerData.arn,
    memoryLimitInMB: String(memory),
    awsRequestId: id,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timeoutSeconds * 1000 - (realNow() - started)),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const handler = await handlerPromise;
    const running = handler(payload, context);
    // Fault injection: the sandbox dies mid-invocation, after the handler has started.
    if (crash) setImmediate(() => process.exit(70));
    const result = await running;
    if (crash) return;
    parentPort.postMessage({ id, ok: true, result: result === undefined ? null : result });
  } catch (e) {
    if (crash) return;
    parentPort.postMessage({ id, ok: false, ...errorOf(e) });
  }
});

// The parent checks `node` against the template's Lambda runtime (nodejs24.x → 24) at once, and
// dispatches invocations after `init` (the bundle imported, or the error that will fail them).
parentPort.postMessage({ node: process.version });
handlerPromise.then(
  () => parentPort.postMessage({ init: { ok: true } }),
  (e) => parentPort.postMessage({ init: { ok: false, ...errorOf(e) } }),
);
