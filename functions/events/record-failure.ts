import * as z from 'zod/mini';
import { config, leadRetention } from '#functions/config/bundled.ts';
import { wakeNextWaiter } from '#functions/deal/capacity.ts';
import { isClosed } from '#functions/deal/deal.ts';
import { dynamoDeals } from '#functions/deal/deal-store.ts';
import { dynamoReps } from '#functions/deal/rep-store.ts';
import { leadSchema } from '#functions/lead/lead.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { dynamoSuppression } from '#functions/mail/suppression-store.ts';
import { eventHandler } from '#functions/platform/event.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { sfnRuns, type TaskRuns } from '#functions/platform/runs.ts';
import { appTable } from '#functions/platform/table.ts';
import { runEndedEvent } from '#functions/steps/contracts.ts';
import type { Stores } from '#functions/stores.ts';

/** The lead id in a run's input (`{ lead: { id } }`), if the input is one. */
function leadIdOf(input: string | null | undefined): string | undefined {
  try {
    const id = (JSON.parse(input ?? '{}') as { lead?: { id?: unknown } }).lead?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

const submittedSchema = z.object({ lead: leadSchema, receivedAt: z.iso.datetime() });

/** The lead and its time in a run's input (`{ lead, receivedAt }`), if the input is a run's input. */
function submittedIn(input: string | null | undefined): z.output<typeof submittedSchema> | undefined {
  try {
    const parsed = submittedSchema.safeParse(JSON.parse(input ?? '{}'));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Record failure: the target of the EventBridge rule on "Step Functions Execution Status Change" (FAILED,
 * TIMED_OUT, ABORTED). The run stays at the state that failed, so it can be redriven after a fix; this
 * marks the lead failed, gives the rep's slot back exactly once (and hands it to a waiting run), and tells
 * the rep's links that the journey has ended. Delivered at least once: every write is idempotent.
 */
export const createHandler = ({
  leads,
  deals,
  reps,
  suppression,
  runs,
}: Pick<Stores, 'leads' | 'deals' | 'reps' | 'suppression'> & { runs: TaskRuns }) =>
  eventHandler(runEndedEvent, async ({ detail, time }) => {
    // The event's own time: a redelivered event writes the same timeline entry, not a second one.
    const at = time ?? new Date().toISOString();
    const errorType = detail.error ?? detail.status;
    metrics.addMetric('LeadFailures', 'Count', 1);
    const submitted = submittedIn(detail.input);
    const leadId = leadIdOf(detail.input);
    logger.error('lead run ended without finishing', { leadId, status: detail.status, errorType });
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
    if (submitted && !stored) await leads.capture(submitted.lead, detail.name, submitted.receivedAt);
    const lead = stored ?? (leadId ? await leads.get(leadId) : undefined);
    // Only the run that owns the lead speaks for it (a merged or superseded run changes nothing).
    if (!lead || lead.activeExecution !== detail.name) return { recorded: false, released: false };
    // The rep's slot and the deal first, the lead's stage last: a lead that reads "failed" is fully recorded.
    let released = false;
    const deal = lead.openDealId ? await deals.get(lead.openDealId) : undefined;
    if (deal && !isClosed(deal.stage)) {
      await deals.markRunEnded(deal.dealId, detail.status, at);
      const rep = config.reps.reps.find((r) => r.id === deal.repId);
      if (rep && (await deals.releaseLoad(deal.dealId, at))) {
        released = await reps.adjustLoad(rep.id, -1, rep.capacity);
        await wakeNextWaiter({ reps, runs }, rep.team);
      }
    }
    await leads.putEvent(lead.id, timeline.failed(at, { errorType, status: detail.status }));
    await leads.setStage(lead.id, 'failed', at);
    return { recorded: true, released };
  });

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  deals: dynamoDeals(table),
  reps: dynamoReps(table),
  suppression: dynamoSuppression(table),
  runs: sfnRuns(),
});
