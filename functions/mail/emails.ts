import type { LinkLifetimes } from '../config/link-lifetimes.ts';
import type { AppConfig, NurtureConfig, Rep } from '../config/schema.ts';
import type { Lead } from '../lead/lead.ts';
import type { ScoreReason } from '../lead/scoring.ts';
import { escapeHtml } from '../platform/html.ts';
import { type DealLinkAction, type ReminderLinkAction, signLink } from './links.ts';
import { fillTemplate, footer, type MailMessage } from './mime.ts';
import { replyAddress } from './reply-address.ts';

export interface LinkContext {
  baseUrl: string;
  key: string;
  now: Date;
  /** Each kind of link's life in seconds, derived from the waits they serve (config/link-lifetimes.ts). */
  lifetimes: LinkLifetimes;
}

const exp = (ctx: LinkContext, kind: keyof LinkLifetimes) =>
  Math.floor(ctx.now.getTime() / 1000) + ctx.lifetimes[kind];

export function unsubscribeUrl(leadId: string, ctx: LinkContext): string {
  // Unsubscribe links keep working as long as anything of the lead is kept.
  const token = signLink(
    { action: 'unsubscribe', subject: leadId, audience: 'lead', exp: exp(ctx, 'unsubscribe') },
    ctx.key,
  );
  return `${ctx.baseUrl}/unsubscribe?t=${token}`;
}

export function trackedUrl(leadId: string, destination: string, ctx: LinkContext): string {
  const iat = Math.floor(ctx.now.getTime() / 1000);
  const token = signLink(
    { action: 'click', subject: leadId, audience: destination, exp: exp(ctx, 'click'), iat },
    ctx.key,
  );
  return `${ctx.baseUrl}/c?t=${token}`;
}

/** A rep's link on a deal: accept lives as long as the acceptance wait, won and lost as the outcome wait. */
export function repActionUrl(
  dealId: string,
  repId: string,
  action: DealLinkAction,
  ctx: LinkContext,
): string {
  const life = action === 'accept' ? 'accept' : 'outcome';
  return `${ctx.baseUrl}/deals/action?t=${signLink({ action, subject: dealId, audience: repId, exp: exp(ctx, life) }, ctx.key)}`;
}

/** The rep's link to turn the weekly open-deal reminder off (or back on); served by the rep-action route. */
export function reminderSettingUrl(repId: string, action: ReminderLinkAction, ctx: LinkContext): string {
  const claims = { action, subject: repId, audience: 'reminders', exp: exp(ctx, 'reminders') };
  return `${ctx.baseUrl}/deals/action?t=${signLink(claims, ctx.key)}`;
}

/** The double opt-in link: lives exactly as long as the confirmation wait (`until`, epoch seconds). */
export function confirmUrl(leadId: string, until: number, ctx: LinkContext): string {
  const token = signLink({ action: 'confirm', subject: leadId, audience: 'lead', exp: until }, ctx.key);
  return `${ctx.baseUrl}/confirm?t=${token}`;
}

/**
 * The stream an email's SES events are counted in (functions/deliverability/breaker.ts): `first-contact`
 * for the first email to an address nobody has vouched for (a double opt-in confirmation; with opt-in off,
 * the answer to a form), `known` for the rest. Junk addresses bounce on first contact, so their bounces
 * pause first contacts only, never mail to leads who already take it.
 */
export type MailStream = 'first-contact' | 'known';

const from = (app: AppConfig) => ({ name: app.sender.fromName, address: app.sender.fromAddress });

/**
 * The one email a lead gets before confirming (double opt-in): a link to confirm, valid until `until`
 * (epoch seconds), and the unsubscribe footer, so whoever's address was used can stop it at once.
 */
export function confirmationEmail(lead: Lead, until: number, app: AppConfig, ctx: LinkContext): MailMessage {
  const confirm = confirmUrl(lead.id, until, ctx);
  const unsub = unsubscribeUrl(lead.id, ctx);
  const f = footer(app.sender.postalAddress, unsub);
  const by = new Date(until * 1000).toISOString().slice(0, 10);
  const name = app.sender.fromName;
  return {
    from: from(app),
    to: lead.email,
    subject: `Please confirm your email for ${name}`,
    unsubscribeUrl: unsub,
    text: `Hi ${lead.firstName},

Please confirm that you want emails from ${name}: ${confirm}

The link works until ${by}. If you did not ask for this, ignore this email: you will get nothing more.
${f.text}`,
    html: `<p>Hi ${escapeHtml(lead.firstName)},</p><p>Please confirm that you want emails from ${escapeHtml(name)}: <a href="${escapeHtml(confirm)}">confirm my email</a>.</p><p>The link works until ${by}. If you did not ask for this, ignore this email: you will get nothing more.</p>${f.html}`,
    tags: { kind: 'confirm', leadId: lead.id, stream: 'first-contact' satisfies MailStream },
  };
}

