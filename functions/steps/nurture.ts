import { config, funnelOptions, leadRetention } from '#functions/config/bundled.ts';
import { updateBreaker } from '#functions/deliverability/breaker.ts';
import { dynamoDeliverability } from '#functions/deliverability/deliverability-store.ts';
import { scoreFactsOf } from '#functions/funnel/funnel-counters.ts';
import { dynamoFunnel } from '#functions/funnel/funnel-store.ts';
import { recordMilestones } from '#functions/funnel/milestones.ts';
import { dynamoConfirmations } from '#functions/lead/confirmation-store.ts';
import { stageAfterNurture } from '#functions/lead/lead-stage.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import {
  afterConfirmation,
  answersForm,
  decideNurture,
  firstContactOf,
  type OptIn,
  PAUSED_RECHECK_MS,
} from '#functions/lead/nurture.ts';
import { rescore } from '#functions/lead/rescore.ts';
import { nextSendTime, spreadOf } from '#functions/lead/schedule.ts';
import { dynamoSignals } from '#functions/lead/signal-store.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { confirmationEmail, nurtureEmail } from '#functions/mail/emails.ts';
import { sendMail, sendQuota } from '#functions/mail/mailer.ts';
import { linkContext } from '#functions/mail/public-url.ts';
import { dynamoSendCounters, type SendBudget, sendBudget } from '#functions/mail/send-budget.ts';
import { type SendOutcome, sendOnce } from '#functions/mail/send-once.ts';
import { dynamoSends } from '#functions/mail/send-store.ts';
import { NotFoundError } from '#functions/platform/errors.ts';
import { linkKeyOf } from '#functions/platform/link-key.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { stepHandler } from '#functions/platform/step.ts';
import { appTable } from '#functions/platform/table.ts';
import { dynamoSendChecks } from '#functions/send-checks.ts';
import { contracts } from '#functions/steps/contracts.ts';
import type { Stores } from '#functions/stores.ts';

const SEND_MARKER_DAYS = 400;
/**
 * The wait after an ending decision resumes at once (functions/steps/await-signal.ts): its timeout only
 * bounds a resume that never came, well above the wait function's own 10 s timeout. Were it to pass, the
 * timer wakes this step again, which, with nothing new, decides the same end.
 */
export const ENDING_WAIT_SECONDS = 60;
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
/** The send marker's step number for a confirmation email (its cycle number is the confirmation round). */
export const CONFIRMATION_STEP = -1;

/**
 * Nurture: one step per wake-up of a nurtured lead's run — the first time, each time its wait ends
 * (the next email is due), and each time a signal wakes it (a form, a click, an unsubscribe, a bounce,
 * a complaint). It looks at everything afresh: a suppressed address ends the sequence (Unsubscribed,
 * Bounced, Complained), a lead now sales-ready goes to sales, and otherwise the next email goes out
 * once (a retry finds the send marker) when it is due, inside business hours, unless the deliverability
 * breaker has paused sending. Then the run waits for the next due time or the next signal. The wait
 * follows every answer (an ending one resumes at once, to "Next?"), so every answer has `waitSeconds`.
 */
