import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Rep } from '../config/schema.ts';
import { keys } from '../platform/keys.ts';
import { batchGet, conditional, type Table } from '../platform/table.ts';
import type { RepLoad } from './assignment.ts';

/** A run parked until a rep of its team has room (its "Assign rep" task token). */
export interface CapacityWaiter {
  team: string;
  /** When the lead started waiting: the queue is first come, first served. */
  since: string;
  executionName: string;
  leadId: string;
  taskToken: string;
}

/** Reps' live state (open deals), each team's round-robin cursor and capacity queue; config/reps.json holds the rest. */
export interface RepStore {
  /** Atomically advances a team's round-robin cursor and returns the new position. */
  nextCursor(team: string): Promise<number>;
  loads(repIds: string[]): Promise<Record<string, RepLoad>>;
  /** +1 only while under capacity (false when full); -1 never goes below zero (false when already zero). */
  adjustLoad(repId: string, delta: 1 | -1, capacity: number): Promise<boolean>;
  /** Writes each rep's profile, keeping the live open-deal count: idempotent. */
  seed(reps: Rep[]): Promise<number>;
  /** Queues a run for the team's next free slot (writing the same waiter twice stores it once). */
  enqueueWaiter(waiter: CapacityWaiter): Promise<void>;
  /** The team's longest-waiting runs, oldest first. */
  oldestWaiters(team: string, limit: number): Promise<CapacityWaiter[]>;
  /** Takes a waiter off the queue; false when someone else already did (only one waker wins it). */
  removeWaiter(waiter: Pick<CapacityWaiter, 'team' | 'since' | 'executionName'>): Promise<boolean>;
  /** Of these reps, those who turned the weekly open-deal reminder off (`remindersOff` on the rep item). */
  remindersOff(repIds: string[]): Promise<Set<string>>;
  /** Turns the rep's weekly reminder off or back on (idempotent; `at` records when). */
  setReminders(repId: string, on: boolean, at: string): Promise<void>;
}

export function dynamoReps(table: Table): RepStore {
  const { doc, name: TableName } = table;
  return {
    async nextCursor(team) {
      const { Attributes } = await doc.send(
        new UpdateCommand({
          TableName,
          Key: keys.teamCursor(team),
          UpdateExpression: 'ADD #p :one',
          ExpressionAttributeNames: { '#p': 'position' },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(Attributes?.position ?? 0);
    },

    async loads(repIds) {
      const items = await batchGet(table, repIds.map(keys.rep));
      return Object.fromEntries(
        items.map((r) => [String(r.repId), { openDeals: Number(r.openDeals ?? 0) }] as const),
      );
    },

    async remindersOff(repIds) {
      const items = await batchGet(table, repIds.map(keys.rep));
      return new Set(items.filter((r) => r.remindersOff === true).map((r) => String(r.repId)));
    },

    async setReminders(repId, on, at) {
      await doc.send(
        new UpdateCommand({
          TableName,
          Key: keys.rep(repId),
          UpdateExpression: 'SET repId = :id, remindersOff = :off, remindersChangedAt = :at',
          ExpressionAttributeValues: { ':id': repId, ':off': !on, ':at': at },
        }),
      );
    },

    async adjustLoad(repId, delta, capacity) {
      return conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.rep(repId),
            UpdateExpression: 'SET repId = :id ADD openDeals :d',
            ConditionExpression:
              delta > 0 ? 'attribute_not_exists(openDeals) OR openDeals < :cap' : 'openDeals > :zero',
            ExpressionAttributeValues: {
              ':id': repId,
              ':d': delta,
              ...(delta > 0 ? { ':cap': capacity } : { ':zero': 0 }),
            },
          }),
        ),
      );
    },

    async enqueueWaiter(w) {
      await doc.send(
        new PutCommand({
          TableName,
          Item: { ...keys.capacityWaiter(w.team, w.since, w.executionName), ...w },
        }),
      );
    },

    async oldestWaiters(team, limit) {
      const { Items } = await doc.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': keys.teamCursor(team).pk,
            ':prefix': keys.capacityWaiterPrefix,
          },
          Limit: limit,
          ConsistentRead: true,
        }),
      );
      return (Items ?? []).map((i) => ({
        team: String(i.team),
        since: String(i.since),
        executionName: String(i.executionName),
        leadId: String(i.leadId),
        taskToken: String(i.taskToken),
      }));
    },

    async removeWaiter(w) {
      return conditional(() =>
        doc.send(
          new DeleteCommand({
            TableName,
            Key: keys.capacityWaiter(w.team, w.since, w.executionName),
            ConditionExpression: 'attribute_exists(pk)',
          }),
        ),
      );
    },

    async seed(reps) {
      for (const r of reps) {
        await doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.rep(r.id),
            UpdateExpression:
              'SET #id = :id, #n = :name, #e = :email, #t = :team, #c = :cap, #w = :w, #a = :active, #o = if_not_exists(#o, :zero)',
            ExpressionAttributeNames: {
              '#id': 'repId',
              '#n': 'name',
              '#e': 'email',
              '#t': 'team',
              '#c': 'capacity',
              '#w': 'weight',
              '#a': 'active',
              '#o': 'openDeals',
            },
            ExpressionAttributeValues: {
              ':id': r.id,
              ':name': r.name,
              ':email': r.email,
              ':team': r.team,
              ':cap': r.capacity,
              ':w': r.weight,
              ':active': r.active,
              ':zero': 0,
            },
          }),
        );
      }
      return reps.length;
    },
  };
}
