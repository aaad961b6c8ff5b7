// Part of npm run bench: how fast the local stack takes leads. Starts a fresh local Handoff on free
// ports, posts N leads with C in flight, and measures API throughput and time until every run has
// reached its first wait (a rep wait or a nurture wait).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../infra/load-config.ts';
import { startLocal } from '../local/runtime.ts';

const N = Number(process.env.BENCH_LEADS ?? 200);
const C = Number(process.env.BENCH_CONCURRENCY ?? 20);
const root = join(import.meta.dirname, '..');

const t0 = performance.now();
const stack = await startLocal({
  cdkOut: join(root, 'cdk.out'),
  config: loadConfig(join(root, 'config')),
  dataDir: mkdtempSync(join(tmpdir(), 'handoff-bench-')),
  port: 0,
  timeScale: 1,
  logLevel: 'ERROR',
});
const startMs = performance.now() - t0;
const forms = ['demo-request', 'newsletter', 'content-download', 'pricing'];
let next = 0;
const latencies: number[] = [];
const t1 = performance.now();
await Promise.all(
  Array.from({ length: C }, async () => {
    while (next < N) {
      const i = next++;
      const s = performance.now();
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
      if (res.status !== 202) throw new Error(`lead ${i}: HTTP ${res.status}`);
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
latencies.sort((a, b) => a - b);
const failed = stack.sfn.list().filter((r) => r.status === 'FAILED').length;
console.log('\n## Local stack throughput\n');
console.log(`start (no synth): ${startMs.toFixed(0)} ms`);
console.log(
  `POST /leads: ${N} leads, ${C} in flight: ${(N / postSecs).toFixed(0)} leads/s, p50 ${latencies[Math.floor(N / 2)]?.toFixed(0)} ms, p95 ${latencies[Math.floor(N * 0.95)]?.toFixed(0)} ms`,
);
console.log(
  `all ${N} runs captured, scored, routed and parked or waiting in ${allSecs.toFixed(1)} s: ${(N / allSecs).toFixed(0)} leads/s end to end (${failed} failed)`,
);
console.log(
  `memory: rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (main thread + 13 function workers)`,
);
await stack.stop();
process.exit(0);
