import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../platform/keys.ts';
import { conditional, type Table, unlessConditionFails, withoutKeys } from '../platform/table.ts';
import type { LeadRecord } from './lead-store.ts';

/** What wakes a nurtured lead's run at once: the lead did something, or their address went bad. */
export type Signal =
  | 'form'
  | 'click'
  | 'visit'
  | 'reply'
  | 'unsubscribe'
  | 'bounce'
  | 'complaint'
  | 'confirm';

/**
 * The nurture wait's task token, parked on the lead item, and signals that arrive while no token is
 * parked (between the nurture step and its wait): a signal then waits on the item for the next park.
 * Both sides use single-item conditional writes, so a signal is never lost between them.
 */
export interface SignalStore {
  /** Parks the token, or, when a signal is already waiting, takes that signal instead (and parks nothing). */
  park(
    leadId: string,
    token: string,
    at: string,
  ): Promise<{ parked: true } | { parked: false; signal: Signal }>;
  /** Takes the parked token (a signal wakes its run with it); else leaves the signal for the next park. */
  signal(leadId: string, signal: Signal, at: string): Promise<{ token?: string }>;
  /**
   * Forgets both (the nurture step has looked at everything since), and returns the lead as it is after,
   * read in the same write (strongly consistent): undefined when there is no lead.
   */
  clear(leadId: string): Promise<LeadRecord | undefined>;
}

export function dynamoSignals({ doc, name: TableName }: Table): SignalStore {
  const update = (input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>) =>
    doc.send(new UpdateCommand({ TableName, ...input }));
  return {
    async park(leadId, token, at) {
      for (let tries = 0; tries < 3; tries++) {
        const parked = await conditional(() =>
          update({
            Key: keys.lead(leadId),
            UpdateExpression: 'SET waitToken = :t, nurtureParkedAt = :at',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(pendingSignal)',
            ExpressionAttributeValues: { ':t': token, ':at': at },
          }),
        );
        if (parked) return { parked: true };
        const taken = await unlessConditionFails(() =>
          update({
            Key: keys.lead(leadId),
            UpdateExpression: 'REMOVE pendingSignal',
            ConditionExpression: 'attribute_exists(pendingSignal)',
            ReturnValues: 'UPDATED_OLD',
          }),
        );
        if (taken?.Attributes?.pendingSignal)
          return { parked: false, signal: taken.Attributes.pendingSignal as Signal };
      }
      throw new Error(`Lead ${leadId} is missing or its signals kept changing`);
    },

    async signal(leadId, signal, at) {
      for (let tries = 0; tries < 3; tries++) {
        const taken = await unlessConditionFails(() =>
          update({
            Key: keys.lead(leadId),
            UpdateExpression: 'REMOVE waitToken, nurtureParkedAt',
            ConditionExpression: 'attribute_exists(waitToken)',
            ReturnValues: 'UPDATED_OLD',
          }),
        );
        if (taken?.Attributes?.waitToken) return { token: String(taken.Attributes.waitToken) };
        const left = await conditional(() =>
          update({
            Key: keys.lead(leadId),
            UpdateExpression: 'SET pendingSignal = :s, signalledAt = :at',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(waitToken)',
            ExpressionAttributeValues: { ':s': signal, ':at': at },
          }),
        );
        if (left) return {};
      }
      return {};
    },

    async clear(leadId) {
      const cleared = await unlessConditionFails(() =>
        update({
          Key: keys.lead(leadId),
          UpdateExpression: 'REMOVE waitToken, nurtureParkedAt, pendingSignal, signalledAt',
          ConditionExpression: 'attribute_exists(pk)',
          ReturnValues: 'ALL_NEW',
        }),
      );
      return cleared?.Attributes ? withoutKeys<LeadRecord>(cleared.Attributes) : undefined;
    },
  };
}
