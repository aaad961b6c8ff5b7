import { config } from '#functions/config/bundled.ts';
import { linkLifetimes } from '#functions/config/link-lifetimes.ts';
import { type LinkClaims, type ReminderLinkAction, signLink } from '#functions/mail/links.ts';
import { NotFoundError } from '#functions/platform/errors.ts';
import { escapeHtml } from '#functions/platform/html.ts';
import type { HttpResult } from '#functions/platform/http.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { page } from '#functions/platform/pages.ts';
import type { RepStore } from '#functions/stores.ts';

const lifetime = linkLifetimes(config).reminders;

const TEXT: Record<ReminderLinkAction, { title: string; ask: string; button: string; done: string }> = {
  'reminders-off': {
    title: 'Stop the weekly reminders',
    ask: 'Stop the Monday email that lists your open deals with fresh links to report them?',
    button: 'Stop the reminders',
    done: 'The weekly reminders are off. The links in your emails keep working.',
  },
  'reminders-on': {
    title: 'Turn the weekly reminders back on',
    ask: 'Get the Monday email that lists your open deals with fresh links to report them again?',
    button: 'Turn the reminders on',
    done: 'The weekly reminders are on again, from next Monday.',
  },
};

const OTHER: Record<ReminderLinkAction, ReminderLinkAction> = {
  'reminders-off': 'reminders-on',
  'reminders-on': 'reminders-off',
};

const form = (token: string, button: string) =>
  `<form method="post" action="?t=${escapeHtml(token)}"><p><button type="submit">${escapeHtml(button)}</button></p></form>`;

/**
 * A rep's reminder link (`reminders-off` / `reminders-on`, subject = rep id), already verified: GET asks
 * (mail scanners follow every link), POST sets the flag on the rep's item and offers the way back, a
 * freshly signed link of the other kind.
 */
export async function reminderSettings(
  method: string,
  claims: LinkClaims,
  token: string,
  key: string,
  reps: Pick<RepStore, 'setReminders'>,
): Promise<HttpResult> {
  const action = claims.action as ReminderLinkAction;
  const repId = claims.subject;
  if (claims.audience !== 'reminders' || !config.reps.reps.some((r) => r.id === repId))
    throw new NotFoundError('This rep');
  const text = TEXT[action];
  if (method !== 'POST')
    return page(200, text.title, `<p>${escapeHtml(text.ask)}</p>${form(token, text.button)}`);
  const now = new Date();
  await reps.setReminders(repId, action === 'reminders-on', now.toISOString());
  metrics.addMetric(action === 'reminders-on' ? 'RepRemindersOn' : 'RepRemindersOff', 'Count', 1);
  logger.info('rep reminder setting', { repId, action });
  const back = OTHER[action];
  const exp = Math.floor(now.getTime() / 1000) + lifetime;
  const backToken = signLink({ action: back, subject: repId, audience: 'reminders', exp }, key);
  return page(200, 'Done', `<p>${escapeHtml(text.done)}</p>${form(backToken, TEXT[back].button)}`);
}
