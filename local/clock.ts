// The local stack's one clock (docs/architecture.md, "One clock"): `--time-scale` and `--start-at` drive every reader
// of time, so a business-hours decision made on a virtual Friday evening waits for a virtual Monday, not a
// real one. The engine, the event bus, the SES emulator, TTL sweeps and the console read `clock.now()`;
// function workers get the same clock as their `Date` (local/virtual-date.mjs).
//
// The time scale compresses waiting, never work: while anything is in progress (a Lambda invocation, an
// execution between two waits) the clock runs at real speed, and only while the whole stack waits does it
// run `scale` times faster. So a handler that reads "now", works for 40 ms and parks a run until Monday
// 09:00 parks it at 09:00 and 40 ms, not at 09:57 (what 40 ms would be at a day a second), a cold start
// takes the real second it takes in Lambda, and runs wake at their instant whatever the machine's load.
// Waits are timers on the clock (`at`), re-armed whenever its speed changes.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClockSpec, realNow, virtualNow } from './virtual-date.mjs';

export type { ClockSpec } from './virtual-date.mjs';
export { realNow } from './virtual-date.mjs';

/** Work in progress: while any activity is active, the clock runs at real speed. Each call is idempotent. */
export interface Activity {
  /** The work waits (a Wait state, a parked task): it no longer holds the clock at real speed. */
  pause(): void;
  resume(): void;
  /** Done: releases the clock for good (safe to call more than once). */
  end(): void;
}

/** What reads time in the local runtime. */
export interface Clock {
  /** The speed while the stack waits: 86400 = a virtual day per real second. */
  readonly scale: number;
  /** Epoch milliseconds on this clock. */
  now(): number;
  /** Calls `fn` once the clock reaches `instant` (at once for a past one); returns a cancel function. */
  at(instant: number, fn: () => void): () => void;
  /** Starts an activity: the clock runs at real speed until it pauses or ends. */
  activity(): Activity;
}

interface Timer {
  at: number;
  fn: () => void;
  cancelled: boolean;
}

const NO_ACTIVITY: Activity = { pause() {}, resume() {}, end() {} };

/**
 * A virtual clock: `startAt` now, `scale` times faster than real time while idle, `busyScale` (default 1:
 * real speed) while any activity is active. With `held`, it stands at `startAt` until `run()`: a stack's
 * clock starts when the stack is ready, so its own boot takes no business time.
 *
 * `busyScale: scale` compresses work too: every instant of real time is `scale` of business time, busy or
 * not. Fault and load tests use it, where many runs are always at work and business time must still pass;
 * the price is precision (a 40 ms invocation takes 40 ms × scale of business time).
 */
export class LocalClock implements Clock {
  private spec: ClockSpec;
  private held: boolean;
  private active = 0;
  private closed = false;
  /** Pending timers, earliest first, and the one real timer armed for the earliest. */
  private timers: Timer[] = [];
  private armed?: { at: number; handle: ReturnType<typeof setTimeout> };
  private readonly busyScale: number;

  constructor(
    readonly scale: number,
    startAt: number = realNow(),
    { held = false, busyScale = 1 }: { held?: boolean; busyScale?: number } = {},
  ) {
    this.held = held;
    this.busyScale = busyScale;
    this.spec = { scale: held ? 0 : scale, realAnchor: realNow(), virtualAnchor: startAt };
  }

  now(): number {
    return virtualNow(this.spec);
  }

  /** The speed the clock runs at this moment: 0 held, 1 while work is in progress, else `scale`. */
  get rate(): number {
    return this.spec.scale;
  }

  /** What a thread needs to read this clock as it runs now (local/virtual-date.mjs). */
  get anchors(): ClockSpec {
    return { ...this.spec };
  }

  /** Starts a held clock from where it stands (no-op when running). */
  run(): void {
    if (!this.held) return;
    this.held = false;
    this.rebase();
  }

  /**
   * Moves the clock forward to `instant` if it is behind it (never back). Used before anything else runs:
   * after a crash, the last second's history may be later than the clock file says.
   */
  catchUp(instant: number): void {
    if (instant > this.now()) {
      this.spec = { ...this.spec, realAnchor: realNow(), virtualAnchor: instant };
      this.arm();
    }
  }

  at(instant: number, fn: () => void): () => void {
    const timer: Timer = { at: instant, fn, cancelled: false };
    const i = this.timers.findIndex((t) => t.at > instant);
    this.timers.splice(i === -1 ? this.timers.length : i, 0, timer);
    if (i === 0 || this.timers.length === 1) this.arm();
    return () => {
      timer.cancelled = true;
    };
  }

  activity(): Activity {
    let state: 'active' | 'paused' | 'ended' = 'active';
    this.busy(+1);
    return {
      pause: () => {
        if (state !== 'active') return;
        state = 'paused';
        this.busy(-1);
      },
      resume: () => {
        if (state !== 'paused') return;
        state = 'active';
        this.busy(+1);
      },
      end: () => {
        if (state === 'active') this.busy(-1);
        state = 'ended';
      },
    };
  }

