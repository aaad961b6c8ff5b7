import { logger, metrics } from '../platform/observability.ts';
import type { TaskRuns } from '../platform/runs.ts';
import type { Signal, SignalStore } from './signal-store.ts';

/**
 * Tells a nurtured lead's run that something happened: wakes its wait at once if it is parked, else
 * leaves the signal on the lead for the wait about to park. Signals carry no data: the run's nurture
 * step reads what happened from the lead (events, suppression) when it wakes.
 */
export async function signalLead(
  { signals, runs }: { signals: SignalStore; runs: TaskRuns },
  leadId: string,
  signal: Signal,
): Promise<boolean> {
  const { token } = await signals.signal(leadId, signal, new Date().toISOString());
  const woken = token ? await runs.resume(token, { signal }) : false;
  if (woken) {
    metrics.addMetric(`Signal_${signal}`, 'Count', 1);
    logger.info('lead signalled', { leadId, signal });
  }
  return woken;
}
