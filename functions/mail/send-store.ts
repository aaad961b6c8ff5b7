import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../platform/keys.ts';
import type { Table } from '../platform/table.ts';

/** Send markers: each nurture email once per lead, cycle and step, across retries. */
export interface SendStore {
  wasSent(leadId: string, cycle: number, step: number): Promise<boolean>;
  /** `expiresAt`: epoch seconds (the table's TTL attribute). */
  markSent(
    leadId: string,
    cycle: number,
    step: number,
    messageId: string,
    at: string,
    expiresAt: number,
  ): Promise<void>;
}

export function dynamoSends({ doc, name: TableName }: Table): SendStore {
  return {
    async wasSent(leadId, cycle, step) {
      const { Item } = await doc.send(
        new GetCommand({ TableName, Key: keys.nurtureSend(leadId, cycle, step), ConsistentRead: true }),
      );
      return Boolean(Item);
    },
    async markSent(leadId, cycle, step, messageId, at, expiresAt) {
      await doc.send(
        new PutCommand({
          TableName,
          Item: { ...keys.nurtureSend(leadId, cycle, step), messageId, at, expiresAt },
        }),
      );
    },
  };
}
