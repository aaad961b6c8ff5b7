import type { SendDeferral } from '../lead/nurture.ts';
import { checkedEvent, type TimelineEvent } from '../lead/timeline.ts';
import type { SendBudget } from './send-budget.ts';
import type { SendStore } from './send-store.ts';

/** An SES error the send waits out (a throttle, an outage, a paused account): never a failed run. */
export function deferralOf(e: unknown): SendDeferral | undefined {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = err?.name ?? '';
  const status = err?.$metadata?.httpStatusCode;
  if (/daily message quota/i.test(err?.message ?? '')) return 'daily send quota';
  if (name === 'Throttling' || name === 'ThrottlingException' || name === 'TooManyRequestsException')
    return 'SES throttling';
  if (name === 'AccountSendingPausedException' || name === 'SendingPausedException')
    return 'SES sending paused';
  if (status !== undefined && status >= 500) return 'SES unavailable';
  // No answer at all: refused, reset or timed out on the way (the SDK's own retries are spent).
  if (
    status === undefined &&
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket|TimeoutError/i.test(`${name} ${err?.message}`)
  )
    return 'SES unavailable';
  return undefined;
}

export type SendOutcome =
  | { sent: true; messageId: string; now: boolean }
  | { sent: false; why: SendDeferral | 'send rate'; notBefore?: Date };

export interface SendJob {
  leadId: string;
  cycle: number;
  step: number;
  now: Date;
  /** This attempt's deadline (its Lambda's): a claim is held until then. */
  deadline: Date;
  /** The marker's TTL, epoch seconds. */
  expiresAt: number;
  /** The lead's timeline event saying it was sent, written with the marker (one call) when this attempt sends. */
  event?: TimelineEvent;
}

/**
 * One email, claimed before it is sent (docs/architecture.md, "Claim before send"): an attempt that finds it
 * sent does nothing; one that finds another attempt's fresh claim waits for that attempt's deadline; one
 * the shared budget holds back waits for its turn; and an SES throttle or outage is waited out. Only a crash
 * between SES accepting and the marker update sends it again (once the crashed attempt's deadline passes).
 */
export async function sendOnce(
  { sends, budget }: { sends: SendStore; budget?: SendBudget },
  job: SendJob,
  send: () => Promise<string>,
): Promise<SendOutcome> {
  const { leadId, cycle, step, now } = job;
  // A timeline event that does not fit its schema fails here, before anything is claimed or sent.
  if (job.event) checkedEvent(job.event);
  const claim = await sends.claim(leadId, cycle, step, now, job.deadline, job.expiresAt);
  if (claim.state === 'sent') return { sent: true, messageId: claim.messageId, now: false };
  if (claim.state === 'in-progress')
    return { sent: false, why: 'send in progress', notBefore: new Date(claim.until.getTime() + 1000) };
  const turn = budget ? await budget.take(now) : { ok: true as const };
  if (!turn.ok) {
    await sends.release(leadId, cycle, step, now);
    return turn.why === 'send rate'
      ? { sent: false, why: turn.why, notBefore: turn.notBefore }
      : { sent: false, why: turn.why };
  }
  let messageId: string;
  try {
    messageId = await send();
  } catch (e) {
    // SES answered with an error: nothing was sent, so the claim goes and the next attempt sends at once.
    // Without an answer the claim stays: SES may have accepted it, and only its deadline frees it.
    if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode)
      await sends.release(leadId, cycle, step, now);
    const why = deferralOf(e);
    if (!why) throw e;
    return { sent: false, why };
  }
  await sends.markSent(leadId, cycle, step, messageId, now.toISOString(), job.expiresAt, job.event);
  return { sent: true, messageId, now: true };
}
