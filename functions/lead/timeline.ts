// A lead's timeline: every event the handlers write on it, as one typed union (zod/mini), and one builder per
// event type. Handlers build events only here, so an event has one shape wherever it is written (the form
// event comes from "Capture & score lead" and from a submission handed to a running run), and the lead store
// checks each event against the union before it writes it.
//
// Readers — the console, engagement scoring, the funnel rebuild, the backtest — read events as stored
// (StoredTimelineEvent): an event written before one of its fields existed lacks it, so they check the
// fields they use rather than trust this union.

import * as z from 'zod/mini';
import { DEAL_STAGES, LOST_REASONS, MAX_NOTE, RATINGS } from './deal-vocabulary.ts';

/** At most this many characters of a lead's reply are kept and quoted (functions/mail/inbound.ts). */
export const MAX_REPLY_TEXT = 2000;

import '../platform/zod.ts';
import type { Lead } from './lead.ts';
import { NURTURE_ENDS } from './lead-stage.ts';
import { SEND_DEFERRALS } from './nurture.ts';
import type { Route, Score } from './scoring.ts';

const id = z.string().check(z.minLength(1, 'is required'));
const count = z.int('must be a whole number').check(z.gte(0, 'must be 0 or more'));

/** One event type: its `type`, its time (ISO, UTC) and what it carries. */
const event = <T extends string, S extends z.core.$ZodShape>(type: T, data: S) =>
  z.object({ type: z.literal(type), at: z.iso.datetime(), data: z.object(data) });

const ROUTES = ['disqualify', 'sales-ready', 'nurture'] as const satisfies readonly Route[];
/** A rep's answer, with the lead-quality rating and note they may add (the note is personal data: masked, erased). */
const repAnswer = {
  dealId: id,
  repId: id,
  rating: z.optional(z.enum(RATINGS)),
  note: z.optional(z.string().check(z.maxLength(MAX_NOTE))),
};
/**
 * What the rep was shown when the deal was placed with them: the score (reasons as the funnel counts them)
 * and the profile's fit fields. Scoring feedback grades the deal with it; a later form changes the lead, not
 * this. Personal data (the company): erased with the timeline, masked in the console.
 */
const seen = z.optional(
  z.object({
    total: count,
    fit: count,
    engagement: count,
    grade: z.string(),
    reasons: z.array(z.string()),
    profile: z.object({
      formType: z.string(),
      company: z.optional(z.string()),
      title: z.optional(z.string()),
      companySize: z.optional(count),
      country: z.optional(z.string()),
    }),
  }),
);
const fromSes = { how: z.literal('ses') };

