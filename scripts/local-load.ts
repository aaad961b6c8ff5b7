// A load run against a fresh local Handoff (used by `npm run bench` and `npm run test:load`): starts the
// stack on free ports, posts N distinct leads with C in flight (a 429 is retried after its Retry-After,
// as a form's script would), waits until every run has reached its first wait (a rep wait, a nurture
// wait, a capacity wait) or ended, and reports what was accepted, shed, lost and failed, with latency,
// throughput and memory. Also: a fresh stack to measure against (autocannon against its POST /leads:
// scripts/autocannon.ts).
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../infra/app.ts';
import { loadConfig } from '../infra/load-config.ts';
import type { PoolOptions } from '../local/lambda-pool.ts';
import { exitUnlessLambdaNode } from '../local/node-check.ts';
import { type LocalOptions, type LocalStack, startLocal } from '../local/runtime.ts';
import type { MemoryReading } from '../local/runtime-options.ts';
import { burstFor, DEFAULT_START_RATE } from '../local/sfn/throttle.ts';
import { ownCpuMicros } from '../local/thread-usage.ts';
import { postAs } from './clients.ts';
import { type CpuSplit, cpuSplit, describeCpu, describeMemory } from './thread-figures.ts';

export interface LoadOptions {
  leads: number;
  concurrency: number;
  lambda?: Partial<PoolOptions>;
  startRate?: number;
  /** Progress lines on stderr. */
  progress?: boolean;
  /** A file the stack's memory by thread is appended to every 2 s (a JSON line each). */
  memoryLog?: string;
}

export interface LoadReport {
  leads: number;
  concurrency: number;
  startMs: number;
  limits: string;
  accepted: number;
  shed: number;
  /** Accepted (202) but no run was ever started for the lead. */
  lost: number;
  failed: number;
  failures: string[];
  /** Every HTTP response, 429s included. */
  responseMs: { p50: number; p95: number; p99: number };
  postSecs: number;
  settleSecs: number;
  endToEndPerSecond: number;
  mainBusy: number;
  idleRssMiB: number;
  peakRssMiB: number;
  /** Where the memory was at the largest of the by-thread readings taken every 2 s (local/runtime.ts). */
  peakBreakdown: string;
  /** The largest anonymous RSS among those readings (Linux; undefined elsewhere): RSS less mapped files. */
  peakAnonMiB?: number;
  /** CPU time from before the stack started until the leads settled, by thread (scripts/thread-figures.ts). */
  cpuMs: CpuSplit;
  lambda: string;
}

const root = join(import.meta.dirname, '..');
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/** The synthesized app (synthesizing it if cdk.out is missing) and its config. */
function prepare() {
  exitUnlessLambdaNode('npm run bench'); // the stack runs the functions in this process
  const cdkOut = join(root, 'cdk.out');
  const config = loadConfig(join(root, 'config'));
  if (!existsSync(join(cdkOut, 'Handoff.template.json'))) buildApp(config, cdkOut).app.synth();
  return { cdkOut, config };
}

/**
 * A fresh local stack on free ports in a temporary folder (deleted by its stop): time scale 1 and error
 * logs unless `local` says otherwise.
 */
