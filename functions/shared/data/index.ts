// The data layer handlers see: one store per entity, each behind a small interface (DESIGN §2, §3).
// Handlers take `Stores` as a parameter, so unit tests hand them in-memory stores instead of DynamoDB.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { requireEnv } from '../env.ts';
import { type DealStore, dynamoDeals } from './deals.ts';
import { type DeliverabilityStore, dynamoDeliverability } from './deliverability.ts';
import { dynamoFunnel, type FunnelStore } from './funnel.ts';
import { dynamoLeads, type LeadStore, type LeadStoreOptions } from './leads.ts';
import { dynamoReps, type RepStore } from './reps.ts';
import { dynamoSends, type SendStore } from './sends.ts';
import { dynamoSignals, type SignalStore } from './signals.ts';
import { dynamoSuppression, type SuppressionStore } from './suppression.ts';
import { tableOf } from './table.ts';

export type { DealChanges, DealExpectation, DealRecord, DealStore } from './deals.ts';
export type { BreakerState, DeliverabilityStore, DeliveryCounts, DeliveryEvent } from './deliverability.ts';
export type { FunnelCounter, FunnelMarker, FunnelStore } from './funnel.ts';
export type { LeadRecord, LeadStore, TimelineEvent } from './leads.ts';
export type { CapacityWaiter, RepStore } from './reps.ts';
export type { SendStore } from './sends.ts';
export type { Signal, SignalStore } from './signals.ts';
export type { SuppressionReason, SuppressionStore } from './suppression.ts';

export interface Stores {
  leads: LeadStore;
  deals: DealStore;
  reps: RepStore;
  suppression: SuppressionStore;
  sends: SendStore;
  signals: SignalStore;
  deliverability: DeliverabilityStore;
  funnel: FunnelStore;
}

/** The DynamoDB stores on the table named by TABLE_NAME (or the given table and client, for scripts). */
export function dynamoStores(
  tableName = requireEnv('TABLE_NAME'),
  client?: DynamoDBClient,
  options?: LeadStoreOptions,
): Stores {
  const table = tableOf(tableName, client);
  return {
    leads: dynamoLeads(table, options),
    deals: dynamoDeals(table),
    reps: dynamoReps(table),
    suppression: dynamoSuppression(table),
    sends: dynamoSends(table),
    signals: dynamoSignals(table),
    deliverability: dynamoDeliverability(table),
    funnel: dynamoFunnel(table, options),
  };
}
