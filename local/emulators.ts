// The third-party emulators, on internal ports behind the fault proxies: dynalite (DynamoDB, persisted
// in the data folder) and aws-ses-v2-local (SES v1 and v2, its mailbox viewer at /).
import type { RequestListener, Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DeleteItemCommand, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import * as sesModule from 'aws-ses-v2-local';
import dynalite from 'dynalite';
import { listen } from './aws-json.ts';

/** A running emulator: its server on an internal port, and its request handler for the fault proxy. */
export interface Emulator {
  server: Server;
  url: string;
  handler: RequestListener;
}

const handlerOf = (server: Server) => server.listeners('request')[0] as RequestListener;

/**
 * Counts the requests a handler has not answered yet. The emulators run in this process behind the edge
 * servers, so closing a socket does not stop a request in progress: dynalite must close its database only
 * once every request has finished, or a late read throws "Database is closed" into the process.
 */
export function tracked(handler: RequestListener): {
  handler: RequestListener;
  idle(timeoutMs: number): Promise<void>;
} {
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  return {
    handler(req, res) {
      inFlight += 1;
      const end = res.end.bind(res);
      let done = false;
      res.end = ((...args: Parameters<typeof end>) => {
        if (!done) {
          done = true;
          inFlight -= 1;
          if (inFlight === 0) onIdle?.();
        }
        return end(...args);
      }) as typeof res.end;
      handler(req, res);
    },
    idle(timeoutMs) {
      if (inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}

export async function startDynalite(dataDir: string): Promise<Emulator> {
  const server = dynalite({
    path: join(dataDir, 'dynamodb'),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const port = await listen(server, 0);
  return { server, url: `http://127.0.0.1:${port}`, handler: handlerOf(server) };
}

/**
 * aws-ses-v2-local on a free internal port. Its mailbox stamps each message with `now()` (the stack's
 * clock): every send handler calls its util module's `getCurrentTimestamp` through the module's exports,
 * which is the one place the emulator reads the time.
 */
export async function startSes(now: () => number = Date.now): Promise<Emulator> {
  const util = createRequire(import.meta.url)('aws-ses-v2-local/dist/util.js') as {
    getCurrentTimestamp: () => number;
  };
  util.getCurrentTimestamp = () => Math.floor(now() / 1000);
  // Port 0: the system picks a free port as it binds. (A port found free first and bound later could be
  // taken in between, and aws-ses-v2-local's listen never settles on an error.)
  const server = await sesServer()({ host: '127.0.0.1', port: 0 });
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handler: handlerOf(server),
  };
}

/** dynalite has no UpdateTimeToLive: deletes the items whose TTL attribute has passed. */
export async function sweepExpired(
  db: DynamoDBClient,
  table: string,
  attr: string,
  nowMs: number,
): Promise<number> {
  const now = Math.floor(nowMs / 1000);
  let deleted = 0;
  let ExclusiveStartKey: Record<string, never> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#t < :now',
        ExpressionAttributeNames: { '#t': attr },
        ExpressionAttributeValues: { ':now': { N: String(now) } },
        ProjectionExpression: 'pk, sk',
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      await db.send(
        new DeleteItemCommand({ TableName: table, Key: { pk: item.pk as never, sk: item.sk as never } }),
      );
      deleted += 1;
    }
    ExclusiveStartKey = page.LastEvaluatedKey as never;
  } while (ExclusiveStartKey);
  return deleted;
}

/**
 * Sweeps expired items every `everyMs` real ms (sweepExpired). One sweep at a time; stop waits for the one in
 * progress (it talks to dynalite directly, not through the edge).
 */
export function ttlSweeper(
  db: DynamoDBClient,
  table: string,
  attr: string,
  now: () => number,
  everyMs: number,
) {
  let sweeping: Promise<unknown> | undefined;
  const sweep = setInterval(() => {
    sweeping ??= sweepExpired(db, table, attr, now())
      .catch(() => undefined)
      .finally(() => {
        sweeping = undefined;
      });
  }, everyMs);
  sweep.unref();
  return {
    async stop() {
      clearInterval(sweep);
      await sweeping;
    },
  };
}

/** aws-ses-v2-local is CommonJS with `exports.default`: Node's ESM interop nests it one level deeper. */
function sesServer(): (config: { host: string; port: number }) => Promise<Server> {
  const m = sesModule as unknown as { default: unknown };
  const fn = typeof m.default === 'function' ? m.default : (m.default as { default: unknown }).default;
  return fn as (config: { host: string; port: number }) => Promise<Server>;
}
