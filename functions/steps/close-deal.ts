import { config, funnelOptions, leadRetention } from '#functions/config/bundled.ts';
import { wakeNextWaiter } from '#functions/deal/capacity.ts';
import { isClosed, shouldRecycle, stageAfterClose, transition } from '#functions/deal/deal.ts';
import { dynamoDeals } from '#functions/deal/deal-store.ts';
import { dynamoReps } from '#functions/deal/rep-store.ts';
import { dynamoFunnel } from '#functions/funnel/funnel-store.ts';
import { recordMilestones } from '#functions/funnel/milestones.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { NotFoundError } from '#functions/platform/errors.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { sfnRuns, type TaskRuns } from '#functions/platform/runs.ts';
import { stepHandler, TransientError } from '#functions/platform/step.ts';
import { appTable } from '#functions/platform/table.ts';
import { contracts } from '#functions/steps/contracts.ts';
import type { Stores } from '#functions/stores.ts';

/**
 * Close deal / Close as stale: records won (revenue), lost (reason) or stale, frees the rep's
 * capacity once, moves the lead's stage and decides whether a "not now" loss goes back to nurture.
 */
export const createHandler = ({
  leads,
  deals,
  reps,
  funnel,
  runs,
}: Pick<Stores, 'leads' | 'deals' | 'reps' | 'funnel'> & { runs: TaskRuns }) =>
  stepHandler(contracts.closeDeal, async ({ leadId, dealId, cycle, outcome }) => {
    let deal = await deals.get(dealId);
    if (!deal) throw new NotFoundError(`Deal ${dealId}`);
    // A retry writes what the first attempt wrote: the same close time, so one timeline entry.
    const at = deal.closeRecordedAt ?? new Date().toISOString();
    if (!isClosed(deal.stage)) {
      // The rep page closes the deal before resuming the run; a callback from elsewhere (CLI, timeout) lands here.
      const next = transition(deal, outcome);
      const ok = await deals.update(
        dealId,
        { stage: deal.stage },
        { ...next, repId: deal.repId, updatedAt: at },
        ['taskToken', 'tokenFor'],
      );
      if (!ok) throw new TransientError(`Deal ${dealId} changed while closing`);
      deal = { ...deal, ...next };
    }
    const recycle = shouldRecycle(deal, config.nurture.recycleLostReasons);
    if (await deals.markCloseRecorded(dealId, at)) {
      metrics.addMetric(`Deals_${deal.stage}`, 'Count', 1);
      if (deal.stage === 'won' && deal.amount) metrics.addMetric('Revenue', 'Count', deal.amount);
    }
    // The funnel: won or lost (a rep who reports an outcome has responded: accepted, if not yet), or no
    // response (stale); a recycled loss opens the next cycle at MQL.
    const lead = await leads.get(leadId);
    if (lead) {
      const { executionName: execution, repId: rep, amount, lostReason } = deal;
      // Graded with the score the rep was shown (a deal older than the snapshot: the lead's now).
      const seen = deal.seen ? { score: deal.seen } : {};
      // The rep's rating given with the outcome is counted with it (not with an acceptance it implied).
      const rated =
        deal.closeRating && deal.stage !== 'stale'
          ? { rating: { milestone: deal.stage, value: deal.closeRating } }
          : {};
      const where = {
        leadId,
        execution,
        cycle,
        dealId,
        at,
        lead,
        ...seen,
        ...rated,
        rep,
        amount,
        lostReason,
      };
      const outcome = deal.stage === 'stale' ? ['stale' as const] : ['accepted' as const, deal.stage];
      await recordMilestones({ funnel }, where, outcome);
      if (recycle)
        await recordMilestones({ funnel }, { leadId, execution, cycle: cycle + 1, at, lead }, ['mql']);
    }
    // The rep's slot comes back exactly once per hold, and goes to the run that has waited longest.
    const rep = config.reps.reps.find((r) => r.id === deal.repId);
    if (rep && (await deals.releaseLoad(dealId, at))) {
      await reps.adjustLoad(rep.id, -1, rep.capacity);
      await wakeNextWaiter({ reps, runs }, rep.team);
    }
    await leads.setStage(
      leadId,
      stageAfterClose(deal.stage, recycle),
      at,
      recycle ? { engagementSince: at } : {},
      ['openDealId'],
    );
    await leads.putEvent(leadId, timeline.closed(at, deal, recycle));
    logger.info('deal closed', { leadId, dealId, stage: deal.stage, recycle });
    return { stage: deal.stage, recycle, nextCycle: cycle + 1 };
  });

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  deals: dynamoDeals(table),
  reps: dynamoReps(table),
  funnel: dynamoFunnel(table, funnelOptions),
  runs: sfnRuns(),
});
