import { describe, expect, it } from 'vitest';
import { linkLifetimes } from '#functions/config/link-lifetimes.ts';
import { assignmentEmail, nurtureEmail, reminderEmail } from '#functions/mail/emails.ts';
import { verifyLink } from '#functions/mail/links.ts';
import { buildMime, encodeHeader, formatMailbox } from '#functions/mail/mime.ts';
import { escapeHtml } from '#functions/platform/html.ts';
import { config } from '#test/fixtures/config.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { parseMime } from '#test/fixtures/mail.ts';

const ctx = {
  baseUrl: 'https://api.handoff.test',
  key: 'k'.repeat(40),
  now: new Date('2026-11-26T12:00:00Z'),
  lifetimes: linkLifetimes(config),
};
const DAY_MS = 86_400_000;
const rep =
  config.reps.reps[0] ??
  (() => {
    throw new Error('no reps');
  })();
const score = {
  total: 77,
  fit: 90,
  engagement: 60,
  grade: 'B',
  rulesVersion: 'v1',
  reasons: [{ kind: 'fit' as const, label: 'Title: VP', points: 25 }],
};

describe('nurture email', () => {
  const mail = parseMime(
    buildMime(nurtureEmail(aLead(), config.nurture.steps[0] ?? ({} as never), config.app, ctx)),
  );

  it('carries one-click unsubscribe headers (RFC 8058)', () => {
    expect(mail.headers['list-unsubscribe']).toMatch(
      /^<https:\/\/api\.handoff\.test\/unsubscribe\?t=[\w-]+\.[\w-]+>$/,
    );
    expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
  });

  it('has the postal address footer in both parts', () => {
    expect(mail.text).toContain(config.app.sender.postalAddress);
    expect(mail.html).toContain(escapeHtml(config.app.sender.postalAddress));
  });

  it('personalizes the subject and tracks its link through /c', () => {
    expect(mail.subject).toBe('Welcome to Handoff, Jordan');
    expect(mail.links.some((l) => l.startsWith('https://api.handoff.test/c?t='))).toBe(true);
  });
});

