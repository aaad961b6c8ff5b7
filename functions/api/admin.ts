import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler, { type Route } from '@middy/http-router';
import { config, funnelOptions, leadRetention } from '#functions/config/bundled.ts';
import { dynamoDeals } from '#functions/deal/deal-store.ts';
import { evaluateBreaker } from '#functions/deliverability/breaker.ts';
import { dynamoDeliverability } from '#functions/deliverability/deliverability-store.ts';
import { cohortQuery, cohortReport } from '#functions/funnel/cohort-report.ts';
import { dynamoFunnel } from '#functions/funnel/funnel-store.ts';
import { repFeedbackReport } from '#functions/funnel/rep-feedback-report.ts';
import { funnelReport, reportQuery, scoringFeedbackReport } from '#functions/funnel/reports.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { dynamoRepNotes } from '#functions/lead/rep-note-store.ts';
import { NotFoundError } from '#functions/platform/errors.ts';
import {
  errorAnswers,
  type HttpEvent,
  type HttpResult,
  json,
  notFound,
  securityHeaders,
} from '#functions/platform/http.ts';
import { observed } from '#functions/platform/observability.ts';
import { appTable } from '#functions/platform/table.ts';
import type { Stores } from '#functions/stores.ts';

/**
 * Admin reads (IAM-authorized on the API in AWS):
 *   GET /admin/leads/{leadId}     the lead with its score reasons and timeline
 *   GET /admin/deals/{dealId}     the deal (without its task token)
 *   GET /admin/deliverability     the breaker (tripped or not, why) and the rolling rates against their limits;
 *                                 `firstContact`: the same for first contacts (confirmations, answers to forms)
 *   GET /admin/funnel?from&to&by  counts by stage, conversion, medians, revenue and lost reasons for the UTC
 *                                 days from..to (default: the last 30), optionally by a dimension
 *   GET /admin/cohorts?from&to&by  of the leads captured on the UTC days from..to: how many reached each
 *                                 stage, the median time from capture, revenue won; by source, campaign or form
 *   GET /admin/scoring-feedback?from&to  won / lost / no-response rates by grade, score band and scoring
 *                                 reason, with 95 % intervals, and the best sales-ready threshold; `reps`:
 *                                 what reps said (ratings by source, campaign and form; their notes)
 */
export const createHandler = ({
  leads,
  deals,
  deliverability,
  firstContact,
  funnel,
  repNotes,
}: Pick<Stores, 'leads' | 'deals' | 'deliverability' | 'firstContact' | 'funnel' | 'repNotes'>) => {
  const routes: Route<HttpEvent, HttpResult>[] = [
    {
      method: 'GET',
      path: '/admin/leads/{leadId}',
      handler: async ({ pathParameters }: HttpEvent) => {
        const lead = await leads.get(pathParameters?.leadId ?? '');
        if (!lead) throw new NotFoundError('Lead');
        const { waitToken, ...shown } = lead as typeof lead & { waitToken?: string };
        return json(200, {
          lead: { ...shown, waiting: Boolean(waitToken) },
          timeline: await leads.listEvents(lead.id),
        });
      },
    },
    {
      method: 'GET',
      path: '/admin/deals/{dealId}',
      handler: async ({ pathParameters }: HttpEvent) => {
        const deal = await deals.get(pathParameters?.dealId ?? '');
        if (!deal) throw new NotFoundError('Deal');
        const { taskToken, ...rest } = deal;
        return json(200, { deal: { ...rest, waiting: Boolean(taskToken) } });
      },
    },
    {
      method: 'GET',
      path: '/admin/deliverability',
      handler: async () => {
        const state = await evaluateBreaker(deliverability, new Date());
        // First contacts (functions/mail/emails.ts, MailStream) have their own breaker.
        const first = await evaluateBreaker(firstContact, new Date());
        return json(200, { ...state, firstContact: first, limits: config.app.deliverability });
      },
    },
    {
      method: 'GET',
      path: '/admin/funnel',
      handler: async ({ queryStringParameters }: HttpEvent) =>
        json(200, await funnelReport({ funnel }, reportQuery(queryStringParameters ?? {}))),
    },
    {
      method: 'GET',
      path: '/admin/cohorts',
      handler: async ({ queryStringParameters }: HttpEvent) =>
        json(200, await cohortReport({ funnel }, cohortQuery(queryStringParameters ?? {}))),
    },
    {
      method: 'GET',
      path: '/admin/scoring-feedback',
      handler: async ({ queryStringParameters: query }: HttpEvent) => {
        const { from, to } = reportQuery({ from: query?.from, to: query?.to });
        const [feedback, reps] = await Promise.all([
          scoringFeedbackReport({ funnel }, { from, to }),
          repFeedbackReport({ funnel, repNotes }, { from, to }),
        ]);
        return json(200, { ...feedback, reps });
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
  deliverability: dynamoDeliverability(table),
  firstContact: dynamoDeliverability(table, 'first-contact'),
  funnel: dynamoFunnel(table, funnelOptions),
  repNotes: dynamoRepNotes(table, leadRetention),
});
