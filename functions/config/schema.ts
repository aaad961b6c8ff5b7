// The schemas of config/*.json, one per file, with the messages `cdk synth` shows. Over 300 lines because
// it is every field a marketer or sales op sets, each with its bounds and message, in one place the docs
// (docs/configuration.md) follow; split by file it would scatter the shared helpers (intIn, domain, …).
import * as z from 'zod/mini';
import { isTimeZone } from '../platform/time-zone.ts';
import { linkLifetimeProblems } from './link-lifetimes.ts';
import '../platform/zod.ts';

const regex = z.string().check(
  z.refine((p) => {
    try {
      new RegExp(p, 'i');
      return true;
    } catch {
      return false;
    }
  }, 'is not a valid regular expression'),
);
const int = () => z.int('must be a whole number');
const intIn = (min: number, max: number) =>
  z
    .int('must be a whole number')
    .check(z.gte(min, `must be at least ${min}`), z.lte(max, `must be at most ${max}`));
const nonEmpty = z.string().check(z.minLength(1, 'must not be empty'));
const countryCode = z
  .string()
  .check(z.regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "US"'));
const domain = z
  .string()
  .check(z.regex(/^[a-z0-9.-]+\.[a-z]{2,}$|^[a-z0-9.-]+\.example$/, 'must be a lower-case domain name'));
const isoDate = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD'));
const percent = z.number().check(z.gte(0, 'must be at least 0'), z.lte(100, 'must be at most 100'));

export const scoringSchema = z
  .object({
    version: nonEmpty,
    fit: z.object({
      titleSeniority: z.array(z.object({ pattern: regex, points: int(), label: nonEmpty })),
      companySize: z.array(
        z.object({ min: intIn(1, Number.MAX_SAFE_INTEGER), points: int(), label: z.string() }),
      ),
      industries: z.record(z.string(), int()),
      countries: z.record(countryCode, int()),
    }),
    intent: z.object({
      formTypes: z.record(
        z.string().check(z.regex(/^[a-z-]+$/, 'must be lower-case letters and dashes')),
        int(),
      ),
      highIntentForms: z.array(z.string()),
      events: z.record(z.string(), int()),
      /**
       * High-intent pages of the company's site (a path on a `links.clickAllowedHosts` host: `/pricing`) and
       * the engagement points a visit adds; a visit to any other page is not recorded (examples/track.js).
       */
      pages: z._default(
        z.record(
          z.string().check(z.regex(/^\/[a-z0-9/_-]*$/, 'must be a lower-case path such as /pricing')),
          int(),
        ),
        {},
      ),
      halfLifeDays: z.number().check(z.positive('must be positive')),
    }),
    negative: z.object({
      freeMailDomains: z.array(domain),
      freeMailPoints: int().check(z.lte(0, 'must be 0 or less')),
      disposableDomains: z.array(domain),
      competitorDomains: z.array(domain),
      spamPatterns: z.array(regex),
    }),
    thresholds: z.object({ disqualifyBelow: percent, salesReady: percent }),
    grades: z
      .array(z.object({ grade: nonEmpty, min: percent }))
      .check(z.minLength(1, 'needs at least one grade')),
  })
  .check(
    z.superRefine((s, ctx) => {
      if (s.thresholds.disqualifyBelow >= s.thresholds.salesReady) {
        ctx.issues.push({
          code: 'custom',
          input: s,
          path: ['thresholds', 'disqualifyBelow'],
          message: 'must be below thresholds.salesReady',
        });
      }
      for (const [i, form] of s.intent.highIntentForms.entries()) {
        if (!(form in s.intent.formTypes)) {
          ctx.issues.push({
            code: 'custom',
            input: s,
            path: ['intent', 'highIntentForms', i],
            message: `"${form}" is not one of intent.formTypes`,
          });
        }
      }
      if (!s.grades.some((g) => g.min === 0)) {
        ctx.issues.push({ code: 'custom', input: s, path: ['grades'], message: 'needs a grade with min 0' });
      }
    }),
  );

export const nurtureSchema = z.object({
  steps: z
    .array(
      z.object({
        template: z.string().check(z.regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits and dashes')),
        subject: z
          .string()
          .check(z.minLength(1, 'must not be empty'), z.maxLength(200, 'must be at most 200 characters')),
        delayDays: z.number().check(z.gte(0, 'must be at least 0'), z.lte(90, 'must be at most 90')),
      }),
    )
    .check(z.minLength(1, 'needs at least one step')),
  businessHours: z
    .object({
      startHour: intIn(0, 23),
      endHour: intIn(1, 24),
      days: z.array(intIn(0, 6)).check(z.minLength(1, 'needs at least one day')),
      defaultTimeZone: z.string().check(z.refine(isTimeZone, 'is not an IANA time zone')),
    })
    .check(
      z.refine((b) => b.startHour < b.endHour, {
        message: 'startHour must be before endHour',
        path: ['startHour'],
      }),
    ),
  recycleLostReasons: z.array(
    z.string().check(z.regex(/^[a-z-]+$/, 'must be lower-case letters and dashes')),
  ),
  /**
   * How sends that must wait are spread (docs/architecture.md, "Sends spread; outages are waits"): sends held
   * for the opening of business hours land over its first `openingSpreadMinutes`, each lead at its own
   * offset; a send SES throttled or refused while down is tried again after `retryMinutes` to twice that;
   * one over the account's 24-hour quota looks again after `quotaRecheckMinutes` to twice that.
   */
  sending: z._default(
    z.object({
      openingSpreadMinutes: intIn(0, 480),
      retryMinutes: intIn(1, 1440),
      quotaRecheckMinutes: intIn(1, 1440),
    }),
    { openingSpreadMinutes: 120, retryMinutes: 5, quotaRecheckMinutes: 60 },
  ),
  /**
   * Double opt-in (docs/architecture.md, "Double opt-in"), off by default: a consenting lead's first email
   * is a confirmation with a signed link, and nurture starts only once it is clicked. A lead that does not
   * confirm within `confirmWithinDays` gets nothing more and its run ends "Not confirmed".
   */
  doubleOptIn: z._default(
    z.object({ enabled: z.boolean(), confirmWithinDays: z._default(intIn(1, 30), 7) }),
    {
      enabled: false,
      confirmWithinDays: 7,
    },
  ),
});

export const repSchema = z.object({
  id: z.string().check(z.regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits and dashes')),
  name: nonEmpty,
  email: z.email('must be an email address'),
  team: nonEmpty,
  capacity: intIn(1, 10_000),
  weight: z._default(intIn(1, 10), 1),
  active: z.boolean(),
  outOfOffice: z.optional(z.object({ from: isoDate, to: isoDate })),
});

export const repsSchema = z
  .object({
    reps: z.array(repSchema).check(z.minLength(1, 'needs at least one rep')),
    territories: z
      .array(
        z.object({
          team: nonEmpty,
          countries: z.optional(z.array(countryCode)),
          regions: z.optional(z.array(z.string())),
          minCompanySize: z.optional(intIn(1, Number.MAX_SAFE_INTEGER)),
          maxCompanySize: z.optional(intIn(1, Number.MAX_SAFE_INTEGER)),
          default: z.optional(z.boolean()),
        }),
      )
      .check(z.minLength(1, 'needs at least one territory')),
    regions: z.record(z.string(), z.array(countryCode)),
    sla: z.object({
      acceptWithinHours: z
        .number()
        .check(z.positive('must be positive'), z.lte(24 * 14, 'must be at most 336')),
      maxReassignments: intIn(0, 10),
      closeWithinDays: intIn(1, 365),
      /** A run waiting for a free rep looks again this often on its own (a closing deal wakes it sooner). */
      capacityRecheckMinutes: z._default(intIn(1, 24 * 60), 60),
    }),
  })
  .check(
    z.superRefine((c, ctx) => {
      const ids = new Set<string>();
      const teams = new Set(c.reps.map((r) => r.team));
      for (const [i, rep] of c.reps.entries()) {
        if (ids.has(rep.id))
          ctx.issues.push({
            code: 'custom',
            input: c,
            path: ['reps', i, 'id'],
            message: `duplicate rep id "${rep.id}"`,
          });
        ids.add(rep.id);
      }
      for (const [i, t] of c.territories.entries()) {
        if (!teams.has(t.team)) {
          ctx.issues.push({
            code: 'custom',
            input: c,
            path: ['territories', i, 'team'],
            message: `no rep is in team "${t.team}"`,
          });
        }
        for (const [j, r] of (t.regions ?? []).entries()) {
          if (!(r in c.regions)) {
            ctx.issues.push({
              code: 'custom',
              input: c,
              path: ['territories', i, 'regions', j],
              message: `unknown region "${r}"`,
            });
          }
        }
      }
      if (c.territories.filter((t) => t.default).length !== 1) {
        ctx.issues.push({
          code: 'custom',
          input: c,
          path: ['territories'],
          message: 'exactly one territory must be the default',
        });
      }
    }),
  );

/** An API Gateway route throttle: a token bucket of `burst` tokens refilled at `ratePerSecond`. */
const routeBudget = z.object({ ratePerSecond: intIn(1, 10_000), burst: intIn(1, 5_000) });

export const appSchema = z.object({
  sender: z.object({
    fromAddress: z.email('must be an email address'),
    fromName: nonEmpty,
    postalAddress: z.string().check(z.minLength(10, 'must be a full postal address (CAN-SPAM footer)')),
  }),
  forms: z.object({
    allowedOrigins: z.array(z.url('must be a URL')),
    thankYouUrl: z.url('must be a URL'),
    maxBodyBytes: intIn(1024, 262_144),
    /**
     * Server-side CAPTCHA, off unless set: the form's Turnstile or reCAPTCHA token is checked with the
     * provider's siteverify (the site secret in Secrets Manager, docs/deploy.md) before anything is stored.
     */
    captcha: z.optional(
      z.object({
        provider: z.enum(['turnstile', 'recaptcha'], 'must be "turnstile" or "recaptcha"'),
        minScore: z._default(
          z.number().check(z.gte(0, 'must be at least 0'), z.lte(1, 'must be at most 1')),
          0.5,
        ),
      }),
    ),
  }),
  /**
   * Signed links. Each link lives as long as the wait it serves (derived from `reps.sla` and
   * `data.leadRetentionDays` in link-lifetimes.ts), plus `marginDays`; nothing here sets a lifetime alone.
   */
  /**
   * Replies to nurture emails: each email's Reply-To is a signed address on `domain` (a subdomain whose MX
   * is SES receiving; infra/constructs/replies.ts), and a reply stops the sequence and reaches a rep. Left
   * out: no Reply-To, replies go to the sender address as before.
   */
  replies: z.optional(
    z.object({
      domain: z.string().check(z.regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a lower-case domain name')),
    }),
  ),
  links: z.object({
    marginDays: z._default(intIn(1, 30), 2),
    clickAllowedHosts: z.array(nonEmpty),
    scannerGraceSeconds: intIn(0, 600),
  }),
  /**
   * `funnelShards`: how many items a day's funnel counters are spread over (1–64, default 16). Each
   * milestone adds to one of them, and an UpdateItem costs the item's whole size in write units, so a
   * shard should hold about 30 leads' milestones a day: leads a day ÷ 30 (docs/funnel.md). Readers read
   * all 64 possible shards, so the number may change at any time.
   */
  data: z.object({
    leadRetentionDays: intIn(30, 36_500),
    funnelShards: z._default(intIn(1, 64), 16),
  }),
  /**
   * The HTTP API's budgets. Each route has its own bucket (API Gateway's route throttling): `forms` for
   * POST /leads, `links` for each of rep links, unsubscribe and tracked clicks, `admin` for the admin
   * routes, so a flood of forms never takes a token from an unsubscribe. `perClient`: how many forms one
   * source address may post a minute and one email domain an hour (free-mail domains excepted), counted
   * by SubmitLead; beyond it the form is answered 429 with Retry-After and nothing is stored.
   */
  api: z._default(
    z.object({
      forms: routeBudget,
      links: routeBudget,
      admin: routeBudget,
      /** POST /events: page views from the company's site (examples/track.js), apart from forms and links. */
      events: z._default(routeBudget, { ratePerSecond: 50, burst: 100 }),
      perClient: z.object({
        perIpPerMinute: intIn(1, 100_000),
        perDomainPerHour: intIn(1, 1_000_000),
      }),
    }),
    {
      forms: { ratePerSecond: 100, burst: 200 },
      links: { ratePerSecond: 50, burst: 100 },
      admin: { ratePerSecond: 20, burst: 50 },
      events: { ratePerSecond: 50, burst: 100 },
      perClient: { perIpPerMinute: 300, perDomainPerHour: 1000 },
    },
  ),
  /**
   * The deliverability circuit breaker: nurture sends pause when, over the last `windowHours`, permanent
   * bounces or complaints pass their share of sent emails (SES reviews accounts at 5 % and 0.1 %), once
   * at least `minVolume` emails were sent in the window.
   */
  deliverability: z._default(
    z.object({
      bounceRate: z
        .number()
        .check(z.gt(0, 'must be above 0'), z.lt(0.05, 'must be below SES’s 5 % review line')),
      complaintRate: z
        .number()
        .check(z.gt(0, 'must be above 0'), z.lt(0.001, 'must be below SES’s 0.1 % review line')),
      minVolume: intIn(1, 1_000_000),
      windowHours: intIn(1, 72),
    }),
    { bounceRate: 0.04, complaintRate: 0.0008, minVolume: 100, windowHours: 24 },
  ),
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

/** Thrown when a config file does not match its schema; the message names file, field and problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates raw config objects (as parsed from `config/<name>.json`), each file and then across files. */
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
  if (!problems.length) problems.push(...linkLifetimeProblems(out as HandoffConfig));
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return out as HandoffConfig;
}
