import { config, funnelOptions, leadRetention } from '#functions/config/bundled.ts';
import {
  type DealOutcome,
  type DealState,
  LOST_REASONS,
  MAX_AMOUNT,
  outcomeOf,
  transition,
} from '#functions/deal/deal.ts';
import { dynamoDeals } from '#functions/deal/deal-store.ts';
import { dynamoReps } from '#functions/deal/rep-store.ts';
import { dynamoFunnel } from '#functions/funnel/funnel-store.ts';
import { recordMilestones } from '#functions/funnel/milestones.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
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

const TITLES: Record<DealLinkAction, string> = {
  accept: 'Accept this lead',
  won: 'Report a won deal',
  lost: 'Report a lost deal',
};
const LOST_LABELS: Record<(typeof LOST_REASONS)[number], string> = {
  'not-now': 'Not now: interested later',
  'no-budget': 'No budget',
  timing: 'Bad timing',
  'chose-competitor': 'Chose a competitor',
  'no-fit': 'Not a fit',
  'no-response': 'No response',
  other: 'Other',
};

function form(claims: LinkClaims, token: string): string {
  const fields =
    claims.action === 'won'
      ? `<label for="amount">Deal amount (USD)</label><input id="amount" name="amount" type="number" min="0" max="${MAX_AMOUNT}" step="0.01" required>`
      : claims.action === 'lost'
        ? `<label for="reason">Why was it lost?</label><select id="reason" name="reason" required>${LOST_REASONS.map(
            (r) => `<option value="${r}">${escapeHtml(LOST_LABELS[r])}</option>`,
          ).join('')}</select>`
        : '';
  return `<form method="post" action="?t=${escapeHtml(token)}">${fields}<p><button type="submit">${escapeHtml(TITLES[claims.action as DealLinkAction])}</button></p></form>`;
}

/** The rep's answer as a deal outcome, from the link's action and the posted form. */
function outcomeFrom(claims: LinkClaims, body: Record<string, unknown>): DealOutcome {
  if (claims.action === 'accept') return { action: 'accept' };
  if (claims.action === 'won') {
    // A plain decimal amount, as a number input sends it: no hex, exponents or thousands separators.
    const text = String(body.amount ?? '').trim();
    const amount = Number(text);
    const valid = /^\d+(\.\d{1,2})?$/.test(text) && Number.isFinite(amount);
    if (!valid || amount > MAX_AMOUNT) {
      throw new ValidationError({ amount: [`must be an amount from 0 to ${MAX_AMOUNT}`] });
    }
    return { action: 'won', amount };
  }
  const reason = String(body.reason ?? '');
  if (!(LOST_REASONS as readonly string[]).includes(reason))
    throw new ValidationError({ reason: ['pick a reason'] });
  return { action: 'lost', reason: reason as (typeof LOST_REASONS)[number] };
}

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
  runs,
}: Pick<Stores, 'leads' | 'deals' | 'reps' | 'funnel'> & { runs: TaskRuns }) => {
  /** Resumes the waiting run; if it cannot (gone, or an error), puts the deal back as it was. */
  async function resume(deal: DealRecord, next: DealState, taskToken: string, at: string): Promise<boolean> {
    const undo = () =>
      deals.update(
        deal.dealId,
        { stage: next.stage },
        { stage: deal.stage, repId: deal.repId, taskToken, tokenFor: deal.tokenFor, updatedAt: at },
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

  async function act(event: HttpRequest, claims: LinkClaims, deal: DealRecord): Promise<HttpResult> {
    const outcome = outcomeFrom(claims, (event.body ?? {}) as Record<string, unknown>);
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
        { ...next, repId: current.repId, updatedAt: at },
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
      const answer = { dealId: current.dealId, repId: current.repId };
      await leads.putEvent(current.leadId, timeline.repAnswered(at, claims.action as DealLinkAction, answer));
      // The rep's response (won and lost are counted by "Close deal", which the run reaches next).
      const lead = outcome.action === 'accept' ? await leads.get(current.leadId) : undefined;
      if (lead) {
        const { dealId, executionName: execution, repId: rep } = current;
        // The rep's answer is in: a funnel write failing now must not show them an error (Close deal
        // then counts the acceptance as implied by the outcome).
        const seen = current.seen ? { score: current.seen } : {};
        await recordMilestones({ funnel }, { leadId: lead.id, execution, dealId, at, lead, ...seen, rep }, [
          'accepted',
        ]).catch((e: unknown) =>
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
      return page(200, 'Done', `<p>${escapeHtml(message)}</p>`);
    }
    return page(409, 'Already done', '<p>Someone already acted on this deal. Nothing changed.</p>');
  }

  return (
    linkPage({ strict: true })
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
  runs: sfnRuns(),
});
