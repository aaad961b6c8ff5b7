import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import { config, leadRetention } from '#functions/config/bundled.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { dynamoSignals } from '#functions/lead/signal-store.ts';
import { signalLead } from '#functions/lead/signals.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { verifyLink } from '#functions/mail/links.ts';
import { isAutomatedAgent } from '#functions/platform/bots.ts';
import { requireEnv } from '#functions/platform/env.ts';
import { ValidationError } from '#functions/platform/errors.ts';
import {
  errorAnswers,
  type HttpEvent,
  type HttpRequest,
  type HttpResult,
  originGuard,
  requestBody,
  securityHeaders,
} from '#functions/platform/http.ts';
import { linkKeyMiddleware, linkKeyOf } from '#functions/platform/link-key.ts';
import { logger, metrics, observed } from '#functions/platform/observability.ts';
import { sfnRuns, type TaskRuns } from '#functions/platform/runs.ts';
import { appTable } from '#functions/platform/table.ts';
import type { Stores } from '#functions/stores.ts';

const allowedOrigins = requireEnv('FORM_ALLOWED_ORIGINS').split(' ').filter(Boolean);
const siteHosts = new Set(config.app.links.clickAllowedHosts);
const pages = config.scoring.intent.pages;

/** 204: taken, nothing to say (also for what is not recorded: the snippet never needs to know why). */
const noContent = (): HttpResult => ({ statusCode: 204, headers: { 'cache-control': 'no-store' } });

/** The page's path as the scoring config names pages: lower case, no trailing slash (but `/`). */
export function pagePath(url: URL): string {
  const path = url.pathname.toLowerCase().replace(/\/+$/, '');
  return path === '' ? '/' : path;
}

/** The posted view: a visitor id and the page's URL on one of the company's sites. */
function viewOf(body: unknown): { token: string; url: URL } {
  const b = (body ?? {}) as Record<string, unknown>;
  const errors: Record<string, string[]> = {};
  const token = typeof b.v === 'string' ? b.v : '';
  if (!token) errors.v = ['is required (the visitor id)'];
  let url: URL | undefined;
  try {
    url = new URL(String(b.url ?? ''));
  } catch {
    errors.url = ['must be the page’s URL'];
  }
  if (url && (url.protocol !== 'https:' || !siteHosts.has(url.hostname)))
    errors.url = ['must be an https page of one of the company’s sites (links.clickAllowedHosts)'];
  if (Object.keys(errors).length || !url) throw new ValidationError(errors);
  return { token, url };
}

/**
 * POST /events: a page view from the company's site (examples/track.js, only after the visitor's consent),
 * with the visitor id a tracked click handed over. A view of a high-intent page (`scoring.intent.pages`)
 * is put on the lead's timeline (one per lead and minute) and wakes the lead's nurture wait, whose rescore
 * may send the lead to sales; any other page, a bot, or a lead no longer kept records nothing (204). A
 * forged or expired id is 403, a malformed body 400. OPTIONS /events: the CORS preflight.
 */
export const createHandler = ({
  leads,
  signals,
  runs,
}: Pick<Stores, 'leads' | 'signals'> & { runs: TaskRuns }) =>
  middy<HttpEvent, HttpResult>()
    .use(observed())
    .use(httpHeaderNormalizer())
    .use(
      httpCors({
        origins: allowedOrigins,
        methods: 'POST, OPTIONS',
        headers: 'content-type',
        maxAge: 600,
        disableBeforePreflightResponse: false,
      }),
    )
    .use(securityHeaders())
    .use(errorAnswers('json'))
    .use(originGuard(allowedOrigins))
    .use(requestBody({ maxBytes: 2048, strict: true }))
    .use(linkKeyMiddleware())
    .handler<HttpEvent, HttpResult>(async (event: HttpRequest, context) => {
      const { token, url } = viewOf(event.body);
      const now = new Date();
      const claims = verifyLink(token, linkKeyOf(context), now, ['visit']);
      if (isAutomatedAgent(event.headers['user-agent'])) {
        metrics.addMetric('VisitsFromBots', 'Count', 1);
        return noContent();
      }
      const path = pagePath(url);
      if (pages[path] === undefined) return noContent();
      // An erased (or expired) lead gets nothing new under its id.
      if (!(await leads.get(claims.subject))) return noContent();
      const visit = new URL(url.origin);
      visit.pathname = path;
      await leads.putEvent(claims.subject, timeline.pageVisit(visit, now));
      metrics.addMetric('HighIntentVisits', 'Count', 1);
      // A visit is engagement: wake the lead's nurture wait so the score is looked at now.
      await signalLead({ signals, runs }, claims.subject, 'visit');
      logger.info('high-intent visit', { leadId: claims.subject, path });
      return noContent();
    });

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  signals: dynamoSignals(table),
  runs: sfnRuns(),
});
