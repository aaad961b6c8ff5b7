// Compacting a closed day's funnel counters (the daily CompactFunnel function, docs/funnel.md "Compacted
// days"). A day's shards each hold part of every value's counts, so a report reads up to 64 of them a day:
// at 1,000 leads a day over 32 shards a year's report would read ~330 MB. Compaction folds the shards
// into one item per counter key (`rollup#<fold>#<key>`), which is what a report then reads (~1/30 of it).
//
// No transactions (dynalite has none), so each step is safe to stop after, and a report reads the same
// before, during and after (funnel-layout.ts countedItems):
//   1. read the shards and the day's items (strongly consistent);
//   2. write the new fold's items: the current fold plus every shard it does not cover (a reader ignores
//      them until step 3);
//   3. put the marker naming the new fold and the shards it covers (index → gen), only if the marker is
//      still what step 1 read (two compactions at once: one wins, the other takes its items back);
//   4. delete the covered shards, each only while it is the incarnation covered, and see what it held:
//      a late write that landed between 1 and 4 (a redriven run's milestone) is added to the fold;
//   5. delete the superseded fold's items.
// A shard written after step 4 is a new incarnation (a new gen): readers count it, the next run folds it.
// Stopped between 3 and 4, the next run deletes the covered shards without the check of step 4: a late
// write in that window alone would be lost (the rebuild recounts the day).
import { randomBytes } from 'node:crypto';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../platform/keys.ts';
import { batchGet, conditional, queryItems, type Table } from '../platform/table.ts';
import { type CounterItems, sumInto } from './funnel-counters.ts';
import {
  addExpression,
  covered,
  GEN,
  genOf,
  markerOf,
  numbersOf,
  ROLLUP,
  rollupPrefix,
  shardCounters,
  shardIndexOf,
  shardKeys,
} from './funnel-layout.ts';

type Item = Record<string, unknown>;

/** Daily at 00:30 UTC: yesterday has been closed half an hour (docs/funnel.md, "Compacted days"). */
export const COMPACT_SCHEDULE = 'cron(30 0 * * ? *)';
/** Each run looks at the last this many closed days: a missed run, or late writes, are folded by the next. */
export const COMPACT_DAYS = 7;

/** What compacting a day did. */
export interface Compaction {
  day: string;
  /** Shards folded in (new counts) and shards deleted (folded now or by an earlier, interrupted run). */
  folded: number;
  deleted: number;
  /** Counter items of the fold now in force (0 if the day has none). */
  keys: number;
  /** Counts a late write added to a shard while it was being folded, carried into the fold. */
  late: number;
  /** Another compaction of the day won the marker: this one took its items back. */
  lost?: boolean;
}

/** At most this many writes at once: a fold of a busy day is a few thousand items. */
const WRITES_AT_ONCE = 16;

async function eachLimited<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += WRITES_AT_ONCE)
    await Promise.all(items.slice(i, i + WRITES_AT_ONCE).map(work));
}

