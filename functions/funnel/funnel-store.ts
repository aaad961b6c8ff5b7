import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../platform/keys.ts';
import { batchGet, conditional, queryItems, type Table } from '../platform/table.ts';
import { LEASE, type LeaseClock, RENEW_EVERY, waitForDayLease } from './day-lease.ts';
import { type CounterItems, type RunFacts, sumInto } from './funnel-counters.ts';
import {
  addExpression,
  countedItems,
  isItemTooLarge,
  MAX_FUNNEL_SHARDS,
  markerOf,
  ROLLUP,
  SEP,
  shardKeys,
  splitAttribute,
} from './funnel-layout.ts';

export { MAX_FUNNEL_SHARDS } from './funnel-layout.ts';

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
 * At most this many ADDs in one UpdateItem: DynamoDB refuses an expression over 4 KB, and each
 * `#aNNN :vNNN, ` takes up to 14 bytes.
 */
const ADDS_PER_UPDATE = 250;
/**
 * A shard this many KB large takes no more counters in the container that learns it (the write units of
 * its last write say its size): they go to per-value items instead. Form fields are free text (a UTM
 * campaign is up to 100 characters), so a flood of distinct values could otherwise grow one item to
 * DynamoDB's 400 KB, where every write to it costs 400 write units and then fails. 64 KB is about three
 * times a shard's size at the rule of thumb (docs/funnel.md).
 */
export const SHARD_FULL_KB = 64;

/**
 * Funnel markers (under the lead, so an erase removes them and TTL applies) and counters per UTC day. A
 * milestone's counters go in one UpdateItem: ADDs on one item of the day's `shards` (`FUNNEL#<day>#<nn>`,
 * picked at random; the shard is in the partition key, so a busy day is not one hot key), each attribute
 * `<dimension>#<value>|<counter>`. Readers sum the shards (one BatchGetItem of every possible shard) and
 * the day's per-value items (`FUNNEL#<day>` × `<dimension>#<value>`: what the rebuild writes, and the
 * layout before shards). docs/funnel.md has the sizes and write units that chose this. No transactions:
 * the marker is a single conditional write, the counters plain ADDs.
 */
export interface FunnelStore {
  /** Writes the milestone's marker unless it exists: true the first time only (a retry finds it). */
  mark(leadId: string, marker: string, value: FunnelMarker): Promise<boolean>;
  marker(leadId: string, marker: string): Promise<FunnelMarker | undefined>;
  /** Several of a lead's markers in one read (BatchGetItem, strongly consistent): those that exist, by name. */
  markers(leadId: string, markers: readonly string[]): Promise<Map<string, FunnelMarker>>;
  /**
   * Adds to the day's counters: one UpdateItem on one shard (more only past 250 counters), or one per
   * counter item when that shard is full (SHARD_FULL_KB); throws if a write failed.
   */
  add(day: string, items: CounterItems): Promise<void>;
  /** The day's counters whose key starts with one of `prefixes` (`all#`, `source#`), shards summed, by key. */
  read(day: string, prefixes: readonly string[]): Promise<FunnelCounter[]>;
  /** Sets the day's counters to exactly `items` (the rebuild): puts them per value, deletes every other item of the day. */
  replaceDay(day: string, items: CounterItems): Promise<{ written: number; deleted: number }>;
}