describe('assignment email', () => {
  const hostile = aLead({
    firstName: '<script>alert(1)</script>',
    company: 'Acme & "Sons" <b>',
    message: '<img src=x onerror=alert(2)>',
  });
  const msg = assignmentEmail(
    { lead: hostile, rep, dealId: 'dl-1', score, attempt: 1, slaHours: 24 },
    config.app,
    ctx,
  );

  it('escapes every lead field in the HTML', () => {
    expect(msg.html).not.toContain('<script>');
    expect(msg.html).not.toContain('<img');
    expect(msg.html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(msg.html).toContain('Acme &#38; &#34;Sons&#34; &#60;b&#62;');
  });

  it('shows the score reasons and three signed action links, and no unsubscribe header (not marketing)', () => {
    expect(msg.text).toContain('+25 Title: VP');
    expect(msg.text).toMatch(/Accept: https:\/\/api\.handoff\.test\/deals\/action\?t=/);
    expect(msg.text).toMatch(/Report won: /);
    expect(msg.text).toMatch(/Report lost: /);
    expect(msg.unsubscribeUrl).toBeUndefined();
  });

  it('signs accept for the acceptance wait and won/lost for the whole outcome wait (not 14 days)', () => {
    const tokenOf = (label: string) =>
      new URL(String(new RegExp(`${label}: (\\S+)`).exec(msg.text)?.[1])).searchParams.get('t') ?? '';
    const at = (days: number) => new Date(ctx.now.getTime() + days * DAY_MS);
    const { acceptWithinHours, closeWithinDays } = config.reps.sla;
    // Accepted at the last hour of the SLA, reported on the last day of the outcome wait: still valid.
    const lastDay = acceptWithinHours / 24 + closeWithinDays;
    expect(verifyLink(tokenOf('Report won'), ctx.key, at(lastDay)).action).toBe('won');
    expect(verifyLink(tokenOf('Report lost'), ctx.key, at(15)).action).toBe('lost');
    expect(verifyLink(tokenOf('Accept'), ctx.key, at(acceptWithinHours / 24)).action).toBe('accept');
    // And no longer than the wait and its margin.
    const margin = config.app.links.marginDays;
    expect(() => verifyLink(tokenOf('Report won'), ctx.key, at(lastDay + margin + 1))).toThrow(/expired/);
    expect(() => verifyLink(tokenOf('Accept'), ctx.key, at(acceptWithinHours / 24 + margin + 1))).toThrow(
      /expired/,
    );
  });
});

describe('reminder email', () => {
  const deals = [
    { dealId: 'dl-1', name: 'Kim <Lee>', company: 'Acme & Co', since: '2026-11-02T10:00:00.000Z' },
    { dealId: 'dl-2', since: '2026-11-20T10:00:00.000Z' },
  ];
  const msg = reminderEmail(rep, deals, config.app, ctx);
  const tokens = (msg.text.match(/deals\/action\?t=[\w.-]+/g) ?? []).map((u) => u.split('t=')[1] ?? '');

  it('lists each open deal with fresh won and lost links, escaped, and a link to stop the reminders', () => {
    expect(msg.to).toBe(rep.email);
    expect(msg.subject).toBe('Still open: 2 deals to report');
    expect(msg.html).toContain('Kim &#60;Lee&#62; at Acme &#38; Co (assigned 2026-11-02)');
    expect(msg.text).toContain('A lead (assigned 2026-11-20)');
    const claims = tokens.map((t) => verifyLink(t, ctx.key, ctx.now));
    expect(claims.map((c) => [c.action, c.subject, c.audience])).toEqual([
      ['won', 'dl-1', rep.id],
      ['lost', 'dl-1', rep.id],
      ['won', 'dl-2', rep.id],
      ['lost', 'dl-2', rep.id],
      ['reminders-off', rep.id, 'reminders'],
    ]);
    // Fresh: a whole outcome wait from the reminder.
    const later = new Date(ctx.now.getTime() + config.reps.sla.closeWithinDays * DAY_MS);
    expect(verifyLink(tokens[0] ?? '', ctx.key, later).action).toBe('won');
    expect(msg.tags).toEqual({ kind: 'reminder' });
  });
});

describe('MIME', () => {
  it('encodes non-ASCII headers and strips CR/LF (no header injection)', () => {
    expect(encodeHeader('Café')).toBe(`=?UTF-8?B?${Buffer.from('Café').toString('base64')}?=`);
    expect(encodeHeader('a\r\nBcc: evil@example.com')).toBe('a Bcc: evil@example.com');
    const raw = buildMime({
      from: { address: 'a@b.example' },
      to: 'c@d.example',
      subject: 'x\r\nBcc: e@f.example',
      text: 't',
      html: 'h',
    });
    expect(raw.split('\r\n\r\n')[0]).not.toMatch(/^Bcc:/m);
  });
});

describe('mailbox headers', () => {
  it('encodes a non-ASCII display name apart from the address', () => {
    const from = formatMailbox({ name: 'Zoë Müller · Handoff', address: 'hello@handoff.example' });
    expect(from).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= <hello@handoff\.example>$/);
    const word = /=\?UTF-8\?B\?([^?]+)\?=/.exec(from)?.[1] ?? '';
    expect(Buffer.from(word, 'base64').toString('utf8')).toBe('Zoë Müller · Handoff');
  });

  it('quotes an ASCII name with specials and leaves a plain one alone', () => {
    expect(formatMailbox({ name: 'Handoff', address: 'a@b.example' })).toBe('Handoff <a@b.example>');
    expect(formatMailbox({ name: 'Sales, "EMEA"', address: 'a@b.example' })).toBe(
      '"Sales, \\"EMEA\\"" <a@b.example>',
    );
    expect(formatMailbox({ address: 'a@b.example' })).toBe('a@b.example');
  });

  it('splits a long non-ASCII subject into encoded-words of at most 75 characters', () => {
    const subject = 'Überraschung für das ganze Team in München: ein Angebot, das bleibt';
    const words = encodeHeader(subject).split('\r\n ');
    expect(words.length).toBeGreaterThan(1);
    for (const w of words) expect(w.length).toBeLessThanOrEqual(75);
    const decoded = words
      .map((w) => Buffer.from(/=\?UTF-8\?B\?([^?]+)\?=/.exec(w)?.[1] ?? '', 'base64').toString('utf8'))
      .join('');
    expect(decoded).toBe(subject);
  });
});
