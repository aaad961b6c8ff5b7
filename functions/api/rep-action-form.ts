// The rep's answer page: its form (the outcome's fields, and a lead-quality rating and note for marketing on
// every answer) and the checks of what it posts, before anything is written. rep-action.ts serves it.

import { type DealOutcome, LOST_REASONS, MAX_AMOUNT } from '#functions/deal/deal.ts';
import { MAX_NOTE, RATINGS, type Rating } from '#functions/lead/deal-vocabulary.ts';
import { CONTROL_IN_MESSAGE } from '#functions/lead/lead.ts';
import type { DealLinkAction, LinkClaims } from '#functions/mail/links.ts';
import { ValidationError } from '#functions/platform/errors.ts';
import { escapeHtml } from '#functions/platform/html.ts';

export const TITLES: Record<DealLinkAction, string> = {
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

const RATING_LABELS: Record<Rating, string> = {
  'good-fit': 'Good fit',
  'wrong-fit': 'Wrong fit',
  'wrong-timing': 'Wrong timing',
};

/** Every answer can carry a lead-quality rating and a note for marketing (both optional). */
const feedbackFields = `<fieldset><legend>Lead quality (optional, for marketing)</legend>${RATINGS.map(
  (r) => `<label><input type="radio" name="rating" value="${r}"> ${escapeHtml(RATING_LABELS[r])}</label>`,
).join(
  ' ',
)}</fieldset><label for="note">What did you learn? The customer’s preferences and challenges, in your words (optional, up to ${MAX_NOTE} characters)</label><textarea id="note" name="note" rows="4" maxlength="${MAX_NOTE}"></textarea>`;

export function form(claims: LinkClaims, token: string): string {
  const outcomeFields =
    claims.action === 'won'
      ? `<label for="amount">Deal amount (USD)</label><input id="amount" name="amount" type="number" min="0" max="${MAX_AMOUNT}" step="0.01" required>`
      : claims.action === 'lost'
        ? `<label for="reason">Why was it lost?</label><select id="reason" name="reason" required>${LOST_REASONS.map(
            (r) => `<option value="${r}">${escapeHtml(LOST_LABELS[r])}</option>`,
          ).join('')}</select>`
        : '';
  const fields = outcomeFields + feedbackFields;
  return `<form method="post" action="?t=${escapeHtml(token)}">${fields}<p><button type="submit">${escapeHtml(TITLES[claims.action as DealLinkAction])}</button></p></form>`;
}

/** The rep's answer as a deal outcome, from the link's action and the posted form. */
export function outcomeFrom(claims: LinkClaims, body: Record<string, unknown>): DealOutcome {
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

/** The rating and note posted with an answer, checked before anything is written. */
export function feedbackFrom(body: Record<string, unknown>): { rating?: Rating; note?: string } {
  const errors: Record<string, string[]> = {};
  const rating = String(body.rating ?? '');
  if (rating !== '' && !(RATINGS as readonly string[]).includes(rating))
    errors.rating = [`must be one of ${RATINGS.join(', ')}, or left out`];
  const note = String(body.note ?? '')
    .replace(/\r\n?/g, '\n')
    .trim();
  // UTF-16 units, as the timeline's schema counts them (an emoji counts 2).
  const length = note.length;
  // As a form's message: refused, never silently stripped (functions/lead/lead.ts).
  if (CONTROL_IN_MESSAGE.test(note)) errors.note = ['must not contain control or text-direction characters'];
  else if (length > MAX_NOTE) errors.note = [`must be at most ${MAX_NOTE} characters (it has ${length})`];
  if (Object.keys(errors).length) throw new ValidationError(errors);
  return { ...(rating ? { rating: rating as Rating } : {}), ...(note ? { note } : {}) };
}
