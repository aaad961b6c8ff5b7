import { z } from 'zod';
import { config } from '#shared/config.ts';
import { markDealCloseRecorded, store } from '#shared/data/store.ts';
import { isClosed, LOST_REASONS, shouldRecycle, transition } from '#shared/domain/deal.ts';
import { NotFoundError } from '#shared/domain/errors.ts';
import { logger, metrics } from '#shared/observability.ts';
import { stepHandler, TransientError } from '#shared/step.ts';

const input = z.object({
  leadId: z.string().min(1),
  dealId: z.string().min(1),
  cycle: z.number().int().min(0),
  outcome: z.discriminatedUnion('action', [
    z.object({ action: z.literal('won'), amount: z.number().min(0) }),
    z.object({ action: z.literal('lost'), reason: z.enum(LOST_REASONS) }),
    z.object({ action: z.literal('stale') }),
  ]),
});

/**
 * Close deal / Close as stale: records won (revenue), lost (reason) or stale, frees the rep's
 * capacity once, moves the lead's stage and decides whether a "not now" loss goes back to nurture.
 */
export const handler = stepHandler(input, async ({ leadId, dealId, cycle, outcome }) => {
  const at = new Date().toISOString();
  let deal = await store.getDeal(dealId);
  if (!deal) throw new NotFoundError(`Deal ${dealId}`);
  if (!isClosed(deal.stage)) {
    // The rep page closes the deal before resuming the run; a callback from elsewhere (CLI, timeout) lands here.
    const action =
      outcome.action === 'won'
        ? ({ type: 'won', amount: outcome.amount } as const)
        : outcome.action === 'lost'
          ? ({ type: 'lost', reason: outcome.reason } as const)
          : ({ type: 'stale' } as const);
    const next = transition(deal, action);
    const ok = await store.updateDeal(
      dealId,
      { stage: deal.stage },
      { ...next, repId: deal.repId, updatedAt: at },
      ['taskToken', 'tokenFor'],
    );
    if (!ok) throw new TransientError(`Deal ${dealId} changed while closing`);
    deal = { ...deal, ...next };
  }
  const recycle = shouldRecycle(deal, config.nurture.recycleLostReasons);
  if (await markDealCloseRecorded(dealId, at)) {
    const rep = config.reps.reps.find((r) => r.id === deal.repId);
    if (rep) await store.adjustRepLoad(rep.id, -1, rep.capacity);
    metrics.addMetric(`Deals_${deal.stage}`, 'Count', 1);
    if (deal.stage === 'won' && deal.amount) metrics.addMetric('Revenue', 'Count', deal.amount);
  }
  const leadStage = recycle
    ? 'nurturing'
    : deal.stage === 'accepted' || deal.stage === 'assigned'
      ? 'assigned'
      : deal.stage;
  await store.setLeadStage(leadId, leadStage, at, recycle ? { engagementSince: at } : {});
  await store.putEvent(leadId, {
    type: 'closed',
    at,
    data: { dealId, stage: deal.stage, amount: deal.amount, lostReason: deal.lostReason, recycled: recycle },
  });
  logger.info('deal closed', { leadId, dealId, stage: deal.stage, recycle });
  return { stage: deal.stage, recycle, nextCycle: cycle + 1 };
});
