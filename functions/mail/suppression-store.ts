import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { emailHash, type SuppressionReason } from '../lead/lead.ts';

export type { SuppressionReason };

import { keys } from '../platform/keys.ts';
import { conditional, type Table } from '../platform/table.ts';

/** Addresses never to market to again, kept by hash (the address itself is not stored). */
export interface SuppressionStore {
  isSuppressed(email: string): Promise<boolean>;
  /** Why the address is suppressed (the first reason stands), or undefined. */
  reasonFor(email: string): Promise<SuppressionReason | undefined>;
  /** Why and since when the address is suppressed, or undefined. */
  entryFor(email: string): Promise<{ reason: SuppressionReason; at: string } | undefined>;
  /** Suppresses the address once; the first reason stands, but 'erased' replaces any. */
  suppress(email: string, reason: SuppressionReason, how: string, at: string): Promise<void>;
}

/** The suppression its item says (the address's hash is the key), or undefined. */
export const suppressionOf = (item: Record<string, unknown> | undefined) =>
  item ? { reason: item.reason as SuppressionReason, at: String(item.at) } : undefined;

export function dynamoSuppression({ doc, name: TableName }: Table): SuppressionStore {
  const store: SuppressionStore = {
    async isSuppressed(email) {
      return (await store.reasonFor(email)) !== undefined;
    },
    async reasonFor(email) {
      return (await store.entryFor(email))?.reason;
    },
    async entryFor(email) {
      const { Item } = await doc.send(
        new GetCommand({ TableName, Key: keys.suppression(emailHash(email)), ConsistentRead: true }),
      );
      return suppressionOf(Item);
    },
    async suppress(email, reason, how, at) {
      await conditional(() =>
        doc.send(
          new PutCommand({
            TableName,
            Item: { ...keys.suppression(emailHash(email)), reason, how, at },
            // The first reason stands, except that an erase always says so (nothing else is left of the lead).
            ...(reason === 'erased' ? {} : { ConditionExpression: 'attribute_not_exists(pk)' }),
          }),
        ),
      );
    },
  };
  return store;
}
