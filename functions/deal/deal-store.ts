import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Rating } from '../lead/deal-vocabulary.ts';
import { INDEX, indexKeys, keys } from '../platform/keys.ts';
import { conditional, queryItems, setExpression, type Table, withoutKeys } from '../platform/table.ts';
import type { DealStage, LostReason } from './deal.ts';

export interface DealRecord {
  dealId: string;
  leadId: string;
  executionName: string;
  repId: string;
  /** The run's nurture cycle the deal belongs to (0 until a "not now" loss recycles the lead); older deals lack it. */
  cycle?: number;
  /** 1 for the first rep, +1 per reassignment. */
  attempt: number;
  previousReps: string[];
  stage: DealStage;
  amount?: number;
  lostReason?: LostReason;
  /** The Step Functions task token of the wait in progress; never leaves the backend. */
  taskToken?: string;
  tokenFor?: string;
  emailedAttempt?: number;
  /**
   * The score its current rep was shown when the deal was placed with them (set at assignment and at each
   * reassignment): the deal's acceptance and outcome are graded with it in scoring feedback, not with a score
   * a later form gave the lead. Reason labels without their age, as the funnel counts them.
   */
  seen?: { total: number; grade: string; reasons: string[] };
  /** The rating the rep gave with the outcome (won or lost): "Close deal" counts it with the outcome. */
  closeRating?: Rating;
  /** Set once, when "Close deal" recorded the outcome (metrics). */
  closeRecordedAt?: string;
  /** Set while the deal does not hold a slot of its rep's capacity (closed, or its run ended). */
  loadReleasedAt?: string;
  /** Set when the deal's run ended without closing it (failed, timed out, aborted, erased); cleared on redrive. */
  runEndedAt?: string;
  runEnd?: 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'ERASED';
  createdAt: string;
  updatedAt: string;
}

/** Deal changes: a stage change names the deal's rep too (the two are written together). */
export type DealChanges = Partial<Omit<DealRecord, 'stage' | 'repId'>> & { updatedAt: string } & (
    | { stage?: undefined; repId?: undefined }
    | { stage: DealStage; repId: string }
  );

/** What an optimistic update expects to find; `null` means the field must be absent. */
export type DealExpectation = {
  stage?: DealStage;
  attempt?: number;
  taskToken?: string | null;
  repId?: string;
};

export interface DealStore {
  get(dealId: string): Promise<DealRecord | undefined>;
  /** Creates the deal once; false if it already exists (a retried step). */
  create(deal: DealRecord): Promise<boolean>;
  /** Updates the deal only if it still matches `expect`; false when another writer got there first. */
  update(
    dealId: string,
    expect: DealExpectation,
    changes: DealChanges,
    remove?: (keyof DealRecord)[],
  ): Promise<boolean>;
  /** Marks the deal's close as recorded exactly once; false when an earlier attempt already did. */
  markCloseRecorded(dealId: string, at: string): Promise<boolean>;
  /** The deal gives back its rep's slot: true exactly once per hold (the caller then lowers the rep's load). */
  releaseLoad(dealId: string, at: string): Promise<boolean>;
  /** The deal takes its rep's slot again (a redriven run): true only if it had released it. */
  holdLoad(dealId: string): Promise<boolean>;
  /** Records that the deal's run ended without closing it; rep links then answer that the journey has ended. */
  markRunEnded(dealId: string, end: NonNullable<DealRecord['runEnd']>, at: string): Promise<void>;
  /** The deals in a stage now, oldest stage change first, a page at a time (the stage index; no scan). */
  listByStage(stage: DealStage): AsyncIterable<DealRecord>;
}

export function dynamoDeals(table: Table): DealStore {
  const { doc, name: TableName } = table;
  return {
    async *listByStage(stage) {
      const stageIndex = {
        IndexName: INDEX.byStage,
        KeyConditionExpression: 'gsi2pk = :p',
        ExpressionAttributeValues: { ':p': indexKeys.dealStage(stage, '').gsi2pk },
      };
      for await (const item of queryItems(table, stageIndex)) yield withoutKeys<DealRecord>(item);
    },
    async get(dealId) {
      const { Item } = await doc.send(
        new GetCommand({ TableName, Key: keys.deal(dealId), ConsistentRead: true }),
      );
      return Item ? withoutKeys<DealRecord>(Item) : undefined;
    },

    async create(deal) {
      return conditional(() =>
        doc.send(
          new PutCommand({
            TableName,
            Item: {
              ...keys.deal(deal.dealId),
              ...deal,
              ...indexKeys.dealStage(deal.stage, deal.createdAt),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    },

    async update(dealId, expect, changes, remove = []) {
      const next = { ...changes } as Record<string, unknown>;
      if (changes.stage) {
        // The stage index's keys are written with the stage, without reading the deal first.
        Object.assign(next, indexKeys.dealStage(changes.stage, changes.updatedAt));
      }
      const set = setExpression(next);
      const conditions = Object.entries(expect).map(([k, v]) =>
        v === null ? `attribute_not_exists(#e_${k})` : `#e_${k} = :e_${k}`,
      );
      return conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.deal(dealId),
            UpdateExpression: `${set.UpdateExpression}${remove.length ? ` REMOVE ${remove.map((r) => `#r_${r}`).join(', ')}` : ''}`,
            ConditionExpression: ['attribute_exists(pk)', ...conditions].join(' AND '),
            ExpressionAttributeNames: {
              ...set.ExpressionAttributeNames,
              ...Object.fromEntries(Object.keys(expect).map((k) => [`#e_${k}`, k])),
              ...Object.fromEntries(remove.map((r) => [`#r_${r}`, r])),
            },
            ExpressionAttributeValues: {
              ...set.ExpressionAttributeValues,
              ...Object.fromEntries(
                Object.entries(expect)
                  .filter(([, v]) => v !== null)
                  .map(([k, v]) => [`:e_${k}`, v]),
              ),
            },
          }),
        ),
      );
    },

    async releaseLoad(dealId, at) {
      return conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.deal(dealId),
            UpdateExpression: 'SET loadReleasedAt = :at',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(loadReleasedAt)',
            ExpressionAttributeValues: { ':at': at },
          }),
        ),
      );
    },

    async holdLoad(dealId) {
      return conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.deal(dealId),
            UpdateExpression: 'REMOVE loadReleasedAt, runEndedAt, runEnd',
            ConditionExpression: 'attribute_exists(loadReleasedAt)',
          }),
        ),
      );
    },

    async markRunEnded(dealId, end, at) {
      await conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.deal(dealId),
            UpdateExpression: 'SET runEndedAt = :at, runEnd = :end',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':at': at, ':end': end },
          }),
        ),
      );
    },

    async markCloseRecorded(dealId, at) {
      return conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.deal(dealId),
            UpdateExpression: 'SET closeRecordedAt = :at',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(closeRecordedAt)',
            ExpressionAttributeValues: { ':at': at },
          }),
        ),
      );
    },
  };
}
