// What "a reply means stored" costs (docs/architecture.md, "Durability"): `tsx scripts/bench-durable.ts`
// prints, on this machine's disk, in about 20 s:
//  1. a DurableFolder group of 1, 10 and 100 files (write, fsync, rename, one folder fsync), with and without fsync;
//  2. StartExecution's reply on the local engine (one at a time, and 20 at once: group commit), with and
//     without fsync (the task never answers, so only the start is measured);
//  3. events/s through the local EventBridge bus to a target that answers at once: in memory only (as before
//     the bus kept deliveries), and with each delivery kept in `<data>/events` until delivered.
// "Without fsync" stubs FileHandle.sync in this process: the same writes, without what makes them survive a
// power loss. Env: BENCH_RUNS (200 starts per measurement), BENCH_EVENTS (2000).
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../local/long-timers.ts';
import { compressedWallClock } from '../local/clock.ts';
import { DurableFolder } from '../local/durable-folder.ts';
import { EventBus, type LocalRule } from '../local/events.ts';
import { LocalStepFunctions } from '../local/sfn/api.ts';
import { percentiles } from './autocannon.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 2000);
const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Probe';
const ACCOUNT = { region: 'us-east-1', account: '000000000000' };
const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'handoff-bench-durable-'));
  dirs.push(d);
  return d;
};
const ms = (n: number) => n.toFixed(1);

/** Runs `fn` with FileHandle.sync a no-op when `fsync` is false. */
async function withFsync<T>(fsync: boolean, fn: () => Promise<T>): Promise<T> {
  const probe = await open(join(fresh(), 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
  await probe.close();
  const sync = proto.sync;
  if (!fsync) proto.sync = async () => undefined;
  try {
    return await fn();
  } finally {
    proto.sync = sync;
  }
}

async function groups(fsync: boolean): Promise<string> {
  const cells: string[] = [];
  for (const size of [1, 10, 100]) {
    const folder = new DurableFolder(fresh(), { lazyMs: 60_000, fsync });
    const body = JSON.stringify({ history: 'x'.repeat(4000) }); // a run's file after a few states
    // Not measured: the first group in a new folder also makes the folder's own creation durable.
    folder.write('warm-up', () => body);
    await folder.commit();
    const t = performance.now();
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < size; i++) folder.write(`r${i}`, () => body);
      await folder.commit();
    }
    cells.push(ms((performance.now() - t) / 10));
  }
  return cells.join(' / ');
}

async function starts(concurrent: number): Promise<string> {
  const sfn = new LocalStepFunctions(
    [
      {
        arn: ARN,
        name: 'Probe',
        definition: {
          StartAt: 'Park',
          States: {
            Park: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
              Parameters: { FunctionName: 'F', Payload: { 'taskToken.$': '$$.Task.Token' } },
              End: true,
            },
          },
        },
        createdAt: Date.now(),
      },
    ],
    { call: async () => ({}) },
    { dataDir: fresh(), clock: compressedWallClock(1), ...ACCOUNT },
  );
  const took: number[] = [];
  let next = 0;
  const lane = async () => {
    while (next < RUNS) {
      const name = `run-${next++}`;
      const t = performance.now();
      await sfn.startExecution({ stateMachineArn: ARN, name, input: '{"lead":{"id":"ld-1"}}' });
      took.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrent }, lane));
  await sfn.shutdown();
  const p = percentiles(took);
  return `${ms(p.p50)} / ${ms(p.p95)}`;
}

async function eventsPerSecond(dataDir?: string): Promise<string> {
  const rule: LocalRule = {
    logicalId: 'R',
    name: 'R',
    pattern: { source: ['bench'] },
    enabled: true,
    targets: [{ id: 'T', arn: 'arn:aws:lambda:us-east-1:000000000000:function:T' }],
  };
  const bus = new EventBus(
    [rule],
    { invoke: async () => ({ ok: true, result: null }) },
    {
      ...ACCOUNT,
      ...(dataDir ? { dataDir } : {}),
    },
  );
  const t = performance.now();
  // As the engine and the SES simulator put them: a few at a time, each caller waiting for its answer.
  let next = 0;
  const lane = async () => {
    while (next < EVENTS) {
      next += 1;
      await bus.putEventsDurably([{ Source: 'bench', DetailType: 'Probe', Detail: '{"n":1}' }]);
    }
  };
  await Promise.all(Array.from({ length: 20 }, lane));
  await bus.drain();
  const perSecond = EVENTS / ((performance.now() - t) / 1000);
  await bus.close();
  return perSecond.toFixed(0);
}

try {
  console.log('| measurement | fsync on | fsync off |\n| --- | --- | --- |');
  console.log(
    `| DurableFolder group of 1 / 10 / 100 files, ms | ${await groups(true)} | ${await groups(false)} |`,
  );
  for (const c of [1, 20]) {
    const on = await withFsync(true, () => starts(c));
    const off = await withFsync(false, () => starts(c));
    console.log(`| StartExecution reply, ${c} at once, p50 / p95 ms | ${on} | ${off} |`);
  }
  const inMemory = await eventsPerSecond();
  const kept = await withFsync(true, () => eventsPerSecond(fresh()));
  const keptNoSync = await withFsync(false, () => eventsPerSecond(fresh()));
  console.log(`| EventBridge events/s, each kept until delivered | ${kept} | ${keptNoSync} |`);
  console.log(`| EventBridge events/s, in memory only (no data folder) | ${inMemory} | |`);
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
// The aborted runs' library timers (their tasks' 99,999,999 s timeouts) would keep the process alive.
process.exit(0);
