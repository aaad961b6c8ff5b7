import { createHmac, timingSafeEqual } from 'node:crypto';
import { LinkError } from './errors.ts';

export const LINK_ACTIONS = ['accept', 'won', 'lost'] as const;
export type LinkAction = (typeof LINK_ACTIONS)[number];

export interface LinkClaims {
  dealId: string;
  repId: string;
  action: LinkAction;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');

function mac(key: string, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

/** A compact signed token `<payload>.<hmac>` binding deal, rep, action and expiry. */
export function signLink(claims: LinkClaims, key: string): string {
  const payload = b64(JSON.stringify([claims.dealId, claims.repId, claims.action, claims.exp]));
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/** Verifies signature (constant-time) then expiry; throws LinkError saying which check failed. */
export function verifyLink(token: string, key: string, now: Date): LinkClaims {
  const [payload, sig, extra] = token.split('.');
  if (!payload || !sig || extra !== undefined) throw new LinkError('malformed', 'This link is incomplete.');
  const expected = mac(key, payload);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new LinkError('tampered', 'This link is not valid.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new LinkError('malformed', 'This link is incomplete.');
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) throw new LinkError('malformed', 'This link is incomplete.');
  const [dealId, repId, action, exp] = parsed as [string, string, LinkAction, number];
  if (!LINK_ACTIONS.includes(action)) throw new LinkError('malformed', 'This link is incomplete.');
  if (now.getTime() / 1000 > exp) throw new LinkError('expired', 'This link has expired. Ask sales ops to resend it.');
  return { dealId, repId, action, exp };
}
