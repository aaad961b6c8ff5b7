/**
 * StartExecution's token bucket locally: AWS's own default quota (Standard workflows, us-east-1 and the
 * other large regions: a bucket of 1,300 refilled at 300 a second; docs/scaling.md). What AWS would
 * accept, the local stack accepts; a machine that cannot keep up runs the accepted runs slower
 * (LocalStepFunctions.admit) instead of refusing them. `--start-rate` sets a smaller bucket, as a
 * smaller region's quota (800, 150/s) or a raised one would.
 */
export const DEFAULT_START_RATE = { perSecond: 300, burst: 1300 };
/**
 * How fast accepted runs start on this machine (`busy` permitting): what a 2-core machine runs end to end
 * (measured 16–30 lead runs/s), with room above it: the `busy` signal holds starts back when the machine
 * falls behind. Runs accepted faster wait to start; none is refused for it.
 */
export const DEFAULT_ADMIT_RATE = { perSecond: 40, burst: 40 };

/** The burst npm start gives a --start-rate: AWS's for its default rate, else five seconds' worth. */
export const burstFor = (perSecond: number) =>
  perSecond === DEFAULT_START_RATE.perSecond
    ? DEFAULT_START_RATE.burst
    : Math.max(1, Math.ceil(perSecond * 5));

export interface RateLimit {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: how many calls may arrive at once after a quiet spell. */
  burst: number;
}

/**
 * A token bucket, as AWS throttles API calls: each call takes a token; tokens refill at `perSecond`
 * up to `burst`; a call that finds the bucket empty is throttled.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = limit.burst;
    this.last = now();
  }

  /** Takes a token if there is one. */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((t - this.last) / 1000) * this.limit.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
