// What came back to a nurture email's reply address (functions/mail/reply-address.ts), parsed with
// mailparser and sorted: a person's reply, or something automatic — an out-of-office (with its return date
// when one can be read), another auto-reply (RFC 3834 `Auto-Submitted`, vendors' X- headers, `Precedence`),
// or a delivery report (a DSN, a mailer-daemon). Only a person's reply stops the sequence and reaches a rep.
import { simpleParser } from 'mailparser';

export type ReplyKind = 'human' | 'out-of-office' | 'automatic' | 'delivery-report';

export interface InboundMail {
  kind: ReplyKind;
  /** Every address the message was sent to (To, Cc), lower case. */
  to: string[];
  from?: string;
  subject: string;
  /** The reply's own words: quoted history cut, control characters out, at most MAX_REPLY characters. */
  text: string;
  /** An out-of-office's return day (YYYY-MM-DD), when the message names one within RETURN_WITHIN_DAYS. */
  returnDate?: string;
}

export const MAX_REPLY = 2000;
export const RETURN_WITHIN_DAYS = 90;

const OOO_SUBJECT =
  /(out of (the )?office|\booo\b|abwesenheit|absence|absent|vacation|holiday|on leave|congés|ausente|fuera de la oficina)/i;
const AUTO_SUBJECT =
  /^(auto(matic)?[ -]?(reply|response|answer)|autoreply|réponse automatique|automatische antwort|respuesta automática)/i;
const OOO_TEXT =
  /(out of (the )?office|away (from|until)|on (vacation|holiday|leave|parental leave)|will be back|returning on|back in the office|limited access to (my )?e-?mail)/i;
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
// biome-ignore lint/suspicious/noControlCharactersInRegex: taking control characters out is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g;

const header = (headers: Map<string, unknown>, name: string) => {
  const v = headers.get(name);
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && 'value' in (v as object)) return String((v as { value: unknown }).value);
  return String(v);
};

/** How the message came to be: a person, or a machine (and which kind). */
export function classify(m: {
  headers: Map<string, unknown>;
  subject: string;
  text: string;
  from?: string;
  contentType?: string;
}): ReplyKind {
  const contentType = (m.contentType ?? header(m.headers, 'content-type')).toLowerCase();
  const sender = (m.from ?? '').toLowerCase();
  if (
    (contentType.includes('multipart/report') && contentType.includes('delivery-status')) ||
    /^(mailer-daemon|postmaster)@/.test(sender)
  )
    return 'delivery-report';
  const autoSubmitted = header(m.headers, 'auto-submitted').trim().toLowerCase();
  const precedence = header(m.headers, 'precedence').trim().toLowerCase();
  const machine =
    (autoSubmitted !== '' && autoSubmitted !== 'no') ||
    m.headers.has('x-autoreply') ||
    m.headers.has('x-autorespond') ||
    /^(auto_reply|bulk|junk|list)$/.test(precedence) ||
    AUTO_SUBJECT.test(m.subject);
  if (!machine) return 'human';
  return OOO_SUBJECT.test(m.subject) || OOO_TEXT.test(m.text) ? 'out-of-office' : 'automatic';
}

/** The reply's own words: the quoted email and everything after it cut, at most MAX_REPLY characters. */
export function ownWords(text: string): string {
  const lines: string[] = [];
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (/^On .{1,200} wrote:\s*$/.test(line) || /^-{2,}\s*Original Message\s*-{2,}/i.test(line)) break;
    if (/^(From|Von|De): .+/.test(line) && lines.length > 0) break;
    if (line.startsWith('>')) continue;
    lines.push(line);
  }
  const clean = lines
    .join('\n')
    .replace(CONTROL, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return clean.length > MAX_REPLY ? `${clean.slice(0, MAX_REPLY - 1)}…` : clean;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A return day named in the text ("back on 14 December", "returning December 14, 2026", "until 2026-12-14"). */
export function returnDateIn(text: string, now: Date): string | undefined {
  const lower = text.toLowerCase();
  const cue = /(back|return|returning|until|bis|jusqu'au|hasta)\b/.exec(lower);
  if (!cue) return undefined;
  const after = lower.slice(cue.index, cue.index + 120);
  const candidates: Date[] = [];
  const iso = /(\d{4})-(\d{2})-(\d{2})/.exec(after);
  if (iso) candidates.push(new Date(Date.UTC(Number(iso[1]), Number(iso[2]) - 1, Number(iso[3]))));
  const monthNames = MONTHS.join('|');
  const dm = new RegExp(`(\\d{1,2})(?:st|nd|rd|th)?\\.?\\s+(${monthNames})(?:,?\\s+(\\d{4}))?`).exec(after);
  const md = new RegExp(`(${monthNames})\\s+(\\d{1,2})(?:st|nd|rd|th)?(?:,?\\s+(\\d{4}))?`).exec(after);
  for (const [day, month, year] of [
    dm ? [dm[1], dm[2], dm[3]] : undefined,
    md ? [md[2], md[1], md[3]] : undefined,
  ].filter((x): x is (string | undefined)[] => x !== undefined)) {
    const mi = MONTHS.indexOf(String(month));
    let y = year ? Number(year) : now.getUTCFullYear();
    let d = new Date(Date.UTC(y, mi, Number(day)));
    if (!year && d.getTime() < now.getTime() - 86_400_000) {
      y += 1;
      d = new Date(Date.UTC(y, mi, Number(day)));
    }
    candidates.push(d);
  }
  const limit = now.getTime() + RETURN_WITHIN_DAYS * 86_400_000;
  const found = candidates.find(
    (d) => !Number.isNaN(d.getTime()) && d.getTime() >= now.getTime() - 86_400_000 && d.getTime() <= limit,
  );
  return found
    ? `${found.getUTCFullYear()}-${pad(found.getUTCMonth() + 1)}-${pad(found.getUTCDate())}`
    : undefined;
}

const addresses = (v: unknown): string[] => {
  const list = Array.isArray(v) ? v : v ? [v] : [];
  return list.flatMap((a) =>
    ((a as { value?: { address?: string }[] }).value ?? []).flatMap((x) =>
      x.address ? [x.address.toLowerCase()] : [],
    ),
  );
};

/** Parses a raw message and sorts it. */
export async function readInbound(raw: Buffer | string, now: Date): Promise<InboundMail> {
  const parsed = await simpleParser(raw, {
    skipHtmlToText: false,
    skipImageLinks: true,
    skipTextToHtml: true,
  });
  const subject = parsed.subject ?? '';
  const text = parsed.text ?? '';
  const from = addresses(parsed.from)[0];
  const kind = classify({
    headers: parsed.headers as Map<string, unknown>,
    subject,
    text,
    ...(from ? { from } : {}),
  });
  const returnDate = kind === 'out-of-office' ? returnDateIn(`${subject}\n${text}`, now) : undefined;
  return {
    kind,
    to: [...addresses(parsed.to), ...addresses(parsed.cc)],
    ...(from ? { from } : {}),
    subject,
    text: ownWords(text),
    ...(returnDate ? { returnDate } : {}),
  };
}
