// The "Local stack" section of npm run bench: about a minute on a quiet 2-core machine, 90 s
// at load average 5–10.
//  1. dynalite PutItem/s: a fresh on-disk dynalite in this process (as the local stack runs it) driven by
//     the AWS SDK's DynamoDBClient, 400-byte items, 50 in flight; then the same through an idle stack's
//     DynamoDB port (edge server and fault proxy, what the functions call);
//  2. end to end (posted → parked, waiting or ended) on a fresh stack (scripts/local-load.ts);
//  3. POST /leads latency at 50 connections with autocannon, from a child process, one lead per request;
//  4. RSS of this process (main thread + function workers): idle after start, peak across the section.
// One file for the four measurements and their Markdown (a little over 300 lines): they share the stack
// options and the figures type. Standalone, `tsx scripts/bench-local.ts` prints the Markdown. Env: BENCH_LEADS (600), BENCH_CONCURRENCY
// (20), BENCH_POST_SECS (10), BENCH_PUTS (3000); both stacks' limits: BENCH_LAMBDA_CONCURRENCY,
// BENCH_QUEUE, BENCH_WORKERS, BENCH_START_RATE (defaults: npm start's).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { close } from '../local/aws-json.ts';
import { startDynalite } from '../local/emulators.ts';
import type { PoolOptions } from '../local/lambda-pool.ts';
import { autocannonLeads, type Percentiles, percentiles } from './autocannon.ts';
import { type LoadReport, runLocalLoad, startFreshStack } from './local-load.ts';
import { type CpuSplit, describeCpu } from './thread-figures.ts';

export interface BenchLocalOptions {
  /** PutItem calls per dynalite measurement (3000) and how many in flight (50). */
  puts?: number;
  putConcurrency?: number;
  /** End to end: leads (600: long enough that the cold starts of the first seconds do not dominate) and how many in flight (20). */
  leads?: number;
  leadConcurrency?: number;
  /** POST /leads under autocannon: connections (50) and seconds (10). */
  connections?: number;
  postSecs?: number;
  /** Both stacks' limits (default: npm start's). */
  lambda?: Partial<PoolOptions>;
  startRate?: number;
  /** Progress lines on stderr (default true). */
  progress?: boolean;
}

export interface PutRate {
  puts: number;
  inFlight: number;
  itemBytes: number;
  secs: number;
  perSecond: number;
  errors: number;
}

export interface LocalStackFigures {
  machine: { cpus: number; cpuModel: string; node: string; loadAvgBefore: number[]; loadAvgAfter: number[] };
  /** Wall time of the whole section, s. */
  sectionSecs: number;
  dynalite: { direct: PutRate; stackPort: PutRate };
  /** From scripts/local-load.ts: `shed` counts the 429/503 answers, each sent again after its Retry-After. */
  endToEnd: Pick<LoadReport, (typeof E2E_FIELDS)[number]>;
  post: {
    connections: number;
    secs: number;
    /** Responses (any status) per second, and 202s per second. */
    perSecond: number;
    acceptedPerSecond: number;
    /** ms, nearest rank over every response autocannon timed (all statuses, 429s included). */
    allMs: Percentiles;
    /** ms, 202 (accepted) responses only. */
    acceptedMs: Percentiles;
    statuses: Record<string, number>;
    ok2xx: number;
    /** 429 with Retry-After 2: StartExecution throttled (after the SDK's retries) inside the function. */
    throttledStart: number;
    /** 429 with Retry-After 1: the function's Lambda queue was full. */
    throttledLambda: number;
    /** Any status but 2xx and 429, plus socket errors and timeouts. */
    errors: number;
    /** The POST /leads function (SubmitLead): mean ms on its worker; invocations queued and running (mean). */
    functionMeanMs: number;
    functionQueued: number;
    functionRunning: number;
    mainBusy: number;
    eventLoopDelayP99Ms: number;
    clientMaxRssMiB: number;
  };
  memory: { idleRssMiB: number; peakRssMiB: number; peakAnonMiB?: number; peakBreakdown?: string };
  /** CPU (user + system, every thread of this process) during the end-to-end run, per lead. */
  cpuMsPerLead?: number;
  /** The end-to-end run's CPU time by thread (scripts/thread-figures.ts), ms over the run. */
  cpuSplit?: CpuSplit;
}

type Options = Required<Omit<BenchLocalOptions, 'lambda' | 'startRate'>> &
  Pick<BenchLocalOptions, 'lambda' | 'startRate'>;

