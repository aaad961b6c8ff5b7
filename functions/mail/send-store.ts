import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_LEAD_OPTIONS, type LeadStoreOptions, timelineItem } from '../lead/lead-store.ts';
import type { TimelineEvent } from '../lead/timeline.ts';
import { keys } from '../platform/keys.ts';
import { batchPut, conditional, type Table } from '../platform/table.ts';

/**
 * What claiming a send found: `claimed` (this attempt owns it: call SES now), `sent` (an earlier attempt
 * sent it), or `in-progress` (another attempt claimed it and may still be inside its SES call until `until`).
 */
export type SendClaim =
  | { state: 'claimed' }
  | { state: 'sent'; messageId: string }
  | { state: 'in-progress'; until: Date };

/**
 * Send markers: each nurture email once per lead, cycle and step, across retries (docs/architecture.md,
 * "Claim before send"). An attempt claims the marker (state `sending`, until its own Lambda deadline)
 * before it calls SES and marks it `sent` with SES's message id after. A claim whose holder's deadline has
 * passed is taken over: that holder crashed, and only a crash between SES accepting and the marker update
 * sends the email twice (at least once, never lost).
 */
export interface SendStore {
  /** `until`: the claiming attempt's deadline; `expiresAt`: epoch seconds (the table's TTL attribute). */
  claim(
    leadId: string,
    cycle: number,
    step: number,
    now: Date,
    until: Date,
    expiresAt: number,
  ): Promise<SendClaim>;
  /**
   * Marks the send done; with `event`, writes that timeline event of the lead (what was sent) in the same
   * call (BatchWriteItem: two puts, not atomic, both idempotent).
   */
  markSent(
    leadId: string,
    cycle: number,
    step: number,
    messageId: string,
    at: string,
    expiresAt: number,
    event?: TimelineEvent,
  ): Promise<void>;
  /** SES refused the send: drops this attempt's claim (claimed at `claimedAt`), so the next one sends at once. */
  release(leadId: string, cycle: number, step: number, claimedAt: Date): Promise<void>;
}

interface Marker {
  state?: 'sending' | 'sent';
  messageId?: string;
  claimedUntil?: string;
}

/** What an existing marker means to a new attempt (markers written before claims have a messageId only). */
export function claimOf(marker: Marker | undefined, now: Date): SendClaim | undefined {
  if (!marker) return undefined;
  if (marker.state !== 'sending') return { state: 'sent', messageId: marker.messageId ?? '' };
  const until = new Date(marker.claimedUntil ?? 0);
  return until.getTime() > now.getTime() ? { state: 'in-progress', until } : undefined;
}

/** `lead`: the lead items' retention, for the timeline event markSent may write. */
export function dynamoSends(table: Table, lead: LeadStoreOptions = DEFAULT_LEAD_OPTIONS): SendStore {
  const { doc, name: TableName } = table;
  return {
    async claim(leadId, cycle, step, now, until, expiresAt) {
      const Key = keys.nurtureSend(leadId, cycle, step);
      const claimed = await conditional(() =>
        doc.send(
          new PutCommand({
            TableName,
            Item: {
              ...Key,
              state: 'sending',
              claimedAt: now.toISOString(),
              claimedUntil: until.toISOString(),
              expiresAt,
            },
            // New, or a stale claim (its holder's deadline passed: it crashed before marking it sent).
            ConditionExpression: 'attribute_not_exists(pk) OR (#state = :sending AND claimedUntil < :now)',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':sending': 'sending', ':now': now.toISOString() },
          }),
        ),
      );
      if (claimed) return { state: 'claimed' };
      const { Item } = await doc.send(new GetCommand({ TableName, Key, ConsistentRead: true }));
      // Gone or gone stale since the failed put (released, expired): the next attempt claims it.
      return claimOf(Item as Marker | undefined, now) ?? { state: 'in-progress', until: now };
    },
    async markSent(leadId, cycle, step, messageId, at, expiresAt, event) {
      const marker = { ...keys.nurtureSend(leadId, cycle, step), state: 'sent', messageId, at, expiresAt };
      if (event) await batchPut(table, [marker, timelineItem(leadId, event, lead)]);
      else await doc.send(new PutCommand({ TableName, Item: marker }));
    },
    async release(leadId, cycle, step, claimedAt) {
      // Not ours any more (taken over, or marked sent): nothing to drop.
      await conditional(() =>
        doc.send(
          new DeleteCommand({
            TableName,
            Key: keys.nurtureSend(leadId, cycle, step),
            ConditionExpression: '#state = :sending AND claimedAt = :claimedAt',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':sending': 'sending', ':claimedAt': claimedAt.toISOString() },
          }),
        ),
      );
    },
  };
}
