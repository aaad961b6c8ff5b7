// Every store at once: one per entity, each behind a small interface (docs/architecture.md, "Data"). Handlers
// take the few they use (a Pick of `Stores`) and build only those; scripts, the local stack and the console
// build them all here. Unit tests hand handlers in-memory stores instead of DynamoDB.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DealStore, dynamoDeals } from './deal/deal-store.ts';
import { dynamoReps, type RepStore } from './deal/rep-store.ts';
import { type DeliverabilityStore, dynamoDeliverability } from './deliverability/deliverability-store.ts';
import type { LeaseClock } from './funnel/day-lease.ts';
import { dynamoFunnel, type FunnelStore } from './funnel/funnel-store.ts';
import { type ConfirmationStore, dynamoConfirmations } from './lead/confirmation-store.ts';
import { dynamoLeads, type LeadStore, type LeadStoreOptions } from './lead/lead-store.ts';
import { dynamoRepNotes, type RepNoteStore } from './lead/rep-note-store.ts';
import { dynamoSignals, type SignalStore } from './lead/signal-store.ts';
import { dynamoSubmissions, type SubmissionStore } from './lead/submission-store.ts';
import { dynamoSends, type SendStore } from './mail/send-store.ts';
import { dynamoSuppression, type SuppressionStore } from './mail/suppression-store.ts';
import { tableOf } from './platform/table.ts';
import { dynamoSendChecks, type SendChecks } from './send-checks.ts';

export type { DealChanges, DealExpectation, DealRecord, DealStore } from './deal/deal-store.ts';
export type { CapacityWaiter, RepStore } from './deal/rep-store.ts';
export type {
  BreakerState,
  DeliverabilityStore,
  DeliveryCounts,
  DeliveryEvent,
} from './deliverability/deliverability-store.ts';
export type { FunnelCounter, FunnelMarker, FunnelStore } from './funnel/funnel-store.ts';
export type { Confirmation, ConfirmationStore } from './lead/confirmation-store.ts';
export type { LeadRecord, LeadStore, TimelineEvent } from './lead/lead-store.ts';
export type { RepNote, RepNoteStore } from './lead/rep-note-store.ts';
export type { Signal, SignalStore } from './lead/signal-store.ts';
export type { Submission, SubmissionStore } from './lead/submission-store.ts';
export type { SendStore } from './mail/send-store.ts';
export type { SuppressionReason, SuppressionStore } from './mail/suppression-store.ts';
export type { SendCheck, SendChecks } from './send-checks.ts';

export interface Stores {
  leads: LeadStore;
  deals: DealStore;
  reps: RepStore;
  suppression: SuppressionStore;
  sends: SendStore;
  signals: SignalStore;
  submissions: SubmissionStore;
  /** The `known` stream's counters and breaker: every email but first contacts. */
  deliverability: DeliverabilityStore;
  /** The `first-contact` stream's: confirmations, and with opt-in off the answers to forms. */
  firstContact: DeliverabilityStore;
  confirmations: ConfirmationStore;
  funnel: FunnelStore;
  /** Reps' ratings and notes with their answers, for scoring feedback. */
  repNotes: RepNoteStore;
  /** A nurture wake's suppression and breaker reads, together (functions/send-checks.ts). */
  sendChecks: SendChecks;
}

/** The DynamoDB stores on `tableName`, through `client` (default: one from the environment). */
export function dynamoStores(
  tableName: string,
  client?: DynamoDBClient,
  options?: LeadStoreOptions & { clock?: LeaseClock },
): Stores {
  const table = tableOf(tableName, client);
  return {
    leads: dynamoLeads(table, options),
    deals: dynamoDeals(table),
    reps: dynamoReps(table),
    suppression: dynamoSuppression(table),
    sends: dynamoSends(table, options),
    signals: dynamoSignals(table),
    submissions: dynamoSubmissions(table, options),
    deliverability: dynamoDeliverability(table),
    firstContact: dynamoDeliverability(table, 'first-contact'),
    confirmations: dynamoConfirmations(table, options),
    funnel: dynamoFunnel(table, options),
    repNotes: dynamoRepNotes(table, options),
    sendChecks: dynamoSendChecks(table),
  };
}
