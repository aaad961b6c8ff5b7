import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../platform/keys.ts';
import { batchGet, conditional, type Table } from '../platform/table.ts';

/**
 * The streams whose SES events are counted apart, each with its own breaker: `first-contact` (the first
 * email to an address nobody has vouched for: a double opt-in confirmation, or with opt-in off the answer
 * to a form) and `known` (everything else). Junk addresses bounce on first contact, so a flood of them
 * pauses first contacts only, never mail to leads who already take it.
 */
export const DELIVERY_STREAMS = ['known', 'first-contact'] as const;
export type DeliveryStream = (typeof DELIVERY_STREAMS)[number];

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
  /**
   * Adds one event to its hour's counter; with `eventId`, only the first time that id is seen (false for a
   * redelivery). The id is claimed before the counter is added: a crash between them loses one count,
   * which the breaker can afford, rather than counting twice.
   */
  count(event: DeliveryEvent, at: Date, eventId?: string): Promise<boolean>;
  /** The counters summed over the `hours` UTC hours up to and including `now`'s. */
  window(hours: number, now: Date): Promise<DeliveryCounts>;
  state(): Promise<BreakerState>;
  /** Trips the breaker; false if it already was. */
  trip(reason: string, at: string): Promise<boolean>;
  /** Closes the breaker (an admin, or the rates recovered); false if it was not tripped. */
  reset(): Promise<boolean>;
  /**
   * Starts the window afresh at `now` (an admin's reset): what was counted before no longer counts, so
   * the rates that tripped the breaker do not trip it again with the next event.
   */
  restartWindow(now: Date): Promise<void>;
}

/** Where the window restarts: the hour of an admin's reset and that hour's counts at the time. */
export interface WindowStart {
  hour: string;
  baseline: DeliveryCounts;
}

/** Sums the hourly counters of the window, leaving out what was counted before its restart. */
export function sumWindow(
  byHour: Map<string, DeliveryCounts>,
  hours: number,
  now: Date,
  start: WindowStart | undefined,
): DeliveryCounts {
  const total = zeroCounts();
  for (const hour of hoursBack(hours, now)) {
    if (start && hour < start.hour) continue;
    const c = byHour.get(hour);
    if (!c) continue;
    for (const e of EVENTS)
      total[e] += Math.max(0, c[e] - (start && hour === start.hour ? start.baseline[e] : 0));
  }
  return total;
}

const countsOf = (item: Record<string, unknown> | undefined): DeliveryCounts =>
  Object.fromEntries(EVENTS.map((e) => [e, Number(item?.[e] ?? 0)])) as DeliveryCounts;

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

/** The key of a stream's breaker state: `known` keeps the keys it had before streams were counted apart. */
const streamKey = (stream: DeliveryStream) => (stream === 'known' ? '' : stream);
export const breakerStateKey = (stream: DeliveryStream) => keys.deliverabilityState(streamKey(stream));

/** The breaker state its item says: none, not tripped. */
export const breakerStateOf = (item: Record<string, unknown> | undefined): BreakerState =>
  item ? { tripped: true, reason: String(item.reason), at: String(item.at) } : { tripped: false };

/** The stream's counters and breaker. */
export function dynamoDeliverability(table: Table, stream: DeliveryStream = 'known'): DeliverabilityStore {
  const { doc, name: TableName } = table;
  const key = streamKey(stream);
  const hourKey = (hour: string) => keys.deliverabilityHour(hour, key);
  const stateKey = breakerStateKey(stream);
  const windowStartKey = keys.deliverabilityWindowStart(key);
  return {
    async count(event, at, eventId) {
      if (eventId) {
        const claimed = await conditional(() =>
          doc.send(
            new PutCommand({
              TableName,
              Item: {
                ...keys.deliveryEvent(eventId),
                expiresAt: Math.floor(at.getTime() / 1000) + 2 * 86_400,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          ),
        );
        if (!claimed) return false;
      }
      await doc.send(
        new UpdateCommand({
          TableName,
          Key: hourKey(hourOf(at)),
          UpdateExpression: 'ADD #e :one SET expiresAt = if_not_exists(expiresAt, :ttl)',
          ExpressionAttributeNames: { '#e': event },
          // Counters are kept a week: the window is at most a day.
          ExpressionAttributeValues: { ':one': 1, ':ttl': Math.floor(at.getTime() / 1000) + 7 * 86_400 },
        }),
      );
      return true;
    },
    async window(hours, now) {
      const items = await batchGet(table, [...hoursBack(hours, now).map(hourKey), windowStartKey]);
      const startItem = items.find((i) => i.sk === windowStartKey.sk);
      const byHour = new Map(
        items.filter((i) => i !== startItem).map((i) => [String(i.sk).slice(5), countsOf(i)] as const),
      );
      const start = startItem
        ? { hour: String(startItem.hour), baseline: countsOf(startItem.baseline) }
        : undefined;
      return sumWindow(byHour, hours, now, start);
    },
    async restartWindow(now) {
      const hour = hourOf(now);
      const { Item } = await doc.send(
        new GetCommand({ TableName, Key: hourKey(hour), ConsistentRead: true }),
      );
      await doc.send(
        new PutCommand({
          TableName,
          Item: { ...windowStartKey, hour, baseline: countsOf(Item), at: now.toISOString() },
        }),
      );
    },
    async state() {
      const { Item } = await doc.send(new GetCommand({ TableName, Key: stateKey, ConsistentRead: true }));
      return breakerStateOf(Item);
    },
    async trip(reason, at) {
      return conditional(() =>
        doc.send(
          new PutCommand({
            TableName,
            Item: { ...stateKey, reason, at },
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
            Key: stateKey,
            ConditionExpression: 'attribute_exists(pk)',
          }),
        ),
      );
    },
  };
}
