import { describe, expect, it } from 'vitest';
import { assignmentEmail, nurtureEmail } from '#functions/mail/emails.ts';
import { buildMime, encodeHeader, formatMailbox } from '#functions/mail/mime.ts';
import { escapeHtml } from '#functions/platform/html.ts';
import { config } from '#test/fixtures/config.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { parseMime } from '#test/fixtures/mail.ts';

const ctx = {
  baseUrl: 'https://api.handoff.test',
  key: 'k'.repeat(40),
  now: new Date('2026-11-26T12:00:00Z'),
  ttlDays: 14,
};
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
