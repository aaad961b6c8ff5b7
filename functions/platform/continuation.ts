// When a long-waiting run continues as a new execution (docs/architecture.md, "Runs that wait a year"). A
// Standard execution fails when its history reaches 25,000 events; a run that loops while it waits (a
// paused nurture sequence looking again every hour, a full team's wait looking again on its timer) would
// get there in months. So a waiting step hands the run on to a new execution once this execution has
// looped `loops` times or run `days` days, whichever comes first. The template sets both for the steps
// that decide (CONTINUE_AFTER_LOOPS, CONTINUE_AFTER_DAYS); a test lowers them to see a chain at once.

/** The defaults, and what the template sets: ~12 history events a nurture loop, ~6 a capacity look. */
export const CONTINUE_AFTER = { loops: 1_000, days: 60 } as const;

export interface ContinuationLimits {
  loops: number;
  days: number;
}

/** The limits from the environment (the template sets them), else the defaults. */
export function continuationLimits(env: NodeJS.ProcessEnv = process.env): ContinuationLimits {
  const read = (name: string, fallback: number) => {
    const v = Number(env[name]);
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return {
    loops: read('CONTINUE_AFTER_LOOPS', CONTINUE_AFTER.loops),
    days: read('CONTINUE_AFTER_DAYS', CONTINUE_AFTER.days),
  };
}

/**
 * True when the execution should continue as a new one now: it has looped `limits.loops` times, or started
 * `limits.days` days ago. A run that says neither (started before either was sent) never continues.
 */
export function continuationDue(
  run: { loops?: number | undefined; startedAt?: string | undefined },
  now: Date,
  limits: ContinuationLimits = continuationLimits(),
): boolean {
  if (run.loops !== undefined && run.loops >= limits.loops) return true;
  if (run.startedAt === undefined) return false;
  return now.getTime() - Date.parse(run.startedAt) >= limits.days * 86_400_000;
}

/** An execution name's limit (Step Functions: 80 characters). */
const NAME_LIMIT = 80;

/**
 * The name of the `n`th execution of a chain whose first is `root` (n ≥ 2): `<root>-c<n>`, the root cut so
 * the whole fits in 80 characters. Unique per chain and place, so a retried start finds the same run.
 */
export function continuationName(root: string, n: number): string {
  const suffix = `-c${n}`;
  return `${root.slice(0, NAME_LIMIT - suffix.length)}${suffix}`;
}
