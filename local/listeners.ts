// A local stack's ports and emulators (local/runtime.ts): every public port listens first and answers 503
// until the stack attaches its handler; DynamoDB on its own thread, SES on an internal port.
import type { Server } from 'node:http';
import { type EdgeServer, edgeServer } from '../serve/edge.ts';
import { PortInUseError } from '../serve/ports.ts';
import type { StackInfo } from '../serve/stack-file.ts';
import { close, listen } from './aws-json.ts';
import { type DynamoEngine, startDynamoThread } from './dynamodb.ts';
import { claimEngine } from './dynamodb-local.ts';
import { startSes } from './emulators.ts';

const url = (port: number) => `http://127.0.0.1:${port}`;

export interface ListenOptions {
  dataDir: string;
  /** API port; the others follow it (local/runtime.ts). 0 = any free ports. */
  port: number;
  allowedHosts: readonly string[];
  log?: ((line: string) => void) | undefined;
  /** dynalite (default) or DynamoDB Local. */
  dynamodb?: DynamoEngine | undefined;
  /** The stack's clock (SES stamps its mail with it). */
  now: () => number;
  /** Undoes what came before the ports (the clock, the folder's umask) when one cannot be bound. */
  release: () => void;
}

export type Listeners = Awaited<ReturnType<typeof listenAll>>;

/** Binds every public port, starts DynamoDB's thread and SES; a port in use is a PortInUseError naming it. */
export async function listenAll(o: ListenOptions) {
  const portFor = (offset: number) => (o.port === 0 ? 0 : o.port + offset);
  const servers: Server[] = [];
  const failStart = async (e: unknown, service: string): Promise<never> => {
    await Promise.all(servers.map((s) => close(s)));
    o.release();
    if (e instanceof PortInUseError) e.service = service;
    throw e;
  };
  const serve = async (name: string, offset: number): Promise<EdgeServer & { port: number }> => {
    const edge = edgeServer(name, o.log, { allowedHosts: o.allowedHosts });
    const port = await listen(edge.server, portFor(offset)).catch((e) => failStart(e, name));
    servers.push(edge.server);
    return { ...edge, port };
  };

  // Public ports first (their URLs go into the functions' environment); each answers 503 until ready.
  // All six are bound before this process opens any port of its own choosing (dynalite's and SES's
  // internal ones, outgoing connections): one of those could otherwise land on N+2 … N+5.
  const api = await serve('api', 0);
  const sfnHttp = await serve('sfn', 1);
  const sesEdge = await serve('ses', 3);
  const secretsEdge = await serve('secrets', 4);
  const cloudFormationEdge = await serve('cloudformation', 5);
  // DynamoDB's edge, fault switch and dynalite run on their own thread (local/dynamodb-thread.ts), which
  // binds its public port before dynalite's internal one.
  const engine = o.dynamodb ?? 'dynalite';
  try {
    claimEngine(o.dataDir, engine);
  } catch (e) {
    await failStart(e, 'dynamodb');
  }
  const db = await startDynamoThread({
    dataDir: o.dataDir,
    engine,
    port: portFor(2),
    allowedHosts: o.allowedHosts,
    ...(o.log ? { log: o.log } : {}),
  }).catch((e) => failStart(e, 'dynamodb'));
  // The emulators themselves listen on internal ports, behind the fault proxies.
  const ses = await startSes(o.now);
  servers.push(ses.server);
  const urls: StackInfo['urls'] = {
    api: url(api.port),
    console: `${url(sfnHttp.port)}/`,
    mailbox: `${url(sesEdge.port)}/`,
    sfn: url(sfnHttp.port),
    dynamodb: url(db.port),
    ses: url(sesEdge.port),
    secrets: url(secretsEdge.port),
    cloudformation: url(cloudFormationEdge.port),
  };
  return {
    api,
    sfnHttp,
    sesEdge,
    secretsEdge,
    cloudFormationEdge,
    db,
    ses,
    urls,
    // dynalite closes its database last, once the requests already inside it have finished.
    async stop() {
      await Promise.all([...servers.map((s) => close(s)), db.stop()]);
    },
  };
}
