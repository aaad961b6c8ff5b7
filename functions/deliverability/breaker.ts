import { config } from '../config/bundled.ts';
import { logger, metrics } from '../platform/observability.ts';
import type { BreakerState, DeliverabilityStore } from './deliverability-store.ts';
import { breachOf, ratesOf } from './rates.ts';

type Evaluated = BreakerState & { rates: ReturnType<typeof ratesOf> };

/** The rolling window's rates, the limit they breach (if any) and the breaker as recorded. */
async function observe(store: DeliverabilityStore, now: Date) {
  const limits = config.app.deliverability;
  const rates = ratesOf(await store.window(limits.windowHours, now));
  return { rates, breach: breachOf(rates, limits), state: await store.state() };
}

/**
 * The deliverability breaker as the rolling window says it is now, without writing anything: what an admin
 * or the console reads (they need no write access). A breach not yet recorded shows as tripped; a recorded
 * trip whose rates have recovered shows as closed, as the next update will record.
 */
export async function evaluateBreaker(store: DeliverabilityStore, now: Date): Promise<Evaluated> {
  const { rates, breach, state } = await observe(store, now);
  if (breach && !state.tripped) return { tripped: true, reason: breach, at: now.toISOString(), rates };
  if (!breach && state.tripped) return { tripped: false, rates };
  return { ...state, rates };
}

/**
 * Re-evaluates the breaker and records a change: trips it when a rate passes its limit (the
 * `DeliverabilityBreakerTripped` metric raises the alarm) and, unless `close` is false, closes it when the
 * rates have recovered. SES events only trip it; Nurture (which pauses on it) closes it.
 */
export async function updateBreaker(
  store: DeliverabilityStore,
  now: Date,
  { close = true }: { close?: boolean } = {},
): Promise<Evaluated> {
  const { rates, breach, state } = await observe(store, now);
  if (breach && !state.tripped && (await store.trip(breach, now.toISOString()))) {
    metrics.addMetric('DeliverabilityBreakerTripped', 'Count', 1);
    logger.error('deliverability breaker tripped: nurture sends paused', { reason: breach });
    return { tripped: true, reason: breach, at: now.toISOString(), rates };
  }
  if (close && !breach && state.tripped && (await store.reset())) {
    logger.warn('deliverability recovered: nurture sends resume', { rates });
    return { tripped: false, rates };
  }
  return { ...state, rates };
}
