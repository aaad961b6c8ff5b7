// One Lambda function in a worker thread: imports its bundled asset once (cold start), then serves
// invocations. Its process.env is the function's template environment (set by the parent).

import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { file, handlerName, functionName, memory, timeoutSeconds } = workerData;
let handlerPromise;
const load = () => {
  handlerPromise ??= import(pathToFileURL(file).href).then((mod) => {
    const fn = mod[handlerName];
    if (typeof fn !== 'function') throw new Error(`${file} does not export ${handlerName}`);
    return fn;
  });
  return handlerPromise;
};

parentPort.on('message', async ({ id, payload }) => {
  const started = Date.now();
  const context = {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: workerData.arn,
    memoryLimitInMB: String(memory),
    awsRequestId: id,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timeoutSeconds * 1000 - (Date.now() - started)),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const handler = await load();
    const result = await handler(payload, context);
    parentPort.postMessage({ id, ok: true, result: result === undefined ? null : result });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    parentPort.postMessage({ id, ok: false, errorType: err.name || 'Error', errorMessage: err.message });
  }
});
// The parent checks this against the template's Lambda runtime (nodejs24.x → 24).
parentPort.postMessage({ ready: true, node: process.version });
