import { createHash } from 'node:crypto';
import { keys } from '../platform/keys.ts';
import { countUp, type Table } from '../platform/table.ts';

/** config/app.json's `api.perClient`. */
export interface PerClientLimits {
  perIpPerMinute: number;
  perDomainPerHour: number;
}

/** Counters per fixed window, shared by every concurrent SubmitLead (one item per client and window). */
export interface WindowCounters {
  /** Counts one more form for `client` in the window starting `windowStart` (epoch seconds); returns the count. */
  add(client: string, windowStart: number, expiresAt: number): Promise<number>;
}

export type LimitAnswer = { ok: true } | { ok: false; by: 'address' | 'domain'; retryAfterSeconds: number };

/**
 * Per-client limits on the public form (docs/security.md, "Abuse"): at most `perIpPerMinute` forms from
 * one source address a minute and `perDomainPerHour` from one email domain an hour. Free-mail domains are
 * not limited by domain (millions of people share gmail.com); their senders are still limited by address.
 * The address is kept only as part of a hash, in a counter deleted (TTL) two windows later.
 */
export function clientLimits(counters: WindowCounters, limits: PerClientLimits, freeMail: readonly string[]) {
  const free = new Set(freeMail.map((d) => d.toLowerCase()));
  const count = async (client: string, seconds: number, limit: number, now: Date) => {
    const t = Math.floor(now.getTime() / 1000);
    const start = t - (t % seconds);
    const n = await counters.add(client, start, start + 2 * seconds);
    return n <= limit ? 0 : start + seconds - t;
  };
  return {
    async take({ ip, email }: { ip: string; email: string }, now: Date): Promise<LimitAnswer> {
      const byIp = await count(`ip#${hashOf(ip)}`, 60, limits.perIpPerMinute, now);
      if (byIp) return { ok: false, by: 'address', retryAfterSeconds: byIp };
      const domain = email.split('@')[1]?.toLowerCase() ?? '';
      if (!domain || free.has(domain)) return { ok: true };
      const byDomain = await count(`domain#${domain}`, 3600, limits.perDomainPerHour, now);
      if (byDomain) return { ok: false, by: 'domain', retryAfterSeconds: byDomain };
      return { ok: true };
    },
  };
}
export type ClientLimits = ReturnType<typeof clientLimits>;

/** A source address as the counters key it: never stored as such. */
const hashOf = (ip: string) => createHash('sha256').update(`handoff-client:${ip}`).digest('hex').slice(0, 24);

export function dynamoWindowCounters(table: Table): WindowCounters {
  return {
    add: (client, windowStart, expiresAt) =>
      countUp(table, keys.clientWindow(client, windowStart), 'forms', expiresAt),
  };
}
