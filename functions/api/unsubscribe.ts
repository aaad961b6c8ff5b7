import { config, leadRetention } from '#functions/config/bundled.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { dynamoSignals } from '#functions/lead/signal-store.ts';
import { signalLead } from '#functions/lead/signals.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { verifyLink } from '#functions/mail/links.ts';
import { dynamoSuppression } from '#functions/mail/suppression-store.ts';
import { escapeHtml } from '#functions/platform/html.ts';
import { type HttpEvent, type HttpRequest, type HttpResult, mediaType } from '#functions/platform/http.ts';
import { linkKeyOf, linkPage } from '#functions/platform/link-key.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { page } from '#functions/platform/pages.ts';
import { sfnRuns, type TaskRuns } from '#functions/platform/runs.ts';
import { appTable } from '#functions/platform/table.ts';
import type { Stores } from '#functions/stores.ts';

/**
 * RFC 8058: the one-click POST carries `List-Unsubscribe=One-Click`, URL-encoded (parsed by middy) or as a
 * multipart/form-data field (mail providers send either). API Gateway's HTTP API base64-encodes a
 * multipart body (not a text media type): it is decoded first.
 */
function isOneClick(event: HttpRequest): boolean {
  const { body } = event;
  if (body && typeof body === 'object')
    return (body as Record<string, unknown>)['List-Unsubscribe'] === 'One-Click';
  if (typeof body !== 'string') return false;
  const text = event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  if (mediaType(event) === 'multipart/form-data')
    return formDataField(text, event.headers['content-type'] ?? '', 'List-Unsubscribe') === 'One-Click';
  return text.includes('List-Unsubscribe=One-Click');
}

/** The value of the form field `name` in a multipart/form-data body (RFC 7578), or undefined. */
function formDataField(body: string, contentType: string, name: string): string | undefined {
  const boundary = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const delimiter = `--${boundary?.[1] ?? boundary?.[2] ?? ''}`;
  if (delimiter === '--') return undefined;
  for (const part of body.split(delimiter).slice(1)) {
    const [head = '', ...rest] = part.split(/\r?\n\r?\n/);
    const disposition = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(head)?.[1] ?? '';
    const field = /(?:^|;)\s*name\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(disposition);
    if ((field?.[1] ?? field?.[2]) === name)
      return rest
        .join('\n\n')
        .replace(/\r?\n$/, '')
        .trim();
  }
  return undefined;
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
  runs,
}: Pick<Stores, 'leads' | 'suppression' | 'signals'> & { runs: TaskRuns }) =>
  // Mail clients may post the one-click body as multipart: take any body, parse what middy can.
  linkPage({ strict: false })
    // The parsers' types describe what they make of the event; the handler takes API Gateway's event.
    .handler<HttpEvent, HttpResult>(async (event: HttpRequest, context) => {
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
        const how = isOneClick(event) ? 'one-click' : 'page';
        await suppression.suppress(lead.email, 'unsubscribed', how, at);
        await leads.putEvent(lead.id, timeline.unsubscribed(at, how));
        metrics.addMetric('Unsubscribes', 'Count', 1);
        // Wake the lead's nurture wait: the run ends as Unsubscribed now, not at the next due email.
        await signalLead({ signals, runs }, lead.id, 'unsubscribe');
        logger.info('unsubscribed', { leadId: lead.id });
      }
      return page(
        200,
        'You are unsubscribed',
        '<p>You will not receive further marketing emails from us.</p>',
      );
    });

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  suppression: dynamoSuppression(table),
  signals: dynamoSignals(table),
  runs: sfnRuns(),
});
