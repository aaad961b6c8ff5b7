import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { config, leadRetention } from '#functions/config/bundled.ts';
import { dynamoDeals } from '#functions/deal/deal-store.ts';
import { reminderMarker, remindersByRep, reminderWeek } from '#functions/deal/reminders.ts';
import { dynamoReps } from '#functions/deal/rep-store.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { type ReminderDeal, reminderEmail } from '#functions/mail/emails.ts';
import { sendMail } from '#functions/mail/mailer.ts';
import { linkContext } from '#functions/mail/public-url.ts';
import { eventHandler } from '#functions/platform/event.ts';
import { linkKeyMiddleware, linkKeyOf } from '#functions/platform/link-key.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { appTable } from '#functions/platform/table.ts';
import type { DealRecord, Stores } from '#functions/stores.ts';

/** The schedule rule's event (EventBridge "Scheduled Event"): its `time` is the scheduled instant. */
export const scheduledEvent = {
  input: z.object({
    'detail-type': z.literal('Scheduled Event'),
    source: z.literal('aws.events'),
    time: z.iso.datetime(),
  }),
  output: z.object({ week: z.string(), reps: z.number(), deals: z.number(), skipped: z.number() }),
} as const;

type Mail = (message: ReturnType<typeof reminderEmail>) => Promise<unknown>;

/**
 * Deal reminders (the weekly schedule rule): emails each rep one reminder listing their open deals
 * (accepted, no outcome yet), each with fresh won and lost links, unless the rep turned reminders off.
 * Open deals come from the stage index (a Query on `DEALSTAGE#accepted`, no scan). Once per deal and
 * week: each deal's marker (on its lead, `ONCE#reminder#<week>#<deal>`) is claimed before the email
 * goes and given back if it fails, so a retried or doubled invocation sends what is left, once.
 */
export const createHandler = ({
  deals,
  reps,
  leads,
  send = sendMail,
}: Pick<Stores, 'deals' | 'reps' | 'leads'> & { send?: Mail }) =>
  eventHandler(scheduledEvent, async ({ time }, context: Context) => {
    const week = reminderWeek(new Date(time));
    const open: DealRecord[] = [];
    for await (const deal of deals.listByStage('accepted')) open.push(deal);
    const repOf = (id: string) => config.reps.reps.find((r) => r.id === id);
    const off = await reps.remindersOff([...new Set(open.map((d) => d.repId))]);
    const byRep = remindersByRep(open, (id) => repOf(id) !== undefined, off);
    const ctx = linkContext(linkKeyOf(context), new Date());
    let sentReps = 0;
    let sentDeals = 0;
    let skipped = 0;
    const failures: unknown[] = [];
    for (const [repId, repDeals] of byRep) {
      const rep = repOf(repId);
      if (!rep) continue;
      const claimed: DealRecord[] = [];
      for (const d of repDeals)
        if (await leads.claimOnce(d.leadId, reminderMarker(d.dealId, week))) claimed.push(d);
        else skipped += 1;
      if (!claimed.length) continue;
      const profiles = await leads.getMany(claimed.map((d) => d.leadId));
      const listed: ReminderDeal[] = claimed.map((d) => {
        const lead = profiles.get(d.leadId);
        const name = [lead?.firstName, lead?.lastName].filter(Boolean).join(' ');
        return {
          dealId: d.dealId,
          since: d.createdAt,
          ...(name ? { name } : {}),
          ...(lead?.company ? { company: lead.company } : {}),
        };
      });
      try {
        await send(reminderEmail(rep, listed, config.app, ctx));
        sentReps += 1;
        sentDeals += claimed.length;
      } catch (e) {
        // Give the claims back so the retry (Lambda retries a failed async invocation) reminds them.
        for (const d of claimed) await leads.releaseOnce(d.leadId, reminderMarker(d.dealId, week));
        failures.push(e);
      }
    }
    metrics.addMetric('DealRemindersSent', 'Count', sentReps);
    logger.info('deal reminders', {
      week,
      reps: sentReps,
      deals: sentDeals,
      skipped,
      failed: failures.length,
    });
    if (failures.length) throw failures[0];
    return { week, reps: sentReps, deals: sentDeals, skipped };
  }).use(linkKeyMiddleware());

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  deals: dynamoDeals(table),
  reps: dynamoReps(table),
  leads: dynamoLeads(table, leadRetention),
});
