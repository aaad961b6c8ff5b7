import { contracts } from '#shared/contracts.ts';
import { dynamoStores, type Stores } from '#shared/data/index.ts';
import { type NurtureNext, stageAfterCheck } from '#shared/domain/lead-stage.ts';
import { logger } from '#shared/observability.ts';
import { rescore } from '#shared/rescore.ts';
import { stepHandler } from '#shared/step.ts';

/**
 * Check engagement: after a nurture wait, rescore (engagement decays, clicks and new forms add up)
 * and decide: unsubscribed, now sales-ready, another nurture step, or sequence done.
 */
export const createHandler = ({ leads, suppression }: Pick<Stores, 'leads' | 'suppression'>) =>
  stepHandler(contracts.checkEngagement, async ({ leadId, nurture }) => {
    const now = new Date();
    const at = now.toISOString();
    const { lead, score, route } = await rescore(leads, leadId, now);
    let next: NurtureNext;
    if (await suppression.isSuppressed(lead.email)) next = 'unsubscribed';
    else if (route === 'sales-ready') next = 'sales-ready';
    else if (nurture.done) next = 'done';
    else next = 'continue';
    await leads.setStage(leadId, stageAfterCheck(next), at, { score });
    await leads.putEvent(leadId, {
      type: 'engagement-checked',
      at,
      data: { total: score.total, engagement: score.engagement, next },
    });
    logger.info('engagement checked', { leadId, total: score.total, next });
    return { next, total: score.total, engagement: score.engagement };
  });

export const handler = createHandler(dynamoStores());