export const timelineEventSchema = z.discriminatedUnion('type', [
  /**
   * A submitted form. The run it started (`merged: false`), or a second run's that found the lead owned by
   * its active run (`merged: true`); or handed to that active run (`delivered: true`, no `merged`). UTM
   * fields only with a source.
   */
  event('form', {
    formType: id,
    executionName: id,
    merged: z.optional(z.boolean()),
    delivered: z.optional(z.literal(true)),
    utmSource: z.optional(z.string()),
    utmMedium: z.optional(z.string()),
    utmCampaign: z.optional(z.string()),
  }),
  /** Capture's score and route; `reasons` and `territory` as the funnel counts the run. */
  event('scored', {
    total: count,
    fit: count,
    engagement: count,
    grade: z.string(),
    route: z.enum(ROUTES),
    flags: z.array(z.string()),
    reasons: z.array(z.string()),
    territory: z.string(),
  }),
  /** Nurture ended its sequence, or handed the lead to sales. */
  event('nurture-decided', {
    next: z.enum(NURTURE_ENDS),
    total: count,
    grade: z.string(),
    reasons: z.array(z.string()),
  }),
  event('emailed', { template: z.string(), cycle: count, step: count }),
  /** A due nurture email that could not go now (SES throttled or down, the day's quota used), tried again `until`. */
  event('send-deferred', {
    reason: z.enum(SEND_DEFERRALS),
    template: z.string(),
    cycle: count,
    step: count,
    until: z.iso.datetime(),
  }),
  /** Double opt-in: the confirmation email of round `round` went (or a later form joined it), valid `until`. */
  event('confirmation-sent', { round: count, until: z.iso.datetime() }),
  event('confirmed', {}),
  event('email-click', { host: z.string(), path: z.string() }),
  /**
   * A person's reply to nurture email (`cycle`, `step`): their own words (`message`, quoted history cut, at
   * most 2,000 characters; personal data, masked in the console). It stops the sequence: the lead goes to sales.
   */
  event('replied', {
    cycle: count,
    step: count,
    message: z.string().check(z.maxLength(MAX_REPLY_TEXT)),
  }),
  /** An automatic answer to a nurture email: recorded, changes nothing (an out-of-office may hold the next send). */
  event('auto-reply', {
    kind: z.enum(['out-of-office', 'automatic', 'delivery-report']),
    cycle: count,
    step: count,
    returnDate: z.optional(z.string()),
  }),
  /** A visit to a high-intent page of the company's site (examples/track.js, after consent). */
  event('page-visit', { host: z.string(), path: z.string() }),
  event('unsubscribed', { how: z.enum(['one-click', 'page']) }),
  event('bounced', fromSes),
  event('complained', fromSes),
  /** The run ended without finishing: `errorType` is the run's error, else its status. */
  event('failed', { errorType: z.string(), status: z.enum(['FAILED', 'TIMED_OUT', 'ABORTED']) }),
  event('assigned', { dealId: id, repId: id, team: z.string(), seen }),
  event('reassigned', { dealId: id, from: id, to: id, seen }),
  event('waiting-for-rep', { team: z.string() }),
  /** A redriven run took its rep's slot back. */
  event('redriven', { dealId: id }),
  event('rep-accept', repAnswer),
  event('rep-won', repAnswer),
  event('rep-lost', repAnswer),
  event('closed', {
    dealId: id,
    stage: z.enum(DEAL_STAGES),
    amount: z.optional(z.number()),
    lostReason: z.optional(z.enum(LOST_REASONS)),
    recycled: z.boolean(),
  }),
]);

export type TimelineEvent = z.output<typeof timelineEventSchema>;
export type TimelineEventType = TimelineEvent['type'];
type Of<T extends TimelineEventType> = Extract<TimelineEvent, { type: T }>;
type DataOf<T extends TimelineEventType> = Of<T>['data'];
export type SeenSnapshot = NonNullable<DataOf<'assigned'>['seen']>;
type Seen = Omit<SeenSnapshot, 'profile'>;

/** A timeline event as stored and read back: the union's shape, loosely (older events may lack fields). */
export interface StoredTimelineEvent {
  type: string;
  at: string;
  data?: Record<string, unknown>;
}

/** An event that does not match its type's schema: a bug in the handler that built it, never retried. */
export class TimelineEventError extends Error {
  override name = 'TimelineEventError';
}

/** The event, checked against the union (what the lead store writes). */
export function checkedEvent(event: TimelineEvent): TimelineEvent {
  const parsed = timelineEventSchema.safeParse(event);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
  throw new TimelineEventError(`Timeline event ${event.type} is malformed: ${problems.join('; ')}`);
}

const of = <T extends TimelineEventType>(type: T, at: string, data: DataOf<T>) =>
  ({ type, at, data }) as Of<T>;

/** A form's UTM fields as the timeline keeps them: only with a source, and only those given. */
function utmOf(lead: Pick<Lead, 'utmSource' | 'utmMedium' | 'utmCampaign'>) {
  if (!lead.utmSource) return {};
  return {
    utmSource: lead.utmSource,
    ...(lead.utmMedium ? { utmMedium: lead.utmMedium } : {}),
    ...(lead.utmCampaign ? { utmCampaign: lead.utmCampaign } : {}),
  };
}

/** What became of a submitted form: it started its run, was merged into the lead's, or handed to it. */
export type FormReached = 'captured' | 'merged' | 'delivered';

