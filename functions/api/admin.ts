import { store } from '#shared/data/store.ts';
import { NotFoundError } from '#shared/domain/errors.ts';
import { httpHandler, json } from '#shared/http.ts';

/**
 * Admin reads (IAM-authorized on the API in AWS):
 *   GET /admin/leads/{leadId}  the lead with its score reasons and timeline
 *   GET /admin/deals/{dealId}  the deal (without its task token)
 */
export const handler = httpHandler(async (event) => {
  const { leadId, dealId } = event.pathParameters ?? {};
  if (leadId) {
    const lead = await store.getLead(leadId);
    if (!lead) throw new NotFoundError('Lead');
    const timeline = await store.listEvents(leadId);
    const { pk, sk, gsi2pk, gsi2sk, ...rest } = lead as typeof lead & Record<string, unknown>;
    return json(200, { lead: rest, timeline });
  }
  if (dealId) {
    const deal = await store.getDeal(dealId);
    if (!deal) throw new NotFoundError('Deal');
    const { taskToken, pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, ...rest } = deal as typeof deal &
      Record<string, unknown>;
    return json(200, { deal: { ...rest, waiting: Boolean(taskToken) } });
  }
  throw new NotFoundError('Route');
});
