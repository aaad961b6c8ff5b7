// The local stack's one clock (DESIGN §5 "One clock"): `--time-scale` and `--start-at` drive every reader
// of time, so a business-hours decision made on a virtual Friday evening waits for a virtual Monday, not a
// real one. The engine, the event bus, the SES emulator, TTL sweeps and the console read `clock.now()`;
// function workers get the same clock as their `Date` (local/virtual-date.mjs). Timers stay real: a wait
// of `ms` virtual milliseconds sleeps `clock.realDelay(ms)` real ones.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClockSpec, realNow, virtualNow } from './virtual-date.mjs';

export type { ClockSpec } from './virtual-date.mjs';
export { realNow } from './virtual-date.mjs';

/** What reads time in the local runtime: the instant now, and how long a virtual wait takes for real. */
export interface Clock {
  readonly scale: number;
  /** Epoch milliseconds on this clock. */
  now(): number;
  /** Real milliseconds a wait of `virtualMs` takes (0 for a past instant's negative wait). */
  realDelay(virtualMs: number): number;
}

/**
 * A virtual clock: `startAt` now, running `scale` times faster than real time. With `held`, it stands at
 * `startAt` until `run()`: a stack's clock starts when the stack is ready, so its own boot (seconds, which
 * are hours at a fast scale) takes no business time.
 */
export class LocalClock implements Clock {
  private spec: ClockSpec;
  private held: boolean;

  constructor(
    readonly scale: number,
    startAt: number = realNow(),
    { held = false }: { held?: boolean } = {},
  ) {
    this.spec = { scale, realAnchor: realNow(), virtualAnchor: startAt };
    this.held = held;
  }

  now(): number {
    return this.held ? this.spec.virtualAnchor : virtualNow(this.spec);
  }

  /** Starts a held clock from where it stands (no-op when running). */
  run(): void {
    if (!this.held) return;
    this.held = false;
    this.spec = { ...this.spec, realAnchor: realNow() };
  }

  realDelay(virtualMs: number): number {
    return Math.max(0, virtualMs) / this.scale;
  }

  /** What a thread needs to read this clock (local/virtual-date.mjs): anchors and scale. Once it runs. */
  get anchors(): ClockSpec {
    if (this.held) throw new Error('LocalClock: a held clock has no anchors yet (run() it first)');
    return { ...this.spec };
  }

  /**
   * Moves the clock forward to `instant` if it is behind it (never back). Only before anything else has
   * read the clock: after a crash, the last second's history may be later than the clock file says.
   */
  catchUp(instant: number): void {
    if (instant > this.now()) this.spec = { ...this.spec, realAnchor: realNow(), virtualAnchor: instant };
  }
}

/**
 * The in-process workflow harness's clock: the wall clock (or a test's fake `Date`) for now, with waits
 * divided by `scale`. Unlike LocalClock it does not run faster, so a handler in the test process and the
 * engine agree on "now" while every wait passes almost at once.
 */
export function compressedWallClock(scale: number): Clock {
  return { scale, now: () => Date.now(), realDelay: (ms) => Math.max(0, ms) / scale };
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
  opts: { scale: number; startAt?: number },
): { clock: LocalClock; resumed: boolean; close(): void } {
  const file = join(dataDir, 'clock.json');
  const saved = existsSync(file) ? readClockFile(file) : undefined;
  if (saved && opts.startAt !== undefined && opts.startAt < saved.at - 1000)
    throw new ClockError(
      `--start-at ${new Date(opts.startAt).toISOString()} is before this data folder's clock (${new Date(saved.at).toISOString()}): time does not run backwards for the data it holds. Pick a later instant, or add --fresh.`,
    );
  const clock = new LocalClock(opts.scale, opts.startAt ?? saved?.at ?? realNow(), { held: true });
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
