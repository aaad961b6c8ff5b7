// Node timers overflow above 2^31-1 ms (~24.8 days) and fire at once. Step Functions allows waits and
// task timeouts up to a year, and aws-local-stepfunctions schedules them with setTimeout, so a 90-day
// "Await deal outcome" would time out immediately. This shim chains long delays in safe-sized hops.
const MAX_DELAY = 2 ** 31 - 1;
const nativeSetTimeout = globalThis.setTimeout;
const nativeClearTimeout = globalThis.clearTimeout;

class LongTimeout {
  private inner: ReturnType<typeof nativeSetTimeout>;
  private refed = true;

  constructor(
    private readonly fn: (...args: unknown[]) => void,
    private readonly due: number,
    private readonly args: unknown[],
  ) {
    this.inner = this.schedule();
  }

  private schedule(): ReturnType<typeof nativeSetTimeout> {
    const left = this.due - Date.now();
    const t =
      left > MAX_DELAY
        ? nativeSetTimeout(() => {
            this.inner = this.schedule();
          }, MAX_DELAY)
        : nativeSetTimeout(() => this.fn(...this.args), Math.max(0, left));
    if (!this.refed) t.unref();
    return t;
  }

  clear(): void {
    nativeClearTimeout(this.inner);
  }
  ref(): this {
    this.refed = true;
    this.inner.ref();
    return this;
  }
  unref(): this {
    this.refed = false;
    this.inner.unref();
    return this;
  }
  hasRef(): boolean {
    return this.refed;
  }
  refresh(): this {
    return this;
  }
  [Symbol.toPrimitive](): number {
    return Number(this.inner);
  }
}

type AnyFn = (...args: unknown[]) => void;
const patched = globalThis as unknown as { __handoffLongTimers?: boolean };
if (!patched.__handoffLongTimers) {
  patched.__handoffLongTimers = true;
  globalThis.setTimeout = ((fn: AnyFn, ms?: number, ...args: unknown[]) =>
    (ms ?? 0) > MAX_DELAY
      ? new LongTimeout(fn, Date.now() + (ms ?? 0), args)
      : nativeSetTimeout(fn, ms, ...args)) as typeof setTimeout;
  globalThis.clearTimeout = ((t: unknown) =>
    t instanceof LongTimeout
      ? t.clear()
      : nativeClearTimeout(t as Parameters<typeof clearTimeout>[0])) as typeof clearTimeout;
}

export {};
