import { randomBytes } from 'node:crypto';

/** Escapes text for HTML bodies and attributes. Every lead-supplied value goes through it. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** RFC 2047 encoded-word for non-ASCII headers; CR/LF are removed to prevent header injection. */
export function encodeHeader(value: string): string {
  const clean = value.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(clean)
    ? clean
    : `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** One-click unsubscribe URL (RFC 8058); marketing mail must have it. */
  unsubscribeUrl?: string;
  tags?: Record<string, string>;
}

const wrap76 = (b64: string) => b64.replace(/.{1,76}/g, '$&\r\n');

/** Builds a multipart/alternative MIME message with List-Unsubscribe headers where given. */
export function buildMime(
  msg: MailMessage,
  boundary = `=_handoff_${randomBytes(8).toString('hex')}`,
): string {
  const headers = [
    `From: ${encodeHeader(msg.from)}`,
    `To: ${encodeHeader(msg.to)}`,
    `Subject: ${encodeHeader(msg.subject)}`,
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
