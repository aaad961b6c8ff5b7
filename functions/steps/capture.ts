import { z } from 'zod';
import { store } from '#shared/data/store.ts';
import { leadSchema } from '#shared/domain/lead.ts';
import { logger, metrics } from '#shared/observability.ts';
import { stepHandler } from '#shared/step.ts';

const input = z.object({ lead: leadSchema, receivedAt: z.iso.datetime(), executionName: z.string().min(1) });

/**
 * Capture lead: persists the lead and its email claim. A submission from a lead who already has an
 * active run is merged into that lead (its form counts as engagement) and this run ends.
 */
export const handler = stepHandler(input, async ({ lead, receivedAt, executionName }) => {
  const outcome = await store.captureLead(lead, executionName, new Date().toISOString());
  await store.putEvent(lead.id, {
    type: 'form',
    at: receivedAt,
    data: {
      formType: lead.formType,
      executionName,
      ...(lead.utmSource
        ? { utmSource: lead.utmSource, utmMedium: lead.utmMedium, utmCampaign: lead.utmCampaign }
        : {}),
      merged: outcome === 'merged',
    },
  });
  metrics.addMetric(outcome === 'merged' ? 'LeadsMerged' : 'LeadsCaptured', 'Count', 1);
  logger.info('lead captured', { leadId: lead.id, outcome });
  return { leadId: lead.id, outcome };
});
