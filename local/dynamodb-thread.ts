// DynamoDB on its own thread: the DynamoDB edge (503 until the stack is ready, IAM, the fault switch, then
// the emulator) and dynalite with its LevelDB run here, so the functions' DynamoDB calls (most of the
// local stack's requests) take no time on the main thread. With DynamoDB Local (`--dynamodb local`) the
// JVM is a child process this thread starts, forwards to and stops. Started by
// startDynamoThread (local/dynamodb.ts); the fault setting is shared memory the main thread writes.
import type { RequestListener } from 'node:http';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { edgeServer } from '../serve/edge.ts';
import { PortInUseError } from '../serve/ports.ts';
import { close, listen } from './aws-json.ts';
import type { DynamoThreadData, FromDynamoThread, ToDynamoThread } from './dynamodb.ts';
import { forwardTo, startDynamoDbLocal } from './dynamodb-local.ts';
import { startDynalite, tracked } from './emulators.ts';
import { dynamodbProxy } from './fault-proxy.ts';
import { type Faults, SharedDynamodbFaults } from './faults.ts';
import { IamEnforcer } from './iam.ts';
import { awsJsonDenied, dynamodbAsks, iamCheck, iamGuard } from './iam-requests.ts';
import { DynamoMeter, metered } from './meter.ts';

const port = parentPort;
if (!port) throw new Error('local/dynamodb-thread.ts runs in a worker thread');
const send = (msg: FromDynamoThread) => port.postMessage(msg);
const data = workerData as DynamoThreadData;

try {
  const edge = edgeServer('dynamodb', (line) => send({ log: line }), {
    allowedHosts: data.allowedHosts ?? [],
  });
  const edgePort = await listen(edge.server, data.port);
  const db = await openEngine(data);
  const requests = tracked(db.handler);
  const meter = new DynamoMeter();
  port.on('message', async (msg: ToDynamoThread) => {
    if (msg.open) {
      // The proxy asks only `dynamodb()` of the switch; the shared one answers it from the main thread's setting.
      const inner = msg.meter ? metered(requests.handler, meter) : requests.handler;
      const proxied = dynamodbProxy(inner, new SharedDynamodbFaults(msg.open) as unknown as Faults);
      // IAM before the fault switch, as AWS authorizes a call before it throttles it.
      const iam = msg.iam && new IamEnforcer(msg.iam, { log: (line) => send({ log: line }) });
      edge.open(
        iam ? iamGuard(proxied, iam, iamCheck(iam, dynamodbAsks(iam.model), awsJsonDenied)) : proxied,
      );
    } else if (msg.readMeter !== undefined) {
      send({ meter: { id: msg.readMeter, reading: meter.read() } });
    } else if (msg.stop) {
      await close(edge.server);
      // dynalite closes its database last, once the requests already inside it have finished.
      await requests.idle(30_000);
      await db.close();
      send({ stopped: true });
    }
  });
  send({ ready: { port: edgePort, url: db.url } });
} catch (e) {
  const portInUse = e instanceof PortInUseError ? { port: e.port, listening: e.listening } : undefined;
  send({ error: (e as Error).message, ...(portInUse ? { portInUse } : {}) });
}

/** The emulator behind the edge: its internal URL, its request handler, and how to close it. */
async function openEngine(
  d: DynamoThreadData,
): Promise<{ url: string; handler: RequestListener; close(): Promise<void> }> {
  if (d.engine === 'dynamodb-local') {
    const jvm = await startDynamoDbLocal({ dbPath: join(d.dataDir, 'dynamodb-local') });
    return { url: jvm.url, handler: forwardTo(jvm.url), close: () => jvm.stop() };
  }
  const dynalite = await startDynalite(d.dataDir);
  return { url: dynalite.url, handler: dynalite.handler, close: () => close(dynalite.server) };
}