/** Compacts `day`'s counters (a closed UTC day, `2026-12-01`). Safe to run again, and at the same time. */
export async function compactDay(table: Table, day: string): Promise<Compaction> {
  const { doc, name: TableName } = table;
  const pk = keys.funnelDay(day);
  const [shards, dayItems] = await Promise.all([
    batchGet(table, shardKeys(day)),
    collect(
      queryItems(table, {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :rollup)',
        ExpressionAttributeValues: { ':pk': pk, ':rollup': ROLLUP },
        ConsistentRead: true,
      }),
    ),
  ]);
  const marker = markerOf(dayItems);
  const current = marker ? rollupPrefix(marker.fold) : undefined;
  const fresh = shards.filter((s) => !covered(marker, s));
  const leftover = shards.filter((s) => covered(marker, s));
  // Items of no fold in force (a stopped run's, a loser's); a new fold below supersedes the current one too.
  let superseded = dayItems.filter((i) => {
    const sk = String(i.sk);
    return sk !== ROLLUP && !(current && sk.startsWith(current));
  });
  const result: Compaction = { day, folded: 0, deleted: 0, keys: 0, late: 0 };

  let fold = marker?.fold;
  if (fresh.length) {
    // 2. The new fold: the current one plus the shards it does not cover.
    fold = randomBytes(6).toString('base64url');
    const sum: CounterItems = {};
    for (const item of dayItems)
      if (current && String(item.sk).startsWith(current))
        sumInto(sum, { [String(item.sk).slice(current.length)]: numbersOf(item) });
    for (const s of fresh) sumInto(sum, shardCounters(s));
    const prefix = rollupPrefix(fold);
    const entries = Object.entries(sum);
    await eachLimited(entries, ([key, counters]) =>
      doc.send(new PutCommand({ TableName, Item: { pk, sk: `${prefix}${key}`, ...counters } })),
    );
    // 3. The marker, unless another compaction changed it since step 1.
    const covers = Object.fromEntries(shards.map((s) => [String(shardIndexOf(s)), genOf(s)]));
    const won = await conditional(() =>
      doc.send(
        new PutCommand({
          TableName,
          Item: { pk, sk: ROLLUP, fold, covers },
          ConditionExpression: marker ? 'fold = :was' : 'attribute_not_exists(pk)',
          ...(marker ? { ExpressionAttributeValues: { ':was': marker.fold } } : {}),
        }),
      ),
    );
    if (!won) {
      await eachLimited(entries, ([key]) =>
        doc.send(new DeleteCommand({ TableName, Key: { pk, sk: `${prefix}${key}` } })),
      );
      return { ...result, lost: true };
    }
    result.folded = fresh.length;
    result.keys = entries.length;
    superseded = dayItems.filter((i) => i.sk !== ROLLUP);
  } else if (marker) {
    result.keys = dayItems.filter((i) => current && String(i.sk).startsWith(current)).length;
  }

  // 4. The covered shards go, each only as the incarnation covered; what a fresh one held beyond what was
  //    folded (a late write) is added to the fold.
  const late: CounterItems = {};
  await eachLimited([...fresh, ...leftover], async (s) => {
    const gen = genOf(s);
    const deleted = await doc
      .send(
        new DeleteCommand({
          TableName,
          Key: { pk: s.pk, sk: s.sk },
          ConditionExpression: gen ? '#gen = :gen' : 'attribute_exists(pk) AND attribute_not_exists(#gen)',
          ExpressionAttributeNames: { '#gen': GEN },
          ...(gen ? { ExpressionAttributeValues: { ':gen': gen } } : {}),
          ReturnValues: 'ALL_OLD',
        }),
      )
      .catch((e: { name?: string }) => {
        if (e.name === 'ConditionalCheckFailedException') return undefined; // gone, or a new incarnation
        throw e;
      });
    if (!deleted) return;
    result.deleted += 1;
    if (fresh.includes(s) && deleted.Attributes) sumInto(late, difference(deleted.Attributes, s));
  });
  const lateEntries = Object.entries(late);
  if (fold && lateEntries.length) {
    const prefix = rollupPrefix(fold);
    await eachLimited(lateEntries, ([key, counters]) =>
      doc.send(
        new UpdateCommand({
          TableName,
          Key: { pk, sk: `${prefix}${key}` },
          ...addExpression(Object.entries(counters)),
        }),
      ),
    );
    result.late = lateEntries.reduce((n, [, c]) => n + Object.values(c).reduce((a, b) => a + b, 0), 0);
  }

  // 5. The superseded fold's items (and an earlier loser's, left by a stopped run).
  await eachLimited(superseded, (i) => doc.send(new DeleteCommand({ TableName, Key: { pk, sk: i.sk } })));
  return result;
}

/** What `now` (a shard as deleted) holds beyond `then` (as folded), as counter items. */
function difference(now: Item, then: Item): CounterItems {
  const before = shardCounters(then);
  const out: CounterItems = {};
  for (const [key, counters] of Object.entries(shardCounters(now)))
    for (const [counter, n] of Object.entries(counters)) {
      const d = Math.round((n - (before[key]?.[counter] ?? 0)) * 100) / 100;
      if (d !== 0) out[key] = { ...out[key], [counter]: d };
    }
  return out;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const i of items) out.push(i);
  return out;
}
