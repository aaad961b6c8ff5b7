import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from './keys.ts';
import { conditional, type Table } from './table.ts';

export type SuppressionReason = 'unsubscribed' | 'bounced' | 'complained';

/** Addresses never to market to again. */
export interface SuppressionStore {
  isSuppressed(email: string): Promise<boolean>;
  /** Suppresses the address once; the first reason stands. */
  suppress(email: string, reason: SuppressionReason, how: string, at: string): Promise<void>;
}

export function dynamoSuppression({ doc, name: TableName }: Table): SuppressionStore {
  return {
    async isSuppressed(email) {
      const { Item } = await doc.send(
        new GetCommand({ TableName, Key: keys.suppression(email), ConsistentRead: true }),
      );
      return Boolean(Item);
    },
    async suppress(email, reason, how, at) {
      await conditional(() =>
        doc.send(
          new PutCommand({
            TableName,
            Item: { ...keys.suppression(email), reason, how, at },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    },
  };
}