export const createHandler = ({
  leads,
  sendChecks,
  sends,
  signals,
  deliverability,
  funnel,
  budget,
  firstContact,
  confirmations,
  doubleOptIn = config.nurture.doubleOptIn,
}: Pick<
  Stores,
  | 'leads'
  | 'sendChecks'
  | 'sends'
  | 'signals'
  | 'deliverability'
  | 'firstContact'
  | 'confirmations'
  | 'funnel'
> & {
  /** The shared send budget (functions/mail/send-budget.ts); none: no pacing (SES's answers still park). */
  budget?: SendBudget;
  /** config/nurture.json's `doubleOptIn` (tests turn it on). */
  doubleOptIn?: { enabled: boolean; confirmWithinDays: number };
}) =>
  stepHandler(
    contracts.nurture,
    async ({ leadId, nurture: given, wake }, context) => {
      const steps = config.nurture.steps;
      const { businessHours: hours, sending } = config.nurture;
      const now = new Date();
      const at = now.toISOString();
      // This step looks at everything that happened: signals waiting for it are consumed (a conditional
      // write: a lead that is gone is not created) and the lead comes back from that same write; then its
      // timeline is read once.
      const cleared = await signals.clear(leadId);
      const { lead, score, route } = await rescore(leads, leadId, now, cleared);
      const optIn: OptIn =
        doubleOptIn.enabled && lead.consent
          ? (await confirmations.get(leadId))?.confirmedAt
            ? 'confirmed'
            : 'unconfirmed'
          : 'off';
      const state = afterConfirmation(given, optIn);
      // Every email waits while the known stream's breaker is tripped; a first contact also while its own
      // is: junk bounces pause first contacts only, never mail to leads already reached. The address's
      // suppression and the breakers are read together (one call).
      const first = firstContactOf(optIn, state);
      const checks = await sendChecks.read(lead.email, first ? ['known', 'first-contact'] : ['known']);
      // A tripped breaker is looked at again here: the window slides, and the rates may have recovered.
      const tripped = async (stream: 'known' | 'first-contact', breaker: typeof deliverability) =>
        checks.breakers[stream]?.tripped === true && (await updateBreaker(breaker, now)).tripped;
      const knownTripped = await tripped('known', deliverability);
      const timeZone = lead.timeZone ?? hours.defaultTimeZone;
      // Sends held for the opening land over its first minutes, each lead at its own offset.
      const opening = { key: leadId, windowMinutes: sending.openingSpreadMinutes };
      /** `base` to twice `base` from now, each lead at its own offset (a hash of its id). */
      const spreadFrom = (base: number) =>
        new Date(now.getTime() + base + Math.floor(spreadOf(leadId) * base));
      const decision = decideNurture({
        now,
        state,
        steps: steps.length,
        // A timer ended the wait for a time the step itself scheduled (a recycle starts without one).
        dueByTimer:
          (wake as { Error?: string } | null | undefined)?.Error === 'States.Timeout' &&
          state.nextSendAt !== undefined,
        suppressed: checks.suppressed,
        consent: lead.consent,
        optIn,
        route,
        breakerTripped: knownTripped || (first && (await tripped('first-contact', firstContact))),
        firstSlot: nextSendTime(now, 0, timeZone, hours, opening),
        pausedSlot: nextSendTime(spreadFrom(PAUSED_RECHECK_MS), 0, timeZone, hours, opening),
      });
      const waitUntil = (until: Date, next: typeof state) => ({
        ...next,
        nextSendAt: iso(until),
        next: 'wait' as const,
        waitSeconds: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)),
      });

      /**
       * A send that could not go now is parked, never failed: the run waits and this step tries again
       * (docs/operations.md, "When SES throttles or is down"). The answer to the form may go at any hour
       * (`atOnce`); later emails wait for the hours.
       */
      const park = async (
        outcome: Extract<SendOutcome, { sent: false }>,
        what: { template: string; cycle: number; step: number },
        atOnce: boolean,
      ) => {
        const minutes =
          outcome.why === 'daily send quota' ? sending.quotaRecheckMinutes : sending.retryMinutes;
        let until = outcome.notBefore ?? spreadFrom(minutes * 60_000);
        if (!atOnce && outcome.why !== 'send rate') until = nextSendTime(until, 0, timeZone, hours, opening);
        if (outcome.why === 'send rate') {
          metrics.addMetric('NurtureSendsPaced', 'Count', 1);
        } else {
          metrics.addMetric('NurtureSendsDeferred', 'Count', 1);
          logger.warn('nurture send deferred', { leadId, why: outcome.why, until: iso(until) });
          const deferred = { reason: outcome.why, ...what, until: iso(until) };
          await leads.putEvent(leadId, timeline.sendDeferred(at, deferred));
        }
        return until;
      };

      if (decision.action === 'end' || decision.action === 'sales-ready') {
        const next = decision.action === 'end' ? decision.next : ('sales-ready' as const);
        await leads.setStage(leadId, stageAfterNurture(next), at, { score });
        const scored = scoreFactsOf(score);
        await leads.putEvent(leadId, timeline.nurtureDecided(at, next, scored));
        if (next === 'sales-ready' && lead.activeExecution) {
          await recordMilestones(
            { funnel },
            { leadId, execution: lead.activeExecution, cycle: state.cycle, at, lead, score: scored },
            ['mql', 'sql'],
          );
        }
        logger.info('nurture ended', { leadId, next });
        return { ...state, next, waitSeconds: ENDING_WAIT_SECONDS };
      }
      await leads.setStage(leadId, 'nurturing', at, { score });
      if (decision.action === 'wait') {
        if (decision.why === 'sending paused') metrics.addMetric('NurtureSendsPaused', 'Count', 1);
        return waitUntil(decision.until, state);
      }
      // An out-of-office named its return day: the next email waits for its first business hours.
      const back = lead.snoozedUntil
        ? nextSendTime(new Date(`${lead.snoozedUntil}T00:00:00Z`), 0, timeZone, hours, opening)
        : undefined;
      if (decision.action === 'send' && back && back.getTime() > now.getTime()) {
        metrics.addMetric('NurtureSendsHeldOutOfOffice', 'Count', 1);
        return waitUntil(back, state);
      }
      const job = {
        leadId,
        now,
        deadline: new Date(now.getTime() + context.getRemainingTimeInMillis()),
        expiresAt: Math.floor(now.getTime() / 1000) + SEND_MARKER_DAYS * 86_400,
      };
      const links = linkContext(linkKeyOf(context), now);
      const mailer = { sends, ...(budget ? { budget } : {}) };
      if (decision.action === 'confirm') {
        // One email per round: a second run, or this step retried, joins the open round's marker.
        const windowSeconds = doubleOptIn.confirmWithinDays * 86_400;
        const { round, startedAt } = await confirmations.startRound(leadId, now, windowSeconds);
        const until = new Date(Date.parse(startedAt) + windowSeconds * 1000);
        // The timeline event goes with the send marker (one write), only when this attempt sends.
        const event = timeline.confirmationSent(at, { round, until: iso(until) });
        const sent = await sendOnce(mailer, { ...job, cycle: round, step: CONFIRMATION_STEP, event }, () =>
          sendMail(confirmationEmail(lead, Math.floor(until.getTime() / 1000), config.app, links)),
        );
        if (!sent.sent)
          return waitUntil(await park(sent, { template: 'confirm', cycle: round, step: 0 }, true), state);
        if (sent.now) metrics.addMetric('ConfirmationEmailsSent', 'Count', 1);
        return waitUntil(until, { ...state, confirmBy: iso(until) });
      }
      const current = steps[state.step];
      if (!current) throw new NotFoundError(`Nurture step ${state.step}`);
      const stream = first ? 'first-contact' : 'known';
      const what = { template: current.template, cycle: state.cycle, step: state.step };
      const event = timeline.emailed(at, what);
      const outcome = await sendOnce(mailer, { ...job, cycle: state.cycle, step: state.step, event }, () =>
        sendMail(nurtureEmail(lead, current, config.app, links, stream, what)),
      );
      if (!outcome.sent) return waitUntil(await park(outcome, what, answersForm(state)), state);
      if (outcome.now) metrics.addMetric('NurtureEmailsSent', 'Count', 1);
      const nextSend = nextSendTime(now, current.delayDays, timeZone, hours, opening);
      return waitUntil(nextSend, { ...state, step: state.step + 1 });
    },
    { linkKey: true },
  );

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  sendChecks: dynamoSendChecks(table),
  sends: dynamoSends(table, leadRetention),
  signals: dynamoSignals(table),
  deliverability: dynamoDeliverability(table),
  firstContact: dynamoDeliverability(table, 'first-contact'),
  confirmations: dynamoConfirmations(table, leadRetention),
  funnel: dynamoFunnel(table, funnelOptions),
  budget: sendBudget(dynamoSendCounters(table), sendQuota),
});
