import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { type InvokeResult, LocalFunctions, type LocalFunctionsOptions } from '#local/functions.ts';
import type { LocalFunction } from '#local/template.ts';

// A bundle as cdk.out holds one: plain ESM. Module state (`calls`) shows whether a sandbox is fresh.
const cdkOut = mkdtempSync(join(tmpdir(), 'handoff-pool-'));
mkdirSync(join(cdkOut, 'asset.probe'));
writeFileSync(
  join(cdkOut, 'asset.probe', 'index.mjs'),
  `let calls = 0;
export const handler = async (event, context) => {
  calls += 1;
  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
  if (event.hang) await new Promise(() => setInterval(() => {}, 1000));
  if (event.exit) process.exit(3);
  if (event.spin) for (const end = Date.now() + event.spin; Date.now() < end; );
  if (event.hog) for (const heap = []; ; ) heap.push(new Array(1e6).fill(calls));
  if (event.fail) throw Object.assign(new Error('boom'), { name: 'BoomError' });
  return { calls, remaining: context.getRemainingTimeInMillis() };
};`,
);
const probe: LocalFunction = {
  logicalId: 'ProbeF00D',
  id: 'Probe',
  arn: 'arn:aws:lambda:us-east-1:000000000000:function:ProbeF00D',
  assetPath: 'asset.probe',
  handler: 'index.handler',
  runtime: 'nodejs24.x',
  timeoutSeconds: 1,
  memorySize: 128,
  environment: {},
};

let running: LocalFunctions | undefined;
function pool(opts: LocalFunctionsOptions, timeoutSeconds = 1) {
  running = new LocalFunctions(cdkOut, [{ ...probe, timeoutSeconds }], {}, { warm: false, ...opts });
  return running;
}
afterEach(async () => {
  await running?.stop();
  running = undefined;
});
afterAll(() => rmSync(cdkOut, { recursive: true, force: true }));

type Timed = InvokeResult & { ms: number };
const timed = async (fns: LocalFunctions, payload: unknown): Promise<Timed> => {
  const t = performance.now();
  const r = await fns.invoke(probe.arn, payload);
  return { ...r, ms: performance.now() - t };
};
const resultOf = (r: InvokeResult) => (r.ok ? (r.result as { calls: number; remaining: number }) : undefined);
const stats = (fns: LocalFunctions) => fns.stats()[0];

