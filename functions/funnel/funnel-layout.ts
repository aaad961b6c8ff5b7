// How a day's funnel counters lie in the table, and which of a day's items count: shared by the store
// (funnel-store.ts: writes and reports) and the compaction of closed days (funnel-compact.ts).
//
// A day has three kinds of item (docs/funnel.md):
// - shards `FUNNEL#<day>#<nn>` / `counters`: attributes `<key>|<counter>`, written by the steps, and, once a
//   compaction has taken the shard's counts, `fold` (the id of the fold that holds them) and `taken` (the
//   counts it took, a map: what the shard holds beyond them came later);
// - per-value items `FUNNEL#<day>` / `<key>`: what the rebuild and the full-shard fallback write;
// - once the day is compacted, per-value items `FUNNEL#<day>` / `rollup#<fold>#<key>` and the marker
//   `FUNNEL#<day>` / `rollup`, which names the fold in force.
import { keys } from '../platform/keys.ts';
import { LEASE } from './day-lease.ts';
import type { CounterItems } from './funnel-counters.ts';

/** The most counter shards a day may have: readers ask for every one of them (one BatchGetItem). */
export const MAX_FUNNEL_SHARDS = 64;
/** Between a counter item's key and the counter in a shard's attribute name: `source#google|captured`. */
export const SEP = '|';
/** A shard's attributes naming the fold that took its counts, and those counts (funnel-compact.ts). */
export const FOLD = 'fold';
export const TAKEN = 'taken';
/** The compaction marker's sort key, and the prefix of its folds' items (`rollup#<fold>#<key>`). */
export const ROLLUP = 'rollup';

type Item = Record<string, unknown>;

/** A compaction marker: the fold whose items count. */
export interface RollupMarker {
  fold: string;
}

export const shardKeys = (day: string) =>
  Array.from({ length: MAX_FUNNEL_SHARDS }, (_, i) => keys.funnelShard(day, i));

/** The fold a shard's counts were taken into, if a compaction marked it. */
export const foldOf = (shard: Item) =>
  typeof shard[FOLD] === 'string' ? (shard[FOLD] as string) : undefined;

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

/** DynamoDB's answer to a write that would take an item past 400 KB. */
export const isItemTooLarge = (e: unknown) =>
  (e as { name?: string }).name === 'ValidationException' &&
  /item size/i.test((e as { message?: string }).message ?? '');

export const rollupPrefix = (fold: string) => `${ROLLUP}#${fold}#`;

/** The marker among a day's per-value items, if the day was compacted. */
export function markerOf(dayItems: readonly Item[]): RollupMarker | undefined {
  const m = dayItems.find((i) => i.sk === ROLLUP);
  return m && typeof m.fold === 'string' ? { fold: m.fold } : undefined;
}

/** The shard's counts are in the fold in force (it was marked by that fold and not yet deleted). */
export const covered = (marker: RollupMarker | undefined, shard: Item) =>
  marker !== undefined && foldOf(shard) === marker.fold;

/** What a marked shard holds beyond the counts its fold took (late writes), as counter items. */
export function lateCounters(shard: Item): CounterItems {
  const taken = (shard[TAKEN] ?? {}) as Record<string, number>;
  const out: CounterItems = {};
  for (const [attr, n] of Object.entries(numbersOf(shard))) {
    const d = Math.round((n - (taken[attr] ?? 0)) * 100) / 100;
    const [key, counter] = splitAttribute(attr) ?? [];
    if (d !== 0 && key !== undefined && counter !== undefined) out[key] = { ...out[key], [counter]: d };
  }
  return out;
}

/**
 * What a day counts, from its per-value items (a Query of `FUNNEL#<day>`) and its shards, as counter
 * items: the marker's fold's items (not an unfinished or superseded fold's), the plain per-value items,
 * the shards not marked by that fold, and what a shard marked by it holds beyond what the fold took. So a
 * report reads the same before, during and after a compaction.
 */
export function countedItems(dayItems: readonly Item[], shards: readonly Item[]): CounterItems[] {
  const marker = markerOf(dayItems);
  const fold = marker ? rollupPrefix(marker.fold) : undefined;
  const out: CounterItems[] = [];
  for (const item of dayItems) {
    const sk = String(item.sk);
    if (sk === ROLLUP || sk === LEASE) continue;
    if (sk.startsWith(`${ROLLUP}#`)) {
      if (fold && sk.startsWith(fold)) out.push({ [sk.slice(fold.length)]: numbersOf(item) });
    } else out.push({ [sk]: numbersOf(item) });
  }
  for (const shard of shards) out.push(covered(marker, shard) ? lateCounters(shard) : shardCounters(shard));
  return out;
}
