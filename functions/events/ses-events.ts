import { leadRetention } from '#functions/config/bundled.ts';
import { updateBreaker } from '#functions/deliverability/breaker.ts';
import { dynamoDeliverability } from '#functions/deliverability/deliverability-store.ts';
import { leadIdFor } from '#functions/lead/lead.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { dynamoSignals } from '#functions/lead/signal-store.ts';
import { signalLead } from '#functions/lead/signals.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { dynamoSuppression } from '#functions/mail/suppression-store.ts';
import { eventHandler } from '#functions/platform/event.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { sfnRuns, type TaskRuns } from '#functions/platform/runs.ts';
import { appTable } from '#functions/platform/table.ts';
import { sesEvent } from '#functions/steps/contracts.ts';
import type { DeliveryEvent, Stores } from '#functions/stores.ts';

/**
 * SES events of the configuration set (EventBridge): every send is counted (the breaker's denominator; a
 * delivery, should one arrive, too: the rule no longer matches them); a permanent bounce or a complaint suppresses the address for good, goes on the lead's
 * timeline and wakes the lead's run, which then ends as Bounced or Complained; a transient bounce is only
 * counted. Each bounce or complaint re-evaluates the deliverability breaker of the email's stream: first
 * contacts (tag `stream=first-contact`) are counted apart, so junk addresses pause first contacts only.
 */
export const createHandler = ({
  leads,
  suppression,
  signals,
  deliverability,
  firstContact,
  runs,
}: Pick<Stores, 'leads' | 'suppression' | 'signals' | 'deliverability' | 'firstContact'> & {
  runs: TaskRuns;
}) =>
  eventHandler(sesEvent, async ({ id, detail, time }) => {
    // Each stream is counted apart, with its own breaker (functions/mail/emails.ts, MailStream).
    const stream = detail.mail.tags?.stream?.[0] === 'first-contact' ? firstContact : deliverability;
    const at = time ?? new Date().toISOString();
    const now = new Date(at);
    const kind = detail.eventType;
    const permanent = kind === 'Bounce' && detail.bounce?.bounceType === 'Permanent';
    const counted: DeliveryEvent | undefined =
      kind === 'Send'
        ? 'sent'
        : kind === 'Delivery'
          ? 'delivered'
          : kind === 'Complaint'
            ? 'complained'
            : kind === 'Bounce'
              ? permanent
                ? 'bounced'
                : 'transient'
              : undefined;
    if (!counted) return { counted: 'ignored', suppressed: 0, woken: 0, tripped: false };
    // A redelivered event (same EventBridge id) is not counted again; what follows is idempotent anyway.
    await stream.count(counted, now, id);
    if (counted !== 'bounced' && counted !== 'complained')
      return { counted, suppressed: 0, woken: 0, tripped: false };

    const recipients =
      counted === 'bounced'
        ? (detail.bounce?.bouncedRecipients ?? [])
        : (detail.complaint?.complainedRecipients ?? []);
    const reason = counted === 'bounced' ? 'bounced' : 'complained';
    let woken = 0;
    for (const { emailAddress } of recipients) {
      await suppression.suppress(emailAddress, reason, 'ses', at);
      // Nurture email carries its lead's id as a tag; the id is also derived from the address.
      const leadId = detail.mail.tags?.leadId?.[0] ?? leadIdFor(emailAddress);
      if (!(await leads.get(leadId))) continue;
      await leads.putEvent(leadId, timeline[reason](at));
      if (await signalLead({ signals, runs }, leadId, counted === 'bounced' ? 'bounce' : 'complaint'))
        woken += 1;
    }
    metrics.addMetric(counted === 'bounced' ? 'Bounces' : 'Complaints', 'Count', recipients.length);
    // Events only trip the breaker; Nurture, which pauses on it, closes it when the rates recover.
    const { tripped } = await updateBreaker(stream, now, { close: false });
    logger.info('ses event', { kind, recipients: recipients.length, woken, tripped });
    return { counted, suppressed: recipients.length, woken, tripped };
  });

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  suppression: dynamoSuppression(table),
  signals: dynamoSignals(table),
  deliverability: dynamoDeliverability(table),
  firstContact: dynamoDeliverability(table, 'first-contact'),
  runs: sfnRuns(),
});
