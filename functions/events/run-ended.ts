// What a lead's run that ended unfinished (FAILED, TIMED_OUT, ABORTED) leaves to do, in one place: Record
// failure does it when EventBridge delivers the status change, and reconcile (reconcile-runs.ts, `npm run
// reconcile`, the hourly ReconcileRuns function) does it for a run whose event never came.
import { config } from '#functions/config/bundled.ts';
import { wakeNextWaiter } from '#functions/deal/capacity.ts';
import { isClosed } from '#functions/deal/deal.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import type { TaskRuns } from '#functions/platform/runs.ts';
import type { DealRecord, Stores } from '#functions/stores.ts';

/** A run that ended without succeeding, as the status-change event or DescribeExecution tells it. */
export interface EndedRun {
  name: string;
  status: 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  input?: string | null | undefined;
  error?: string | null | undefined;
}

export type RunEndedDeps = Pick<Stores, 'leads' | 'deals' | 'reps' | 'suppression' | 'submissions'> & {
  runs: TaskRuns;
};

/** The lead id in a run's input (`{ lead: { id } }`), if the input is one. */
function leadIdOf(input: string | null | undefined): string | undefined {
  try {
    const id = (JSON.parse(input ?? '{}') as { lead?: { id?: unknown } }).lead?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Marks the run's lead failed, gives the rep's slot back exactly once (and hands it to a waiting run), and
 * tells the rep's links that the journey has ended. The run stays at the state that failed, so it can be
 * redriven after a fix. `at` is when the run ended: a second call writes the same timeline entry, not a
 * second one. Every write is idempotent, so the event and reconcile may both do it.
 */
export async function recordRunEnded(
  { leads, deals, reps, suppression, submissions, runs }: RunEndedDeps,
  run: EndedRun,
  at: string,
): Promise<{ recorded: boolean; released: boolean }> {
  const errorType = run.error ?? run.status;
  metrics.addMetric('LeadFailures', 'Count', 1);
  const leadId = leadIdOf(run.input);
  // The run's input holds the lead's id; the submission that started it is kept under the lead.
  const submitted = leadId ? await submissions.get(leadId, run.name) : undefined;
  logger.error('lead run ended without finishing', { leadId, status: run.status, errorType });
  const stored = leadId ? await leads.get(leadId) : undefined;
  // An erased lead's run was stopped by the erase, which did this work itself: nothing is written back,
  // even while the erase is still deleting the lead's items. A person who came back after the erase has
  // a lead captured since, and their failed run is recorded like any other.
  const email = stored?.email ?? submitted?.lead.email;
  const suppressed = email ? await suppression.entryFor(email) : undefined;
  if (suppressed?.reason === 'erased' && (!stored || stored.capturedAt <= suppressed.at))
    return { recorded: false, released: false };
  // A run that failed before "Capture & score lead" stored its lead stores it now, so the failed lead is
  // in the console (and erasable); a redrive captures it again under the same run.
  const captured =
    submitted && !stored ? await leads.capture(submitted.lead, run.name, submitted.receivedAt) : undefined;
  const lead =
    stored ??
    (captured?.outcome === 'captured' ? captured.lead : leadId ? await leads.get(leadId) : undefined);
  // Only the run that owns the lead speaks for it (a merged or superseded run changes nothing).
  if (!lead || lead.activeExecution !== run.name) return { recorded: false, released: false };
  // The rep's slot and the deal first, the lead's stage last: a lead that reads "failed" is fully recorded.
  const deal = lead.openDealId ? await deals.get(lead.openDealId) : undefined;
  const released = deal ? await releaseDealOfEndedRun({ deals, reps, runs }, deal, run.status, at) : false;
  await leads.putEvent(lead.id, timeline.failed(at, { errorType, status: run.status }));
  await leads.setStage(lead.id, 'failed', at);
  return { recorded: true, released };
}

/**
 * Gives back the rep's slot an open deal holds for a run that ended (once: the deal's load marker), hands
 * it to the team's longest waiter, and marks the deal's run ended (its rep links then say so). True if the
 * slot went back now.
 */
export async function releaseDealOfEndedRun(
  { deals, reps, runs }: Pick<RunEndedDeps, 'deals' | 'reps' | 'runs'>,
  deal: DealRecord,
  status: EndedRun['status'],
  at: string,
): Promise<boolean> {
  if (isClosed(deal.stage)) return false;
  await deals.markRunEnded(deal.dealId, status, at);
  const rep = config.reps.reps.find((r) => r.id === deal.repId);
  if (!rep || !(await deals.releaseLoad(deal.dealId, at))) return false;
  const released = await reps.adjustLoad(rep.id, -1, rep.capacity);
  await wakeNextWaiter({ reps, runs }, rep.team);
  return released;
}