export function nurtureEmail(
  lead: Lead,
  step: NurtureConfig['steps'][number],
  app: AppConfig,
  ctx: LinkContext,
  stream: MailStream = 'known',
  /** Which email of the sequence this is: its reply address names it (app.replies). */
  position?: { cycle: number; step: number },
): MailMessage {
  const values = { firstName: lead.firstName, company: lead.company ?? 'your team' };
  const replyTo =
    app.replies && position
      ? replyAddress(lead.id, position.cycle, position.step, ctx.key, app.replies.domain)
      : undefined;
  const subject = fillTemplate(step.subject, values);
  const unsub = unsubscribeUrl(lead.id, ctx);
  const read = trackedUrl(
    lead.id,
    `https://${app.links.clickAllowedHosts[0]}/resources/${step.template}`,
    ctx,
  );
  const f = footer(app.sender.postalAddress, unsub);
  return {
    from: from(app),
    to: lead.email,
    subject,
    unsubscribeUrl: unsub,
    ...(replyTo ? { replyTo } : {}),
    text: `Hi ${values.firstName},\n\nWe put together something for ${values.company}: ${read}\n${f.text}`,
    html: `<p>Hi ${escapeHtml(values.firstName)},</p><p>We put together something for ${escapeHtml(values.company)}: <a href="${escapeHtml(read)}">read it here</a>.</p>${f.html}`,
    // SES hands tags back with bounce and complaint events: the lead id finds the run to wake.
    tags: { kind: 'nurture', template: step.template, leadId: lead.id, stream },
  };
}

export interface AssignmentEmailInput {
  lead: Lead;
  rep: Rep;
  /** The lead's reply that sent it to sales: its words, and which nurture email it answered. */
  reply?: { message: string; answered: string };
  dealId: string;
  score: {
    total: number;
    grade: string;
    fit: number;
    engagement: number;
    reasons: ScoreReason[];
    rulesVersion: string;
  };
  attempt: number;
  slaHours: number;
}

export function assignmentEmail(input: AssignmentEmailInput, app: AppConfig, ctx: LinkContext): MailMessage {
  const { lead, rep, dealId, score } = input;
  const name = [lead.firstName, lead.lastName].filter(Boolean).join(' ');
  const accept = repActionUrl(dealId, rep.id, 'accept', ctx);
  const won = repActionUrl(dealId, rep.id, 'won', ctx);
  const lost = repActionUrl(dealId, rep.id, 'lost', ctx);
  const rows: [string, string | number | undefined][] = [
    ['Name', name],
    ['Email', lead.email],
    ['Company', lead.company],
    ['Title', lead.title],
    ['Company size', lead.companySize],
    ['Country', lead.country],
    ['Form', lead.formType],
    ['Message', lead.message],
  ];
  const present = rows.filter(([, v]) => v !== undefined && v !== '');
  const reasons = score.reasons.map((r) => `${r.points > 0 ? '+' : ''}${r.points} ${r.label}`);
  const again = input.attempt > 1 ? ' (reassigned to you)' : '';
  const f = footer(app.sender.postalAddress);
  return {
    from: from(app),
    to: rep.email,
    subject: `New lead${again}: ${name}${lead.company ? ` at ${lead.company}` : ''} — grade ${score.grade}`,
    text: [
      `Hi ${rep.name},`,
      '',
      `A ${score.grade} lead (score ${score.total}: fit ${score.fit}, engagement ${score.engagement}) is yours${again}. Please accept within ${input.slaHours} hours or it will be reassigned.`,
      '',
      ...present.map(([k, v]) => `${k}: ${v}`),
      '',
      ...(input.reply
        ? [
            `They replied to ${input.reply.answered}:`,
            ...input.reply.message.split('\n').map((l) => `> ${l}`),
            '',
          ]
        : []),
      `Why (rules ${score.rulesVersion}):`,
      ...reasons.map((r) => `  ${r}`),
      '',
      `Accept: ${accept}`,
      `Report won: ${won}`,
      `Report lost: ${lost}`,
      f.text,
    ].join('\n'),
    html: `<p>Hi ${escapeHtml(rep.name)},</p><p>A <b>${escapeHtml(score.grade)}</b> lead (score ${score.total}: fit ${score.fit}, engagement ${score.engagement}) is yours${escapeHtml(again)}. Please accept within ${input.slaHours} hours or it will be reassigned.</p><table>${present
      .map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
      .join('')}</table>${
      input.reply
        ? `<p>They replied to ${escapeHtml(input.reply.answered)}:</p><blockquote style="white-space:pre-wrap;border-left:3px solid #ccc;margin:0;padding-left:.8em">${escapeHtml(input.reply.message)}</blockquote>`
        : ''
    }<p>Why (rules ${escapeHtml(score.rulesVersion)}):</p><ul>${reasons
      .map((r) => `<li>${escapeHtml(r)}</li>`)
      .join(
        '',
      )}</ul><p><a href="${escapeHtml(accept)}">Accept</a> · <a href="${escapeHtml(won)}">Report won</a> · <a href="${escapeHtml(lost)}">Report lost</a></p>${f.html}`,
    tags: { kind: 'assignment' },
  };
}

