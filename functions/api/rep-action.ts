import { SendTaskSuccessCommand, SFNClient, TaskDoesNotExist, TaskTimedOut } from '@aws-sdk/client-sfn';
import { config } from '#shared/config.ts';
import { type DealRecord, store } from '#shared/data/store.ts';
import { type DealAction, type DealState, LOST_REASONS, transition } from '#shared/domain/deal.ts';
import { LinkError, NotFoundError, ValidationError } from '#shared/domain/errors.ts';
import { DEAL_ACTIONS, type LinkClaims, verifyLink } from '#shared/domain/links.ts';
import { type HttpEvent, httpHandler, page, parseFormOrJson } from '#shared/http.ts';
import { escapeHtml } from '#shared/mail.ts';
import { logger, metrics } from '#shared/observability.ts';
import { linkSigningKey } from '#shared/secrets.ts';

const sfn = new SFNClient({});

const TITLES = { accept: 'Accept this lead', won: 'Report a won deal', lost: 'Report a lost deal' } as const;
const LOST_LABELS: Record<(typeof LOST_REASONS)[number], string> = {
  'not-now': 'Not now: interested later',
  'no-budget': 'No budget',
  timing: 'Bad timing',
  'chose-competitor': 'Chose a competitor',
  'no-fit': 'Not a fit',
  'no-response': 'No response',
  other: 'Other',
};

/** Resumes the waiting run with the rep's answer; if that fails (not because the wait is over), undoes the claim. */
async function resume(deal: DealRecord, next: DealState, action: DealAction, taskToken: string, at: string) {
  const output =
    action.type === 'won'
      ? { action: 'won', amount: next.amount }
      : action.type === 'lost'
        ? { action: 'lost', reason: next.lostReason }
        : { action: 'accept' };
  try {
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  } catch (e) {
    // The wait already ended (SLA timeout): the deal change stands; the run has moved on.
    if (e instanceof TaskTimedOut || e instanceof TaskDoesNotExist) {
      logger.warn('task already closed', { dealId: deal.dealId });
      return;
    }
    // Could not resume the run: undo the claim so the rep can simply try again.
    await store.updateDeal(
      deal.dealId,
      { stage: next.stage },
      { stage: deal.stage, repId: deal.repId, taskToken, tokenFor: deal.tokenFor, updatedAt: at },
    );
    throw e;
  }
}

async function claimsOf(event: HttpEvent): Promise<LinkClaims> {
  const token = event.queryStringParameters?.t ?? '';
  return verifyLink(token, await linkSigningKey(), new Date(), DEAL_ACTIONS);
}

function form(claims: LinkClaims, token: string): string {
  const fields =
    claims.action === 'won'
      ? '<label for="amount">Deal amount (USD)</label><input id="amount" name="amount" type="number" min="0" step="0.01" required>'
      : claims.action === 'lost'
        ? `<label for="reason">Why was it lost?</label><select id="reason" name="reason" required>${LOST_REASONS.map(
            (r) => `<option value="${r}">${escapeHtml(LOST_LABELS[r])}</option>`,
          ).join('')}</select>`
        : '';
  return `<form method="post" action="?t=${escapeHtml(token)}">${fields}<p><button type="submit">${escapeHtml(TITLES[claims.action as keyof typeof TITLES])}</button></p></form>`;
}

function actionFrom(claims: LinkClaims, body: Record<string, unknown>): DealAction {
  if (claims.action === 'accept') return { type: 'accept' };
  if (claims.action === 'won') {
    const amount = Number(body.amount);
    if (body.amount === undefined || body.amount === '' || !Number.isFinite(amount) || amount < 0) {
      throw new ValidationError({ amount: ['must be a positive amount'] });
    }
    return { type: 'won', amount };
  }
  const reason = String(body.reason ?? '');
  if (!(LOST_REASONS as readonly string[]).includes(reason))
    throw new ValidationError({ reason: ['pick a reason'] });
  return { type: 'lost', reason: reason as (typeof LOST_REASONS)[number] };
}

/**
 * GET|POST /deals/action?t=<signed link>. GET only shows a confirmation page (mail scanners follow
 * every link); POST verifies the link, moves the deal, then resumes the run with the stored token.
 */
export const handler = httpHandler(
  async (event) => {
    const claims = await claimsOf(event);
    const deal = await store.getDeal(claims.subject);
    if (!deal) throw new NotFoundError('This deal');
    if (deal.repId !== claims.audience) {
      throw new LinkError(
        'used',
        'This lead has been reassigned to another rep, so this link no longer applies.',
      );
    }
    const token = event.queryStringParameters?.t ?? '';
    if (event.requestContext.http.method !== 'POST') {
      const done = deal.stage === 'won' || deal.stage === 'lost' || deal.stage === 'stale';
      if (done || (claims.action === 'accept' && deal.stage === 'accepted')) {
        return page(
          200,
          'Already done',
          `<p>This deal is already <b>${escapeHtml(deal.stage)}</b>. Nothing to do.</p>`,
        );
      }
      return page(
        200,
        TITLES[claims.action as keyof typeof TITLES],
        `<p>Deal <code>${escapeHtml(deal.dealId)}</code>.</p>${form(claims, token)}`,
      );
    }
    const body = event.body ? parseFormOrJson(event, 4096) : {};
    const action = actionFrom(claims, body);
    // Optimistic loop: the claim holds only if stage, rep and parked token are as read. It loses when
    // the workflow parks its token in between (then we read again and resume it) or another click won.
    let current: DealRecord | undefined = deal;
    for (let tries = 0; tries < 3 && current; tries++) {
      if (current.repId !== claims.audience) break;
      let next: ReturnType<typeof transition>;
      try {
        next = transition(current, action);
      } catch (e) {
        if (e instanceof ValidationError) throw e;
        return page(
          409,
          'Already done',
          `<p>This deal is already <b>${escapeHtml(current.stage)}</b>. Nothing changed.</p>`,
        );
      }
      const taskToken = current.taskToken;
      const at = new Date().toISOString();
      const claimed = await store.updateDeal(
        current.dealId,
        { stage: current.stage, repId: current.repId, taskToken: taskToken ?? null },
        { ...next, repId: current.repId, updatedAt: at },
        ['taskToken', 'tokenFor'],
      );
      if (!claimed) {
        current = await store.getDeal(current.dealId);
        continue;
      }
      await store.putEvent(current.leadId, {
        type: `rep-${claims.action}`,
        at,
        data: { dealId: current.dealId, repId: current.repId },
      });
      if (taskToken) await resume(current, next, action, taskToken, at);
      metrics.addMetric(`RepAction_${claims.action}`, 'Count', 1);
      logger.info('rep acted', { dealId: current.dealId, repId: current.repId, action: claims.action });
      const message =
        action.type === 'accept'
          ? `It is yours. Report the outcome with the links in the email within ${config.reps.sla.closeWithinDays} days.`
          : 'Thanks, the outcome is recorded and marketing has been told.';
      return page(200, 'Done', `<p>${escapeHtml(message)}</p>`);
    }
    return page(409, 'Already done', '<p>Someone already acted on this deal. Nothing changed.</p>');
  },
  { format: 'html' },
);