export function dynamoFunnel(
  table: Table,
  {
    retentionDays = 730,
    shards = 16,
    clock = Date.now,
  }: {
    retentionDays?: number;
    shards?: number;
    /** The clock the rebuild's lease reads (day-lease.ts): the local stack's, for the rebuild script. */
    clock?: LeaseClock;
  } = {},
): FunnelStore {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_FUNNEL_SHARDS)
    throw new RangeError(
      `funnel shards must be a whole number from 1 to ${MAX_FUNNEL_SHARDS}, not ${shards}`,
    );
  const { doc, name: TableName } = table;
  /** Shards (`<day>#<n>`) this container found past SHARD_FULL_KB: their counters go per value. */
  const full = new Set<string>();
  const markFull = (shard: string) => {
    if (full.size >= 1024) full.clear(); // days long past: a container forgets them
    full.add(shard);
  };
  /** The per-value layout (the rebuild's): one UpdateItem per counter item, ADDs of its counters. */
  async function perValueAdd(day: string, adds: readonly (readonly [string, number])[]): Promise<void> {
    const byKey = new Map<string, [string, number][]>();
    for (const [attr, n] of adds) {
      const [key, counter] = splitAttribute(attr) ?? [attr, ''];
      byKey.set(key, [...(byKey.get(key) ?? []), [counter, n]]);
    }
    await Promise.all(
      [...byKey].map(([key, counters]) =>
        doc.send(
          new UpdateCommand({ TableName, Key: keys.funnelCounter(day, key), ...addExpression(counters) }),
        ),
      ),
    );
  }
  /** The day's per-value items (keys only for the rebuild's deletes). */
  async function perValue(day: string, keysOnly = false): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for await (const item of queryItems(table, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.funnelDay(day) },
      ConsistentRead: true,
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

    async markers(leadId, names) {
      if (!names.length) return new Map();
      const items = await batchGet(
        table,
        [...new Set(names)].map((m) => keys.funnelMarker(leadId, m)),
      );
      const prefix = keys.funnelMarker(leadId, '').sk;
      return new Map(
        items.map((i) => [
          String(i.sk).slice(prefix.length),
          { at: String(i.at), ...(i.facts ? { facts: i.facts as RunFacts } : {}) },
        ]),
      );
    },

    async add(day, items) {
      const adds = Object.entries(items).flatMap(([key, values]) =>
        Object.entries(values).map(([counter, n]) => [`${key}${SEP}${counter}`, n] as const),
      );
      const n = Math.floor(Math.random() * shards);
      const shard = `${day}#${n}`;
      if (full.has(shard)) return perValueAdd(day, adds);
      const Key = keys.funnelShard(day, n);
      const chunks = Array.from({ length: Math.ceil(adds.length / ADDS_PER_UPDATE) }, (_, i) =>
        adds.slice(i * ADDS_PER_UPDATE, (i + 1) * ADDS_PER_UPDATE),
      );
      const results = await Promise.allSettled(
        chunks.map(async (chunk) => {
          try {
            const { ConsumedCapacity } = await doc.send(
              new UpdateCommand({ TableName, Key, ...addExpression(chunk), ReturnConsumedCapacity: 'TOTAL' }),
            );
            // Write units are the item's size in KB: past the cap, this shard takes no more from here.
            if ((ConsumedCapacity?.CapacityUnits ?? 0) > SHARD_FULL_KB) markFull(shard);
          } catch (e) {
            if (!isItemTooLarge(e)) throw e;
            // DynamoDB refused the shard (400 KB): nothing of this chunk was added; count it per value.
            markFull(shard);
            await perValueAdd(day, chunk);
          }
        }),
      );
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length) throw failed[0]?.reason;
    },

    async read(day, prefixes) {
      const wanted = (key: string) => prefixes.some((p) => key.startsWith(p));
      // The day's items, then its shards, then the marker again: a compaction that switched folds in
      // between (rare: once a day per closed day) would pair shards and folds of different moments.
      let dayItems: Record<string, unknown>[] = [];
      let sharded: Record<string, unknown>[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        dayItems = await perValue(day);
        sharded = await batchGet(table, shardKeys(day));
        const { Item } = await doc.send(
          new GetCommand({ TableName, Key: keys.funnelCounter(day, ROLLUP), ConsistentRead: true }),
        );
        if (Item?.fold === markerOf(dayItems)?.fold) break;
      }
      const out: CounterItems = {};
      for (const items of countedItems(dayItems, sharded))
        sumInto(out, Object.fromEntries(Object.entries(items).filter(([key]) => wanted(key))));
      return Object.entries(out)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, v]) => ({ key, values: v }));
    },

    async replaceDay(day, items) {
      // The day's lease (day-lease.ts): not while a compaction folds it.
      const lease = await waitForDayLease(table, day, clock);
      try {
        const existing = [
          ...(await perValue(day, true)).filter((i) => i.sk !== LEASE && !items[String(i.sk)]),
          ...(await batchGet(table, shardKeys(day))),
        ];
        const writes: (() => Promise<unknown>)[] = [
          ...existing.map(
            ({ pk, sk }) =>
              () =>
                doc.send(new DeleteCommand({ TableName, Key: { pk, sk } })),
          ),
          ...Object.entries(items).map(
            ([key, values]) =>
              () =>
                doc.send(new PutCommand({ TableName, Item: { ...keys.funnelCounter(day, key), ...values } })),
          ),
        ];
        for (const [i, write] of writes.entries()) {
          // A long rebuild keeps its lease, or stops: a compaction may have the day now.
          if (i % RENEW_EVERY === RENEW_EVERY - 1 && !(await lease.renew()))
            throw new Error(
              `lost the lease of the funnel counters of ${day} mid-rebuild; run the rebuild again`,
            );
          await write();
        }
        return { written: Object.keys(items).length, deleted: existing.length };
      } finally {
        await lease.release();
      }
    },
  };
}
