import { config } from '#shared/config.ts';
import { contracts } from '#shared/contracts.ts';
import { dynamoStores, type Stores } from '#shared/data/index.ts';
import { NotFoundError } from '#shared/domain/errors.ts';
import { stageWhenNotEmailable } from '#shared/domain/lead-stage.ts';
import { nextSendTime } from '#shared/domain/schedule.ts';
import { nurtureEmail } from '#shared/emails.ts';
import { linkKeyOf } from '#shared/link-key.ts';
import { sendMail } from '#shared/mailer.ts';
import { logger, metrics } from '#shared/observability.ts';
import { linkContext } from '#shared/public-url.ts';
import { StepInputError, stepHandler } from '#shared/step.ts';

const SEND_MARKER_DAYS = 400;

/**
 * Send nurture email: sends step `nurture.step` of the sequence once per lead, cycle and step
 * (a retry finds the send marker and does not mail again), then schedules the next touch inside
 * business hours in the lead's time zone.
 */
export const createHandler = ({
  leads,
  suppression,
  sends,
}: Pick<Stores, 'leads' | 'suppression' | 'sends'>) =>
  stepHandler(
    contracts.sendNurture,
    async ({ leadId, nurture: { cycle, step } }, context) => {
      const steps = config.nurture.steps;
      const current = steps[step];
      if (!current)
        throw new StepInputError(`Nurture step ${step} does not exist (sequence has ${steps.length})`);
      const now = new Date();
      const at = now.toISOString();
      const lead = await leads.get(leadId);
      if (!lead) throw new NotFoundError(`Lead ${leadId}`);

      if (await suppression.isSuppressed(lead.email)) {
        await leads.setStage(leadId, stageWhenNotEmailable('suppressed'), at);
        return { cycle, step, status: 'suppressed' as const };
      }
      if (!lead.consent) {
        await leads.setStage(leadId, stageWhenNotEmailable('no-consent'), at);
        logger.info('nurture skipped: no marketing consent', { leadId });
        return { cycle, step, status: 'not-emailable' as const };
      }
      if (!(await sends.wasSent(leadId, cycle, step))) {
        const ctx = linkContext(linkKeyOf(context), now, config.app.links.ttlDays);
        const messageId = await sendMail(nurtureEmail(lead, current, config.app, ctx));
        const expiresAt = Math.floor(now.getTime() / 1000) + SEND_MARKER_DAYS * 86_400;
        await sends.markSent(leadId, cycle, step, messageId, at, expiresAt);
        await leads.putEvent(leadId, {
          type: 'emailed',
          at,
          data: { template: current.template, cycle, step },
        });
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
    },
    { linkKey: true },
  );

export const handler = createHandler(dynamoStores());
