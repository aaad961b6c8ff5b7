import { z } from 'zod';
import { store } from '#shared/data/store.ts';
import { logger, metrics } from '#shared/observability.ts';
import { rescore, STAGE_FOR_ROUTE } from '#shared/rescore.ts';
import { stepHandler } from '#shared/step.ts';

const input = z.object({ leadId: z.string().min(1) });

/** Score lead: fit + engagement with reasons, then the route (disqualify / sales-ready / nurture). */
export const handler = stepHandler(input, async ({ leadId }) => {
  const now = new Date();
  const { score, route } = await rescore(leadId, now);
  await store.setLeadStage(leadId, STAGE_FOR_ROUTE[route], now.toISOString(), { score });
  await store.putEvent(leadId, {
    type: 'scored',
    at: now.toISOString(),
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
