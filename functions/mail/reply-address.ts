// The Reply-To of a nurture email: a per-lead, per-email address on the reply subdomain
// (`r-<lead>-<cycle>-<step>-<mac>@reply.example.com`), signed with the link key, so a reply says who
// answered which email and nobody can make one up. Lower case throughout: mail servers may fold a local
// part's case. 64 characters at most (RFC 5321's limit for a local part): 2 + 20 + 2×(1–4) + 16 + 4 dashes.
import { createHmac, timingSafeEqual } from 'node:crypto';

const LEAD = /^ld-([0-9a-f]{20})$/;
const LOCAL = /^r-([0-9a-f]{20})-(\d{1,4})-(\d{1,4})-([0-9a-f]{16})$/;

const macOf = (key: string, hex: string, cycle: number, step: number) =>
  createHmac('sha256', key).update(`reply|${hex}|${cycle}|${step}`).digest('hex').slice(0, 16);

/** The address a reply to email (`cycle`, `step`) of the lead goes to; undefined for an id of another shape. */
export function replyAddress(
  leadId: string,
  cycle: number,
  step: number,
  key: string,
  domain: string,
): string | undefined {
  const hex = LEAD.exec(leadId)?.[1];
  if (!hex || cycle < 0 || step < 0 || cycle > 9999 || step > 9999) return undefined;
  return `r-${hex}-${cycle}-${step}-${macOf(key, hex, cycle, step)}@${domain.toLowerCase()}`;
}

/** Who a reply address names, when it is one of ours and its signature holds; else undefined. */
export function parseReplyAddress(
  address: string,
  key: string,
  domain: string,
): { leadId: string; cycle: number; step: number } | undefined {
  const at = address.lastIndexOf('@');
  if (at < 0 || address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return undefined;
  const m = LOCAL.exec(address.slice(0, at).toLowerCase());
  if (!m) return undefined;
  const [, hex = '', c = '', s = '', mac = ''] = m;
  const cycle = Number(c);
  const step = Number(s);
  const want = Buffer.from(macOf(key, hex, cycle, step));
  const got = Buffer.from(mac);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
  return { leadId: `ld-${hex}`, cycle, step };
}
