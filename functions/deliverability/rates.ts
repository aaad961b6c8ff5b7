import type { AppConfig } from '../config/schema.ts';
import type { DeliveryCounts } from './deliverability-store.ts';

export interface Rates {
  sent: number;
  bounceRate: number;
  complaintRate: number;
}

export function ratesOf(c: DeliveryCounts): Rates {
  return {
    sent: c.sent,
    bounceRate: c.sent ? c.bounced / c.sent : 0,
    complaintRate: c.sent ? c.complained / c.sent : 0,
  };
}

const pct = (n: number) => `${(n * 100).toFixed(n < 0.01 ? 2 : 1)} %`;

/**
 * Why sending should pause, or undefined: a rate over its limit once the window has enough volume to
 * judge (a handful of sends with one bounce is not a 20 % bounce rate worth stopping for).
 */
export function breachOf(r: Rates, limits: AppConfig['deliverability']): string | undefined {
  if (r.sent < limits.minVolume) return undefined;
  if (r.bounceRate >= limits.bounceRate) {
    return `bounce rate ${pct(r.bounceRate)} over ${limits.windowHours} h (limit ${pct(limits.bounceRate)}, ${r.sent} sent)`;
  }
  if (r.complaintRate >= limits.complaintRate) {
    return `complaint rate ${pct(r.complaintRate)} over ${limits.windowHours} h (limit ${pct(limits.complaintRate)}, ${r.sent} sent)`;
  }
  return undefined;
}
