import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { DealStage, LostReason } from '../domain/deal.ts';
import type { Lead, LeadStage } from '../domain/lead.ts';
import type { EngagementEvent, Score } from '../domain/scoring.ts';
import { requireEnv } from '../env.ts';
import { indexKeys, keys } from './keys.ts';

// One client per cold start. The SDK reaches a local emulator through AWS_ENDPOINT_URL_DYNAMODB.
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const TableName = requireEnv('TABLE_NAME');

/** Stages in which a lead has a live run that later submissions merge into. */
export const ACTIVE_STAGES: readonly LeadStage[] = ['captured', 'nurturing', 'sales-ready', 'assigned'];

export interface LeadRecord extends Lead {
  stage: LeadStage;
  activeExecution?: string;
  score?: Omit<Score, 'flags'> & { flags: string[] };
  ownerRepId?: string;
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

export interface DealRecord {
  dealId: string;
  leadId: string;
  executionName: string;
  repId: string;
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
  createdAt: string;
  updatedAt: string;
}

/** Deal changes: a stage change names the deal's rep too (both key the rep-deals index). */
export type DealChanges = Partial<Omit<DealRecord, 'stage' | 'repId'>> & { updatedAt: string } & (
    | { stage?: undefined; repId?: undefined }
    | { stage: DealStage; repId: string }
  );

const isConditionFailure = (e: unknown) => e instanceof ConditionalCheckFailedException;

/** Runs a conditional write; returns false (instead of throwing) when its condition did not hold. */
async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

function setExpression(values: Record<string, unknown>) {
  const entries = Object.entries(values).filter(([, v]) => v !== undefined);
  return {
    UpdateExpression: `SET ${entries.map(([k]) => `#${k} = :${k}`).join(', ')}`,
    ExpressionAttributeNames: Object.fromEntries(entries.map(([k]) => [`#${k}`, k])),
    ExpressionAttributeValues: Object.fromEntries(entries.map(([k, v]) => [`:${k}`, v])),
  };
}

export const store = {
  async getLead(leadId: string): Promise<LeadRecord | undefined> {
    const { Item } = await doc.send(
      new GetCommand({ TableName, Key: keys.lead(leadId), ConsistentRead: true }),
    );
    return Item as LeadRecord | undefined;
  },

  /**
   * Writes the lead unless another run owns it. Idempotent: a retry of the same execution rewrites
   * the same values. Returns 'merged' when a different, still-active run owns the lead.
   */
  async captureLead(lead: Lead, executionName: string, at: string): Promise<'captured' | 'merged'> {
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
    const captured = await conditional(() =>
      doc.send(
        new UpdateCommand({
          TableName,
          Key: keys.lead(lead.id),
          UpdateExpression: `${set.UpdateExpression}, #capturedAt = if_not_exists(#capturedAt, :at)`,
          ConditionExpression: `attribute_not_exists(pk) OR activeExecution = :activeExecution OR NOT (#stage IN (${ACTIVE_STAGES.map((_, i) => `:s${i}`).join(', ')}))`,
          ExpressionAttributeNames: { ...set.ExpressionAttributeNames, '#capturedAt': 'capturedAt' },
          ExpressionAttributeValues: {
            ...set.ExpressionAttributeValues,
            ':at': at,
            ...Object.fromEntries(ACTIVE_STAGES.map((s, i) => [`:s${i}`, s])),
          },
        }),
      ),
    );
    return captured ? 'captured' : 'merged';
  },

  async setLeadStage(
    leadId: string,
    stage: LeadStage,
    at: string,
    extra: Partial<LeadRecord> = {},
  ): Promise<void> {
    const set = setExpression({ ...extra, stage, updatedAt: at, ...indexKeys.leadStage(stage, at) });
    await doc.send(
      new UpdateCommand({
        TableName,
        Key: keys.lead(leadId),
        ConditionExpression: 'attribute_exists(pk)',
        ...set,
      }),
    );
  },

  /** Timeline events have deterministic keys, so writing one twice stores it once. */
  async putEvent(leadId: string, event: TimelineEvent): Promise<void> {
    await doc.send(
      new PutCommand({ TableName, Item: { ...keys.event(leadId, event.at, event.type), ...event } }),
    );
  },

  async listEvents(leadId: string): Promise<TimelineEvent[]> {
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
      for (const item of page.Items ?? []) items.push({ type: item.type, at: item.at, data: item.data });
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  },

  async engagementEvents(leadId: string): Promise<EngagementEvent[]> {
    return (await store.listEvents(leadId))
      .filter((e) => e.type === 'form' || e.type === 'email-click')
      .map((e) => ({ type: e.type === 'form' ? String(e.data?.formType) : e.type, at: e.at }));
  },

  async isSuppressed(email: string): Promise<boolean> {
    const { Item } = await doc.send(
      new GetCommand({ TableName, Key: keys.suppression(email), ConsistentRead: true }),
    );
    return Boolean(Item);
  },

  async suppress(email: string, reason: 'unsubscribed' | 'bounced' | 'complained', how: string, at: string) {
    await conditional(() =>
      doc.send(
        new PutCommand({
          TableName,
          Item: { ...keys.suppression(email), reason, how, at },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  },

  async nurtureSent(leadId: string, cycle: number, step: number): Promise<boolean> {
    const { Item } = await doc.send(
      new GetCommand({ TableName, Key: keys.nurtureSend(leadId, cycle, step), ConsistentRead: true }),
    );
    return Boolean(Item);
  },

  async markNurtureSent(
    leadId: string,
    cycle: number,
    step: number,
    messageId: string,
    at: string,
    ttl: number,
  ) {
    await doc.send(
      new PutCommand({
        TableName,
        Item: { ...keys.nurtureSend(leadId, cycle, step), messageId, at, expiresAt: ttl },
      }),
    );
  },

  /** Atomically advances a team's round-robin cursor and returns the new position. */
  async nextCursor(team: string): Promise<number> {
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

  async repLoads(repIds: string[]): Promise<Record<string, { openDeals: number }>> {
    if (repIds.length === 0) return {};
    const { Responses } = await doc.send(
      new BatchGetCommand({
        RequestItems: { [TableName]: { Keys: repIds.map(keys.rep), ConsistentRead: true } },
      }),
    );
    return Object.fromEntries(
      (Responses?.[TableName] ?? []).map((r) => [String(r.repId), { openDeals: Number(r.openDeals ?? 0) }]),
    );
  },

  /** +1 only while under capacity (returns false when full); -1 never goes below zero. */
  async adjustRepLoad(repId: string, delta: 1 | -1, capacity: number): Promise<boolean> {
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

  async getDeal(dealId: string): Promise<DealRecord | undefined> {
    const { Item } = await doc.send(
      new GetCommand({ TableName, Key: keys.deal(dealId), ConsistentRead: true }),
    );
    return Item as DealRecord | undefined;
  },

  /** Creates the deal once; returns false if it already exists (a retried step). */
  async createDeal(deal: DealRecord): Promise<boolean> {
    return conditional(() =>
      doc.send(
        new PutCommand({
          TableName,
          Item: {
            ...keys.deal(deal.dealId),
            ...deal,
            ...indexKeys.repDeals(deal.repId, deal.stage, deal.createdAt),
            ...indexKeys.dealStage(deal.stage, deal.createdAt),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  },

  /**
   * Updates a deal only if it still matches `expect` (optimistic concurrency on the named fields;
   * `null` means the field must be absent).
   * Returns false when another writer got there first.
   */
  async updateDeal(
    dealId: string,
    expect: { stage?: DealStage; attempt?: number; taskToken?: string | null; repId?: string },
    changes: DealChanges,
    remove: (keyof DealRecord)[] = [],
  ): Promise<boolean> {
    const next = { ...changes } as Partial<DealRecord> & Record<string, unknown>;
    if (changes.stage) {
      // Stage and rep travel together, so the index keys are written without reading the deal first.
      Object.assign(
        next,
        indexKeys.repDeals(changes.repId, changes.stage, changes.updatedAt),
        indexKeys.dealStage(changes.stage, changes.updatedAt),
      );
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
};

export type Store = typeof store;

/** Marks a deal's close as recorded exactly once; false when an earlier attempt already did. */
export async function markDealCloseRecorded(dealId: string, at: string): Promise<boolean> {
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
}
