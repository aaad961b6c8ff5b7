import type { SuppressionReason } from './lead.ts';
import type { NurtureNext } from './lead-stage.ts';
import type { Route } from './scoring.ts';

/** Where a lead is in its nurture sequence: the next email to send and when it is due. */
export interface NurtureState {
  cycle: number;
  /** Index of the next email of the sequence (== its length: the sequence is done when next due). */
  step: number;
  /** When the next email (or the end of the sequence) is due; absent: at once (in business hours). */
  nextSendAt?: string;
  /** Double opt-in: this run's confirmation email went, and the run waits for the click until then. */
  confirmBy?: string;
}

/**
 * Double opt-in as the nurture step sees it: `off` (not required), `confirmed` (the lead clicked, in this
 * run or any before) or `unconfirmed` (nothing but the confirmation email may go).
 */
export type OptIn = 'off' | 'confirmed' | 'unconfirmed';

export interface NurtureFacts {
  now: Date;
  state: NurtureState;
  /** How many emails the sequence has. */
  steps: number;
  /** The wait ended by its timer (the due time came), not by a signal. */
  dueByTimer: boolean;
  suppressed: SuppressionReason | undefined;
  consent: boolean;
  optIn: OptIn;
  route: Route;
  /** The breaker of the stream the next email belongs to (firstContactOf) has paused sending. */
  breakerTripped: boolean;
  /** The first business-hours moment at or after now, in the lead's time zone. */
  firstSlot: Date;
  /**
   * The first business-hours moment at least PAUSED_RECHECK_MS from now: where a paused send looks again.
   * The timer that ends that wait is trusted like any other, so it must land in business hours too.
   */
  pausedSlot: Date;
}

/** The first email of the first cycle: what the person who sent the form asked for. */
export const answersForm = (s: NurtureState) => s.cycle === 0 && s.step === 0;

/**
 * Whether the next email is a first contact (counted in the `first-contact` stream, functions/mail/emails.ts
 * MailStream): the confirmation of an unconfirmed lead, or with opt-in off the answer to the form.
 */
export const firstContactOf = (optIn: OptIn, s: NurtureState) =>
  optIn === 'unconfirmed' || (optIn === 'off' && answersForm(s));

/**
 * The state once the lead has confirmed: the confirmation wait is over, and the sequence starts at once
 * (its first email answers the form, at any hour).
 */
export function afterConfirmation(s: NurtureState, optIn: OptIn): NurtureState {
  if (optIn !== 'confirmed' || s.confirmBy === undefined) return s;
  const { confirmBy: _, nextSendAt: __, ...rest } = s;
  return rest;
}

export type NurtureDecision =
  | { action: 'end'; next: Exclude<NurtureNext, 'wait' | 'sales-ready'> }
  | { action: 'sales-ready' }
  | {
      action: 'wait';
      until: Date;
      why: 'not due' | 'business hours' | 'sending paused' | 'awaiting confirmation';
    }
  /** Double opt-in: send the confirmation email (once per round) and wait for the click. */
  | { action: 'confirm' }
  | { action: 'send' };

const SUPPRESSED_NEXT: Record<SuppressionReason, 'unsubscribed' | 'bounced' | 'complained'> = {
  unsubscribed: 'unsubscribed',
  bounced: 'bounced',
  complained: 'complained',
  erased: 'unsubscribed',
};

/**
 * While sending is paused by the deliverability breaker, a due lead looks again after this long to twice
 * this long, each lead at its own offset (functions/lead/schedule.ts, spreadOf): runs paused together do
 * not all look again in the same second.
 */
export const PAUSED_RECHECK_MS = 3_600_000;

/**
 * Why a due email did not go now (a timeline event says so; it goes later, never dropped): SES throttled
 * or was down past the SDK's retries, SES paused the account's sending, the account's 24-hour quota is used
 * up, or another attempt holds the send's claim (functions/mail/send-store.ts).
 */
export const SEND_DEFERRALS = [
  'SES throttling',
  'SES unavailable',
  'SES sending paused',
  'daily send quota',
  'send in progress',
] as const;
export type SendDeferral = (typeof SEND_DEFERRALS)[number];

/**
 * The nurture step's decision, from what is true now: a suppressed address ends the sequence (by why),
 * a lead now sales-ready goes to sales, and otherwise the next email goes out when it is due, inside
 * business hours, unless sending is paused — then the lead waits (nothing is skipped or dropped).
 */
export function decideNurture(f: NurtureFacts): NurtureDecision {
  if (f.suppressed) return { action: 'end', next: SUPPRESSED_NEXT[f.suppressed] };
  if (!f.consent) return { action: 'end', next: 'not-emailable' };
  if (f.route === 'sales-ready') return { action: 'sales-ready' };
  if (f.optIn === 'unconfirmed') return confirmationDecision(f);
  const dueAt = f.state.nextSendAt ? Date.parse(f.state.nextSendAt) : undefined;
  const due = f.dueByTimer || dueAt === undefined || f.now.getTime() >= dueAt;
  if (!due) return { action: 'wait', until: new Date(dueAt as number), why: 'not due' };
  if (f.state.step >= f.steps) return { action: 'end', next: 'done' };
  if (f.breakerTripped) {
    return { action: 'wait', until: f.pausedSlot, why: 'sending paused' };
  }
  // Every due time is scheduled inside business hours, so a timer that ends a wait is trusted (it also
  // keeps compressed local time from re-waiting on the wall clock). The email that answers the form (the
  // first of the first cycle) goes at once at any hour: the person is waiting for it. A recycled lead's
  // first email, and one found due by a signal, are checked against the hours here.
  if (!f.dueByTimer && !answersForm(f.state) && f.firstSlot.getTime() > f.now.getTime() + 60_000) {
    return { action: 'wait', until: f.firstSlot, why: 'business hours' };
  }
  return { action: 'send' };
}

/**
 * An unconfirmed lead (double opt-in): one confirmation email, then the wait for its click; no click by the
 * end of the wait ends the run (Not confirmed). The email answers the form, so it goes at any hour, unless
 * the first-contact breaker has paused first contacts.
 */
function confirmationDecision(f: NurtureFacts): NurtureDecision {
  const { confirmBy } = f.state;
  if (confirmBy === undefined) {
    if (f.breakerTripped) return { action: 'wait', until: f.pausedSlot, why: 'sending paused' };
    return { action: 'confirm' };
  }
  const until = Date.parse(confirmBy);
  if (f.dueByTimer || f.now.getTime() >= until) return { action: 'end', next: 'unconfirmed' };
  return { action: 'wait', until: new Date(until), why: 'awaiting confirmation' };
}
