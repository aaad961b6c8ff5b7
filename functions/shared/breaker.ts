import { config } from './config.ts';
import type { BreakerState, DeliverabilityStore } from './data/index.ts';
import { breachOf, ratesOf } from './domain/deliverability.ts';
import { logger, metrics } from './observability.ts';

/**
 * Re-evaluates the deliverability breaker from the rolling window: trips it when a rate passes its limit
 * (the `DeliverabilityBreakerTripped` metric raises the alarm), closes it when the rates have recovered.
 */
export async function evaluateBreaker(
  store: DeliverabilityStore,
  now: Date,
): Promise<BreakerState & { rates: ReturnType<typeof ratesOf> }> {
  const limits = config.app.deliverability;
  const rates = ratesOf(await store.window(limits.windowHours, now));
  const breach = breachOf(rates, limits);
  const state = await store.state();
  if (breach && !state.tripped && (await store.trip(breach, now.toISOString()))) {
    metrics.addMetric('DeliverabilityBreakerTripped', 'Count', 1);
    logger.error('deliverability breaker tripped: nurture sends paused', { reason: breach });
    return { tripped: true, reason: breach, at: now.toISOString(), rates };
  }
  if (!breach && state.tripped && (await store.reset())) {
    logger.warn('deliverability recovered: nurture sends resume', { rates });
    return { tripped: false, rates };
  }
  return { ...state, rates };
}
