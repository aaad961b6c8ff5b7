import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../platform/keys.ts';
import { conditional, queryItems, type Table } from '../platform/table.ts';
import type { CounterItems, RunFacts } from './funnel-counters.ts';

/** A milestone counted for a lead: when, and (on the run's `captured` marker) who the run's lead was. */
export interface FunnelMarker {
  at: string;
  facts?: RunFacts;
}

/** One counter item of a day: `all#all`, `source#google`, … with its numbers. */
export interface FunnelCounter {
  key: string;
  values: Record<string, number>;
}

/**
 * Funnel markers (under the lead, so an erase removes them and TTL applies) and counters (per UTC day ×
 * dimension value). No transactions: the marker is a single conditional write, the counters plain ADDs.
 */
export interface FunnelStore {
  /** Writes the milestone's marker unless it exists: true the first time only (a retry finds it). */
  mark(leadId: string, marker: string, value: FunnelMarker): Promise<boolean>;
  marker(leadId: string, marker: string): Promise<FunnelMarker | undefined>;
  /** Adds to the day's counter items (one UpdateItem ADD each); throws if any of them failed. */
  add(day: string, items: CounterItems): Promise<void>;
  /** The day's counter items whose key starts with `prefix` (`all#`, `source#`): one paged Query. */
  read(day: string, prefix: string): Promise<FunnelCounter[]>;
  /** Sets the day's counters to exactly `items` (the rebuild): puts them, deletes the day's other items. */
  replaceDay(day: string, items: CounterItems): Promise<{ written: number; deleted: number }>;
}

const numbersOf = (item: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(item).filter(
      (e): e is [string, number] => e[0] !== 'pk' && e[0] !== 'sk' && typeof e[1] === 'number',
    ),
  );

export function dynamoFunnel(
  table: Table,
  { retentionDays }: { retentionDays: number } = { retentionDays: 730 },
): FunnelStore {
  const { doc, name: TableName } = table;
  async function query(day: string, prefix: string, keysOnly = false): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for await (const item of queryItems(table, {
      // An empty prefix is the whole day (DynamoDB refuses an empty key value in begins_with).
      KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.funnelDay(day), ...(prefix ? { ':prefix': prefix } : {}) },
      ...(keysOnly ? { ProjectionExpression: 'pk, sk' } : {}),
    }))
      out.push(item);
    return out;
  }

  return {
    async mark(leadId, marker, { at, facts }) {
      return conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.funnelMarker(leadId, marker),
            UpdateExpression: `SET #at = :at, expiresAt = :expiresAt${facts ? ', facts = :facts' : ''}`,
            ConditionExpression: 'attribute_not_exists(pk)',
            ExpressionAttributeNames: { '#at': 'at' },
            ExpressionAttributeValues: {
              ':at': at,
              ':expiresAt': Math.floor(Date.parse(at) / 1000) + retentionDays * 86_400,
              ...(facts ? { ':facts': facts } : {}),
            },
          }),
        ),
      );
    },

    async marker(leadId, marker) {
      const { Item } = await doc.send(
        new GetCommand({ TableName, Key: keys.funnelMarker(leadId, marker), ConsistentRead: true }),
      );
      return Item
        ? { at: String(Item.at), ...(Item.facts ? { facts: Item.facts as RunFacts } : {}) }
        : undefined;
    },

    async add(day, items) {
      const results = await Promise.allSettled(
        Object.entries(items).map(([key, values]) => {
          const attrs = Object.entries(values);
          return doc.send(
            new UpdateCommand({
              TableName,
              Key: keys.funnelCounter(day, key),
              UpdateExpression: `ADD ${attrs.map((_, i) => `#a${i} :v${i}`).join(', ')}`,
              ExpressionAttributeNames: Object.fromEntries(attrs.map(([a], i) => [`#a${i}`, a])),
              ExpressionAttributeValues: Object.fromEntries(attrs.map(([, v], i) => [`:v${i}`, v])),
            }),
          );
        }),
      );
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length) throw failed[0]?.reason;
    },

    async read(day, prefix) {
      return (await query(day, prefix)).map((item) => ({ key: String(item.sk), values: numbersOf(item) }));
    },

    async replaceDay(day, items) {
      const existing = (await query(day, '', true)).map((i) => String(i.sk));
      let deleted = 0;
      for (const sk of existing) {
        if (items[sk]) continue;
        await doc.send(new DeleteCommand({ TableName, Key: keys.funnelCounter(day, sk) }));
        deleted += 1;
      }
      for (const [key, values] of Object.entries(items))
        await doc.send(new PutCommand({ TableName, Item: { ...keys.funnelCounter(day, key), ...values } }));
      return { written: Object.keys(items).length, deleted };
    },
  };
}
