import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { IllegalTransitionError, NotFoundError } from '../platform/errors.ts';
import { INDEX, indexKeys, keys } from '../platform/keys.ts';
import {
  batchGet,
  conditional,
  inList,
  queryItems,
  queryPages,
  setExpression,
  type Table,
  unlessConditionFails,
  withoutKeys,
} from '../platform/table.ts';
import type { Lead } from './lead.ts';
import { ACTIVE_STAGES, type LeadStage, predecessorsOf } from './lead-stage.ts';
import type { Score } from './scoring.ts';
import { checkedEvent, type StoredTimelineEvent, type TimelineEvent } from './timeline.ts';

export type { StoredTimelineEvent, TimelineEvent } from './timeline.ts';

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
  /** When the lead last replied to a nurture email (a person, not an auto-reply): its rep's email quotes it. */
  repliedAt?: string;
  /** An out-of-office's return day: no nurture email goes before it (the sequence is not stopped). */
  snoozedUntil?: string;
  capturedAt: string;
  updatedAt: string;
}

/** What a capture did: wrote the lead (as it now stands), or left it to the active run that owns it. */
export type CaptureOutcome = { outcome: 'captured'; lead: LeadRecord } | { outcome: 'merged' };

/** Leads, their email claims and their timelines. */
export interface LeadStore {
  get(leadId: string): Promise<LeadRecord | undefined>;
  /**
   * Several leads by id in one batch (BatchGetItem, 100 keys a request), keyed by lead id; a lead that
   * does not exist (never captured, erased, expired) is absent. Duplicate ids are read once.
   */
  getMany(leadIds: readonly string[]): Promise<Map<string, LeadRecord>>;
  /**
   * Writes the lead (and claims its email) unless another, still-active run owns it. Idempotent: a retry
   * of the same execution rewrites the same values. 'merged' when a different active run owns the lead;
   * 'captured' with the lead as it now stands (the write returns it: no read after).
   */
  capture(lead: Lead, executionName: string, at: string): Promise<CaptureOutcome>;
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
  /**
   * Timeline events have deterministic keys, so writing one twice stores it once. One that does not match
   * its type's schema is refused (TimelineEventError) before anything is written.
   */
  putEvent(leadId: string, event: TimelineEvent): Promise<void>;
  /** The lead's timeline, oldest first, as stored (events written before a field existed lack it). */
  listEvents(leadId: string): Promise<StoredTimelineEvent[]>;
  /** How many leads are in a stage now (the stage index; no scan). */
  countByStage(stage: LeadStage): Promise<number>;
  /** The leads in a stage now, oldest stage change first, a page at a time (the stage index; no scan). */
  listByStage(stage: LeadStage): AsyncIterable<LeadRecord>;
  /** Deletes every item of the lead and its email claim (GDPR erase); returns how many items went. */
  erase(leadId: string): Promise<number>;
  /**
   * Claims a one-off for the lead (`marker` such as `notice#2026-11-27`, `form#2026-11-27#pricing`): true
   * the first time only. Kept as long as the lead's other items.
   */
  claimOnce(leadId: string, marker: string): Promise<boolean>;
  /** Gives a claim back when the work it guarded failed, so a retry claims it again. */
  releaseOnce(leadId: string, marker: string): Promise<void>;
  /**
   * Points the lead at the run `to` that continues `from` (its stage untouched: the new run may already
   * have moved it), only while `from` or `to` is its active run; false when another run owns the lead.
   */
  handOver(leadId: string, from: string, to: string): Promise<boolean>;
}

export interface LeadStoreOptions {
  /** Lead items expire this long after they were last written (the table's TTL attribute, `expiresAt`). */
  retentionDays: number;
}
/** When no retention is given (scripts, tests): config/retention.json's default. */
export const DEFAULT_LEAD_OPTIONS: LeadStoreOptions = { retentionDays: 730 };

/**
 * A timeline event's item as putEvent writes it (its schema checked first: TimelineEventError), for a store
 * that writes one beside its own item in one call (functions/mail/send-store.ts's markSent).
 */
export function timelineItem(leadId: string, unchecked: TimelineEvent, { retentionDays }: LeadStoreOptions) {
  const event = checkedEvent(unchecked);
  const expiresAt = Math.floor(Date.parse(event.at) / 1000) + retentionDays * 86_400;
  return { ...keys.event(leadId, event.at, event.type), ...event, expiresAt };
}

