import { createHmac, timingSafeEqual } from 'node:crypto';
import { DeniedError } from '../platform/errors.ts';

export const DEAL_ACTIONS = ['accept', 'won', 'lost'] as const;
export type DealLinkAction = (typeof DEAL_ACTIONS)[number];
/** A rep turns the weekly open-deal reminder off or back on: subject = rep id, audience = "reminders". */
export const REMINDER_ACTIONS = ['reminders-off', 'reminders-on'] as const;
export type ReminderLinkAction = (typeof REMINDER_ACTIONS)[number];
export const LINK_ACTIONS = [
  ...DEAL_ACTIONS,
  ...REMINDER_ACTIONS,
  'unsubscribe',
  'click',
  'confirm',
  'visit',
] as const;
export type LinkAction = (typeof LINK_ACTIONS)[number];

/**
 * What a signed link carries. For a rep link: subject = deal id, audience = rep id.
 * For unsubscribe: subject = lead id, audience = "lead"; for a double opt-in confirmation the same, with
 * exp = the end of the confirmation wait. For a tracked click: subject = lead id,
 * audience = destination URL, issuedAt = when the email went out (scanner detection). For a site visitor
 * id (handed over by a tracked click, examples/track.js): subject = lead id, audience = "site".
 */
export interface LinkClaims {
  action: LinkAction;
  subject: string;
  audience: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Seconds since the epoch; optional. */
  iat?: number;
}

function mac(key: string, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

/** A compact signed token `<payload>.<hmac>`; every claim is covered by the HMAC. */
export function signLink(claims: LinkClaims, key: string): string {
  const body = [claims.action, claims.subject, claims.audience, claims.exp, claims.iat ?? 0];
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

const malformed = () =>
  new LinkError('malformed', 'This link is incomplete. Copy the whole link from the email.');

/** Verifies signature (constant-time), shape and expiry; throws a LinkError saying which check failed. */
export function verifyLink(
  token: string,
  key: string,
  now: Date,
  expected?: readonly LinkAction[],
): LinkClaims {
  const [payload, sig, extra] = token.split('.');
  if (!payload || !sig || extra !== undefined) throw malformed();
  const want = mac(key, payload);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new LinkError('tampered', 'This link is not valid. It may have been changed after it was sent.');
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (!Array.isArray(body) || body.length !== 5) throw malformed();
  const [action, subject, audience, exp, iat] = body as [LinkAction, string, string, number, number];
  if (!LINK_ACTIONS.includes(action) || (expected && !expected.includes(action))) throw malformed();
  if (now.getTime() / 1000 > exp)
    throw new LinkError('expired', 'This link has expired. Ask sales ops to resend it.');
  return { action, subject, audience, exp, ...(iat ? { iat } : {}) };
}

/** A signed link that cannot be used: which check failed is in `reason`. */
export class LinkError extends DeniedError {
  constructor(
    readonly reason: 'malformed' | 'tampered' | 'expired',
    message: string,
  ) {
    super(message);
  }
}

/** The query parameter a tracked click adds to its destination: the visitor id examples/track.js keeps. */
export const VISITOR_PARAM = 'hv';

/** A signed site visitor id for the lead: what examples/track.js posts with each high-intent page view. */
export function visitorId(leadId: string, key: string, now: Date, days: number): string {
  const exp = Math.floor(now.getTime() / 1000) + days * 86_400;
  return signLink({ action: 'visit', subject: leadId, audience: 'site', exp }, key);
}
