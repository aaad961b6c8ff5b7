import { config, funnelOptions, leadRetention } from '#functions/config/bundled.ts';
import { ROUTE_MILESTONES, runFactsOf, scoreFactsOf } from '#functions/funnel/funnel-counters.ts';
import { dynamoFunnel } from '#functions/funnel/funnel-store.ts';
import { recordMilestones } from '#functions/funnel/milestones.ts';
import { stageForRoute } from '#functions/lead/lead-stage.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { rescore } from '#functions/lead/rescore.ts';
import { dynamoSubmissions } from '#functions/lead/submission-store.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { stepHandler } from '#functions/platform/step.ts';
import { appTable } from '#functions/platform/table.ts';
import { contracts } from '#functions/steps/contracts.ts';
import type { Stores } from '#functions/stores.ts';

/**
 * Capture & score lead: reads the run's submission (the input has the lead's id only), persists the lead,
 * its email claim and the form on its timeline, then scores it
 * (fit + engagement, with reasons) and routes it (disqualify / sales-ready / nurture). One step, not two:
 * every state costs a transition. A submission for a lead whose active run owns it (two forms racing past
 * SubmitLead) is merged into that lead and this run ends.
 */
export const createHandler = ({
  leads,
  funnel,
  submissions,
}: Pick<Stores, 'leads' | 'funnel' | 'submissions'>) =>
  stepHandler(contracts.capture, async ({ lead: { id }, receivedAt, executionName }) => {
    const now = new Date();
    const at = now.toISOString();
    // The run's input holds the id only: the submission SubmitLead kept for this run has the rest.
    const submission = await submissions.get(id, executionName);
    if (!submission) {
      // Erased between the form and this step (the erase deleted it): nothing to capture, nobody to mail.
      logger.warn('submission gone before capture (erased)', { leadId: id });
      return { leadId: id, route: 'merged' as const, total: 0, grade: '' };
    }
    const { lead } = submission;
    const captured = await leads.capture(lead, executionName, at);
    await leads.putEvent(lead.id, timeline.form(receivedAt, lead, executionName, captured.outcome));
    if (captured.outcome === 'merged') {
      metrics.addMetric('LeadsMerged', 'Count', 1);
      logger.info('lead merged into its active run', { leadId: lead.id });
      return { leadId: lead.id, route: 'merged' as const, total: 0, grade: '' };
    }
    const { score, route } = await rescore(leads, lead.id, now, captured.lead);
    await leads.setStage(lead.id, stageForRoute(route), at, { score });
    const run = runFactsOf(lead, config.reps);
    const scored = scoreFactsOf(score);
    // What the funnel counts this run under, kept so `npm run funnel:rebuild` counts it the same way.
    const counted = { reasons: scored.reasons, territory: run.territory };
    await leads.putEvent(lead.id, timeline.scored(at, score, route, counted));
    await recordMilestones(
      { funnel },
      { leadId: lead.id, execution: executionName, cycle: 0, at, run, score: scored },
      ROUTE_MILESTONES[route],
    );
    metrics.addMetric(`Route_${route}`, 'Count', 1);
    logger.info('lead captured and scored', {
      leadId: lead.id,
      total: score.total,
      grade: score.grade,
      route,
    });
    return { leadId: lead.id, route, total: score.total, grade: score.grade };
  });

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  funnel: dynamoFunnel(table, funnelOptions),
  submissions: dynamoSubmissions(table, leadRetention),
});
