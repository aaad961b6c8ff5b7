import { contracts } from '#shared/contracts.ts';
import { dynamoStores, type Stores } from '#shared/data/index.ts';
import { logger, metrics } from '#shared/observability.ts';
import { stepHandler } from '#shared/step.ts';

/**
 * Capture lead: persists the lead and its email claim. A submission from a lead who already has an
 * active run is merged into that lead (its form counts as engagement) and this run ends.
 */
export const createHandler = ({ leads }: Pick<Stores, 'leads'>) =>
  stepHandler(contracts.capture, async ({ lead, receivedAt, executionName }) => {
    const outcome = await leads.capture(lead, executionName, new Date().toISOString());
    await leads.putEvent(lead.id, {
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

export const handler = createHandler(dynamoStores());
