import { config, leadRetention } from '#functions/config/bundled.ts';
import { answerFor, isClosed } from '#functions/deal/deal.ts';
import { dynamoDeals } from '#functions/deal/deal-store.ts';
import { dynamoReps } from '#functions/deal/rep-store.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { logger } from '#functions/platform/observability.ts';
import { sfnRuns, type TaskRuns } from '#functions/platform/runs.ts';
import { StepInputError, stepHandler, TransientError } from '#functions/platform/step.ts';
import { appTable } from '#functions/platform/table.ts';
import { contracts } from '#functions/steps/contracts.ts';
import type { Stores } from '#functions/stores.ts';

/**
 * Await rep acceptance / Await deal outcome (`.waitForTaskToken`): stores the task token on the deal,
 * server-side only; the rep's signed link later resumes the run with SendTaskSuccess. If the rep was
 * faster than this step (acted before the token was stored), it resumes the run itself at once.
 */
export const createHandler = ({
  leads,
  deals,
  reps,
  runs,
}: Pick<Stores, 'leads' | 'deals' | 'reps'> & { runs: TaskRuns }) =>
  stepHandler(contracts.awaitRep, async ({ taskToken, dealId, attempt, waitingFor }) => {
    for (let tries = 0; tries < 2; tries++) {
      const deal = await deals.get(dealId);
      if (!deal || deal.attempt !== attempt)
        throw new StepInputError(`Deal ${dealId} is not at attempt ${attempt}`);
      // A redriven run takes back the rep's slot its deal gave up when the run failed, and the lead is
      // with its rep again.
      const rep = config.reps.reps.find((r) => r.id === deal.repId);
      if (rep && deal.loadReleasedAt && !isClosed(deal.stage) && (await deals.holdLoad(dealId))) {
        await reps.adjustLoad(rep.id, 1, Number.MAX_SAFE_INTEGER);
        const at = new Date().toISOString();
        await leads.setStage(deal.leadId, 'assigned', at, { ownerRepId: rep.id, openDealId: dealId });
        await leads.putEvent(deal.leadId, timeline.redriven(at, dealId));
      }
      const answer = answerFor(deal, waitingFor);
      if (answer) {
        await runs.resume(taskToken, answer);
        logger.info('rep answered before the wait', { dealId, attempt, waitingFor });
        return { parked: false };
      }
      const stored = await deals.update(
        dealId,
        { attempt, stage: deal.stage },
        { taskToken, tokenFor: waitingFor, updatedAt: new Date().toISOString() },
      );
      if (stored) {
        logger.info('waiting for rep', { dealId, attempt, waitingFor });
        return { parked: true };
      }
      // The rep acted between the read and the write: read again and answer from what they did.
    }
    throw new TransientError(`Deal ${dealId} kept changing while parking the task token`);
  });

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  deals: dynamoDeals(table),
  reps: dynamoReps(table),
  runs: sfnRuns(),
});