/** A short note to the rep who has a lead: the lead did something new (at most one a day). */
export function activityEmail(lead: Lead, rep: Rep, what: string, app: AppConfig): MailMessage {
  const name = [lead.firstName, lead.lastName].filter(Boolean).join(' ');
  const f = footer(app.sender.postalAddress);
  return {
    from: from(app),
    to: rep.email,
    subject: `New activity: ${name}${lead.company ? ` at ${lead.company}` : ''}`,
    text: `Hi ${rep.name},\n\n${name} (${lead.email}), whose lead you have, just ${what}. Worth a follow-up today.\n${f.text}`,
    html: `<p>Hi ${escapeHtml(rep.name)},</p><p>${escapeHtml(name)} (${escapeHtml(lead.email)}), whose lead you have, just ${escapeHtml(what)}. Worth a follow-up today.</p>${f.html}`,
    tags: { kind: 'activity' },
  };
}

/** One open deal in a rep's weekly reminder. */
export interface ReminderDeal {
  dealId: string;
  /** The lead's name and company, as the assignment email showed them (absent if the lead is gone). */
  name?: string;
  company?: string;
  /** When the deal was assigned (an ISO instant). */
  since: string;
}

/**
 * The weekly reminder to a rep: their accepted deals with no outcome yet, each with fresh won and lost
 * links (living as long as a whole outcome wait from now), and a link to stop these reminders.
 */
export function reminderEmail(
  rep: Rep,
  deals: ReminderDeal[],
  app: AppConfig,
  ctx: LinkContext,
): MailMessage {
  const rows = deals.map((d) => ({
    label: `${d.name ?? 'A lead'}${d.company ? ` at ${d.company}` : ''} (assigned ${d.since.slice(0, 10)})`,
    won: repActionUrl(d.dealId, rep.id, 'won', ctx),
    lost: repActionUrl(d.dealId, rep.id, 'lost', ctx),
  }));
  const stop = reminderSettingUrl(rep.id, 'reminders-off', ctx);
  const f = footer(app.sender.postalAddress);
  const n = deals.length;
  const intro = `${n === 1 ? 'One deal you accepted is' : `${n} deals you accepted are`} still open. When one closes, report it with its links below (they are new: older ones keep working too).`;
  return {
    from: from(app),
    to: rep.email,
    subject: `Still open: ${n} deal${n === 1 ? '' : 's'} to report`,
    text: [
      `Hi ${rep.name},`,
      '',
      intro,
      '',
      ...rows.flatMap((r) => [r.label, `  Report won: ${r.won}`, `  Report lost: ${r.lost}`, '']),
      `Stop these weekly reminders: ${stop}`,
      f.text,
    ].join('\n'),
    html: `<p>Hi ${escapeHtml(rep.name)},</p><p>${escapeHtml(intro)}</p><ul>${rows
      .map(
        (r) =>
          `<li>${escapeHtml(r.label)}: <a href="${escapeHtml(r.won)}">Report won</a> · <a href="${escapeHtml(r.lost)}">Report lost</a></li>`,
      )
      .join('')}</ul><p><a href="${escapeHtml(stop)}">Stop these weekly reminders</a></p>${f.html}`,
    tags: { kind: 'reminder' },
  };
}