  /** Stops every timer (nothing fires after this). */
  close(): void {
    this.closed = true;
    if (this.armed) clearTimeout(this.armed.handle);
    this.armed = undefined;
    this.timers = [];
  }

  private busy(delta: number): void {
    const was = this.active;
    this.active = Math.max(0, this.active + delta);
    if ((was === 0) !== (this.active === 0)) this.rebase();
  }

  /** Starts a new segment at the current instant, at the speed the clock should run now. */
  private rebase(): void {
    const rate = this.held ? 0 : this.active > 0 ? this.busyScale : this.scale;
    this.spec = { scale: rate, realAnchor: realNow(), virtualAnchor: this.now() };
    this.arm();
  }

  /** One real timer, for the earliest pending instant at the current speed. */
  private arm(): void {
    while (this.timers[0]?.cancelled) this.timers.shift();
    const next = this.timers[0];
    if (this.armed) clearTimeout(this.armed.handle);
    this.armed = undefined;
    if (!next || this.closed || this.spec.scale === 0) return;
    const delay = Math.max(0, (next.at - this.now()) / this.spec.scale);
    const handle = setTimeout(() => this.fire(), Math.ceil(delay));
    handle.unref?.();
    this.armed = { at: next.at, handle };
  }

  private fire(): void {
    this.armed = undefined;
    const now = this.now();
    const due: Timer[] = [];
    while (this.timers[0] && (this.timers[0].cancelled || this.timers[0].at <= now)) {
      const t = this.timers.shift() as Timer;
      if (!t.cancelled) due.push(t);
    }
    this.arm();
    for (const t of due) t.fn();
  }
}

/**
 * The in-process workflow harness's clock: the wall clock (or a test's fake `Date`) for now, with waits
 * divided by `scale`. Unlike LocalClock it does not run faster, so a handler in the test process and the
 * engine agree on "now" while every wait passes almost at once.
 */
export function compressedWallClock(scale: number): Clock {
  return {
    scale,
    now: () => Date.now(),
    at(instant, fn) {
      const handle = setTimeout(fn, Math.max(0, instant - Date.now()) / scale);
      return () => clearTimeout(handle);
    },
    activity: () => NO_ACTIVITY,
  };
}

export class ClockError extends Error {
  override readonly name = 'ClockError';
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** `--start-at`: `now`, or an ISO 8601 instant with its offset (a local time alone names no instant). */
export function parseStartAt(text: string): number {
  if (text.trim().toLowerCase() === 'now') return realNow();
  const t = INSTANT.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (Number.isNaN(t))
    throw new ClockError(
      `--start-at must be "now" or an ISO 8601 instant with its offset, e.g. 2026-12-04T17:30:00-05:00 or 2026-12-04T22:30:00Z, not "${text}"`,
    );
  return t;
}

interface ClockFile {
  /** Where the clock stood when last saved (virtual epoch ms). */
  at: number;
  scale: number;
}

/** How often the running clock's position is saved: what a crash (not a stop) can lose, in real time. */
const SAVE_EVERY_MS = 1000;

/**
 * The data folder's clock (`<data>/clock.json`): resumes where it stood when the stack last stopped, or
 * starts at `startAt` (an instant, or real now for a new folder). Time never runs backwards for the data
 * already there: a `startAt` before the saved position is refused. The clock is held until `run()` (when
 * the stack is ready); its position is saved every second and on `close()`.
 */
export function openClock(
  dataDir: string,
  opts: { scale: number; startAt?: number; busyScale?: number },
): { clock: LocalClock; resumed: boolean; close(): void } {
  const file = join(dataDir, 'clock.json');
  const saved = existsSync(file) ? readClockFile(file) : undefined;
  if (saved && opts.startAt !== undefined && opts.startAt < saved.at - 1000)
    throw new ClockError(
      `--start-at ${new Date(opts.startAt).toISOString()} is before this data folder's clock (${new Date(saved.at).toISOString()}): time does not run backwards for the data it holds. Pick a later instant, or add --fresh.`,
    );
  const clock = new LocalClock(opts.scale, opts.startAt ?? saved?.at ?? realNow(), {
    held: true,
    ...(opts.busyScale !== undefined ? { busyScale: opts.busyScale } : {}),
  });
  const save = () => {
    const body: ClockFile = { at: Math.floor(clock.now()), scale: clock.scale };
    writeFileSync(`${file}.tmp`, `${JSON.stringify(body)}\n`, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  };
  save();
  const timer = setInterval(save, SAVE_EVERY_MS);
  timer.unref();
  return {
    clock,
    resumed: saved !== undefined && opts.startAt === undefined,
    close() {
      clearInterval(timer);
      save();
      clock.close();
    },
  };
}

function readClockFile(file: string): ClockFile {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<ClockFile>;
    if (typeof v.at === 'number' && Number.isFinite(v.at) && typeof v.scale === 'number')
      return { at: v.at, scale: v.scale };
  } catch {
    // fall through: a torn or hand-edited file is reported below
  }
  throw new ClockError(`${file} is not a clock file this version can read: remove it, or start with --fresh`);
}