describe('local Lambda pool: concurrency, queue, throttling, timeouts, crashes', () => {
  it('queues invocations beyond the concurrency, and queue time does not count against the timeout', async () => {
    const fns = pool({ concurrency: 1, queue: 5 });
    const runs = [1, 2, 3].map(() => timed(fns, { sleep: 600 }));
    await new Promise((r) => setTimeout(r, 50));
    expect(stats(fns)?.queued).toBeGreaterThanOrEqual(2);
    const [, , third] = await Promise.all(runs);
    // The third waited ~1.2 s for its turn, longer than the 1 s timeout, and still had time left.
    expect(third?.ok, JSON.stringify(third)).toBe(true);
    expect(third?.ms).toBeGreaterThan(1700);
    expect(resultOf(third as InvokeResult)?.remaining).toBeGreaterThan(200);
    expect(stats(fns)).toMatchObject({ invocations: 3, throttles: 0, timeouts: 0, workers: 1 });
    // Billed: the time on the worker only (3 × ~600 ms), not the 1.8 s the last one spent waiting too.
    const { billedMs = 0, gbSeconds } = stats(fns) ?? {};
    expect(billedMs).toBeGreaterThanOrEqual(1800);
    expect(billedMs).toBeLessThan(3000);
    expect(gbSeconds).toBeCloseTo((billedMs / 1000) * (128 / 1024), 9);
  });

  it('throttles at once beyond concurrency + queue, with Lambda.TooManyRequestsException', async () => {
    const fns = pool({ concurrency: 1, queue: 1 });
    const first = timed(fns, { sleep: 400 });
    const second = timed(fns, { sleep: 10 });
    const third = await timed(fns, { sleep: 10 });
    expect(third).toMatchObject({ ok: false, errorType: 'Lambda.TooManyRequestsException' });
    expect(third.ms).toBeLessThan(100);
    expect((await first).ok).toBe(true);
    expect((await second).ok).toBe(true);
    expect(stats(fns)).toMatchObject({ invocations: 2, throttles: 1 });
  });

  it('times an invocation out with Sandbox.Timedout and recycles its worker, failing what else ran on it', async () => {
    const fns = pool({ concurrency: 2, maxWorkers: 1 });
    expect(resultOf(await fns.invoke(probe.arn, {}))?.calls).toBe(1);
    const hung = timed(fns, { hang: true });
    await new Promise((r) => setTimeout(r, 500));
    const other = timed(fns, { sleep: 3000 });
    expect(await hung).toMatchObject({ ok: false, errorType: 'Sandbox.Timedout' });
    expect((await hung).ms).toBeGreaterThanOrEqual(990);
    // The other invocation shared the sandbox: it goes with it, ~0.5 s into its own 1 s.
    const o = await other;
    expect(o).toMatchObject({ ok: false, errorType: 'Sandbox.Timedout' });
    expect(o.ms).toBeLessThan(900);
    // The next invocation gets a fresh sandbox: module state starts over.
    expect(resultOf(await fns.invoke(probe.arn, {}))?.calls).toBe(1);
    expect(stats(fns)).toMatchObject({ timeouts: 1, workers: 1 });
  });

  it('fails the invocations of a worker that exits with Runtime.ExitError and replaces it', async () => {
    const fns = pool({ concurrency: 2, maxWorkers: 1 });
    const bystander = fns.invoke(probe.arn, { sleep: 2000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await fns.invoke(probe.arn, { exit: true })).toMatchObject({
      ok: false,
      errorType: 'Runtime.ExitError',
    });
    expect(await bystander).toMatchObject({ ok: false, errorType: 'Runtime.ExitError' });
    expect(resultOf(await fns.invoke(probe.arn, {}))?.calls).toBe(1);
    expect(stats(fns)?.crashes).toBe(1);
  });

  it('ends a worker that outgrows the function’s memory with Runtime.ExitError, as an OOM in Lambda', async () => {
    // A generous timeout: on a loaded machine filling 128 MB can take longer than the probe's usual 1 s.
    const fns = pool({}, 30);
    const r = await fns.invoke(probe.arn, { hog: true });
    expect(r).toMatchObject({ ok: false, errorType: 'Runtime.ExitError' });
    expect(r.ok ? '' : r.errorMessage).toMatch(/memory/i);
    expect((await fns.invoke(probe.arn, {})).ok).toBe(true);
  });

  it('crashes the worker mid-invocation when the fault switch says so', async () => {
    let crashes = 1;
    const fns = pool({ crash: (fn) => fn.id === 'Probe' && crashes-- > 0 });
    expect(await fns.invoke(probe.arn, { sleep: 100 })).toMatchObject({
      ok: false,
      errorType: 'Runtime.ExitError',
    });
    expect((await fns.invoke(probe.arn, {})).ok).toBe(true);
  });

  it('passes a function error through, and starts workers only on demand, up to the maximum', async () => {
    const fns = pool({ concurrency: 4, maxWorkers: 2 });
    expect(stats(fns)?.workers).toBe(0);
    expect(await fns.invoke(probe.arn, { fail: true })).toMatchObject({ ok: false, errorType: 'BoomError' });
    expect(stats(fns)?.workers).toBe(1);
    const burst = await Promise.all(Array.from({ length: 8 }, () => fns.invoke(probe.arn, { sleep: 200 })));
    expect(burst.every((r) => r.ok)).toBe(true);
    expect(stats(fns)?.workers).toBe(2);
    expect(await fns.invoke('arn:aws:lambda:us-east-1:000000000000:function:Nope', {})).toMatchObject({
      errorType: 'ResourceNotFoundException',
    });
  });

  it('stops idle workers, the last one too, and starts one again on the next invocation (a cold start)', async () => {
    const fns = pool({ concurrency: 4, maxWorkers: 2, idleMs: 200 });
    await Promise.all(Array.from({ length: 8 }, () => fns.invoke(probe.arn, { sleep: 150 })));
    expect(stats(fns)?.workers).toBe(2);
    await vi.waitFor(() => expect(stats(fns)?.workers).toBe(0), { timeout: 2000 });
    expect((await fns.invoke(probe.arn, {})).ok).toBe(true);
    expect(stats(fns)?.workers).toBe(1);
  });

  it('counts each function’s CPU time and heap by worker, a retired worker’s CPU kept', async () => {
    const fns = pool({ concurrency: 2, maxWorkers: 1, idleMs: 300 });
    expect(await fns.cpuMicros()).toEqual({ Probe: 0 });
    expect((await fns.invoke(probe.arn, { spin: 150 })).ok).toBe(true);
    const busy = (await fns.cpuMicros()).Probe ?? 0;
    expect(busy).toBeGreaterThanOrEqual(140_000);
    expect((await fns.heapBytes()).Probe).toBeGreaterThan(1_000_000);
    // The idle worker is stopped: its CPU stays counted, its heap is gone.
    await vi.waitFor(() => expect(stats(fns)?.workers).toBe(0), { timeout: 2000 });
    expect((await fns.cpuMicros()).Probe).toBeGreaterThanOrEqual(busy);
    expect((await fns.heapBytes()).Probe).toBe(0);
    expect((await fns.invoke(probe.arn, { spin: 100 })).ok).toBe(true);
    expect((await fns.cpuMicros()).Probe).toBeGreaterThanOrEqual(busy + 90_000);
  });

  it('warms one worker per function at start and reports its Node.js version', async () => {
    const fns = pool({ warm: true });
    await fns.start();
    expect(fns.nodeVersions.get(probe.logicalId)).toBe(process.version);
    expect(stats(fns)?.workers).toBe(1);
  });
});
