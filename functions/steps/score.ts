import { contracts } from '#shared/contracts.ts';
import { dynamoStores, type Stores } from '#shared/data/index.ts';
import { stageForRoute } from '#shared/domain/lead-stage.ts';
import { logger, metrics } from '#shared/observability.ts';
import { rescore } from '#shared/rescore.ts';
import { stepHandler } from '#shared/step.ts';

/** Score lead: fit + engagement with reasons, then the route (disqualify / sales-ready / nurture). */
export const createHandler = ({ leads }: Pick<Stores, 'leads'>) =>
  stepHandler(contracts.score, async ({ leadId }) => {
    const now = new Date();
    const at = now.toISOString();
    const { score, route } = await rescore(leads, leadId, now);
    await leads.setStage(leadId, stageForRoute(route), at, { score });
    await leads.putEvent(leadId, {
      type: 'scored',
      at,
      data: {
        total: score.total,
        fit: score.fit,
        engagement: score.engagement,
        grade: score.grade,
        route,
        flags: score.flags,
      },
    });
    metrics.addMetric(`Route_${route}`, 'Count', 1);
    logger.info('lead scored', { leadId, total: score.total, grade: score.grade, route });
    return { total: score.total, fit: score.fit, engagement: score.engagement, grade: score.grade, route };
  });

export const handler = createHandler(dynamoStores());
