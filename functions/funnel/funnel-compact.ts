// Compacting a closed day's funnel counters (the daily CompactFunnel function, docs/funnel.md "Compacted
// days"). A day's shards each hold part of every value's counts, so a report reads up to 64 of them a day:
// at 1,000 leads a day over 32 shards a year's report would read ~330 MB. Compaction folds the shards
// into one item per counter key (`rollup#<fold>#<key>`), which is what a report then reads (~1/30 of it).
//
// One writer at a time rewrites a day (day-lease.ts: a run that finds the day's lease held does nothing;
// the rebuild waits for it). No transactions (dynalite has none), so each step is safe to stop after, and
// a report reads the same before, during and after (funnel-layout.ts countedItems; the steps' late ADDs
// are the only writes beside the lease holder's):
//   1. read the shards and the day's folds (strongly consistent); shards an earlier run marked for the
//      fold in force (it stopped before deleting them) are swept first, as in step 5;
//   2. mark each other shard with a new fold id (`fold`) and the counts read in step 1 (`taken`), only if it
//      still has the mark step 1 read (a run that finds another's mark gives up); a marked shard still
//      counts whole until step 4;
//   3. write the new fold's items: the fold in force plus what was taken (readers ignore them until 4);
//   4. put the marker naming the new fold, only if the marker is still what step 1 read: from now on readers
//      count the fold, and of each shard it marked only what came after the mark (a late write: a redriven
//      run's milestone);
//   5. delete the marked shards, each only while it carries the mark, and add what each held beyond
//      `taken` to the fold;
//   6. delete the superseded fold's items.
// A shard written after step 5 is new: readers count it, the next run folds it. Only a late write to a
// shard deleted in step 5 by a run that stopped before adding it to the fold is lost (the rebuild recounts
// the day). The steps' own writes (funnel-store.ts add) are not touched: no attribute, no write unit more.
import { randomBytes } from 'node:crypto';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../platform/keys.ts';
import { mapLimit } from '../platform/map-limit.ts';
import { batchGet, conditional, queryItems, type Table, unlessConditionFails } from '../platform/table.ts';
import { type DayLease, type LeaseClock, takeDayLease } from './day-lease.ts';
import { type CounterItems, sumInto } from './funnel-counters.ts';
import {
  addExpression,
  covered,
  FOLD,
  foldOf,
  isItemTooLarge,
  lateCounters,
  markerOf,
  numbersOf,
  ROLLUP,
  rollupPrefix,
  shardCounters,
  shardKeys,
  TAKEN,
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
  /** Counts written to a shard after its mark (late writes), carried into the fold. */
  late: number;
  /** Another writer (a compaction, the rebuild) held the day's lease: this run did nothing. */
  busy?: boolean;
  /**
   * This run held the lease yet met another writer (a shard marked meanwhile, the marker changed, the lease
   * lost): it stopped before its marker. Should not happen: a lease run out under a stalled holder, or
   * writers whose clocks disagree by minutes.
   */
  conflict?: boolean;
}

/** At most this many writes at once: a fold of a busy day is a few thousand items. */
const WRITES_AT_ONCE = 16;

/** `work` on each of `items`, WRITES_AT_ONCE at a time. */
const eachLimited = <T>(items: readonly T[], work: (item: T) => Promise<unknown>) =>
  mapLimit(items, WRITES_AT_ONCE, work);

/** Compacts `day`'s counters (a closed UTC day, `2026-12-01`). Safe to run again, and at the same time. */
export async function compactDay(
  table: Table,
  day: string,
  clock: LeaseClock = Date.now,
): Promise<Compaction> {
  const lease = await takeDayLease(table, day, clock);
  if (!lease) return { day, folded: 0, deleted: 0, keys: 0, late: 0, busy: true };
  try {
    return await compactHeld(table, day, lease);
  } finally {
    await lease.release();
  }
}

