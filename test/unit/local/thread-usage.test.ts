import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { cpuMicrosOf, heapOf, ownCpuMicros } from '#local/thread-usage.ts';

describe('what worker threads cost, read from the main thread', () => {
  it('reads a busy worker’s CPU and heap, 0 once it has exited, and 0 on a Node.js without Worker#cpuUsage', async () => {
    const w = new Worker(
      'const { parentPort } = require("node:worker_threads"); for (const end = Date.now() + 120; Date.now() < end; ); parentPort.postMessage("done"); setInterval(() => {}, 1000);',
      { eval: true },
    );
    await new Promise((r) => w.once('message', r));
    expect(await cpuMicrosOf([w])).toBeGreaterThanOrEqual(100_000);
    expect(await heapOf([w])).toBeGreaterThan(0);
    const older = Object.assign(Object.create(w), { cpuUsage: undefined }) as Worker;
    expect(await cpuMicrosOf([older])).toBe(0);
    await w.terminate();
    expect(await cpuMicrosOf([w])).toBe(0);
    expect(await heapOf([w])).toBe(0);
    expect(ownCpuMicros()).toBeGreaterThan(0);
  });
});
