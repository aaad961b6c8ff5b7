import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { store } from '#shared/data/store.ts';
import { logger, metrics } from '#shared/observability.ts';
import { stepHandler } from '#shared/step.ts';

const input = z.object({
  leadId: z.string().optional(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

/** Record failure: a caught error ends the run here, visible on the lead and in metrics; never silent. */
export const handler = stepHandler(input, async ({ leadId, error }) => {
  const at = new Date().toISOString();
  const errorType = error?.Error ?? 'Unknown';
  metrics.addMetric('LeadFailures', 'Count', 1);
  logger.error('lead processing failed', { leadId, errorType });
  if (leadId) {
    try {
      await store.setLeadStage(leadId, 'failed', at);
      await store.putEvent(leadId, { type: 'failed', at, data: { errorType } });
    } catch (e) {
      // The lead was never captured: nothing to mark, the metric and log above still record it.
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }
  return { recorded: true, errorType };
});
