import { dynamoStores, type Stores } from '#shared/data/index.ts';
import { NotFoundError } from '#shared/domain/errors.ts';
import { httpHandler, json } from '#shared/http.ts';

/**
 * Admin reads (IAM-authorized on the API in AWS):
 *   GET /admin/leads/{leadId}  the lead with its score reasons and timeline
 *   GET /admin/deals/{dealId}  the deal (without its task token)
 */
export const createHandler = ({ leads, deals }: Pick<Stores, 'leads' | 'deals'>) =>
  httpHandler(async (event) => {
    const { leadId, dealId } = event.pathParameters ?? {};
    if (leadId) {
      const lead = await leads.get(leadId);
      if (!lead) throw new NotFoundError('Lead');
      return json(200, { lead, timeline: await leads.listEvents(leadId) });
    }
    if (dealId) {
      const deal = await deals.get(dealId);
      if (!deal) throw new NotFoundError('Deal');
      const { taskToken, ...rest } = deal;
      return json(200, { deal: { ...rest, waiting: Boolean(taskToken) } });
    }
    throw new NotFoundError('Route');
  });

export const handler = createHandler(dynamoStores());
