// A day's funnel counters are rewritten by one writer at a time: the daily compaction (funnel-compact.ts)
// and the rebuild's replaceDay (funnel-store.ts) each hold the day's lease while they work. Without it two
// of them interleave into double counts or lost days (an independent review proved four such interleavings
// with tests: test/integration/funnel-shards.test.ts, "one writer at a time"). The steps' own ADDs take no
// lease: the compaction's marks handle them.
import { randomBytes } from 'node:crypto';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../platform/keys.ts';
import { conditional, type Table } from '../platform/table.ts';

/** The lease's sort key under `FUNNEL#<day>` (readers skip it: funnel-layout.ts). */
export const LEASE = 'lease';
/** How long a lease holds unless given back: longer than CompactFunnel's 2-minute timeout. */
export const LEASE_MS = 3 * 60_000;

export interface DayLease {
  /**
   * Extends the lease by LEASE_MS from now if it is still ours: false if it ran out and another writer took
   * it (the holder must stop writing). A holder renews before each phase and every RENEW_EVERY writes.
   */
  renew(): Promise<boolean>;
  /** Gives the lease back (only if still ours; a failure is left to the lease's end). */
  release(): Promise<void>;
}

/** A long writer (the rebuild of a busy day) renews its lease after this many writes. */
export const RENEW_EVERY = 50;

/**
 * The writers' clock, epoch ms. Leases compare times written by different writers, so they must share one:
 * in AWS the machines' (NTP), locally the stack's (the rebuild script reads it from the running stack).
 */
export type LeaseClock = () => number | Promise<number>;

/** Takes `day`'s lease, or undefined if another writer holds it. */
export async function takeDayLease(
  table: Table,
  day: string,
  clock: LeaseClock = Date.now,
): Promise<DayLease | undefined> {
  const { doc, name: TableName } = table;
  const Key = keys.funnelCounter(day, LEASE);
  const owner = randomBytes(6).toString('base64url');
  const now = await clock();
  const taken = await conditional(() =>
    doc.send(
      new PutCommand({
        TableName,
        Item: { ...Key, owner, until: now + LEASE_MS },
        ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
        ExpressionAttributeNames: { '#until': 'until' },
        ExpressionAttributeValues: { ':now': now },
      }),
    ),
  );
  if (!taken) return undefined;
  return {
    async renew() {
      const at = await clock();
      return conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key,
            UpdateExpression: 'SET #until = :until',
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner', '#until': 'until' },
            ExpressionAttributeValues: { ':owner': owner, ':until': at + LEASE_MS },
          }),
        ),
      );
    },
    async release() {
      await conditional(() =>
        doc.send(
          new DeleteCommand({
            TableName,
            Key,
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': owner },
          }),
        ),
      ).catch(() => undefined);
    },
  };
}

/** Takes `day`'s lease, waiting for the holder (a compaction takes seconds) up to a lease's length. */
export async function waitForDayLease(
  table: Table,
  day: string,
  clock: LeaseClock = Date.now,
): Promise<DayLease> {
  const deadline = Date.now() + LEASE_MS + 10_000;
  for (;;) {
    const lease = await takeDayLease(table, day, clock);
    if (lease) return lease;
    if (Date.now() > deadline)
      throw new Error(`the funnel counters of ${day} are being rewritten by another writer; try again`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
