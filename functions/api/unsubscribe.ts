import { config } from '#shared/config.ts';
import type { Stores } from '#shared/data/index.ts';
import { verifyLink } from '#shared/domain/links.ts';
import { type HttpRequest, httpHandler, page } from '#shared/http.ts';
import { linkKeyOf } from '#shared/link-key.ts';
import { escapeHtml } from '#shared/mail.ts';
import { logger, metrics } from '#shared/observability.ts';
import { signalLead } from '#shared/signals.ts';
import { appStores } from '#shared/stores.ts';

/** RFC 8058: the one-click POST carries `List-Unsubscribe=One-Click` (URL-encoded, or as a multipart field). */
function isOneClick(body: unknown): boolean {
  if (body && typeof body === 'object')
    return (body as Record<string, unknown>)['List-Unsubscribe'] === 'One-Click';
  return typeof body === 'string' && body.includes('List-Unsubscribe=One-Click');
}

/**
 * GET /unsubscribe?t=…: a confirmation page (a link scanner's GET changes nothing).
 * POST /unsubscribe?t=…: RFC 8058 one-click (body `List-Unsubscribe=One-Click`) or the page's button;
 * takes effect at once: the lead's run is woken and ends as Unsubscribed.
 */
export const createHandler = ({
  leads,
  suppression,
  signals,
}: Pick<Stores, 'leads' | 'suppression' | 'signals'>) =>
  httpHandler(
    async (event: HttpRequest, context) => {
      const token = event.queryStringParameters?.t ?? '';
      const claims = verifyLink(token, linkKeyOf(context), new Date(), ['unsubscribe']);
      if (event.requestContext.http.method !== 'POST') {
        return page(
          200,
          'Unsubscribe',
          `<p>Stop receiving marketing emails from ${escapeHtml(config.app.sender.fromName)}?</p><form method="post" action="?t=${escapeHtml(token)}"><button type="submit">Unsubscribe</button></form>`,
        );
      }
      const lead = await leads.get(claims.subject);
      if (lead) {
        const at = new Date().toISOString();
        const how = isOneClick(event.body) ? 'one-click' : 'page';
        await suppression.suppress(lead.email, 'unsubscribed', how, at);
        await leads.putEvent(lead.id, { type: 'unsubscribed', at, data: { how } });
        metrics.addMetric('Unsubscribes', 'Count', 1);
        // Wake the lead's nurture wait: the run ends as Unsubscribed now, not at the next due email.
        await signalLead(signals, lead.id, 'unsubscribe');
        logger.info('unsubscribed', { leadId: lead.id });
      }
      return page(
        200,
        'You are unsubscribed',
        '<p>You will not receive further marketing emails from us.</p>',
      );
    },
    // Mail clients may post the one-click body as multipart: take any body, parse what middy can.
    { format: 'html', body: { maxBytes: 4096, strict: false }, linkKey: true },
  );

export const handler = createHandler(appStores());
