// What a nurture wake looks at before it mails (functions/steps/nurture.ts): whether the address is
// suppressed and whether each stream's breaker is tripped. They belong to two stores (mail/ and
// deliverability/, which do not import each other), and one wake needs them all, so they are read together
// here: one consistent BatchGetItem where separate reads took two or three calls.
import {
  type BreakerState,
  breakerStateKey,
  breakerStateOf,
  type DeliverabilityStore,
  type DeliveryStream,
} from './deliverability/deliverability-store.ts';
import { emailHash } from './lead/lead.ts';
import { type SuppressionReason, type SuppressionStore, suppressionOf } from './mail/suppression-store.ts';
import { keys } from './platform/keys.ts';
import { batchGet, type Table } from './platform/table.ts';

export interface SendCheck {
  /** Why the address is suppressed, if it is. */
  suppressed?: SuppressionReason;
  /** The breaker of each stream asked for. */
  breakers: Partial<Record<DeliveryStream, BreakerState>>;
}

export interface SendChecks {
  read(email: string, streams: readonly DeliveryStream[]): Promise<SendCheck>;
}

const keyOf = (k: { pk: string; sk: string }) => `${k.pk}\n${k.sk}`;

export function dynamoSendChecks(table: Table): SendChecks {
  return {
    async read(email, streams) {
      const suppressionKey = keys.suppression(emailHash(email));
      const items = await batchGet(table, [suppressionKey, ...streams.map(breakerStateKey)]);
      const byKey = new Map(items.map((i) => [keyOf({ pk: String(i.pk), sk: String(i.sk) }), i]));
      const reason = suppressionOf(byKey.get(keyOf(suppressionKey)))?.reason;
      return {
        ...(reason ? { suppressed: reason } : {}),
        breakers: Object.fromEntries(
          streams.map((s) => [s, breakerStateOf(byKey.get(keyOf(breakerStateKey(s))))]),
        ),
      };
    },
  };
}

/** The same answers from the stores one by one (in-memory stores in tests). */
export function sendChecksOf(
  suppression: SuppressionStore,
  breakers: Record<DeliveryStream, DeliverabilityStore>,
): SendChecks {
  return {
    async read(email, streams) {
      const reason = await suppression.reasonFor(email);
      const states = await Promise.all(streams.map((s) => breakers[s].state()));
      return {
        ...(reason ? { suppressed: reason } : {}),
        breakers: Object.fromEntries(streams.map((s, i) => [s, states[i]])),
      };
    },
  };
}