const E2E_FIELDS = [
  ...['leads', 'concurrency', 'accepted', 'shed', 'lost', 'failed'],
  ...['settleSecs', 'endToEndPerSecond', 'mainBusy'],
] as const;
const ITEM_BYTES = 400;
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An item of exactly ITEM_BYTES as DynamoDB sizes one (attribute names plus string values, UTF-8). */
function item(i: number): Record<string, { S: string }> {
  const pk = `bench#${i}`;
  const pad = ITEM_BYTES - ('pk'.length + pk.length + 'sk'.length + 'item'.length + 'body'.length);
  return { pk: { S: pk }, sk: { S: 'item' }, body: { S: 'x'.repeat(pad) } };
}

/** PutItem `count` items with `inFlight` concurrent through one SDK client, after a 300-put warm-up. */
async function putRate(endpoint: string, table: string, count: number, inFlight: number): Promise<PutRate> {
  const db = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
  let errors = 0;
  const drive = async (from: number, n: number) => {
    let next = 0;
    const put = (i: number) => db.send(new PutItemCommand({ TableName: table, Item: item(from + i) }));
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < n) await put(next++).catch(() => (errors += 1));
      }),
    );
  };
  try {
    await drive(1_000_000, Math.min(300, count));
    errors = 0;
    const t0 = performance.now();
    await drive(0, count);
    const secs = (performance.now() - t0) / 1000;
    return { puts: count, inFlight, itemBytes: ITEM_BYTES, secs, perSecond: count / secs, errors };
  } finally {
    db.destroy();
  }
}

