import { config } from '#shared/config.ts';
import { store } from '#shared/data/store.ts';
import { verifyLink } from '#shared/domain/links.ts';
import { httpHandler, page } from '#shared/http.ts';
import { escapeHtml } from '#shared/mail.ts';
import { logger, metrics } from '#shared/observability.ts';
import { linkSigningKey } from '#shared/secrets.ts';

/**
 * GET /unsubscribe?t=…: a confirmation page (a link scanner's GET changes nothing).
 * POST /unsubscribe?t=…: RFC 8058 one-click (body `List-Unsubscribe=One-Click`) or the page's button;
 * takes effect at once: the next nurture step sees the suppression and ends the run.
 */
export const handler = httpHandler(
  async (event) => {
    const token = event.queryStringParameters?.t ?? '';
    const claims = verifyLink(token, await linkSigningKey(), new Date(), ['unsubscribe']);
    if (event.requestContext.http.method !== 'POST') {
      return page(
        200,
        'Unsubscribe',
        `<p>Stop receiving marketing emails from ${escapeHtml(config.app.sender.fromName)}?</p><form method="post" action="?t=${escapeHtml(token)}"><button type="submit">Unsubscribe</button></form>`,
      );
    }
    const lead = await store.getLead(claims.subject);
    if (lead) {
      const at = new Date().toISOString();
      const oneClick = (event.body ?? '').includes('List-Unsubscribe=One-Click');
      await store.suppress(lead.email, 'unsubscribed', oneClick ? 'one-click' : 'page', at);
      await store.putEvent(lead.id, {
        type: 'unsubscribed',
        at,
        data: { how: oneClick ? 'one-click' : 'page' },
      });
      metrics.addMetric('Unsubscribes', 'Count', 1);
      logger.info('unsubscribed', { leadId: lead.id });
    }
    return page(200, 'You are unsubscribed', '<p>You will not receive further marketing emails from us.</p>');
  },
  { format: 'html' },
);
