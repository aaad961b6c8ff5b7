import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { config, leadRetention } from '#functions/config/bundled.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { dynamoSignals } from '#functions/lead/signal-store.ts';
import { signalLead } from '#functions/lead/signals.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { readInbound } from '#functions/mail/inbound.ts';
import { parseReplyAddress } from '#functions/mail/reply-address.ts';
import { IllegalTransitionError } from '#functions/platform/errors.ts';
import { eventHandler } from '#functions/platform/event.ts';
import { linkKeyMiddleware, linkKeyOf } from '#functions/platform/link-key.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { sfnRuns, type TaskRuns } from '#functions/platform/runs.ts';
import { appTable } from '#functions/platform/table.ts';
import type { LeadRecord, Stores } from '#functions/stores.ts';

/** SES receiving's notification (the receipt rule's SNS action, Base64), as SNS hands it to Lambda. */
const received = z.object({
  notificationType: z.literal('Received'),
  mail: z.object({ timestamp: z.iso.datetime({ offset: true }), messageId: z.string() }),
  receipt: z.object({
    recipients: z.array(z.string()),
    spamVerdict: z.optional(z.object({ status: z.string() })),
    virusVerdict: z.optional(z.object({ status: z.string() })),
  }),
  content: z.string(),
});

export const inboundContract = {
  input: z.object({
    Records: z.array(z.object({ Sns: z.object({ Message: z.string() }) })),
  }),
  output: z.object({
    replies: z.array(
      z.object({
        outcome: z.enum(['human', 'out-of-office', 'automatic', 'delivery-report', 'dropped']),
        why: z.optional(z.string()),
      }),
    ),
  }),
};

type Outcome = z.input<typeof inboundContract.output>['replies'][number];

/**
 * A message SES received for the reply subdomain (app.replies): the receipt rule's SNS action hands it
 * over whole (Base64). It must be addressed to a reply address of ours with a valid signature (else it is
 * dropped, as is spam or a virus). A person's reply goes on the lead's timeline in their own words and
 * wakes the lead's nurture wait: the rescore sends the lead to sales, and the rep's email quotes it. An
 * automatic answer is recorded and changes nothing, except that an out-of-office naming its return day
 * holds the next email until then. Idempotent: SES's receipt time stamps the timeline event.
 */
export const createHandler = ({
  leads,
  signals,
  runs,
  domain = config.app.replies?.domain,
}: Pick<Stores, 'leads' | 'signals'> & { runs: TaskRuns; domain?: string | undefined }) => {
  async function one(message: string, key: string): Promise<Outcome> {
    const drop = (why: string): Outcome => {
      metrics.addMetric('RepliesDropped', 'Count', 1);
      logger.warn('inbound mail dropped', { why });
      return { outcome: 'dropped', why };
    };
    if (!domain) return drop('replies are off (app.replies)');
    let parsed: z.output<typeof received>;
    try {
      parsed = received.parse(JSON.parse(message));
    } catch {
      return drop('not a receipt notification');
    }
    const { mail, receipt, content } = parsed;
    if (receipt.spamVerdict?.status === 'FAIL' || receipt.virusVerdict?.status === 'FAIL')
      return drop('spam or virus');
    const who = receipt.recipients.map((r) => parseReplyAddress(r, key, domain)).find((r) => r !== undefined);
    if (!who) return drop('no reply address of ours');
    const lead = await leads.get(who.leadId);
    if (!lead) return drop('lead no longer kept');
    const at = new Date(mail.timestamp).toISOString();
    const inbound = await readInbound(Buffer.from(content, 'base64'), new Date(at));
    const { cycle, step } = who;
    if (inbound.kind !== 'human') {
      await leads.putEvent(
        lead.id,
        timeline.autoReply(at, {
          kind: inbound.kind,
          cycle,
          step,
          ...(inbound.returnDate ? { returnDate: inbound.returnDate } : {}),
        }),
      );
      // Away until a named day: the next email waits for it (the sequence goes on, nothing is woken).
      if (inbound.returnDate && inbound.returnDate > (lead.snoozedUntil ?? ''))
        await setOnLead(lead, { snoozedUntil: inbound.returnDate }, at);
      metrics.addMetric(`Replies_${inbound.kind}`, 'Count', 1);
      logger.info('automatic reply', { leadId: lead.id, kind: inbound.kind });
      return { outcome: inbound.kind };
    }
    await leads.putEvent(lead.id, timeline.replied(at, { cycle, step, message: inbound.text }));
    await setOnLead(lead, { repliedAt: at }, at);
    metrics.addMetric('Replies_human', 'Count', 1);
    // A person wrote back: the nurture wait wakes, and the rescore hands the lead to a rep.
    await signalLead({ signals, runs }, lead.id, 'reply');
    logger.info('lead replied', { leadId: lead.id, cycle, step });
    return { outcome: 'human' };
  }

  /** Sets fields on the lead in the stage it was read in (read again once if it moved meanwhile). */
  async function setOnLead(
    read: LeadRecord,
    fields: { repliedAt?: string; snoozedUntil?: string },
    at: string,
  ) {
    let lead: LeadRecord | undefined = read;
    for (let tries = 0; lead && tries < 2; tries++) {
      try {
        await leads.setStage(lead.id, lead.stage, at, fields);
        return;
      } catch (e) {
        if (!(e instanceof IllegalTransitionError) || tries > 0) throw e;
        lead = await leads.get(lead.id);
      }
    }
  }

  return eventHandler(inboundContract, async ({ Records }, context: Context) => {
    const key = linkKeyOf(context);
    const replies: Outcome[] = [];
    for (const record of Records) replies.push(await one(record.Sns.Message, key));
    return { replies };
  }).use(linkKeyMiddleware());
};

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  signals: dynamoSignals(table),
  runs: sfnRuns(),
});
