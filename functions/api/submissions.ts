import { config } from '../config/bundled.ts';
import type { Lead } from '../lead/lead.ts';
import { ACTIVE_STAGES } from '../lead/lead-stage.ts';
import type { LeadStore } from '../lead/lead-store.ts';
import type { SignalStore } from '../lead/signal-store.ts';
import { signalLead } from '../lead/signals.ts';
import { timeline } from '../lead/timeline.ts';
import { activityEmail } from '../mail/emails.ts';
import { sendMail } from '../mail/mailer.ts';
import { logger, metrics } from '../platform/observability.ts';
import type { TaskRuns } from '../platform/runs.ts';

/** Runs the work a claim guards; if it fails, gives the claim back (so the form's retry does it) and rethrows. */
async function givingBackOnFailure(
  leads: LeadStore,
  leadId: string,
  marker: string,
  work: () => Promise<unknown>,
): Promise<void> {
  try {
    await work();
  } catch (e) {
    await leads.releaseOnce(leadId, marker).catch(() => undefined);
    throw e;
  }
}

/**
 * One run per lead: a submission from a lead whose run is still going is handed to that run instead of
 * starting another. It goes on the timeline (once per form and day, as a same-day resubmit never counted
 * twice), wakes a nurtured lead's run at once (a demo request then reaches a rep in seconds), and tells the
 * rep of an assigned lead (at most one "new activity" email a day). 'start' when there is no active run.
 */
export async function deliverToActiveRun(
  { leads, signals, runs }: { leads: LeadStore; signals: SignalStore; runs: TaskRuns },
  lead: Lead,
  receivedAt: Date,
): Promise<'delivered' | 'start'> {
  const current = await leads.get(lead.id);
  const run = current?.activeExecution;
  if (!current || !run || !ACTIVE_STAGES.includes(current.stage)) return 'start';
  const at = receivedAt.toISOString();
  const day = at.slice(0, 10);
  const formOnce = `form#${day}#${lead.formType}`;
  if (await leads.claimOnce(lead.id, formOnce)) {
    await givingBackOnFailure(leads, lead.id, formOnce, async () => {
      await leads.putEvent(lead.id, timeline.form(at, lead, run, 'delivered'));
      if (current.stage === 'nurturing') await signalLead({ signals, runs }, lead.id, 'form');
    });
  }
  const rep =
    current.stage === 'assigned' ? config.reps.reps.find((r) => r.id === current.ownerRepId) : undefined;
  const noticeOnce = `notice#${day}`;
  if (rep && (await leads.claimOnce(lead.id, noticeOnce))) {
    await givingBackOnFailure(leads, lead.id, noticeOnce, () =>
      sendMail(activityEmail(current, rep, `sent the ${lead.formType} form again`, config.app)),
    );
    metrics.addMetric('RepActivityEmails', 'Count', 1);
  }
  metrics.addMetric('SubmissionsDelivered', 'Count', 1);
  logger.info('submission handed to the active run', { leadId: lead.id, stage: current.stage });
  return 'delivered';
}
