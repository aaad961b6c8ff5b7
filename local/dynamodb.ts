import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PortInUseError } from '../serve/ports.ts';
import type { SharedDynamodbFaults } from './faults.ts';
import type { IamModel } from './iam.ts';
import type { MeterReading } from './meter.ts';
import { cpuMicrosOf } from './thread-usage.ts';

/** Which emulator answers DynamoDB: dynalite, or AWS's DynamoDB Local (local/dynamodb-local.ts). */
export type DynamoEngine = 'dynalite' | 'dynamodb-local';

export interface DynamoThreadData {
  dataDir: string;
  /** Default dynalite. */
  engine?: DynamoEngine;
  /** The public DynamoDB port (0: any free one). */
  port: number;
  /** Host names its edge answers besides loopback (serve/edge.ts). */
  allowedHosts?: readonly string[];
}
export type ToDynamoThread = {
  open?: SharedArrayBuffer;
  meter?: boolean;
  /** The stack's IAM (local/iam.ts): calls signed with a function's key are checked against its role. */
  iam?: IamModel;
  readMeter?: number;
  stop?: true;
};
export type FromDynamoThread = {
  ready?: { port: number; url: string };
  log?: string;
  error?: string;
  /** The public port could not be bound (serve/ports.ts): whether another program listens there. */
  portInUse?: { port: number; listening: boolean };
  stopped?: true;
  meter?: { id: number; reading: MeterReading };
};

export interface DynamoThread {
  /** The public port: the edge (503 until `open`), then the fault switch and dynalite. */
  port: number;
  /** The emulator itself, on an internal port: table setup, the TTL sweep and the console use it directly. */
  url: string;
  /**
   * Attaches the handler behind the edge: from now on requests reach dynalite (or an injected fault);
   * with `meter`, through the DynamoDB meter (local/meter.ts).
   */
  open(faults: SharedDynamodbFaults, opts?: { meter?: boolean; iam?: IamModel }): void;
  /** The meter's counts so far (all zero unless opened with `meter`). */
  readMeter(): Promise<MeterReading>;
  /** V8 heap the DynamoDB thread holds now (LevelDB's own memory is native, outside it). */
  heap(): Promise<{ total: number; used: number }>;
  /** CPU time the DynamoDB thread has used (user + system, µs). */
  cpuMicros(): Promise<number>;
  /** Closes the edge, waits for the requests inside dynalite, closes its database, ends the thread. */
  stop(): Promise<void>;
}

/**
 * Starts dynalite and its edge on a worker thread (local/dynamodb-thread.ts), so DynamoDB's work
 * (request parsing, validation, LevelDB, JSON) runs beside the main thread's instead of on it.
 */
export function startDynamoThread(
  opts: DynamoThreadData & { log?: (line: string) => void },
): Promise<DynamoThread> {
  const worker = new Worker(join(import.meta.dirname, 'dynamodb-worker.mjs'), {
    workerData: {
      dataDir: opts.dataDir,
      ...(opts.engine ? { engine: opts.engine } : {}),
      port: opts.port,
      allowedHosts: [...(opts.allowedHosts ?? [])],
    } satisfies DynamoThreadData,
    execArgv: [],
    // A small young generation, as the function workers have: the thread held 237–256 MiB of heap for 139–176
    // used in the bench's end-to-end run, and 81–103 for 44–71 with it, at the same CPU per lead.
    resourceLimits: { maxYoungGenerationSizeMb: 8 },
  });
  const log = opts.log ?? ((line: string) => console.error(line));
  let stopped: () => void = () => undefined;
  let stopping: Promise<void> | undefined;
  let nextRead = 0;
  const reads = new Map<number, (r: MeterReading) => void>();
  return new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', (code) => {
      reject(new Error(`the DynamoDB thread exited (${code})`));
      if (!stopping) log(`dynamodb: the DynamoDB thread exited (${code})`);
      stopped();
    });
    worker.on('message', (msg: FromDynamoThread) => {
      if (msg.log) log(msg.log);
      if (msg.error) {
        const taken = msg.portInUse;
        reject(taken ? new PortInUseError(taken.port, '127.0.0.1', taken.listening) : new Error(msg.error));
        void worker.terminate();
      }
      if (msg.stopped) stopped();
      if (msg.meter) {
        reads.get(msg.meter.id)?.(msg.meter.reading);
        reads.delete(msg.meter.id);
      }
      if (!msg.ready) return;
      const { port, url } = msg.ready;
      resolve({
        port,
        url,
        open: (faults, o) =>
          worker.postMessage({
            open: faults.buffer,
            meter: o?.meter ?? false,
            ...(o?.iam ? { iam: o.iam } : {}),
          } satisfies ToDynamoThread),
        readMeter: () =>
          new Promise<MeterReading>((done) => {
            nextRead += 1;
            reads.set(nextRead, done);
            worker.postMessage({ readMeter: nextRead } satisfies ToDynamoThread);
          }),
        heap: () =>
          worker.getHeapStatistics().then((h) => ({ total: h.total_heap_size, used: h.used_heap_size })),
        cpuMicros: () => cpuMicrosOf([worker]),
        stop() {
          stopping ??= new Promise<void>((done) => {
            stopped = done;
            worker.postMessage({ stop: true } satisfies ToDynamoThread);
          }).then(() => worker.terminate().then(() => undefined));
          return stopping;
        },
      });
    });
  });
}