export function dynamoLeads(
  table: Table,
  { retentionDays }: LeadStoreOptions = DEFAULT_LEAD_OPTIONS,
): LeadStore {
  const { doc, name: TableName } = table;
  /** The stage index's partition of one stage: the leads in it now. */
  const byStage = (stage: LeadStage) => ({
    IndexName: INDEX.byStage,
    KeyConditionExpression: 'gsi2pk = :p',
    ExpressionAttributeValues: { ':p': indexKeys.leadStage(stage, '').gsi2pk },
  });
  const expiresAt = (at: string) => Math.floor(Date.parse(at) / 1000) + retentionDays * 86_400;
  /** Every item key under the lead's partition (profile, events, send markers, notices). */
  async function itemKeys(leadId: string): Promise<{ pk: string; sk: string }[]> {
    const out: { pk: string; sk: string }[] = [];
    for await (const i of queryItems(table, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.leadPrefix(leadId) },
      ProjectionExpression: 'pk, sk',
      ConsistentRead: true,
    }))
      out.push({ pk: String(i.pk), sk: String(i.sk) });
    return out;
  }
  const store: LeadStore = {
    async get(leadId) {
      const { Item } = await doc.send(
        new GetCommand({ TableName, Key: keys.lead(leadId), ConsistentRead: true }),
      );
      return Item ? withoutKeys<LeadRecord>(Item) : undefined;
    },

    async getMany(leadIds) {
      const items = await batchGet(table, leadIds.map(keys.lead));
      return new Map(items.map((item) => withoutKeys<LeadRecord>(item)).map((lead) => [lead.id, lead]));
    },

    async capture(lead, executionName, at) {
      await conditional(() =>
        doc.send(
          new PutCommand({
            TableName,
            Item: { ...keys.emailClaim(lead.email), leadId: lead.id, expiresAt: expiresAt(at) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      const set = setExpression({
        ...lead,
        stage: 'captured',
        activeExecution: executionName,
        updatedAt: at,
        expiresAt: expiresAt(at),
        ...indexKeys.leadStage('captured', at),
      });
      const active = inList('stage', ACTIVE_STAGES, 's');
      const captured = await unlessConditionFails(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.lead(lead.id),
            ReturnValues: 'ALL_NEW',
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
      return captured?.Attributes
        ? { outcome: 'captured', lead: withoutKeys<LeadRecord>(captured.Attributes) }
        : { outcome: 'merged' };
    },

    async setStage(leadId, stage, at, extra = {}, remove = []) {
      const set = setExpression({
        ...extra,
        stage,
        updatedAt: at,
        expiresAt: expiresAt(at),
        ...indexKeys.leadStage(stage, at),
      });
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

    async putEvent(leadId, unchecked) {
      await doc.send(new PutCommand({ TableName, Item: timelineItem(leadId, unchecked, { retentionDays }) }));
    },

    async listEvents(leadId) {
      const items: StoredTimelineEvent[] = [];
      for await (const item of queryItems(table, {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.lead(leadId).pk, ':prefix': keys.eventPrefix },
      }))
        items.push({ type: item.type, at: item.at, ...(item.data ? { data: item.data } : {}) });
      return items;
    },

    async handOver(leadId, from, to) {
      return conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.lead(leadId),
            ConditionExpression: 'activeExecution IN (:from, :to)',
            UpdateExpression: 'SET activeExecution = :to',
            ExpressionAttributeValues: { ':from': from, ':to': to },
          }),
        ),
      );
    },

    async claimOnce(leadId, marker) {
      return conditional(() =>
        doc.send(
          new PutCommand({
            TableName,
            Item: { ...keys.once(leadId, marker), expiresAt: expiresAt(new Date().toISOString()) },
            ConditionExpression: 'attribute_not_exists(pk) OR released = :released',
            ExpressionAttributeValues: { ':released': true },
          }),
        ),
      );
    },

    async releaseOnce(leadId, marker) {
      // A put, not a delete: the functions that claim hold no delete permission.
      await doc.send(
        new PutCommand({
          TableName,
          Item: {
            ...keys.once(leadId, marker),
            released: true,
            expiresAt: expiresAt(new Date().toISOString()),
          },
        }),
      );
    },

    async erase(leadId) {
      const lead = await store.get(leadId);
      // The profile goes first: a step still running for the lead then finds no lead, as it will after.
      const profile = keys.lead(leadId).sk;
      const all = (await itemKeys(leadId)).sort(
        (a, b) => Number(b.sk === profile) - Number(a.sk === profile),
      );
      for (const key of all) await doc.send(new DeleteCommand({ TableName, Key: key }));
      if (lead) await doc.send(new DeleteCommand({ TableName, Key: keys.emailClaim(lead.email) }));
      return all.length + (lead ? 1 : 0);
    },

    async countByStage(stage) {
      let count = 0;
      for await (const page of queryPages(table, { ...byStage(stage), Select: 'COUNT' }))
        count += page.Count ?? 0;
      return count;
    },

    async *listByStage(stage) {
      for await (const item of queryItems(table, byStage(stage))) yield withoutKeys<LeadRecord>(item);
    },
  };
  return store;
}