export async function startFreshStack(
  opts: Pick<LoadOptions, 'lambda' | 'startRate'> & {
    local?: Partial<
      Pick<
        LocalOptions,
        | 'timeScale'
        | 'startAt'
        | 'logLevel'
        | 'log'
        | 'meter'
        | 'schedules'
        | 'ttlSweepMs'
        | 'scaleWork'
        | 'sesQuota'
      >
    >;
  } = {},
  { cdkOut, config } = prepare(),
): Promise<LocalStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'handoff-load-'));
  const stack = await startLocal({
    cdkOut,
    config,
    dataDir,
    port: 0,
    timeScale: 1,
    logLevel: 'ERROR',
    ...opts.local,
    ...(opts.lambda ? { lambda: opts.lambda } : {}),
    ...(opts.startRate ? { startRate: { perSecond: opts.startRate, burst: burstFor(opts.startRate) } } : {}),
  });
  const stop = stack.stop;
  return {
    ...stack,
    async stop() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function runLocalLoad(opts: LoadOptions): Promise<LoadReport> {
  const { leads: N, concurrency: C } = opts;
  const app = prepare();
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 100);
  const t0 = performance.now();
  const [process0, main0] = [process.cpuUsage(), ownCpuMicros()];
  const stack = await startFreshStack(opts, app);
  const startMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 1500)); // let start-up settle before the idle RSS is sampled
  const idleRss = process.memoryUsage.rss();
  let peakReading: MemoryReading | undefined;
  let peakAnon = 0;
  let reading = false;
  const breakdown = setInterval(() => {
    if (reading) return;
    reading = true;
    void stack
      .memory()
      .then((m) => {
        if (opts.memoryLog) appendFileSync(opts.memoryLog, `${JSON.stringify({ at: Date.now(), ...m })}\n`);
        if (!peakReading || m.rss > peakReading.rss) peakReading = m;
        if (m.anon !== undefined) peakAnon = Math.max(peakAnon, m.anon);
      })
      .finally(() => {
        reading = false;
      });
  }, 2000);
  const forms = ['demo-request', 'newsletter', 'content-download', 'pricing'];
  const leadIds = new Set<string>();
  let next = 0;
  let shed = 0;
  const responses: number[] = [];
  const elu0 = performance.eventLoopUtilization();
  const t1 = performance.now();
  const report = opts.progress
    ? setInterval(
        () =>
          process.stderr.write(
            `\r  posted ${leadIds.size}/${N}, ${shed} answered 429, ${stack.sfn.list().length} runs `,
          ),
        1000,
      )
    : undefined;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        const i = next++;
        for (;;) {
          const s = performance.now();
          // Each lead from its own visitor's address (scripts/clients.ts).
          const res = await postAs(
            i,
            `${stack.urls.api}/leads`,
            JSON.stringify({
              email: `load.${i}@company${i % 50}.com`,
              firstName: 'Load',
              formType: forms[i % forms.length],
              companySize: 100 + i,
              country: 'US',
              title: 'VP Sales',
              consent: true,
            }),
          );
          const text = res.text;
          const body = (res.contentType.includes('json') ? JSON.parse(text) : {}) as {
            leadId?: string;
          };
          responses.push(performance.now() - s);
          if (res.status === 202 && body.leadId) {
            leadIds.add(body.leadId);
            break;
          }
          // 429 (throttled) and 503 (briefly unavailable) mean "nothing started, send again later".
          if (res.status !== 429 && res.status !== 503)
            throw new Error(`lead ${i}: HTTP ${res.status} ${text.slice(0, 200)}`);
          shed += 1;
          await new Promise((r) => setTimeout(r, (res.retryAfter ?? 1) * 1000));
        }
      }
    }),
  );
  const postSecs = (performance.now() - t1) / 1000;
  const settled = () =>
    stack.sfn
      .list()
      .filter((r) => r.current?.parked || r.current?.waitUntil !== undefined || r.status !== 'RUNNING')
      .length;
  while (settled() < N) await new Promise((r) => setTimeout(r, 100));
  if (report) clearInterval(report);
  if (opts.progress) process.stderr.write('\n');
  const settleSecs = (performance.now() - t1) / 1000;
  const mainBusy = performance.eventLoopUtilization(elu0).utilization;
  // The threads first, then the process (which holds them all): "other" is never read short.
  const threads = await stack.cpu();
  const processCpu = process.cpuUsage(process0);
  clearInterval(sampler);
  clearInterval(breakdown);
  const runs = stack.sfn.list();
  const started = new Set(runs.map((r) => r.name.slice(0, 'ld-'.length + 20)));
  const failed = runs.filter((r) => r.status === 'FAILED' || r.status === 'TIMED_OUT');
  const sorted = [...responses].sort((a, b) => a - b);
  const limits = stack.functions.options;
  const pools = stack.functions.stats().filter((p) => p.invocations || p.throttles);
  const result: LoadReport = {
    leads: N,
    concurrency: C,
    startMs,
    limits: `${limits.concurrency} concurrent per function over ≤${limits.maxWorkers} workers, queue ${limits.queue}; StartExecution ${opts.startRate ?? DEFAULT_START_RATE.perSecond}/s`,
    accepted: leadIds.size,
    shed,
    lost: [...leadIds].filter((id) => !started.has(id)).length,
    failed: failed.length,
    failures: [...new Set(failed.map((r) => `${r.error}: ${r.cause?.slice(0, 120)}`))],
    responseMs: { p50: pct(sorted, 0.5), p95: pct(sorted, 0.95), p99: pct(sorted, 0.99) },
    postSecs,
    settleSecs,
    endToEndPerSecond: N / settleSecs,
    mainBusy,
    idleRssMiB: mib(idleRss),
    peakRssMiB: mib(peakRss),
    peakBreakdown: peakReading ? describeMemory(peakReading) : 'not read',
    ...(peakAnon ? { peakAnonMiB: mib(peakAnon) } : {}),
    cpuMs: cpuSplit(processCpu.user + processCpu.system, threads, main0),
    lambda: pools
      .map(
        (p) =>
          `${p.functionId} ${p.workers}w${p.throttles ? ` ${p.throttles} throttled` : ''}${p.timeouts ? ` ${p.timeouts} timed out` : ''}`,
      )
      .join(', '),
  };
  await stack.stop();
  return result;
}

export function printReport(r: LoadReport): void {
  const f = (ms: number) => `${ms.toFixed(0)} ms`;
  console.log(`start (no synth): ${r.startMs.toFixed(0)} ms; limits: ${r.limits}`);
  console.log(`| leads posted | in flight | accepted (202) | answered 429/503 (retried) | lost | failed |`);
  console.log('|---:|---:|---:|---:|---:|---:|');
  console.log(`| ${r.leads} | ${r.concurrency} | ${r.accepted} | ${r.shed} | ${r.lost} | ${r.failed} |`);
  console.log('');
  console.log(
    `POST /leads responses: p50 ${f(r.responseMs.p50)}, p95 ${f(r.responseMs.p95)}, p99 ${f(r.responseMs.p99)}; all accepted in ${r.postSecs.toFixed(1)} s (${(r.leads / r.postSecs).toFixed(0)} leads/s)`,
  );
  console.log(
    `end to end (posted → parked, waiting or ended): ${r.settleSecs.toFixed(1)} s, ${r.endToEndPerSecond.toFixed(1)} leads/s`,
  );
  console.log(
    `main thread (engine, HTTP, SES; dynalite has its own thread) busy ${(r.mainBusy * 100).toFixed(0)}% of the run`,
  );
  console.log(
    `memory (one process: main thread + function workers): rss ${r.idleRssMiB} MiB idle, peak ${r.peakRssMiB} MiB${r.peakAnonMiB ? ` (anonymous: peak ${r.peakAnonMiB} MiB)` : ''}`,
  );
  console.log(`memory at its largest by-thread reading: ${r.peakBreakdown}`);
  console.log(`CPU, stack start to settled: ${describeCpu(r.cpuMs, r.leads)}`);
  console.log(`lambda: ${r.lambda}`);
  if (r.failures.length) console.log(`failures: ${r.failures.join('; ')}`);
}

/** `rss 1,200 MiB = main heap 300 + main buffers 20 + dynamodb heap 80 + functions 400 (Nurture 90, …) + native 400`. */
