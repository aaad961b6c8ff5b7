import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { ValidationError } from '../platform/errors.ts';
import { isTimeZone } from '../platform/time-zone.ts';
import { fieldErrorsOf } from '../platform/zod.ts';

/** Strings a form may send for a field left empty; all mean "not given". */
const blank = (v: unknown) => (v === '' || v === null ? undefined : v);
// Control characters, and the bidi overrides and isolates that make text display in another order
// than it reads (U+202A–U+202E, U+2066–U+2069): refused, never silently stripped.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above; a message may have line breaks and tabs
export const CONTROL_IN_MESSAGE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;
const plain = (pattern: RegExp) =>
  z.refine<string>((s) => !pattern.test(s), 'must not contain control or text-direction characters');
const text = (max: number, pattern = CONTROL) =>
  z.string().check(z.trim(), z.maxLength(max, `must be at most ${max} characters`), plain(pattern));
const optionalText = (max: number, pattern = CONTROL) =>
  z.pipe(z.transform(blank), z.optional(text(max, pattern)));

/** What a web form (or the JSON API) may send. Unknown fields are dropped. */
export const leadInputSchema = z.object({
  email: z.pipe(
    z
      .string('must be a valid email address')
      .check(z.trim(), z.maxLength(254, 'must be at most 254 characters')),
    z.email('must be a valid email address').check(
      // RFC 5321 §4.5.3.1.1: a local part is at most 64 octets.
      z.refine(
        (e) => Buffer.byteLength(e.split('@')[0] ?? '') <= 64,
        'must have at most 64 characters before the @',
      ),
      z.refine((e) => normalizeEmail(e).split('@')[0] !== '', 'must have an address before the +tag'),
    ),
  ),
  firstName: z.pipe(text(80), z.string().check(z.minLength(1, 'is required'))),
  lastName: optionalText(80),
  company: optionalText(120),
  title: optionalText(120),
  companySize: z.pipe(
    z.transform((v: unknown) =>
      v === '' || v === undefined || v === null ? undefined : typeof v === 'string' ? Number(v) : v,
    ),
    z.optional(
      z
        .number('must be a number')
        .check(
          z.refine(Number.isInteger, 'must be a whole number'),
          z.gte(1, 'must be at least 1'),
          z.lte(10_000_000, 'must be at most 10000000'),
        ),
    ),
  ),
  industry: optionalText(80),
  country: z.pipe(
    z.transform((v: unknown) =>
      typeof v === 'string' ? v.trim().toUpperCase() || undefined : (v ?? undefined),
    ),
    z.optional(
      z
        .string('must be a two-letter country code')
        .check(z.regex(/^[A-Z]{2}$/, 'must be a two-letter country code')),
    ),
  ),
  phone: optionalText(40),
  message: optionalText(2000, CONTROL_IN_MESSAGE),
  formType: z.pipe(
    z.transform((v: unknown) => (v === '' || v === undefined ? 'contact' : v)),
    z.string('is not a known form type').check(z.regex(/^[a-z-]{1,40}$/, 'is not a known form type')),
  ),
  consent: z.pipe(
    z.transform((v: unknown) => v === true || v === 'true' || v === 'on' || v === 'yes' || v === '1'),
    z.boolean(),
  ),
  timeZone: z.pipe(
    z.transform(blank),
    z.optional(
      z
        .string()
        .check(
          z.maxLength(64, 'must be at most 64 characters'),
          z.refine(isTimeZone, 'is not a time zone such as Europe/Berlin'),
        ),
    ),
  ),
  utmSource: optionalText(100),
  utmMedium: optionalText(100),
  utmCampaign: optionalText(100),
  /** Honeypot: humans never see or fill it. */
  website: z.optional(z.string().check(z.maxLength(500, 'must be at most 500 characters'))),
});

export type LeadInput = z.output<typeof leadInputSchema>;

export interface Lead extends Omit<LeadInput, 'website'> {
  id: string;
  emailDomain: string;
}

/** Lower-cases, trims, and drops `+tag` sub-addresses so one person is one lead. */
export function normalizeEmail(email: string): string {
  const [local = '', domain = ''] = email.trim().toLowerCase().split('@');
  return `${local.split('+')[0]}@${domain}`;
}

/** Stable per person: the same normalized email always gives the same lead id. */
export function leadIdFor(email: string): string {
  return `ld-${createHash('sha256').update(normalizeEmail(email)).digest('hex').slice(0, 20)}`;
}

/** The address as suppression keeps it: SHA-256 of the normalized email, never the address itself. */
export function emailHash(email: string): string {
  return createHash('sha256').update(normalizeEmail(email)).digest('hex');
}

/** Execution name: lead id + form + UTC day, so a re-sent form on the same day starts no second run. */
export function executionNameFor(leadId: string, formType: string, at: Date): string {
  return `${leadId}-${formType}-${at.toISOString().slice(0, 10).replaceAll('-', '')}`.slice(0, 80);
}

export interface ParsedSubmission {
  /** Honeypot was filled: accept silently, store nothing. */
  bot: boolean;
  lead: Lead;
}

/** Validates and normalizes a form submission. Throws ValidationError with field-level messages. */
export function parseLead(input: unknown, knownFormTypes: readonly string[]): ParsedSubmission {
  const result = leadInputSchema.safeParse(input);
  const unknownFormType = [`must be one of: ${knownFormTypes.join(', ')}`];
  if (!result.success) {
    // Every field error at once: an unknown form type is reported beside the schema's errors.
    const errors = fieldErrorsOf(result.error);
    const formType = (input as { formType?: unknown } | null)?.formType;
    if (!errors.formType && typeof formType === 'string' && !knownFormTypes.includes(formType))
      errors.formType = unknownFormType;
    throw new ValidationError(errors);
  }
  const { website, ...data } = result.data;
  if (!knownFormTypes.includes(data.formType)) throw new ValidationError({ formType: unknownFormType });
  const email = normalizeEmail(data.email);
  const lead: Lead = {
    ...data,
    email,
    id: leadIdFor(email),
    emailDomain: email.split('@')[1] ?? '',
  };
  return { bot: Boolean(website && website.trim() !== ''), lead };
}

/** A lead as it travels in workflow state: already normalized by the API, checked again by each step. */
export const leadSchema = z.extend(z.omit(leadInputSchema, { website: true }), {
  id: z.string().check(z.regex(/^ld-[0-9a-f]{20}$/, 'is not a lead id')),
  emailDomain: z.string(),
});

export type SuppressionReason = 'unsubscribed' | 'bounced' | 'complained' | 'erased';
