import { leadRetention } from '#functions/config/bundled.ts';
import { dynamoDeals } from '#functions/deal/deal-store.ts';
import { dynamoReps } from '#functions/deal/rep-store.ts';
import { type RunEndedDeps, recordRunEnded } from '#functions/events/run-ended.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { dynamoSubmissions } from '#functions/lead/submission-store.ts';
import { dynamoSuppression } from '#functions/mail/suppression-store.ts';
import { eventHandler } from '#functions/platform/event.ts';
import { sfnRuns } from '#functions/platform/runs.ts';
import { appTable } from '#functions/platform/table.ts';
import { runEndedEvent } from '#functions/steps/contracts.ts';

/**
 * Record failure: the target of the EventBridge rule on "Step Functions Execution Status Change" (FAILED,
 * TIMED_OUT, ABORTED). The run stays at the state that failed, so it can be redriven after a fix; this
 * marks the lead failed, gives the rep's slot back exactly once (and hands it to a waiting run), and tells
 * the rep's links that the journey has ended (run-ended.ts, which reconcile shares for a lost event).
 * Delivered at least once: every write is idempotent.
 */
export const createHandler = (deps: RunEndedDeps) =>
  eventHandler(runEndedEvent, async ({ detail, time }) =>
    // The event's own time: a redelivered event writes the same timeline entry, not a second one.
    recordRunEnded(deps, detail, time ?? new Date().toISOString()),
  );

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  deals: dynamoDeals(table),
  reps: dynamoReps(table),
  suppression: dynamoSuppression(table),
  submissions: dynamoSubmissions(table, leadRetention),
  runs: sfnRuns(),
});
