import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../platform/keys.ts';
import { conditional, type Table, unlessConditionFails } from '../platform/table.ts';

/** A lead's double opt-in: when it confirmed its address, and its latest confirmation round. */
export interface Confirmation {
  confirmedAt?: string;
  /** How many confirmation rounds the lead has had (each sends one email): the send marker's number. */
  round: number;
  /** When the latest round began: its email's link, and the run's wait, last until this plus the window. */
  roundStartedAt?: string;
}

/**
 * Double opt-in (docs/architecture.md, "Double opt-in"). A round is one confirmation email and its wait;
 * while a round is open, a second run or a retried step joins it instead of sending another, so an
 * unconfirmed address gets one email per window however many forms name it.
 */
export interface ConfirmationStore {
  get(leadId: string): Promise<Confirmation | undefined>;
  /** The open round (begun less than `windowSeconds` ago), or a new one begun `now`. */
  startRound(leadId: string, now: Date, windowSeconds: number): Promise<{ round: number; startedAt: string }>;
  /** Records the confirmation; false if the lead had already confirmed. */
  confirm(leadId: string, at: string): Promise<boolean>;
}

export function dynamoConfirmations(
  { doc, name: TableName }: Table,
  { retentionDays }: { retentionDays: number } = { retentionDays: 730 },
): ConfirmationStore {
  const Key = (leadId: string) => keys.confirmation(leadId);
  const ttl = (at: Date) => Math.floor(at.getTime() / 1000) + retentionDays * 86_400;
  const read = async (leadId: string) => {
    const { Item } = await doc.send(new GetCommand({ TableName, Key: Key(leadId), ConsistentRead: true }));
    if (!Item) return undefined;
    return {
      round: Number(Item.round ?? 0),
      ...(Item.confirmedAt ? { confirmedAt: String(Item.confirmedAt) } : {}),
      ...(Item.roundStartedAt ? { roundStartedAt: String(Item.roundStartedAt) } : {}),
    } satisfies Confirmation;
  };
  return {
    get: read,
    async startRound(leadId, now, windowSeconds) {
      const startedAt = now.toISOString();
      const begun = await unlessConditionFails(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: Key(leadId),
            UpdateExpression:
              'SET #round = if_not_exists(#round, :zero) + :one, roundStartedAt = :now, expiresAt = :ttl',
            // ISO instants of one format compare as strings.
            ConditionExpression: 'attribute_not_exists(roundStartedAt) OR roundStartedAt <= :cutoff',
            ExpressionAttributeNames: { '#round': 'round' },
            ExpressionAttributeValues: {
              ':zero': 0,
              ':one': 1,
              ':now': startedAt,
              ':ttl': ttl(now),
              ':cutoff': new Date(now.getTime() - windowSeconds * 1000).toISOString(),
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      if (begun?.Attributes) return { round: Number(begun.Attributes.round), startedAt };
      const open = await read(leadId);
      return { round: open?.round ?? 0, startedAt: open?.roundStartedAt ?? startedAt };
    },
    async confirm(leadId, at) {
      return conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: Key(leadId),
            UpdateExpression: 'SET confirmedAt = :at, expiresAt = :ttl',
            ConditionExpression: 'attribute_not_exists(confirmedAt)',
            ExpressionAttributeValues: { ':at': at, ':ttl': ttl(new Date(at)) },
          }),
        ),
      );
    },
  };
}