async function compactHeld(table: Table, day: string, lease: DayLease): Promise<Compaction> {
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

  /**
   * Step 5: deletes `marked` shards while they carry `mark`, and adds what each held beyond what it gave
   * `mark` (a late write) to that fold's items; returns what it added.
   */
  async function sweep(marked: readonly Item[], mark: string): Promise<CounterItems> {
    const late: CounterItems = {};
    await eachLimited(marked, async (s) => {
      // Undefined when the shard is gone, or marked again since.
      const deleted = await unlessConditionFails(() =>
        doc.send(
          new DeleteCommand({
            TableName,
            Key: { pk: s.pk, sk: s.sk },
            ConditionExpression: '#fold = :fold',
            ExpressionAttributeNames: { '#fold': FOLD },
            ExpressionAttributeValues: { ':fold': mark },
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      if (!deleted?.Attributes) return;
      result.deleted += 1;
      sumInto(late, lateCounters(deleted.Attributes));
    });
    const prefix = rollupPrefix(mark);
    await eachLimited(Object.entries(late), ([key, counters]) =>
      doc.send(
        new UpdateCommand({
          TableName,
          Key: { pk, sk: `${prefix}${key}` },
          ...addExpression(Object.entries(counters)),
        }),
      ),
    );
    for (const counters of Object.values(late))
      result.late += Object.values(counters).reduce((a, b) => a + b, 0);
    return late;
  }

  // 1. An earlier run's marked shards, before a new fold takes the one in force in.
  const leftLate = marker && leftover.length ? await sweep(leftover, marker.fold) : {};
  if (fresh.length) {
    const fold = randomBytes(6).toString('base64url');
    // 2. Mark the shards with what step 1 read, unless another run marked one since.
    const marked: Item[] = [];
    let outrun = false;
    await eachLimited(fresh, async (s) => {
      const was = foldOf(s);
      try {
        const took = await conditional(() =>
          doc.send(
            new UpdateCommand({
              TableName,
              Key: { pk: s.pk, sk: s.sk },
              UpdateExpression: 'SET #fold = :fold, #taken = :taken',
              ConditionExpression: `attribute_exists(pk) AND ${was ? '#fold = :was' : 'attribute_not_exists(#fold)'}`,
              ExpressionAttributeNames: { '#fold': FOLD, '#taken': TAKEN },
              ExpressionAttributeValues: {
                ':fold': fold,
                ':taken': numbersOf(s),
                ...(was ? { ':was': was } : {}),
              },
            }),
          ),
        );
        if (took) marked.push(s);
        else outrun = true;
      } catch (e) {
        // A shard too large to hold its counts twice (over ~200 KB) stays as it is: it counts whole.
        if (!isItemTooLarge(e)) throw e;
      }
    });
    // Its marks left behind are harmless: a marked shard counts whole until a marker names its fold.
    if (outrun) return { ...result, conflict: true };

    // 3. The new fold: the one in force (with what step 1 swept into it) plus what was taken.
    const sum: CounterItems = {};
    for (const item of dayItems)
      if (current && String(item.sk).startsWith(current))
        sumInto(sum, { [String(item.sk).slice(current.length)]: numbersOf(item) });
    sumInto(sum, leftLate);
    for (const s of marked) sumInto(sum, shardCounters(s));
    const prefix = rollupPrefix(fold);
    const entries = Object.entries(sum);
    await eachLimited(entries, ([key, counters]) =>
      doc.send(new PutCommand({ TableName, Item: { pk, sk: `${prefix}${key}`, ...counters } })),
    );
    // 4. The marker, unless another writer changed it since step 1 (or took the lease meanwhile).
    const won =
      (await lease.renew()) &&
      (await conditional(() =>
        doc.send(
          new PutCommand({
            TableName,
            Item: { pk, sk: ROLLUP, fold },
            ConditionExpression: marker ? 'fold = :was' : 'attribute_not_exists(pk)',
            ...(marker ? { ExpressionAttributeValues: { ':was': marker.fold } } : {}),
          }),
        ),
      ));
    if (!won) {
      await eachLimited(entries, ([key]) =>
        doc.send(new DeleteCommand({ TableName, Key: { pk, sk: `${prefix}${key}` } })),
      );
      return { ...result, conflict: true };
    }
    result.folded = marked.length;
    result.keys = entries.length;
    superseded = dayItems.filter((i) => i.sk !== ROLLUP);
    // 5. The shards this run marked.
    await sweep(marked, fold);
  }

  // 6. The superseded fold's items (and an earlier loser's, left by a stopped run).
  await eachLimited(superseded, (i) => doc.send(new DeleteCommand({ TableName, Key: { pk, sk: i.sk } })));
  return result;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const i of items) out.push(i);
  return out;
}
