import { config, leadRetention } from '#functions/config/bundled.ts';
import { VISITOR_ID_DAYS } from '#functions/config/link-lifetimes.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { dynamoSignals } from '#functions/lead/signal-store.ts';
import { signalLead } from '#functions/lead/signals.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { LinkError, VISITOR_PARAM, verifyLink, visitorId } from '#functions/mail/links.ts';
import { isAutomatedAgent } from '#functions/platform/bots.ts';
import { linkKeyOf, linkPage } from '#functions/platform/link-key.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { sfnRuns, type TaskRuns } from '#functions/platform/runs.ts';
import { appTable } from '#functions/platform/table.ts';
import type { Stores } from '#functions/stores.ts';

const allowedHosts = new Set(config.app.links.clickAllowedHosts);

/** A click by a security scanner: agent looks automated, or it came within seconds of sending. */
export function looksLikeScanner(
  userAgent: string | undefined,
  sentAtS: number | undefined,
  now: Date,
): boolean {
  if (isAutomatedAgent(userAgent)) return true;
  return sentAtS !== undefined && now.getTime() / 1000 - sentAtS < config.app.links.scannerGraceSeconds;
}

/**
 * GET /c?t=…: click tracking. Redirects only to allow-listed hosts (the destination is inside the
 * signed token and checked again), and records engagement unless the click looks like a scanner.
 */
export const createHandler = ({
  leads,
  signals,
  runs,
}: Pick<Stores, 'leads' | 'signals'> & { runs: TaskRuns }) =>
  linkPage().handler(async (event, context) => {
    const now = new Date();
    const claims = verifyLink(event.queryStringParameters?.t ?? '', linkKeyOf(context), now, ['click']);
    let url: URL;
    try {
      url = new URL(claims.audience);
    } catch {
      throw new LinkError('malformed', 'This link is incomplete.');
    }
    if (url.protocol !== 'https:' || !allowedHosts.has(url.hostname)) {
      throw new LinkError('tampered', 'This link points somewhere we do not send people.');
    }
    const scanner = looksLikeScanner(event.headers['user-agent'], claims.iat, now);
    if (!scanner) {
      // One engagement event per lead, destination and minute, however often the link is hit.
      await leads.putEvent(claims.subject, timeline.emailClick(url, now));
      metrics.addMetric('EmailClicks', 'Count', 1);
      // A click is engagement: wake the lead's nurture wait so the score is looked at now.
      await signalLead({ signals, runs }, claims.subject, 'click');
    }
    logger.info('click', { leadId: claims.subject, scanner });
    // The person (not a scanner) gets a site visitor id, which the site's snippet keeps only after consent
    // and takes off the address bar at once (examples/track.js). No referrer (securityHeaders): the
    // destination never sees the signed link.
    if (!scanner)
      url.searchParams.set(
        VISITOR_PARAM,
        visitorId(claims.subject, linkKeyOf(context), now, VISITOR_ID_DAYS),
      );
    return { statusCode: 302, headers: { location: url.toString(), 'cache-control': 'no-store' } };
  });

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  signals: dynamoSignals(table),
  runs: sfnRuns(),
});
