// PII masking for everything the console shows: lead profiles, timelines, and the inputs and outputs in
// execution histories. The server masks before it answers, so an unrevealed page never holds the data
// (not in the DOM, not in the network panel); `?reveal=1` asks for it as stored.

const BULLETS = '•••';
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** `grace.hopper@acme-robotics.com` → `g•••@a•••.com`: enough to tell two leads apart, not to read one. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 0) return maskText(email);
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot > 0 ? domain.slice(dot) : '';
  return `${email.slice(0, 1)}${BULLETS}@${domain.slice(0, 1)}${BULLETS}${tld}`;
}

/** A domain on its own (the lead's `emailDomain`): `acme-robotics.com` → `a•••.com`. */
export function maskDomain(domain: string): string {
  const dot = domain.lastIndexOf('.');
  return `${domain.slice(0, 1)}${BULLETS}${dot > 0 ? domain.slice(dot) : ''}`;
}

/** A name or company: its first letter. */
export function maskText(s: string): string {
  return s === '' ? '' : `${[...s][0]}${BULLETS}`;
}

/** A phone number: its last two digits. */
export function maskPhone(s: string): string {
  const digits = s.replace(/\D/g, '');
  return `${BULLETS} ${digits.slice(-2)}`;
}

/** Free text (the form's message): only its length. */
export function maskMessage(s: string): string {
  return `${BULLETS} (${[...s].length} characters)`;
}

/** Keys whose string values are personal data, and how each is masked. */
const BY_KEY: Record<string, (s: string) => string> = {
  email: maskEmail,
  emailDomain: maskDomain,
  firstName: maskText,
  lastName: maskText,
  fullName: maskText,
  company: maskText,
  phone: maskPhone,
  message: maskMessage,
  // A rep's note on a lead (what the customer said): only its length, as a form's message.
  note: maskMessage,
};

/** Emails inside any other text (a cause, a subject line, a log message). */
export function maskEmailsIn(s: string): string {
  return s.replace(EMAIL, (e) => maskEmail(e));
}

/**
 * A copy of `value` with personal data masked: the values of known keys at any depth, and email
 * addresses anywhere in other strings. JSON documents inside strings (a history event's `input`) are
 * masked with `maskJsonText`.
 */
export function maskDeep<T>(value: T): T {
  return walk(value, undefined) as T;
}

function walk(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') {
    const byKey = key !== undefined ? BY_KEY[key] : undefined;
    return byKey ? byKey(value) : maskEmailsIn(value);
  }
  if (Array.isArray(value)) return value.map((v) => walk(v, key));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
  }
  return value;
}

/** A JSON text (an execution's or a state's input or output) with its personal data masked. */
export function maskJsonText(text: string): string {
  try {
    return JSON.stringify(maskDeep(JSON.parse(text)));
  } catch {
    return maskEmailsIn(text);
  }
}
