import { z } from 'zod';
import { store } from '#shared/data/store.ts';
import { logger } from '#shared/observability.ts';
import { rescore } from '#shared/rescore.ts';
import { stepHandler } from '#shared/step.ts';

const input = z.object({ leadId: z.string().min(1), nurture: z.object({ done: z.boolean() }) });

/**
 * Check engagement: after a nurture wait, rescore (engagement decays, clicks and new forms add up)
 * and decide: unsubscribed, now sales-ready, another nurture step, or sequence done.
 */
export const handler = stepHandler(input, async ({ leadId, nurture }) => {
  const now = new Date();
  const at = now.toISOString();
  const { lead, score, route } = await rescore(leadId, now);
  let next: 'unsubscribed' | 'sales-ready' | 'done' | 'continue';
  if (await store.isSuppressed(lead.email)) next = 'unsubscribed';
  else if (route === 'sales-ready') next = 'sales-ready';
  else if (nurture.done) next = 'done';
  else next = 'continue';
  const stage = (
    {
      unsubscribed: 'unsubscribed',
      'sales-ready': 'sales-ready',
      done: 'nurtured',
      continue: 'nurturing',
    } as const
  )[next];
  await store.setLeadStage(leadId, stage, at, { score });
  await store.putEvent(leadId, {
    type: 'engagement-checked',
    at,
    data: { total: score.total, engagement: score.engagement, next },
  });
  logger.info('engagement checked', { leadId, total: score.total, next });
  return { next, total: score.total, engagement: score.engagement };
});
