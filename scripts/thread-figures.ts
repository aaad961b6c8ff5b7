// How a load run's CPU time and memory split by thread, as `npm run test:load` and `npm run bench` print them
// (the readings come from LocalStack.cpu() and .memory(): local/runtime.ts).
import type { CpuReading, MemoryReading } from '../local/runtime-options.ts';

/** CPU time (user + system, ms) from before the stack started until the leads settled, by thread. */
export interface CpuSplit {
  process: number;
  /** The main thread: engine, HTTP edges, SES, events, and the load's posting client. */
  main: number;
  /** The DynamoDB thread: dynalite. */
  dynamodb: number;
  /** Each function's workers, by function id. */
  functions: Record<string, number>;
  /** The rest of the process, which no JS thread counts: V8's GC and compiler threads, libuv's pool, LevelDB. */
  other: number;
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/** The CPU reading (µs) as ms by thread; the main thread's counted from `main0` (its reading at the start). */
export function cpuSplit(processMicros: number, t: CpuReading, main0: number): CpuSplit {
  const ms = (us: number) => us / 1000;
  const functions = Object.fromEntries(Object.entries(t.functions).map(([id, us]) => [id, ms(us)]));
  const fnTotal = Object.values(t.functions).reduce((a, b) => a + b, 0);
  const main = t.main - main0;
  const other = Math.max(0, processMicros - main - t.dynamodb - fnTotal);
  return {
    process: ms(processMicros),
    main: ms(main),
    dynamodb: ms(t.dynamodb),
    functions,
    other: ms(other),
  };
}

/** The CPU split per lead, one line: where the stack's CPU time went. */
export function describeCpu(c: CpuSplit, leads: number): string {
  const per = (x: number) => (x / leads).toFixed(1);
  const fnTotal = Object.values(c.functions).reduce((a, b) => a + b, 0);
  const fns = Object.entries(c.functions)
    .filter(([, v]) => v / leads >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([id, v]) => `${id} ${per(v)}`);
  return `${per(c.process)} ms a lead = main thread ${per(c.main)} (engine, HTTP, SES, the posting client) + DynamoDB thread ${per(c.dynamodb)} (dynalite) + function workers ${per(fnTotal)} (${fns.join(', ')}) + other threads ${per(c.other)} (V8 GC and compiler, libuv, LevelDB)`;
}

export function describeMemory(m: MemoryReading): string {
  const fns = Object.entries(m.functions)
    .filter(([, b]) => b > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([id, b]) => `${id} ${mib(b)}`);
  const fnTotal = Object.values(m.functions).reduce((a, b) => a + b, 0);
  const split = m.anon !== undefined ? ` (anonymous ${mib(m.anon)}, file-backed ${mib(m.file ?? 0)})` : '';
  return `rss ${mib(m.rss)} MiB${split} = main heap ${mib(m.main.heap)} (used ${mib(m.main.used)}) + main buffers ${mib(m.main.external)} + DynamoDB thread heap ${mib(m.dynamodb.heap)} (used ${mib(m.dynamodb.used)}) + function heaps ${mib(fnTotal)} (${fns.join(', ')}) + native ${mib(m.native)}`;
}
