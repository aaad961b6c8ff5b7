import { keys } from '../platform/keys.ts';
import { countUp, type Table } from '../platform/table.ts';

/** The account's SES quota, as GetSendQuota answers (Max24HourSend -1: unlimited). */
export interface SendQuota {
  maxSendRate: number;
  max24HourSend: number;
  sentLast24Hours: number;
}

/** Per-second send counters shared by every sender (one item per second, expired by TTL). */
export interface SendCounters {
  /** Counts one more send wanting `second` (epoch seconds); returns how many wanted it, this one included. */
  add(second: number): Promise<number>;
}

export type BudgetAnswer =
  | { ok: true }
  | { ok: false; why: 'send rate'; notBefore: Date }
  | { ok: false; why: 'daily send quota' };

/**
 * The shared send budget (docs/architecture.md, "The send budget"): at most MaxSendRate sends start in any
 * second, across every concurrent function, and none while the account's 24-hour quota is used up. Each
 * send counts itself on its second's counter; the first MaxSendRate go, and the k-th beyond them is told
 * the second its turn comes (k / rate seconds on), so a burst drains at the account's rate in order
 * instead of meeting SES's throttling.
 */
export function sendBudget(counters: SendCounters, quota: () => Promise<SendQuota | undefined>) {
  return {
    async take(now: Date): Promise<BudgetAnswer> {
      const q = await quota();
      if (q && q.max24HourSend >= 0 && q.sentLast24Hours >= q.max24HourSend)
        return { ok: false, why: 'daily send quota' };
      const rate = Math.max(1, Math.floor(q?.maxSendRate ?? 1));
      const second = Math.floor(now.getTime() / 1000);
      const wanted = await counters.add(second);
      if (wanted <= rate) return { ok: true };
      const turn = second + Math.ceil((wanted - rate) / rate);
      return { ok: false, why: 'send rate', notBefore: new Date(turn * 1000) };
    },
  };
}
export type SendBudget = ReturnType<typeof sendBudget>;

/** A counter item is kept this long after its second (the table's TTL deletes it). */
const COUNTER_SECONDS = 3_600;

export function dynamoSendCounters(table: Table): SendCounters {
  return {
    add: (second) => countUp(table, keys.sendBudgetSecond(second), 'wanted', second + COUNTER_SECONDS),
  };
}
