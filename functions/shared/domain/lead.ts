import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from './errors.ts';

export const LEAD_STAGES = [
  'captured',
  'disqualified',
  'nurturing',
  'sales-ready',
  'assigned',
  'won',
  'lost',
  'stale',
  'nurtured',
  'not-emailable',
  'unsubscribed',
  'failed',
] as const;
export type LeadStage = (typeof LEAD_STAGES)[number];

const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
    .transform((s) => s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim());
const optionalText = (max: number) =>
  z.preprocess((v) => (v === '' || v === null ? undefined : v), text(max).optional());

/** What a web form (or the JSON API) may send. Unknown fields are dropped. */
export const leadInputSchema = z.object({
  email: z
    .string()
    .trim()
    .max(254, 'must be at most 254 characters')
    .pipe(z.email('must be a valid email address')),
  firstName: text(80).pipe(z.string().min(1, 'is required')),
  lastName: optionalText(80),
  company: optionalText(120),
  title: optionalText(120),
  companySize: z.preprocess(
    (v) => (v === '' || v === undefined || v === null ? undefined : typeof v === 'string' ? Number(v) : v),
    z.number('must be a number').int('must be a whole number').min(1).max(10_000_000).optional(),
  ),
  industry: optionalText(80),
  country: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim().toUpperCase() : undefined),
    z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be a two-letter country code')
      .optional(),
  ),
  phone: optionalText(40),
  message: optionalText(2000),
  formType: z.preprocess(
    (v) => (v === '' || v === undefined ? 'contact' : v),
    z.string().regex(/^[a-z-]{1,40}$/, 'is not a known form type'),
  ),
  consent: z.preprocess(
    (v) => v === true || v === 'true' || v === 'on' || v === 'yes' || v === '1',
    z.boolean(),
  ),
  timeZone: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .max(64)
      .refine((tz) => isTimeZone(tz), 'is not a time zone such as Europe/Berlin')
      .optional(),
  ),
  utmSource: optionalText(100),
  utmMedium: optionalText(100),
  utmCampaign: optionalText(100),
  /** Honeypot: humans never see or fill it. */
  website: z.string().max(500).optional(),
});

export type LeadInput = z.output<typeof leadInputSchema>;

export interface Lead extends Omit<LeadInput, 'website'> {
  id: string;
  emailDomain: string;
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
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

/** Execution name: lead id + form + UTC day, so a re-sent form on the same day starts no second run. */
export function executionNameFor(leadId: string, formType: string, at: Date): string {
  return `${leadId}-${formType}-${at.toISOString().slice(0, 10).replaceAll('-', '')}`.slice(0, 80);
}

export function flattenZodErrors(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.join('.') || '(body)';
    if (!out[key]) out[key] = [];
    out[key].push(issue.message);
  }
  return out;
}

export interface ParsedSubmission {
  /** Honeypot was filled: accept silently, store nothing. */
  bot: boolean;
  lead: Lead;
}

/** Validates and normalizes a form submission. Throws ValidationError with field-level messages. */
export function parseLead(input: unknown, knownFormTypes: readonly string[]): ParsedSubmission {
  const result = leadInputSchema.safeParse(input);
  if (!result.success) throw new ValidationError(flattenZodErrors(result.error));
  const { website, ...data } = result.data;
  if (!knownFormTypes.includes(data.formType)) {
    throw new ValidationError({ formType: [`must be one of: ${knownFormTypes.join(', ')}`] });
  }
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
export const leadSchema = leadInputSchema.omit({ website: true }).extend({
  id: z.string().regex(/^ld-[0-9a-f]{20}$/),
  emailDomain: z.string(),
});
