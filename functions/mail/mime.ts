// MIME for SES SendRawEmail, built by hand on purpose: the maintained composers measured here add 138 KB
// (nodemailer's MailComposer) or 162 KB (mimetext) to each mailing bundle, against a 300 KB budget, for
// two multipart/alternative messages with a handful of headers.
import { randomBytes } from 'node:crypto';
import { escapeHtml } from '../platform/html.ts';

const PRINTABLE = /^[\x20-\x7e]*$/;

/**
 * An unstructured header value (RFC 5322 §2.2.1): CR/LF become spaces (no header injection); non-ASCII
 * text becomes RFC 2047 encoded-words of at most 75 characters each, split on whole characters.
 */
export function encodeHeader(value: string): string {
  const clean = value.replace(/[\r\n]+/g, ' ');
  if (PRINTABLE.test(clean)) return clean;
  const words: string[] = [];
  let chunk = '';
  for (const ch of clean) {
    // 45 bytes of UTF-8 encode to 60 base64 characters: with `=?UTF-8?B?` and `?=`, 72 ≤ 75.
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

export interface Mailbox {
  name?: string;
  address: string;
}

/**
 * A mailbox header value (RFC 5322 §3.4): the display name encoded on its own (encoded-words when it is not
 * ASCII, a quoted string when it has specials), then the address, which is never encoded.
 */
export function formatMailbox({ name, address }: Mailbox): string {
  const addr = address.replace(/[\r\n<>\s]/g, '');
  const display = (name ?? '').replace(/[\r\n]+/g, ' ').trim();
  if (!display) return addr;
  const phrase = !PRINTABLE.test(display)
    ? encodeHeader(display)
    : /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(display)
      ? display
      : `"${display.replace(/["\\]/g, '\\$&')}"`;
  return `${phrase} <${addr}>`;
}

export interface MailMessage {
  from: Mailbox;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** One-click unsubscribe URL (RFC 8058); marketing mail must have it. */
  unsubscribeUrl?: string;
  /** Where a reply goes (a nurture email's signed reply address). */
  replyTo?: string;
  tags?: Record<string, string>;
}

const wrap76 = (b64: string) => b64.replace(/.{1,76}/g, '$&\r\n');

/** Builds a multipart/alternative MIME message with List-Unsubscribe headers where given. */
export function buildMime(
  msg: MailMessage,
  boundary = `=_handoff_${randomBytes(8).toString('hex')}`,
): string {
  const headers = [
    `From: ${formatMailbox(msg.from)}`,
    `To: ${formatMailbox({ address: msg.to })}`,
    `Subject: ${encodeHeader(msg.subject)}`,
    ...(msg.replyTo ? [`Reply-To: ${formatMailbox({ address: msg.replyTo })}`] : []),
    'MIME-Version: 1.0',
    ...(msg.unsubscribeUrl
      ? [`List-Unsubscribe: <${msg.unsubscribeUrl}>`, 'List-Unsubscribe-Post: List-Unsubscribe=One-Click']
      : []),
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ];
  const part = (type: string, body: string) =>
    [
      `--${boundary}`,
      `Content-Type: ${type}; charset=UTF-8`,
      'Content-Transfer-Encoding: base64',
      '',
      wrap76(Buffer.from(body, 'utf8').toString('base64')),
    ].join('\r\n');
  return [
    ...headers,
    '',
    part('text/plain', msg.text),
    part('text/html', msg.html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/** Replaces `{{field}}` with values (plain text: the caller escapes for HTML). */
export function fillTemplate(template: string, values: Record<string, string | undefined>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => values[k] ?? '');
}

export function footer(postalAddress: string, unsubscribeUrl?: string): { text: string; html: string } {
  const unsub = unsubscribeUrl ? `\nUnsubscribe: ${unsubscribeUrl}` : '';
  return {
    text: `\n\n--\n${postalAddress}${unsub}\n`,
    html: `<hr><p style="font-size:12px;color:#666">${escapeHtml(postalAddress)}${
      unsubscribeUrl ? `<br><a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a>` : ''
    }</p>`,
  };
}
