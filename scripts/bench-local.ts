// Part of npm run bench: how fast the local stack takes leads (scripts/local-load.ts).
// Env: BENCH_LEADS (200), BENCH_CONCURRENCY (20); the stack's limits: BENCH_LAMBDA_CONCURRENCY,
// BENCH_QUEUE, BENCH_WORKERS, BENCH_START_RATE (defaults: npm start's).
import { printReport, runLocalLoad } from './local-load.ts';

const num = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
const report = await runLocalLoad({
  leads: num('BENCH_LEADS') ?? 200,
  concurrency: num('BENCH_CONCURRENCY') ?? 20,
  lambda: {
    concurrency: num('BENCH_LAMBDA_CONCURRENCY'),
    queue: num('BENCH_QUEUE'),
    maxWorkers: num('BENCH_WORKERS'),
  },
  ...(num('BENCH_START_RATE') ? { startRate: num('BENCH_START_RATE') } : {}),
});
console.log('\n## Local stack throughput\n');
printReport(report);
process.exit(0);
