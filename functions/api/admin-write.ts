import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler, { type Route } from '@middy/http-router';
import { config, leadRetention } from '#functions/config/bundled.ts';
import { wakeNextWaiter } from '#functions/deal/capacity.ts';
import { isClosed } from '#functions/deal/deal.ts';
import { dynamoDeals } from '#functions/deal/deal-store.ts';
import { dynamoReps } from '#functions/deal/rep-store.ts';
import { dynamoDeliverability } from '#functions/deliverability/deliverability-store.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { dynamoSuppression } from '#functions/mail/suppression-store.ts';
import { requireEnv } from '#functions/platform/env.ts';
import { NotFoundError, ValidationError } from '#functions/platform/errors.ts';
import {
  errorAnswers,
  type HttpEvent,
  type HttpResult,
  json,
  notFound,
  securityHeaders,
} from '#functions/platform/http.ts';
import { logger, metrics, observed } from '#functions/platform/observability.ts';
import { type Runs, sfnRuns } from '#functions/platform/runs.ts';
import { appTable } from '#functions/platform/table.ts';
import type { Stores } from '#functions/stores.ts';

/**
 * Admin writes (IAM-authorized on the API in AWS):
 *   DELETE /admin/leads/{leadId}          erase a lead (GDPR): stop its run, free its rep, delete its items,
 *                                         keep only a hash of the address in suppression (never mailed again)
 *   POST   /admin/deliverability/reset    close the deliverability breaker and restart its window: nurture
 *                                         sends resume (paused runs look again within the hour);
 *                                         `?stream=first-contact` resets the first contacts' breaker instead
 */
export const createHandler = ({
  leads,
  deals,
  reps,
  suppression,
  deliverability,
  firstContact,
  runs,
}: Pick<Stores, 'leads' | 'deals' | 'reps' | 'suppression' | 'deliverability' | 'firstContact'> & {
  runs: Runs;
}) => {
  const routes: Route<HttpEvent, HttpResult>[] = [
    {
      method: 'POST',
      path: '/admin/deliverability/reset',
      handler: async ({ queryStringParameters }: HttpEvent) => {
        const which = queryStringParameters?.stream ?? 'known';
        if (which !== 'known' && which !== 'first-contact')
          throw new ValidationError({ stream: ['must be known or first-contact'] });
        const breaker = which === 'known' ? deliverability : firstContact;
        // The window restarts too: the counts that tripped the breaker would trip it again on the next
        // event. Window first: an event evaluated in between then finds nothing to trip on.
        await breaker.restartWindow(new Date());
        const reset = await breaker.reset();
        logger.warn('deliverability breaker reset by an admin', { stream: which, wasTripped: reset });
        return json(200, { stream: which, reset, state: await breaker.state() });
      },
    },
    {
      method: 'DELETE',
      path: '/admin/leads/{leadId}',
      handler: async ({ pathParameters }: HttpEvent) => {
        const at = new Date().toISOString();
        const leadId = pathParameters?.leadId ?? '';
        const lead = await leads.get(leadId);
        if (!lead) throw new NotFoundError('Lead');
        // Suppressed as erased first: Record failure, woken by the stopped run, then leaves the lead alone.
        await suppression.suppress(lead.email, 'erased', 'admin', at);
        // Then the run: nothing may write the lead again once it is gone.
        const stopped = lead.activeExecution
          ? await runs.stop(lead.activeExecution, 'Erased', 'The lead was erased at their request')
          : false;
        // The rep's slot comes back once, and the deal's links answer that the journey has ended.
        const deal = lead.openDealId ? await deals.get(lead.openDealId) : undefined;
        if (deal && !isClosed(deal.stage)) {
          await deals.markRunEnded(deal.dealId, 'ERASED', at);
          const rep = config.reps.reps.find((r) => r.id === deal.repId);
          if (rep && (await deals.releaseLoad(deal.dealId, at))) {
            await reps.adjustLoad(rep.id, -1, rep.capacity);
            await wakeNextWaiter({ reps, runs }, rep.team);
          }
        }
        const deleted = await leads.erase(leadId);
        metrics.addMetric('LeadsErased', 'Count', 1);
        logger.warn('lead erased', { leadId, deleted, stopped });
        return json(200, { erased: true, itemsDeleted: deleted, runStopped: stopped });
      },
    },
  ];
  return middy<HttpEvent, HttpResult>()
    .use(observed())
    .use(httpHeaderNormalizer())
    .use(securityHeaders())
    .use(errorAnswers('json'))
    .handler(httpRouterHandler({ routes, notFoundResponse: notFound }));
};

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  deals: dynamoDeals(table),
  reps: dynamoReps(table),
  suppression: dynamoSuppression(table),
  deliverability: dynamoDeliverability(table),
  firstContact: dynamoDeliverability(table, 'first-contact'),
  runs: sfnRuns({ stateMachineArn: requireEnv('STATE_MACHINE_ARN') }),
});