/** The builders: one per event type (the rep's three answers share one). */
export const timeline = {
  form(
    at: string,
    lead: Pick<Lead, 'formType' | 'utmSource' | 'utmMedium' | 'utmCampaign'>,
    executionName: string,
    reached: FormReached,
  ) {
    return of('form', at, {
      formType: lead.formType,
      executionName,
      ...(reached === 'delivered' ? { delivered: true as const } : { merged: reached === 'merged' }),
      ...utmOf(lead),
    });
  },
  scored(
    at: string,
    score: Pick<Score, 'total' | 'fit' | 'engagement' | 'grade' | 'flags'>,
    route: Route,
    counted: { reasons: string[]; territory: string },
  ) {
    const { total, fit, engagement, grade, flags } = score;
    const { reasons, territory } = counted;
    return of('scored', at, { total, fit, engagement, grade, route, flags, reasons, territory });
  },
  nurtureDecided(
    at: string,
    next: DataOf<'nurture-decided'>['next'],
    score: { total: number; grade: string; reasons: string[] },
  ) {
    return of('nurture-decided', at, {
      next,
      total: score.total,
      grade: score.grade,
      reasons: score.reasons,
    });
  },
  emailed: (at: string, sent: DataOf<'emailed'>) => of('emailed', at, sent),
  sendDeferred: (at: string, deferred: DataOf<'send-deferred'>) => of('send-deferred', at, deferred),
  confirmationSent: (at: string, round: DataOf<'confirmation-sent'>) => of('confirmation-sent', at, round),
  confirmed: (at: string) => of('confirmed', at, {}),
  /** Stamped to the minute: one event per lead, destination and minute, however often the link is hit. */
  emailClick(url: URL, now: Date) {
    const minute = `${now.toISOString().slice(0, 16)}:00.000Z`;
    return of('email-click', minute, { host: url.hostname, path: url.pathname });
  },
  replied: (at: string, reply: DataOf<'replied'>) => of('replied', at, reply),
  autoReply: (at: string, reply: DataOf<'auto-reply'>) => of('auto-reply', at, reply),
  /** Stamped to the minute: one visit per lead and minute, however often pages are loaded. */
  pageVisit(url: URL, now: Date) {
    const minute = `${now.toISOString().slice(0, 16)}:00.000Z`;
    return of('page-visit', minute, { host: url.hostname, path: url.pathname });
  },
  unsubscribed: (at: string, how: DataOf<'unsubscribed'>['how']) => of('unsubscribed', at, { how }),
  bounced: (at: string) => of('bounced', at, { how: 'ses' }),
  complained: (at: string) => of('complained', at, { how: 'ses' }),
  failed: (at: string, ended: DataOf<'failed'>) => of('failed', at, ended),
  assigned: (at: string, deal: DataOf<'assigned'>) => of('assigned', at, deal),
  /** The `seen` snapshot of an assignment: `reasons` are the funnel's reason keys (scoreFactsOf). */
  seen(
    lead: Pick<Lead, 'formType' | 'company' | 'title' | 'companySize' | 'country'>,
    score: Seen,
  ): SeenSnapshot {
    const { formType, company, title, companySize, country } = lead;
    const profile = Object.fromEntries(
      Object.entries({ formType, company, title, companySize, country }).filter(
        ([, v]) => v !== undefined && v !== '',
      ),
    ) as SeenSnapshot['profile'];
    const { total, fit, engagement, grade, reasons } = score;
    return { total, fit, engagement, grade, reasons, profile };
  },
  reassigned: (at: string, move: DataOf<'reassigned'>) => of('reassigned', at, move),
  waitingForRep: (at: string, team: string) => of('waiting-for-rep', at, { team }),
  redriven: (at: string, dealId: string) => of('redriven', at, { dealId }),
  repAnswered: (at: string, action: 'accept' | 'won' | 'lost', deal: DataOf<'rep-accept'>) =>
    of(`rep-${action}`, at, deal),
  closed(
    at: string,
    deal: Pick<DataOf<'closed'>, 'dealId' | 'stage' | 'amount' | 'lostReason'>,
    recycled: boolean,
  ) {
    const { dealId, stage, amount, lostReason } = deal;
    return of('closed', at, {
      dealId,
      stage,
      ...(amount !== undefined ? { amount } : {}),
      ...(lostReason ? { lostReason } : {}),
      recycled,
    });
  },
};
