import { describe, expect, it } from 'vitest';
import { classify, MAX_REPLY, ownWords, readInbound, returnDateIn } from '#functions/mail/inbound.ts';
import { parseReplyAddress, replyAddress } from '#functions/mail/reply-address.ts';
import { replyMime } from '#local/ses-receiving.ts';

const KEY = 'unit-test-signing-key-0123456789abcdef';
const DOMAIN = 'reply.handoff.example';
const LEAD = 'ld-0123456789abcdef0123';
const now = new Date('2026-12-07T12:00:00Z');
const headers = (h: Record<string, string> = {}) =>
  new Map(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

describe('reply addresses', () => {
  it('name the lead and the email, fit a local part, and parse back in any case', () => {
    const address = String(replyAddress(LEAD, 0, 3, KEY, DOMAIN));
    expect(address).toMatch(/^r-0123456789abcdef0123-0-3-[0-9a-f]{16}@reply\.handoff\.example$/);
    expect(address.split('@')[0]?.length).toBeLessThanOrEqual(64);
    expect(parseReplyAddress(address.toUpperCase(), KEY, DOMAIN)).toEqual({
      leadId: LEAD,
      cycle: 0,
      step: 3,
    });
  });

  it.each([
    ['another email of the lead', (a: string) => a.replace('-0-3-', '-0-2-')],
    ['another lead', (a: string) => a.replace('0123456789abcdef0123', 'ffffffffffffffffffff')],
    ['another domain', (a: string) => a.replace(DOMAIN, 'evil.example')],
    ['a changed signature', (a: string) => a.replace(/-[0-9a-f]{16}@/, '-0000000000000000@')],
    ['not one of ours at all', () => 'sales@reply.handoff.example'],
  ])('refuses %s', (_, change) => {
    expect(
      parseReplyAddress(change(String(replyAddress(LEAD, 0, 3, KEY, DOMAIN))), KEY, DOMAIN),
    ).toBeUndefined();
  });
});

describe('sorting what came back', () => {
  it.each([
    ['a person', {}, 'Sounds good, can we talk Tuesday?', 'human'],
    ['a person on holiday, writing themselves', {}, 'I am on vacation until Monday, call me then!', 'human'],
    ['RFC 3834 auto-replied', { 'Auto-Submitted': 'auto-replied' }, 'Thanks for your message.', 'automatic'],
    ['Auto-Submitted: no (a person)', { 'Auto-Submitted': 'no' }, 'Hello', 'human'],
    [
      'an out-of-office',
      { 'X-Autoreply': 'yes' },
      'I am out of the office until 14 December.',
      'out-of-office',
    ],
    ['Precedence: auto_reply', { Precedence: 'auto_reply' }, 'Received.', 'automatic'],
  ])('%s', (_, h, text, kind) => {
    expect(classify({ headers: headers(h), subject: 'Re: Your guide', text })).toBe(kind);
  });

  it('takes an auto-reply subject and a delivery report for what they are', () => {
    expect(
      classify({
        headers: headers(),
        subject: 'Automatic reply: Your guide',
        text: 'I am away until Friday.',
      }),
    ).toBe('out-of-office');
    expect(
      classify({
        headers: headers(),
        subject: 'Automatic reply: Your guide',
        text: 'Thanks, a ticket is open.',
      }),
    ).toBe('automatic');
    expect(
      classify({
        headers: headers(),
        subject: 'Undeliverable',
        text: '',
        contentType: 'multipart/report; report-type=delivery-status',
      }),
    ).toBe('delivery-report');
    expect(classify({ headers: headers(), subject: 'x', text: '', from: 'MAILER-DAEMON@mx.example' })).toBe(
      'delivery-report',
    );
  });

  it('keeps the reply’s own words: quoted history cut, control characters out, at most 2,000 characters', () => {
    const text =
      'Yes please.\r\n\r\n\r\n\r\nCall me.\u202e\nOn Mon, 7 Dec 2026, Handoff <hello@handoff.example> wrote:\n> old';
    expect(ownWords(text)).toBe('Yes please.\n\nCall me.');
    expect(ownWords('> only quoted')).toBe('');
    const long = ownWords('x'.repeat(5000));
    expect(long.length).toBe(MAX_REPLY);
    expect(long.endsWith('…')).toBe(true);
  });

  it.each([
    ['I will be back on 2026-12-14.', '2026-12-14'],
    ['Returning December 14, 2026.', '2026-12-14'],
    ['back 14 December', '2026-12-14'],
    ['Back on January 5th', '2027-01-05'],
    ['I am away. Back soon.', undefined],
    ['back on 2027-09-01 (too far to hold mail for)', undefined],
  ])('reads a return day in “%s”', (text, day) => {
    expect(returnDateIn(text, now)).toBe(day);
  });

  it('parses a real message with mailparser: sender, recipients, the sort and the return day', async () => {
    const to = String(replyAddress(LEAD, 0, 1, KEY, DOMAIN));
    const raw = replyMime({
      from: 'Jordan Lee <jordan.lee@acme-robotics.com>',
      to,
      subject: 'Your guide',
      text: 'Out of office: back on 2026-12-21.',
      headers: { 'Auto-Submitted': 'auto-replied' },
      now,
    });
    await expect(readInbound(raw, now)).resolves.toEqual({
      kind: 'out-of-office',
      to: [to],
      from: 'jordan.lee@acme-robotics.com',
      subject: 'Re: Your guide',
      text: 'Out of office: back on 2026-12-21.',
      returnDate: '2026-12-21',
    });
  });
});
