import { feedbackFrom, form, outcomeFrom, TITLES } from '#functions/api/rep-action-form.ts';
import { config, funnelOptions, leadRetention } from '#functions/config/bundled.ts';
import { type DealState, outcomeOf, transition } from '#functions/deal/deal.ts';
import { dynamoDeals } from '#functions/deal/deal-store.ts';
import { dynamoReps } from '#functions/deal/rep-store.ts';
import { markerOf, type RunFacts, runFactsOf } from '#functions/funnel/funnel-counters.ts';
import { dynamoFunnel } from '#functions/funnel/funnel-store.ts';
import { recordMilestones } from '#functions/funnel/milestones.ts';
import type { Rating } from '#functions/lead/deal-vocabulary.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { dynamoRepNotes } from '#functions/lead/rep-note-store.ts';
import { timeline } from '#functions/lead/timeline.ts';
import {
  DEAL_ACTIONS,
  type DealLinkAction,
  type LinkClaims,
  REMINDER_ACTIONS,
  verifyLink,
} from '#functions/mail/links.ts';
import { ConflictError, NotFoundError, ValidationError } from '#functions/platform/errors.ts';
import { escapeHtml } from '#functions/platform/html.ts';
import type { HttpEvent, HttpRequest, HttpResult } from '#functions/platform/http.ts';
import { linkKeyOf, linkPage } from '#functions/platform/link-key.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { page } from '#functions/platform/pages.ts';
import { sfnRuns, type TaskRuns } from '#functions/platform/runs.ts';
import { appTable } from '#functions/platform/table.ts';
import type { DealRecord, Stores } from '#functions/stores.ts';
import { reminderSettings } from './reminder-settings.ts';

const alreadyDone = (stage: string) =>
  page(409, 'Already done', `<p>This deal is already <b>${escapeHtml(stage)}</b>. Nothing changed.</p>`);

/** 410: the lead's run is over (failed, stopped, or moved past this wait); the deal is left as it was. */
const journeyEnded = (what: string) =>
  page(
    410,
    'This lead’s journey has ended',
    `<p>${escapeHtml(what)} Nothing was changed. Sales ops can see the lead and restart its run from the console.</p>`,
  );

const END_TEXT: Record<NonNullable<DealRecord['runEnd']>, string> = {
  FAILED: 'The lead’s run stopped on an error before your answer could reach it.',
  TIMED_OUT: 'The lead’s run timed out.',
  ABORTED: 'The lead’s run was stopped by an admin.',
  ERASED: 'The lead was erased at their request.',
};

const REP_LINK_ACTIONS = [...DEAL_ACTIONS, ...REMINDER_ACTIONS] as const;

/**
 * GET|POST /deals/action?t=<signed link>. GET only shows a confirmation page (mail scanners follow
 * every link); POST verifies the link, moves the deal, then resumes the run with the stored token. A run
 * that has ended gets 410 and the deal is left unchanged. The rep's reminder on/off links are served here
 * too (reminder-settings.ts).
 */
