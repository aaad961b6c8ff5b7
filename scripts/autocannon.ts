// Load against a stack's POST /leads with autocannon, from a child process (scripts/bench-local.ts),
// and the nearest-rank percentiles the bench reports latencies in.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

/** Nearest-rank percentiles, in the values' unit. */
export interface Percentiles {
  /** How many values they are over. */
  count: number;
  p50: number;
  p95: number;
  p99: number;
}

export function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.max(0, Math.ceil(s.length * p) - 1)] ?? 0;
  return { count: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

export interface AutocannonReport {
  connections: number;
  secs: number;
  /** Response time of every response autocannon timed, by status code, in ms. */
  msByStatus: Record<string, number[]>;
  /** 429s by their Retry-After (the function's StartExecution throttle says 2, a full Lambda queue 1). */
  retryAfter: Record<string, number>;
  /** Socket errors and timeouts (no response). */
  errors: number;
  timeouts: number;
  clientMaxRssMiB: number;
}

// The load generator, run as `node -e` (CommonJS) in its own process so it does not share the stack's
// main thread: each request a distinct lead (the same lead the same day would be deduplicated).
const AUTOCANNON = `
const autocannon = require(process.env.BENCH_AUTOCANNON);
const o = JSON.parse(process.env.BENCH_POST);
const forms = ['demo-request', 'newsletter', 'content-download', 'pricing'];
const ms = {}, retryAfter = {};
let n = 0;
const lead = (i) => JSON.stringify({ email: 'cannon.' + i + '@company' + (i % 50) + '.com', firstName: 'Cannon',
  formType: forms[i % forms.length], companySize: 100 + i, country: 'US', title: 'VP Sales', consent: true });
const inst = autocannon({
  url: o.url, connections: o.connections, duration: o.secs, timeout: 30,
  requests: [{
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => ({ ...req, body: lead(n++) }),
    onResponse: (status, _body, _ctx, headers) => {
      if (status !== 429) return;
      const k = Object.entries(headers).find(([h]) => h.toLowerCase() === 'retry-after')?.[1] ?? '-';
      retryAfter[k] = (retryAfter[k] ?? 0) + 1;
    },
  }],
});
inst.on('response', (_client, status, _bytes, t) => (ms[status] ??= []).push(t));
inst.on('done', (r) => process.stdout.write(JSON.stringify({ connections: o.connections, secs: r.duration,
  msByStatus: ms, retryAfter, errors: r.errors, timeouts: r.timeouts,
  clientMaxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) })));
`;

/** POST /leads with autocannon for `secs` at `connections`, from a child process. */
export function autocannonLeads(api: string, connections: number, secs: number): Promise<AutocannonReport> {
  const env = {
    ...process.env,
    BENCH_AUTOCANNON: createRequire(import.meta.url).resolve('autocannon'),
    BENCH_POST: JSON.stringify({ url: `${api}/leads`, connections, secs }),
  };
  const child = spawn(process.execPath, ['-e', AUTOCANNON], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
  });
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as AutocannonReport)
        : reject(new Error(`autocannon exited ${code}`)),
    ),
  );
}
