import { config, leadRetention } from '#functions/config/bundled.ts';
import { dynamoConfirmations } from '#functions/lead/confirmation-store.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { dynamoSignals } from '#functions/lead/signal-store.ts';
import { signalLead } from '#functions/lead/signals.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { LinkError, verifyLink } from '#functions/mail/links.ts';
import { dynamoSuppression } from '#functions/mail/suppression-store.ts';
import { escapeHtml } from '#functions/platform/html.ts';
import type { HttpEvent, HttpRequest, HttpResult } from '#functions/platform/http.ts';
import { linkKeyOf, linkPage } from '#functions/platform/link-key.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { page } from '#functions/platform/pages.ts';
import { sfnRuns, type TaskRuns } from '#functions/platform/runs.ts';
import { appTable } from '#functions/platform/table.ts';
import type { Stores } from '#functions/stores.ts';

/**
 * Double opt-in (docs/architecture.md, "Double opt-in").
 * GET /confirm?t=…: a page with a button; a mail scanner that follows every link confirms nothing.
 * POST /confirm?t=…: records the confirmation and wakes the lead's run, whose nurture sequence starts at
 * once. The link lives exactly as long as the run's wait for it; a lead that is gone (erased) or no longer
 * takes email (unsubscribed, bounced, complained) writes nothing.
 */
/** The confirmation link's claims; an expired one says what the person can do: send the form again. */
function verifiedConfirmation(token: string, key: string) {
  try {
    return verifyLink(token, key, new Date(), ['confirm']);
  } catch (e) {
    if (e instanceof LinkError && e.reason === 'expired')
      throw new LinkError('expired', 'This link has expired. Send the form again for a new one.');
    throw e;
  }
}

export const createHandler = ({
  leads,
  confirmations,
  suppression,
  signals,
  runs,
}: Pick<Stores, 'leads' | 'confirmations' | 'suppression' | 'signals'> & { runs: TaskRuns }) =>
  linkPage({ strict: false }).handler<HttpEvent, HttpResult>(async (event: HttpRequest, context) => {
    const token = event.queryStringParameters?.t ?? '';
    const claims = verifiedConfirmation(token, linkKeyOf(context));
    const name = escapeHtml(config.app.sender.fromName);
    if (event.requestContext.http.method !== 'POST') {
      return page(
        200,
        'Confirm your email',
        `<p>Confirm that you want emails from ${name}?</p><form method="post" action="?t=${escapeHtml(token)}"><button type="submit">Confirm my email</button></form>`,
      );
    }
    const lead = await leads.get(claims.subject);
    // Unsubscribed (or bounced, complained, erased) since: the click changes nothing.
    if (lead && (await suppression.reasonFor(lead.email)))
      return page(200, 'Not subscribed', `<p>This address does not receive emails from ${name}.</p>`);
    if (lead) {
      const at = new Date().toISOString();
      if (await confirmations.confirm(lead.id, at)) {
        await leads.putEvent(lead.id, timeline.confirmed(at));
        metrics.addMetric('Confirmations', 'Count', 1);
        logger.info('email confirmed', { leadId: lead.id });
      }
      // Woken again on a second click too: a wake that finds nothing new changes nothing.
      await signalLead({ signals, runs }, lead.id, 'confirm');
    }
    return page(200, 'Thank you', `<p>Your email is confirmed. ${name} will be in touch.</p>`);
  });

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  confirmations: dynamoConfirmations(table, leadRetention),
  suppression: dynamoSuppression(table),
  signals: dynamoSignals(table),
  runs: sfnRuns(),
});
