// Part of npm run bench: how fast the local stack takes leads. Starts a fresh local Handoff on free
// ports, posts N leads with C in flight, and measures API throughput and time until every run has
// reached its first wait (a rep wait or a nurture wait). A 429 is retried after its Retry-After.
// Env: BENCH_LEADS (200), BENCH_CONCURRENCY (20); the stack's limits: BENCH_LAMBDA_CONCURRENCY,
// BENCH_QUEUE, BENCH_START_RATE (defaults: npm start's).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../infra/load-config.ts';
import { startLocal } from '../local/runtime.ts';
import { burstFor, DEFAULT_START_RATE } from '../local/sfn/throttle.ts';

const N = Number(process.env.BENCH_LEADS ?? 200);
const C = Number(process.env.BENCH_CONCURRENCY ?? 20);
const num = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
const startRate = num('BENCH_START_RATE');
const root = join(import.meta.dirname, '..');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 100);

const t0 = performance.now();
const stack = await startLocal({
  cdkOut: join(root, 'cdk.out'),
  config: loadConfig(join(root, 'config')),
  dataDir: mkdtempSync(join(tmpdir(), 'handoff-bench-')),
  port: 0,
  timeScale: 1,
  logLevel: 'ERROR',
  lambda: {
    concurrency: num('BENCH_LAMBDA_CONCURRENCY'),
    queue: num('BENCH_QUEUE'),
    maxWorkers: num('BENCH_WORKERS'),
  },
  ...(startRate ? { startRate: { perSecond: startRate, burst: burstFor(startRate) } } : {}),
});
const startMs = performance.now() - t0;
await new Promise((r) => setTimeout(r, 1500)); // let the warm workers finish importing their bundles
const idleRss = process.memoryUsage.rss();
const forms = ['demo-request', 'newsletter', 'content-download', 'pricing'];
let next = 0;
let throttled = 0;
const latencies: number[] = [];
const elu0 = performance.eventLoopUtilization();
const t1 = performance.now();
await Promise.all(
  Array.from({ length: C }, async () => {
    while (next < N) {
      const i = next++;
      const s = performance.now();
      for (;;) {
        const res = await fetch(`${stack.urls.api}/leads`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            email: `bench.${i}@company${i % 50}.com`,
            firstName: 'Bench',
            formType: forms[i % forms.length],
            companySize: 100 + i,
            country: 'US',
            title: 'VP Sales',
            consent: true,
          }),
        });
        await res.arrayBuffer();
        if (res.status === 202) break;
        if (res.status !== 429) throw new Error(`lead ${i}: HTTP ${res.status}`);
        throttled += 1;
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
      }
      latencies.push(performance.now() - s);
    }
  }),
);
const postSecs = (performance.now() - t1) / 1000;
const settled = () =>
  stack.sfn
    .list()
    .filter((r) => r.current?.parked || r.current?.waitUntil !== undefined || r.status !== 'RUNNING').length;
while (settled() < N) await new Promise((r) => setTimeout(r, 50));
const allSecs = (performance.now() - t1) / 1000;
const mainBusy = performance.eventLoopUtilization(elu0).utilization;
clearInterval(sampler);
latencies.sort((a, b) => a - b);
const runs = stack.sfn.list();
const failed = runs.filter((r) => r.status === 'FAILED');
const pools = stack.functions.stats().filter((p) => p.invocations || p.throttles);
const limits = stack.functions.options;
console.log('\n## Local stack throughput\n');
console.log(`start (no synth): ${startMs.toFixed(0)} ms`);
console.log(
  `limits: ${limits.concurrency} concurrent per function over ≤${limits.maxWorkers} workers, queue ${limits.queue}; StartExecution ${startRate ?? `${DEFAULT_START_RATE.perSecond} (default)`}/s`,
);
console.log(
  `POST /leads: ${N} leads, ${C} in flight: ${(N / postSecs).toFixed(0)} leads/s, p50 ${latencies[Math.floor(N / 2)]?.toFixed(0)} ms, p95 ${latencies[Math.floor(N * 0.95)]?.toFixed(0)} ms, ${throttled} answered 429 (retried)`,
);
console.log(
  `all ${N} runs captured, scored, routed and parked or waiting in ${allSecs.toFixed(1)} s: ${(N / allSecs).toFixed(0)} leads/s end to end (${runs.length} runs, ${failed.length} failed${failed.length ? `: ${[...new Set(failed.map((r) => r.error))].join(', ')}` : ''})`,
);
console.log(`main thread (engine, HTTP, dynalite, SES) busy ${(mainBusy * 100).toFixed(0)}% of the run`);
console.log(
  `lambda: ${pools.map((p) => `${p.functionId} ${p.workers}w ${p.throttles ? `${p.throttles} throttled ` : ''}${p.timeouts ? `${p.timeouts} timed out` : ''}`.trim()).join(', ')}`,
);
console.log(
  `memory (main thread + function workers): rss idle ${mib(idleRss)} after start, peak ${mib(peakRss)}, end ${mib(process.memoryUsage.rss())}`,
);
await stack.stop();
process.exit(0);
