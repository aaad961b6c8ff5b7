import { z } from 'zod';
import { config } from '#shared/config.ts';
import { store } from '#shared/data/store.ts';
import { NotFoundError } from '#shared/domain/errors.ts';
import { nextSendTime } from '#shared/domain/schedule.ts';
import { nurtureEmail } from '#shared/emails.ts';
import { sendMail } from '#shared/mailer.ts';
import { logger, metrics } from '#shared/observability.ts';
import { linkContext } from '#shared/public-url.ts';
import { StepInputError, stepHandler } from '#shared/step.ts';

const input = z.object({
  leadId: z.string().min(1),
  nurture: z.object({ cycle: z.number().int().min(0), step: z.number().int().min(0) }),
});

/**
 * Send nurture email: sends step `nurture.step` of the sequence once per lead, cycle and step
 * (a retry finds the send marker and does not mail again), then schedules the next touch inside
 * business hours in the lead's time zone.
 */
export const handler = stepHandler(input, async ({ leadId, nurture: { cycle, step } }) => {
  const steps = config.nurture.steps;
  const current = steps[step];
  if (!current)
    throw new StepInputError(`Nurture step ${step} does not exist (sequence has ${steps.length})`);
  const now = new Date();
  const at = now.toISOString();
  const lead = await store.getLead(leadId);
  if (!lead) throw new NotFoundError(`Lead ${leadId}`);

  if (await store.isSuppressed(lead.email)) {
    await store.setLeadStage(leadId, 'unsubscribed', at);
    return { cycle, step, status: 'suppressed' as const };
  }
  if (!lead.consent) {
    await store.setLeadStage(leadId, 'not-emailable', at);
    logger.info('nurture skipped: no marketing consent', { leadId });
    return { cycle, step, status: 'not-emailable' as const };
  }
  if (!(await store.nurtureSent(leadId, cycle, step))) {
    const ctx = await linkContext(now, config.app.links.ttlDays);
    const messageId = await sendMail(nurtureEmail(lead, current, config.app, ctx));
    const ttl = Math.floor(now.getTime() / 1000) + 400 * 86_400;
    await store.markNurtureSent(leadId, cycle, step, messageId, at, ttl);
    await store.putEvent(leadId, { type: 'emailed', at, data: { template: current.template, cycle, step } });
    metrics.addMetric('NurtureEmailsSent', 'Count', 1);
  }
  const timeZone = lead.timeZone ?? config.nurture.businessHours.defaultTimeZone;
  const nextSendAt = nextSendTime(now, current.delayDays, timeZone, config.nurture.businessHours);
  return {
    cycle,
    step: step + 1,
    status: 'sent' as const,
    done: step + 1 >= steps.length,
    nextSendAt: nextSendAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
});