/** A fresh on-disk dynalite in this process, started as local/emulators.ts does, with one pk/sk table. */
async function freshDynaliteRate(count: number, inFlight: number): Promise<PutRate> {
  const dir = mkdtempSync(join(tmpdir(), 'handoff-bench-dynalite-'));
  const db = await startDynalite(dir);
  try {
    const admin = new DynamoDBClient({ endpoint: db.url, region: 'us-east-1', credentials: CREDENTIALS });
    const key = (AttributeName: string, KeyType: 'HASH' | 'RANGE') => ({ AttributeName, KeyType });
    await admin.send(
      new CreateTableCommand({
        TableName: 'Bench',
        KeySchema: [key('pk', 'HASH'), key('sk', 'RANGE')],
        AttributeDefinitions: ['pk', 'sk'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    admin.destroy();
    await sleep(50); // createTableMs 0: ACTIVE right after
    return await putRate(db.url, 'Bench', count, inFlight);
  } finally {
    await close(db.server);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** On a fresh stack: PutItem through its DynamoDB port while idle, then POST /leads under autocannon. */
async function postFigures(o: Options, say: (line: string) => void) {
  const stack = await startFreshStack(o);
  try {
    say(`PutItem ×${o.puts} through the stack's DynamoDB port …`);
    const stackPort = await putRate(stack.urls.dynamodb, stack.tableName, o.puts, o.putConcurrency);
    // One lead first: the POST function's first worker starts (a cold start) outside the figures.
    const warm = await fetch(`${stack.urls.api}/leads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'warm.up@company.com',
        firstName: 'Warm',
        formType: 'pricing',
        consent: true,
      }),
    });
    if (warm.status !== 202) throw new Error(`warm-up POST /leads: HTTP ${warm.status} ${await warm.text()}`);
    say(`POST /leads: autocannon, ${o.connections} connections for ${o.postSecs} s …`);
    const submit = () => stack.functions.stats().find((s) => s.functionId === 'SubmitLead');
    const before = submit();
    const sampled = { queued: 0, running: 0, n: 0 };
    const sampler = setInterval(() => {
      const p = submit();
      sampled.queued += p?.queued ?? 0;
      sampled.running += p?.running ?? 0;
      sampled.n += 1;
    }, 50);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const elu0 = performance.eventLoopUtilization();
    const r = await autocannonLeads(stack.urls.api, o.connections, o.postSecs);
    const mainBusy = performance.eventLoopUtilization(elu0).utilization;
    delay.disable();
    clearInterval(sampler);
    const after = submit();
    const invocations = (after?.invocations ?? 0) - (before?.invocations ?? 0);
    const billedMs = (after?.billedMs ?? 0) - (before?.billedMs ?? 0);
    const statuses = Object.fromEntries(Object.entries(r.msByStatus).map(([s, t]) => [s, t.length]));
    const count = (f: (s: number) => boolean) =>
      Object.entries(statuses).reduce((n, [s, c]) => n + (f(Number(s)) ? c : 0), 0);
    const all = Object.values(r.msByStatus).flat();
    say('stopping the stack …');
    return {
      stackPort,
      post: {
        connections: r.connections,
        secs: r.secs,
        perSecond: all.length / r.secs,
        acceptedPerSecond: (statuses['202'] ?? 0) / r.secs,
        allMs: percentiles(all),
        acceptedMs: percentiles(r.msByStatus['202'] ?? []),
        statuses,
        ok2xx: count((s) => s >= 200 && s < 300),
        throttledStart: r.retryAfter['2'] ?? 0,
        throttledLambda: r.retryAfter['1'] ?? 0,
        errors: count((s) => s !== 429 && (s < 200 || s >= 300)) + r.errors,
        functionMeanMs: invocations ? billedMs / invocations : 0,
        functionQueued: sampled.queued / Math.max(1, sampled.n),
        functionRunning: sampled.running / Math.max(1, sampled.n),
        mainBusy,
        eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
        clientMaxRssMiB: r.clientMaxRssMiB,
      },
    };
  } finally {
    await stack.stop();
  }
}

export async function benchLocalStack(opts: BenchLocalOptions = {}): Promise<LocalStackFigures> {
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const o: Options = {
    ...{ puts: 3000, putConcurrency: 50, leads: 600, leadConcurrency: 20 },
    ...{ connections: 50, postSecs: 10, progress: true },
    ...defined,
  };
  const t0 = performance.now();
  const say = (line: string) =>
    o.progress &&
    process.stderr.write(`[bench local ${((performance.now() - t0) / 1000).toFixed(0)} s] ${line}\n`);
  const load = () => loadavg().map((l) => Math.round(l * 100) / 100);
  const loadAvgBefore = load();
  let peakRss = 0;
  const peak = () => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  };
  const sampler = setInterval(peak, 100);
  try {
    say(`PutItem ×${o.puts} on a fresh dynalite …`);
    const direct = await freshDynaliteRate(o.puts, o.putConcurrency);
    say(`end to end: ${o.leads} leads, ${o.leadConcurrency} in flight, on a fresh stack …`);
    const cpu0 = process.cpuUsage();
    const e2e = await runLocalLoad({ ...o, concurrency: o.leadConcurrency });
    const cpu = process.cpuUsage(cpu0);
    const { stackPort, post } = await postFigures(o, say);
    peak();
    return {
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model.trim() ?? '',
        node: process.version,
        loadAvgBefore,
        loadAvgAfter: load(),
      },
      sectionSecs: (performance.now() - t0) / 1000,
      dynalite: { direct, stackPort },
      endToEnd: Object.fromEntries(E2E_FIELDS.map((k) => [k, e2e[k]])) as LocalStackFigures['endToEnd'],
      post,
      memory: {
        idleRssMiB: e2e.idleRssMiB,
        peakRssMiB: Math.max(mib(peakRss), e2e.peakRssMiB),
        ...(e2e.peakAnonMiB ? { peakAnonMiB: e2e.peakAnonMiB } : {}),
        peakBreakdown: e2e.peakBreakdown,
      },
      cpuMsPerLead: (cpu.user + cpu.system) / 1000 / o.leads,
      cpuSplit: e2e.cpuMs,
    };
  } finally {
    clearInterval(sampler);
  }
}

export function localStackMarkdown(f: LocalStackFigures): string {
  const n = (x: number, d = 0) =>
    x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const pc = (x: number) => `${n(x * 100)} %`;
  const lat = (p: Percentiles) => `${n(p.p50)} / ${n(p.p95)} / ${n(p.p99)} ms`;
  const { dynalite: d, endToEnd: e, post: p, machine: m } = f;
  const put = (r: PutRate) =>
    `${n(r.puts)} × ${r.itemBytes}-byte items, ${r.inFlight} in flight, one AWS SDK DynamoDBClient${r.errors ? `; ${r.errors} errors` : ''}`;
  const others = Object.entries(p.statuses).filter(([s]) => !s.startsWith('2') && s !== '429');
  return [
    `${m.cpus} × ${m.cpuModel}, Node ${m.node}; load average (1, 5, 15 min) ${m.loadAvgBefore.join(' ')} before, ${m.loadAvgAfter.join(' ')} after; the section took ${n(f.sectionSecs)} s. All in one process (main thread, a dynalite thread, function worker threads) but the autocannon client (a child process).`,
    '',
    '| figure | value | how |',
    '|---|---:|---|',
    `| dynalite PutItem, fresh server in this process | ${n(d.direct.perSecond)} puts/s | ${put(d.direct)} |`,
    `| dynalite PutItem, the stack's DynamoDB port | ${n(d.stackPort.perSecond)} puts/s | the same through the edge server and fault proxy the functions call, stack idle |`,
    `| end to end (posted → parked, waiting or ended) | ${n(e.endToEndPerSecond, 1)} leads/s | ${e.leads} leads, ${e.concurrency} in flight, ${n(e.settleSecs, 1)} s; ${e.accepted} accepted, ${e.shed} answers 429/503 sent again, ${e.lost} lost, ${e.failed} failed |`,
    `| main thread, end-to-end run | ${pc(e.mainBusy)} busy | engine, HTTP, SES (dynalite has its own thread): event-loop utilization |`,
    ...(f.cpuMsPerLead === undefined
      ? []
      : [
          `| CPU per lead, end-to-end run | ${n(f.cpuMsPerLead)} ms | user + system of every thread in this process (the stack, its workers, dynalite and the posting client) over the run, its start included, ÷ leads |`,
          ...(f.cpuSplit
            ? [
                `| CPU per lead, by thread | ${n(f.cpuSplit.process / e.leads)} ms | from the stack's start until the leads settled: ${describeCpu(f.cpuSplit, e.leads)} |`,
              ]
            : []),
        ]),
    `| POST /leads p50 / p95 / p99, all responses | ${lat(p.allMs)} | autocannon, ${p.connections} connections, ${n(p.secs, 1)} s, a distinct lead per request, after one warm-up lead; nearest rank over all ${n(p.allMs.count)} responses, 429s included |`,
    `| POST /leads p50 / p95 / p99, 202 only | ${lat(p.acceptedMs)} | the ${n(p.acceptedMs.count)} accepted |`,
    `| POST /leads rate | ${n(p.perSecond, 1)} responses/s | ${n(p.acceptedPerSecond, 1)}/s accepted (202) |`,
    `| POST /leads answers | ${n(p.ok2xx)} 2xx, ${n(p.throttledStart + p.throttledLambda)} 429, ${n(p.errors)} errors | 429: ${n(p.throttledStart)} StartExecution throttled, ${n(p.throttledLambda)} Lambda queue full; errors: ${others.length ? others.map(([s, c]) => `${c} × ${s}`).join(', ') : 'no other status'}, plus socket errors and timeouts |`,
    `| POST /leads function (SubmitLead) | ${n(p.functionMeanMs)} ms mean on its worker | invocations sampled every 50 ms: ${n(p.functionQueued, 1)} queued, ${n(p.functionRunning, 1)} running on average |`,
    `| main thread, POST /leads run | ${pc(p.mainBusy)} busy | event-loop delay p99 ${n(p.eventLoopDelayP99Ms)} ms |`,
    `| RSS idle after start | ${n(f.memory.idleRssMiB)} MiB | this process: main thread + function workers |`,
    `| RSS peak | ${n(f.memory.peakRssMiB)} MiB | sampled every 100 ms across the section (the client's own: ${n(p.clientMaxRssMiB)} MiB) |`,
    ...(f.memory.peakAnonMiB
      ? [
          `| RSS peak, anonymous | ${n(f.memory.peakAnonMiB)} MiB | the rest is mapped files, mostly dynalite's LevelDB tables; at the end to end run's largest reading: ${f.memory.peakBreakdown} |`,
        ]
      : []),
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const num = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  const limits = { concurrency: num('BENCH_LAMBDA_CONCURRENCY'), queue: num('BENCH_QUEUE') };
  const figures = await benchLocalStack({
    leads: num('BENCH_LEADS'),
    leadConcurrency: num('BENCH_CONCURRENCY'),
    postSecs: num('BENCH_POST_SECS'),
    puts: num('BENCH_PUTS'),
    lambda: { ...limits, maxWorkers: num('BENCH_WORKERS') },
    startRate: num('BENCH_START_RATE'),
  });
  // BENCH_JSON=1: the figures as JSON on stdout (npm run bench runs this section in its own process, so
  // that its RSS is the local stack's alone).
  console.log(
    process.env.BENCH_JSON === '1'
      ? JSON.stringify(figures)
      : `\n## Local stack\n\n${localStackMarkdown(figures)}`,
  );
  process.exit(0);
}
