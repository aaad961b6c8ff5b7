// What worker threads cost, read from the main thread: V8 heap (Worker#getHeapStatistics) and CPU time
// (Worker#cpuUsage, Node.js ≥ 24.6, else 0; user + system, µs). A worker that has exited reads 0: the pool
// adds a worker's CPU when it retires it (local/lambda-pool.ts).
import type { Worker } from 'node:worker_threads';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** V8 heap the workers hold now (total_heap_size), bytes. */
export async function heapOf(workers: Worker[]): Promise<number> {
  return sum(
    await Promise.all(
      workers.map((w) =>
        w.getHeapStatistics().then(
          (h) => h.total_heap_size,
          () => 0,
        ),
      ),
    ),
  );
}

/** CPU time the workers have used since they started (user + system), µs. */
export async function cpuMicrosOf(workers: Worker[]): Promise<number> {
  return sum(
    await Promise.all(
      workers.map((w) =>
        // Node.js 24.0–24.5 (the macOS arm64 binary is pinned to 24.0) has no Worker#cpuUsage: 0.
        typeof w.cpuUsage === 'function'
          ? w.cpuUsage().then(
              (u) => u.user + u.system,
              () => 0,
            )
          : 0,
      ),
    ),
  );
}

/** This thread's CPU time since it started (user + system), µs. */
export function ownCpuMicros(): number {
  const u = process.threadCpuUsage();
  return u.user + u.system;
}
