// Node timers overflow above 2^31-1 ms (~24.8 days) and fire at once. Step Functions allows waits and
// task timeouts up to a year, and aws-local-stepfunctions schedules them with setTimeout, so a 90-day
// "Await deal outcome" would time out immediately. This shim chains long delays in safe-sized hops.
const MAX_DELAY = 2 ** 31 - 1;
const WRAPPED = Symbol.for('handoff.longTimers');

type AnyFn = (...args: unknown[]) => void;
type Timer = ReturnType<typeof setTimeout>;

/** Wraps the current global setTimeout/clearTimeout (real or fake) so long delays work. Idempotent. */
export function installLongTimers(): void {
  const current = globalThis.setTimeout as typeof setTimeout & { [WRAPPED]?: boolean };
  if (current[WRAPPED]) return;
  const nativeSet = globalThis.setTimeout;
  const nativeClear = globalThis.clearTimeout;

  class LongTimeout {
    private inner: Timer;
    private refed = true;

    constructor(
      private readonly fn: AnyFn,
      private readonly due: number,
      private readonly args: unknown[],
    ) {
      this.inner = this.schedule();
    }

    private schedule(): Timer {
      const left = this.due - Date.now();
      const t =
        left > MAX_DELAY
          ? nativeSet(() => {
              this.inner = this.schedule();
            }, MAX_DELAY)
          : nativeSet(() => this.fn(...this.args), Math.max(0, left));
      if (!this.refed) t.unref?.();
      return t;
    }

    clear(): void {
      nativeClear(this.inner);
    }
    ref(): this {
      this.refed = true;
      this.inner.ref?.();
      return this;
    }
    unref(): this {
      this.refed = false;
      this.inner.unref?.();
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

  const wrappedSet = ((fn: AnyFn, ms?: number, ...args: unknown[]) =>
    (ms ?? 0) > MAX_DELAY
      ? new LongTimeout(fn, Date.now() + (ms ?? 0), args)
      : nativeSet(fn, ms, ...args)) as typeof setTimeout & {
    [WRAPPED]?: boolean;
  };
  wrappedSet[WRAPPED] = true;
  globalThis.setTimeout = wrappedSet;
  globalThis.clearTimeout = ((t: unknown) =>
    t instanceof LongTimeout
      ? t.clear()
      : nativeClear(t as Parameters<typeof clearTimeout>[0])) as typeof clearTimeout;
}

installLongTimers();