export const createHandler = ({
  leads,
  deals,
  reps,
  funnel,
  repNotes,
  runs,
}: Pick<Stores, 'leads' | 'deals' | 'reps' | 'funnel' | 'repNotes'> & { runs: TaskRuns }) => {
  /** Resumes the waiting run; if it cannot (gone, or an error), puts the deal back as it was. */
  async function resume(deal: DealRecord, next: DealState, taskToken: string, at: string): Promise<boolean> {
    const undo = () =>
      deals.update(
        deal.dealId,
        { stage: next.stage },
        { stage: deal.stage, repId: deal.repId, taskToken, tokenFor: deal.tokenFor, updatedAt: at },
        deal.closeRating ? [] : ['closeRating'],
      );
    let resumed: boolean;
    try {
      resumed = await runs.resume(taskToken, outcomeOf(next));
    } catch (e) {
      await undo(); // the rep can simply try again
      throw e;
    }
    if (!resumed) await undo();
    return resumed;
  }

  /** Who the run's lead is (its `captured` marker; a run older than the funnel: the lead now). */
  async function runFacts(deal: DealRecord): Promise<RunFacts | undefined> {
    const marked = await funnel.marker(
      deal.leadId,
      String(markerOf('captured', { execution: deal.executionName })),
    );
    if (marked?.facts) return marked.facts;
    const lead = await leads.get(deal.leadId);
    return lead ? runFactsOf(lead, config.reps) : undefined;
  }

  /**
   * Keeps the rating and note for marketing (scoring feedback), grouped by the run's attribution. The answer
   * is in by now: a failure here is logged (never the note) and the rep is told, not shown an error.
   */
  async function keepNote(
    deal: DealRecord,
    action: DealLinkAction,
    at: string,
    said: { rating?: Rating; note?: string },
  ): Promise<boolean> {
    try {
      const facts = await runFacts(deal);
      const { leadId, dealId, repId } = deal;
      await repNotes.put({
        leadId,
        dealId,
        repId,
        action,
        at,
        ...said,
        formType: facts?.formType ?? '(unknown)',
        ...(facts?.source ? { source: facts.source } : {}),
        ...(facts?.campaign ? { campaign: facts.campaign } : {}),
        ...(deal.seen ? { grade: deal.seen.grade } : {}),
      });
      return true;
    } catch (e) {
      logger.error('rep note not kept', {
        dealId: deal.dealId,
        error: e instanceof Error ? e.name : 'unknown',
      });
      metrics.addMetric('RepNoteErrors', 'Count', 1);
      return false;
    }
  }

  async function act(event: HttpRequest, claims: LinkClaims, deal: DealRecord): Promise<HttpResult> {
    const body = (event.body ?? {}) as Record<string, unknown>;
    const outcome = outcomeFrom(claims, body);
    const said = feedbackFrom(body);
    // Optimistic loop: the claim holds only if stage, rep and parked token are as read. It loses when
    // the workflow parks its token in between (then we read again and resume it) or another click won.
    let current: DealRecord | undefined = deal;
    for (let tries = 0; tries < 3 && current; tries++) {
      if (current.repId !== claims.audience) break;
      if (current.runEnd) return journeyEnded(END_TEXT[current.runEnd]);
      let next: DealState;
      try {
        next = transition(current, outcome);
      } catch (e) {
        if (e instanceof ValidationError) throw e;
        return alreadyDone(current.stage);
      }
      const taskToken = current.taskToken;
      const at = new Date().toISOString();
      const claimed = await deals.update(
        current.dealId,
        { stage: current.stage, repId: current.repId, taskToken: taskToken ?? null },
        {
          ...next,
          repId: current.repId,
          updatedAt: at,
          // "Close deal" counts the rating with the outcome it records.
          ...(said.rating && outcome.action !== 'accept' ? { closeRating: said.rating } : {}),
        },
        ['taskToken', 'tokenFor'],
      );
      if (!claimed) {
        current = await deals.get(current.dealId);
        continue;
      }
      if (taskToken && !(await resume(current, next, taskToken, at))) {
        logger.warn('rep acted on a run that has moved on', { dealId: current.dealId });
        return journeyEnded('The lead’s run has already moved past this step (or ended).');
      }
      const answer = { dealId: current.dealId, repId: current.repId, ...said };
      await leads.putEvent(current.leadId, timeline.repAnswered(at, claims.action as DealLinkAction, answer));
      const kept =
        said.rating || said.note ? await keepNote(current, claims.action as DealLinkAction, at, said) : true;
      // The rep's response (won and lost are counted by "Close deal", which the run reaches next).
      const lead = outcome.action === 'accept' ? await leads.get(current.leadId) : undefined;
      if (lead) {
        const { dealId, executionName: execution, repId: rep } = current;
        // The rep's answer is in: a funnel write failing now must not show them an error (Close deal
        // then counts the acceptance as implied by the outcome).
        const seen = current.seen ? { score: current.seen } : {};
        const rating = said.rating ? { rating: { milestone: 'accepted' as const, value: said.rating } } : {};
        const cycle = current.cycle ?? 0; // a cohort counts an acceptance of cycle 0 only
        const where = { leadId: lead.id, execution, cycle, dealId, at, lead, ...seen, ...rating, rep };
        await recordMilestones({ funnel }, where, ['accepted']).catch((e: unknown) =>
          logger.error('funnel acceptance not recorded', {
            dealId,
            error: e instanceof Error ? e.name : 'unknown',
          }),
        );
      }
      metrics.addMetric(`RepAction_${claims.action}`, 'Count', 1);
      logger.info('rep acted', { dealId: current.dealId, repId: current.repId, action: claims.action });
      const message =
        outcome.action === 'accept'
          ? `It is yours. Report the outcome with the links in the email within ${config.reps.sla.closeWithinDays} days.`
          : 'Thanks, the outcome is recorded and marketing has been told.';
      const lostNote = kept
        ? ''
        : '<p>Your rating and note could not be saved. Please send them to sales ops.</p>';
      return page(200, 'Done', `<p>${escapeHtml(message)}</p>${lostNote}`);
    }
    return page(409, 'Already done', '<p>Someone already acted on this deal. Nothing changed.</p>');
  }

  return (
    // A note of 1,000 characters URL-encoded takes up to 9 KB (3 UTF-8 bytes a character, each as %XX).
    linkPage({ strict: true, maxBytes: 16_384 })
      // The parsers' types describe what they make of the event; the handler takes API Gateway's event.
      .handler<HttpEvent, HttpResult>(async (event: HttpRequest, context) => {
        const token = event.queryStringParameters?.t ?? '';
        const key = linkKeyOf(context);
        const claims = verifyLink(token, key, new Date(), REP_LINK_ACTIONS);
        const method = event.requestContext.http.method;
        if ((REMINDER_ACTIONS as readonly string[]).includes(claims.action))
          return reminderSettings(method, claims, token, key, reps);
        const deal = await deals.get(claims.subject);
        if (!deal) throw new NotFoundError('This deal');
        if (deal.repId !== claims.audience) {
          throw new ConflictError(
            'This lead has been reassigned to another rep, so this link no longer applies.',
          );
        }
        if (method === 'POST') return act(event, claims, deal);
        const done = deal.stage === 'won' || deal.stage === 'lost' || deal.stage === 'stale';
        if (done || (claims.action === 'accept' && deal.stage === 'accepted')) {
          return page(
            200,
            'Already done',
            `<p>This deal is already <b>${escapeHtml(deal.stage)}</b>. Nothing to do.</p>`,
          );
        }
        if (deal.runEnd) return journeyEnded(END_TEXT[deal.runEnd]);
        return page(
          200,
          TITLES[claims.action as DealLinkAction],
          `<p>Deal <code>${escapeHtml(deal.dealId)}</code>.</p>${form(claims, token)}`,
        );
      })
  );
};

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  deals: dynamoDeals(table),
  reps: dynamoReps(table),
  funnel: dynamoFunnel(table, funnelOptions),
  repNotes: dynamoRepNotes(table, leadRetention),
  runs: sfnRuns(),
});
