import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { IllegalTransitionError, NotFoundError } from '../domain/errors.ts';
import type { Lead } from '../domain/lead.ts';
import { ACTIVE_STAGES, type LeadStage, predecessorsOf } from '../domain/lead-stage.ts';
import type { Score } from '../domain/scoring.ts';
import { INDEX, indexKeys, keys } from './keys.ts';
import { conditional, inList, setExpression, type Table, withoutKeys } from './table.ts';

export interface LeadRecord extends Lead {
  stage: LeadStage;
  activeExecution?: string;
  score?: Omit<Score, 'flags'> & { flags: string[] };
  ownerRepId?: string;
  /** The deal of the current assignment, while one is open (Record failure releases its rep's slot). */
  openDealId?: string;
  /** When the lead started waiting for a free rep (its place in the team's queue). */
  waitingSince?: string;
  /** Set when a lost deal recycles the lead: engagement before it no longer counts. */
  engagementSince?: string;
  capturedAt: string;
  updatedAt: string;
}

export interface TimelineEvent {
  type: string;
  at: string;
  data?: Record<string, unknown>;
}

/** Leads, their email claims and their timelines. */
export interface LeadStore {
  get(leadId: string): Promise<LeadRecord | undefined>;
  /**
   * Writes the lead (and claims its email) unless another, still-active run owns it. Idempotent: a retry
   * of the same execution rewrites the same values. 'merged' when a different active run owns the lead.
   */
  capture(lead: Lead, executionName: string, at: string): Promise<'captured' | 'merged'>;
  /**
   * Moves the lead to `stage` if the lead-stage machine allows it from the stage it is in; throws
   * NotFoundError for no lead and IllegalTransitionError for a move the machine forbids.
   */
  setStage(
    leadId: string,
    stage: LeadStage,
    at: string,
    extra?: Partial<LeadRecord>,
    remove?: (keyof LeadRecord)[],
  ): Promise<void>;
  /** Timeline events have deterministic keys, so writing one twice stores it once. */
  putEvent(leadId: string, event: TimelineEvent): Promise<void>;
  listEvents(leadId: string): Promise<TimelineEvent[]>;
  /** How many leads are in a stage now (the stage index; no scan). */
  countByStage(stage: LeadStage): Promise<number>;
}

export function dynamoLeads({ doc, name: TableName }: Table): LeadStore {
  const store: LeadStore = {
    async get(leadId) {
      const { Item } = await doc.send(
        new GetCommand({ TableName, Key: keys.lead(leadId), ConsistentRead: true }),
      );
      return Item ? withoutKeys<LeadRecord>(Item) : undefined;
    },

    async capture(lead, executionName, at) {
      await conditional(() =>
        doc.send(
          new PutCommand({
            TableName,
            Item: { ...keys.emailClaim(lead.email), leadId: lead.id },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      const set = setExpression({
        ...lead,
        stage: 'captured',
        activeExecution: executionName,
        updatedAt: at,
        ...indexKeys.leadStage('captured', at),
      });
      const active = inList('stage', ACTIVE_STAGES, 's');
      const captured = await conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.lead(lead.id),
            UpdateExpression: `${set.UpdateExpression}, #capturedAt = if_not_exists(#capturedAt, :at)`,
            ConditionExpression: `attribute_not_exists(pk) OR activeExecution = :activeExecution OR NOT (${active.expression})`,
            ExpressionAttributeNames: {
              ...set.ExpressionAttributeNames,
              ...active.names,
              '#capturedAt': 'capturedAt',
            },
            ExpressionAttributeValues: { ...set.ExpressionAttributeValues, ...active.values, ':at': at },
          }),
        ),
      );
      return captured ? 'captured' : 'merged';
    },

    async setStage(leadId, stage, at, extra = {}, remove = []) {
      const set = setExpression({ ...extra, stage, updatedAt: at, ...indexKeys.leadStage(stage, at) });
      const from = inList('stage', predecessorsOf(stage), 'from');
      const removed = remove.length ? ` REMOVE ${remove.map((r) => `#r_${r}`).join(', ')}` : '';
      const moved = await conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.lead(leadId),
            ConditionExpression: `attribute_exists(pk) AND ${from.expression}`,
            UpdateExpression: `${set.UpdateExpression}${removed}`,
            ExpressionAttributeNames: {
              ...set.ExpressionAttributeNames,
              ...from.names,
              ...Object.fromEntries(remove.map((r) => [`#r_${r}`, r])),
            },
            ExpressionAttributeValues: { ...set.ExpressionAttributeValues, ...from.values },
          }),
        ),
      );
      if (moved) return;
      const current = await store.get(leadId);
      if (!current) throw new NotFoundError(`Lead ${leadId}`);
      throw new IllegalTransitionError(current.stage, stage, 'lead');
    },

    async putEvent(leadId, event) {
      await doc.send(
        new PutCommand({ TableName, Item: { ...keys.event(leadId, event.at, event.type), ...event } }),
      );
    },

    async listEvents(leadId) {
      const items: TimelineEvent[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': keys.lead(leadId).pk, ':prefix': keys.eventPrefix },
            ExclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? [])
          items.push({ type: item.type, at: item.at, ...(item.data ? { data: item.data } : {}) });
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return items;
    },

    async countByStage(stage) {
      let count = 0;
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new QueryCommand({
            TableName,
            IndexName: INDEX.byStage,
            KeyConditionExpression: 'gsi2pk = :p',
            ExpressionAttributeValues: { ':p': indexKeys.leadStage(stage, '').gsi2pk },
            Select: 'COUNT',
            ExclusiveStartKey,
          }),
        );
        count += page.Count ?? 0;
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return count;
    },
  };
  return store;
}
