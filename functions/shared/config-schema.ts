import { z } from 'zod';

const regex = z.string().refine(
  (p) => {
    try {
      new RegExp(p, 'i');
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not a valid regular expression' },
);
const countryCode = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "US"');
const domain = z
  .string()
  .regex(/^[a-z0-9.-]+\.[a-z]{2,}$|^[a-z0-9.-]+\.example$/, 'must be a lower-case domain name');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD');

export const scoringSchema = z
  .object({
    version: z.string().min(1),
    fit: z.object({
      titleSeniority: z.array(
        z.object({ pattern: regex, points: z.number().int(), label: z.string().min(1) }),
      ),
      companySize: z.array(
        z.object({ min: z.number().int().min(1), points: z.number().int(), label: z.string() }),
      ),
      industries: z.record(z.string(), z.number().int()),
      countries: z.record(countryCode, z.number().int()),
    }),
    intent: z.object({
      formTypes: z.record(z.string().regex(/^[a-z-]+$/), z.number().int()),
      highIntentForms: z.array(z.string()),
      events: z.record(z.string(), z.number().int()),
      halfLifeDays: z.number().positive(),
    }),
    negative: z.object({
      freeMailDomains: z.array(domain),
      freeMailPoints: z.number().int().max(0),
      disposableDomains: z.array(domain),
      competitorDomains: z.array(domain),
      spamPatterns: z.array(regex),
    }),
    thresholds: z.object({
      disqualifyBelow: z.number().min(0).max(100),
      salesReady: z.number().min(0).max(100),
    }),
    grades: z.array(z.object({ grade: z.string().min(1), min: z.number().min(0).max(100) })).min(1),
  })
  .superRefine((s, ctx) => {
    if (s.thresholds.disqualifyBelow >= s.thresholds.salesReady) {
      ctx.addIssue({
        code: 'custom',
        path: ['thresholds', 'disqualifyBelow'],
        message: 'must be below thresholds.salesReady',
      });
    }
    for (const [i, form] of s.intent.highIntentForms.entries()) {
      if (!(form in s.intent.formTypes)) {
        ctx.addIssue({
          code: 'custom',
          path: ['intent', 'highIntentForms', i],
          message: `"${form}" is not one of intent.formTypes`,
        });
      }
    }
    if (!s.grades.some((g) => g.min === 0)) {
      ctx.addIssue({ code: 'custom', path: ['grades'], message: 'needs a grade with min 0' });
    }
  });

export const nurtureSchema = z.object({
  steps: z
    .array(
      z.object({
        template: z.string().regex(/^[a-z0-9-]+$/),
        subject: z.string().min(1).max(200),
        delayDays: z.number().min(0).max(90),
      }),
    )
    .min(1),
  businessHours: z
    .object({
      startHour: z.number().int().min(0).max(23),
      endHour: z.number().int().min(1).max(24),
      days: z.array(z.number().int().min(0).max(6)).min(1),
      defaultTimeZone: z.string().refine(isTimeZone, { message: 'is not an IANA time zone' }),
    })
    .refine((b) => b.startHour < b.endHour, {
      message: 'startHour must be before endHour',
      path: ['startHour'],
    }),
  recycleLostReasons: z.array(z.string().regex(/^[a-z-]+$/)),
});

export const repSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits and dashes'),
  name: z.string().min(1),
  email: z.email(),
  team: z.string().min(1),
  capacity: z.number().int().min(1),
  weight: z.number().int().min(1).max(10).default(1),
  active: z.boolean(),
  outOfOffice: z.object({ from: isoDate, to: isoDate }).optional(),
});

export const repsSchema = z
  .object({
    reps: z.array(repSchema).min(1),
    territories: z
      .array(
        z.object({
          team: z.string().min(1),
          countries: z.array(countryCode).optional(),
          regions: z.array(z.string()).optional(),
          minCompanySize: z.number().int().min(1).optional(),
          maxCompanySize: z.number().int().min(1).optional(),
          default: z.boolean().optional(),
        }),
      )
      .min(1),
    regions: z.record(z.string(), z.array(countryCode)),
    sla: z.object({
      acceptWithinHours: z
        .number()
        .positive()
        .max(24 * 14),
      maxReassignments: z.number().int().min(0).max(10),
      closeWithinDays: z.number().int().min(1).max(365),
    }),
  })
  .superRefine((c, ctx) => {
    const ids = new Set<string>();
    const teams = new Set(c.reps.map((r) => r.team));
    for (const [i, rep] of c.reps.entries()) {
      if (ids.has(rep.id))
        ctx.addIssue({ code: 'custom', path: ['reps', i, 'id'], message: `duplicate rep id "${rep.id}"` });
      ids.add(rep.id);
    }
    for (const [i, t] of c.territories.entries()) {
      if (!teams.has(t.team)) {
        ctx.addIssue({
          code: 'custom',
          path: ['territories', i, 'team'],
          message: `no rep is in team "${t.team}"`,
        });
      }
      for (const [j, r] of (t.regions ?? []).entries()) {
        if (!(r in c.regions)) {
          ctx.addIssue({
            code: 'custom',
            path: ['territories', i, 'regions', j],
            message: `unknown region "${r}"`,
          });
        }
      }
    }
    if (c.territories.filter((t) => t.default).length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['territories'],
        message: 'exactly one territory must be the default',
      });
    }
  });

export const appSchema = z.object({
  sender: z.object({
    fromAddress: z.email(),
    fromName: z.string().min(1),
    postalAddress: z.string().min(10, 'must be a full postal address (CAN-SPAM footer)'),
  }),
  forms: z.object({
    allowedOrigins: z.array(z.url()),
    thankYouUrl: z.url(),
    maxBodyBytes: z.number().int().min(1024).max(262144),
  }),
  links: z.object({
    ttlDays: z.number().int().min(1).max(60),
    clickAllowedHosts: z.array(z.string().min(1)),
    scannerGraceSeconds: z.number().int().min(0).max(600),
  }),
  data: z.object({ leadRetentionDays: z.number().int().min(30) }),
});

export const configFiles = {
  scoring: scoringSchema,
  nurture: nurtureSchema,
  reps: repsSchema,
  app: appSchema,
} as const;

export type ScoringConfig = z.infer<typeof scoringSchema>;
export type NurtureConfig = z.infer<typeof nurtureSchema>;
export type RepsConfig = z.infer<typeof repsSchema>;
export type Rep = z.infer<typeof repSchema>;
export type AppConfig = z.infer<typeof appSchema>;
export interface HandoffConfig {
  scoring: ScoringConfig;
  nurture: NurtureConfig;
  reps: RepsConfig;
  app: AppConfig;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Thrown when a config file does not match its schema; the message names file, field and problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates raw config objects (as parsed from `config/<name>.json`). */
export function parseConfig(raw: Record<keyof HandoffConfig, unknown>): HandoffConfig {
  const problems: string[] = [];
  const out: Partial<HandoffConfig> = {};
  for (const name of Object.keys(configFiles) as (keyof HandoffConfig)[]) {
    const result = configFiles[name].safeParse(raw[name]);
    if (result.success) {
      (out as Record<string, unknown>)[name] = result.data;
    } else {
      for (const issue of result.error.issues) {
        const field = issue.path.length ? issue.path.join('.') : '(root)';
        problems.push(`config/${name}.json: ${field}: ${issue.message}`);
      }
    }
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return out as HandoffConfig;
}
