// The local stack's one clock, as every thread reads it. Plain JavaScript: the function workers import it
// without a TypeScript loader, and local/clock.ts builds on the same formula.
//
// Virtual time = the instant the clock stood at when it was (re)started + real time elapsed since, × scale.
// Real time is read from `performance` (monotonic, the same epoch in every thread), never from `Date`, so
// a virtual `Date` installed in a thread cannot feed back into the clock. Timers stay real: Lambda
// timeouts, retries and backoff are compute time and do not compress; only what reads the date does.

/** Real epoch milliseconds, from the monotonic clock (immune to a replaced global Date). */
export const realNow = () => performance.timeOrigin + performance.now();

/**
 * Virtual epoch milliseconds for a clock spec `{ scale, realAnchor, virtualAnchor }`: `virtualAnchor` at
 * the real instant `realAnchor`, running `scale` times faster than real time.
 */
export function virtualNow(spec) {
  return spec.virtualAnchor + (realNow() - spec.realAnchor) * spec.scale;
}

/**
 * Replaces `globalThis.Date` in this thread with one that reads the virtual clock: `Date.now()`,
 * `new Date()` and `Date()` give virtual time; every other form (`new Date(ms)`, `Date.parse`, `Date.UTC`,
 * methods, `instanceof Date`) is the real Date's. Production code runs unchanged on top of it. Idempotent
 * per thread (a second install replaces the spec).
 *
 * Why not @sinonjs/fake-timers or timekeeper: neither runs a date faster than real time (they freeze it,
 * or travel and tick at 1×), and fake-timers' Date also takes over timers, which must stay real here.
 */
export function installVirtualDate(spec) {
  const RealDate = globalThis.Date[REAL] ?? globalThis.Date;
  const now = () => Math.floor(virtualNow(spec));
  function VirtualDate(...args) {
    if (!new.target) return new RealDate(now()).toString();
    return Reflect.construct(RealDate, args.length ? args : [now()], new.target);
  }
  Object.setPrototypeOf(VirtualDate, RealDate);
  VirtualDate.prototype = RealDate.prototype;
  VirtualDate.now = now;
  VirtualDate[REAL] = RealDate;
  globalThis.Date = VirtualDate;
  return VirtualDate;
}

/** The thread's own Date constructor, kept on the replacement so a second install wraps the real one. */
const REAL = Symbol.for('handoff.realDate');
