// How a day's funnel counters lie in the table, and which of a day's items count: shared by the store
// (funnel-store.ts: writes and reports) and the compaction of closed days (funnel-compact.ts).
//
// A day has three kinds of item (docs/funnel.md):
// - shards `FUNNEL#<day>#<nn>` / `counters`: attributes `<key>|<counter>`, written by the steps, and `gen`,
//   a random id the shard's first write sets (a shard deleted and written again has a new one);
// - per-value items `FUNNEL#<day>` / `<key>`: what the rebuild and the full-shard fallback write;
// - once the day is compacted, per-value items `FUNNEL#<day>` / `rollup#<fold>#<key>` and the marker
//   `FUNNEL#<day>` / `rollup`, which names the fold that counts and the shards it took in (index → gen).
import { keys } from '../platform/keys.ts';
import type { CounterItems } from './funnel-counters.ts';

/** The most counter shards a day may have: readers ask for every one of them (one BatchGetItem). */
export const MAX_FUNNEL_SHARDS = 64;
/** Between a counter item's key and the counter in a shard's attribute name: `source#google|captured`. */
export const SEP = '|';
/** A shard's attribute set by its first write: which incarnation of the shard this is. */
export const GEN = 'gen';
/** The compaction marker's sort key, and the prefix of its folds' items (`rollup#<fold>#<key>`). */
export const ROLLUP = 'rollup';

type Item = Record<string, unknown>;

/** A compaction marker: the fold whose items count, and the shards (index → gen) it holds the counts of. */
export interface RollupMarker {
  fold: string;
  covers: Record<string, string>;
}

export const shardKeys = (day: string) =>
  Array.from({ length: MAX_FUNNEL_SHARDS }, (_, i) => keys.funnelShard(day, i));

/** A shard item's index (`FUNNEL#2026-12-01#07` → 7). */
export const shardIndexOf = (shard: Item) =>
  Number(String(shard.pk).slice(String(shard.pk).lastIndexOf('#') + 1));

/** A shard's gen ('' for a shard written before gens). */
export const genOf = (shard: Item) => (typeof shard[GEN] === 'string' ? (shard[GEN] as string) : '');

/** An item's numeric attributes (its counters). */
export const numbersOf = (item: Item) =>
  Object.fromEntries(
    Object.entries(item).filter(
      (e): e is [string, number] => e[0] !== 'pk' && e[0] !== 'sk' && typeof e[1] === 'number',
    ),
  );

/** A shard's attribute `source#google|captured` as its counter item's key and counter; undefined if not one. */
export function splitAttribute(attr: string): [key: string, counter: string] | undefined {
  const at = attr.lastIndexOf(SEP);
  return at < 0 ? undefined : [attr.slice(0, at), attr.slice(at + 1)];
}

/** A shard's counters as counter items (`{ 'source#google': { captured: 3 } }`). */
export function shardCounters(shard: Item): CounterItems {
  const out: CounterItems = {};
  for (const [attr, n] of Object.entries(numbersOf(shard))) {
    const [key, counter] = splitAttribute(attr) ?? [];
    if (key === undefined || counter === undefined) continue;
    out[key] = { ...out[key], [counter]: n };
  }
  return out;
}

/** An UpdateItem's ADD of each `[attribute, n]` (the names and values as placeholders). */
export function addExpression(adds: readonly (readonly [string, number])[]) {
  return {
    UpdateExpression: `ADD ${adds.map((_, i) => `#a${i} :v${i}`).join(', ')}`,
    ExpressionAttributeNames: Object.fromEntries(adds.map(([a], i) => [`#a${i}`, a])),
    ExpressionAttributeValues: Object.fromEntries(adds.map(([, v], i) => [`:v${i}`, v])) as Record<
      string,
      unknown
    >,
  };
}

export const rollupPrefix = (fold: string) => `${ROLLUP}#${fold}#`;

/** The marker among a day's per-value items, if the day was compacted. */
export function markerOf(dayItems: readonly Item[]): RollupMarker | undefined {
  const m = dayItems.find((i) => i.sk === ROLLUP);
  return m && typeof m.fold === 'string'
    ? { fold: m.fold, covers: (m.covers ?? {}) as Record<string, string> }
    : undefined;
}

/** The shard is one the marker's fold holds (same index, same gen): its counts are in the fold. */
export const covered = (marker: RollupMarker | undefined, shard: Item) =>
  marker?.covers[String(shardIndexOf(shard))] === genOf(shard);

/**
 * What a day counts, from its per-value items (a Query of `FUNNEL#<day>`) and its shards: the shards the
 * marker does not cover, the plain per-value items, and the marker's fold's items (not an unfinished or
 * superseded fold's). So a report reads the same before, during and after a compaction.
 */
export function countedItems(
  dayItems: readonly Item[],
  shards: readonly Item[],
): { shards: Item[]; values: [key: string, counters: Record<string, number>][] } {
  const marker = markerOf(dayItems);
  const fold = marker ? rollupPrefix(marker.fold) : undefined;
  const values: [string, Record<string, number>][] = [];
  for (const item of dayItems) {
    const sk = String(item.sk);
    if (sk === ROLLUP) continue;
    if (sk.startsWith(`${ROLLUP}#`)) {
      if (fold && sk.startsWith(fold)) values.push([sk.slice(fold.length), numbersOf(item)]);
    } else values.push([sk, numbersOf(item)]);
  }
  return { shards: shards.filter((s) => !covered(marker, s)), values };
}
