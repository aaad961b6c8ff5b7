import { contracts } from '#shared/contracts.ts';
import { dynamoStores, type Stores } from '#shared/data/index.ts';
import { NotFoundError } from '#shared/domain/errors.ts';
import { logger, metrics } from '#shared/observability.ts';
import { stepHandler } from '#shared/step.ts';

/** Record failure: a caught error ends the run here, visible on the lead and in metrics; never silent. */
export const createHandler = ({ leads }: Pick<Stores, 'leads'>) =>
  stepHandler(contracts.recordFailure, async ({ leadId, error }) => {
    const at = new Date().toISOString();
    const errorType = error?.Error ?? 'Unknown';
    metrics.addMetric('LeadFailures', 'Count', 1);
    logger.error('lead processing failed', { leadId, errorType });
    if (leadId) {
      try {
        await leads.setStage(leadId, 'failed', at);
        await leads.putEvent(leadId, { type: 'failed', at, data: { errorType } });
      } catch (e) {
        // The lead was never captured: nothing to mark, the metric and log above still record it.
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
    return { recorded: true, errorType };
  });

export const handler = createHandler(dynamoStores());
