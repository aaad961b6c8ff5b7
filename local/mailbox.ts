/** An email as aws-ses-v2-local keeps it (`GET /store`): the fields Handoff reads. */
export interface MailboxEmail {
  destination: { to: string[] };
  subject: string;
  body: { text?: string; html?: string };
  headers?: { name: string; value: string }[];
  /** The Reply-To addresses (as aws-ses-v2-local keeps them: `Name <address>` text). */
  replyTo?: string[];
  /** When SES accepted it, in epoch seconds on the stack's clock. */
  at: number;
}

/** Every http(s) link in the email's text part, in order. */
export function linksIn(mail: MailboxEmail): string[] {
  return [...(mail.body.text ?? '').matchAll(/https?:\/\/[^\s>]+/g)].map((m) => m[0]);
}

/** The value of a header (names compare case-insensitively). */
export function headerOf(mail: MailboxEmail, name: string): string | undefined {
  return mail.headers?.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}

/** Where a reply to the email goes (its Reply-To address), if it has one. */
export function replyToOf(mail: MailboxEmail): string | undefined {
  const text = mail.replyTo?.[0] ?? headerOf(mail, 'reply-to');
  return text ? text.replace(/^.*<|>.*$/g, '').trim() : undefined;
}

/** The one-click unsubscribe URL: the List-Unsubscribe header's https entry, else an unsubscribe link in the text. */
export function unsubscribeUrlOf(mail: MailboxEmail): string | undefined {
  const header = headerOf(mail, 'list-unsubscribe') ?? '';
  const fromHeader = [...header.matchAll(/<(https?:[^>]+)>/g)].map((m) => m[1]).find(Boolean);
  return fromHeader ?? linksIn(mail).find((l) => l.includes('/unsubscribe'));
}

/**
 * The local SES mailbox (aws-ses-v2-local on `sesUrl`): what was sent, and emptying it. It is one
 * store per process, kept in memory.
 */
export class Mailbox {
  constructor(private readonly sesUrl: string) {}

  async list(): Promise<MailboxEmail[]> {
    const res = await fetch(new URL('/store', this.sesUrl));
    if (!res.ok) throw new Error(`Mailbox at ${this.sesUrl}: HTTP ${res.status}`);
    return ((await res.json()) as { emails: MailboxEmail[] }).emails;
  }

  async clear(): Promise<void> {
    const res = await fetch(new URL('/clear-store', this.sesUrl), { method: 'POST' });
    if (!res.ok) throw new Error(`Mailbox at ${this.sesUrl}: HTTP ${res.status}`);
  }
}
