/**
 * StartExecution's default token bucket locally: sized so a 2-core machine keeps up with what it starts
 * (measured ~20 lead runs/s end to end); a burst of 100 queues within the functions' queues.
 */
export const DEFAULT_START_RATE = { perSecond: 20, burst: 100 };
/** The burst npm start gives a --start-rate: five seconds' worth. */
export const burstFor = (perSecond: number) => Math.max(1, Math.ceil(perSecond * 5));

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
