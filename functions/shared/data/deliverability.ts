import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from './keys.ts';
import { conditional, type Table } from './table.ts';

export type DeliveryEvent = 'sent' | 'delivered' | 'bounced' | 'complained' | 'transient';
export type DeliveryCounts = Record<DeliveryEvent, number>;

export interface BreakerState {
  tripped: boolean;
  /** Why it tripped, e.g. "bounce rate 6.0 % over 24 h (limit 4 %)". */
  reason?: string;
  at?: string;
}

/** Rolling delivery counters (per UTC hour) and the circuit breaker that pauses nurture sends. */
export interface DeliverabilityStore {
  /** Adds one event to its hour's counter. */
  count(event: DeliveryEvent, at: Date): Promise<void>;
  /** The counters summed over the `hours` UTC hours up to and including `now`'s. */
  window(hours: number, now: Date): Promise<DeliveryCounts>;
  state(): Promise<BreakerState>;
  /** Trips the breaker; false if it already was. */
  trip(reason: string, at: string): Promise<boolean>;
  /** Closes the breaker (an admin, or the rates recovered); false if it was not tripped. */
  reset(): Promise<boolean>;
}

const EVENTS: DeliveryEvent[] = ['sent', 'delivered', 'bounced', 'complained', 'transient'];
export const zeroCounts = (): DeliveryCounts => ({
  sent: 0,
  delivered: 0,
  bounced: 0,
  complained: 0,
  transient: 0,
});
/** `2026-11-27T10`: the UTC hour a counter belongs to. */
export const hourOf = (d: Date) => d.toISOString().slice(0, 13);
/** The `hours` UTC hours up to and including `now`'s, newest first. */
export const hoursBack = (hours: number, now: Date) =>
  Array.from({ length: hours }, (_, i) => hourOf(new Date(now.getTime() - i * 3_600_000)));

export function dynamoDeliverability({ doc, name: TableName }: Table): DeliverabilityStore {
  return {
    async count(event, at) {
      await doc.send(
        new UpdateCommand({
          TableName,
          Key: keys.deliverabilityHour(hourOf(at)),
          UpdateExpression: 'ADD #e :one SET expiresAt = if_not_exists(expiresAt, :ttl)',
          ExpressionAttributeNames: { '#e': event },
          // Counters are kept a week: the window is at most a day.
          ExpressionAttributeValues: { ':one': 1, ':ttl': Math.floor(at.getTime() / 1000) + 7 * 86_400 },
        }),
      );
    },
    async window(hours, now) {
      const total = zeroCounts();
      const { Responses } = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [TableName]: { Keys: hoursBack(hours, now).map(keys.deliverabilityHour), ConsistentRead: true },
          },
        }),
      );
      for (const item of Responses?.[TableName] ?? [])
        for (const e of EVENTS) total[e] += Number(item[e] ?? 0);
      return total;
    },
    async state() {
      const { Item } = await doc.send(
        new GetCommand({ TableName, Key: keys.deliverabilityState, ConsistentRead: true }),
      );
      return Item ? { tripped: true, reason: String(Item.reason), at: String(Item.at) } : { tripped: false };
    },
    async trip(reason, at) {
      return conditional(() =>
        doc.send(
          new PutCommand({
            TableName,
            Item: { ...keys.deliverabilityState, reason, at },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    },
    async reset() {
      return conditional(() =>
        doc.send(
          new DeleteCommand({
            TableName,
            Key: keys.deliverabilityState,
            ConditionExpression: 'attribute_exists(pk)',
          }),
        ),
      );
    },
  };
}
