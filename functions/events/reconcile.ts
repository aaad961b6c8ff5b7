import { leadRetention } from '#functions/config/bundled.ts';
import { dynamoDeals } from '#functions/deal/deal-store.ts';
import { dynamoReps } from '#functions/deal/rep-store.ts';
import { reconcileRuns } from '#functions/events/reconcile-runs.ts';
import type { RunEndedDeps } from '#functions/events/run-ended.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { dynamoSubmissions } from '#functions/lead/submission-store.ts';
import { dynamoSuppression } from '#functions/mail/suppression-store.ts';
import { requireEnv } from '#functions/platform/env.ts';
import { eventHandler } from '#functions/platform/event.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { type RunLookup, sfnRunLookup, sfnRuns } from '#functions/platform/runs.ts';
import { appTable } from '#functions/platform/table.ts';
import { reconcileSchedule } from '#functions/steps/contracts.ts';

/**
 * ReconcileRuns: the hourly schedule's target (an EventBridge rule). Does what Record failure would have
 * done for runs whose status-change event was lost (reconcile-runs.ts); logs each repair by ids only.
 */
export const createHandler = (deps: RunEndedDeps & { lookup: RunLookup }) =>
  eventHandler(reconcileSchedule, async () => {
    const r = await reconcileRuns(deps, { dryRun: false });
    for (const f of r.findings) logger.warn('reconciled', { ...f });
    metrics.addMetric('RunsReconciled', 'Count', r.findings.length);
    logger.info('reconcile done', { leads: r.leadsChecked, deals: r.dealsChecked, found: r.findings.length });
    return { leadsChecked: r.leadsChecked, dealsChecked: r.dealsChecked, found: r.findings.length };
  });

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  deals: dynamoDeals(table),
  reps: dynamoReps(table),
  suppression: dynamoSuppression(table),
  submissions: dynamoSubmissions(table, leadRetention),
  runs: sfnRuns(),
  lookup: sfnRunLookup({ stateMachineArn: requireEnv('STATE_MACHINE_ARN') }),
});
