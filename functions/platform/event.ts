// EventBridge rule targets (functions/events/*): invoked asynchronously with one event, not by a
// workflow's Task. Lambda retries a failed invocation on its own; nothing waits for the result, which is
// returned for logs and tests.
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { observed } from './observability.ts';
import { checkedBy, type StepContract } from './step.ts';

/** An event that does not match its contract: the rule or its source changed, a retry will not help. */
export class EventInputError extends Error {
  override name = 'EventInputError';
}

/** A handler returned something its contract does not allow: a handler bug. */
export class EventOutputError extends Error {
  override name = 'EventOutputError';
}

/** The event an EventBridge rule delivers, and what its handler answers. */
export type EventContract = StepContract;

/**
 * An EventBridge event handler: the event parsed against its contract (detail-type, detail), the result
 * checked against it, one logger and metrics setup.
 */
export function eventHandler<C extends EventContract>(
  contract: C,
  fn: (event: z.output<C['input']>, context: Context) => Promise<z.input<C['output']>>,
) {
  return middy<unknown, z.output<C['output']>>()
    .use(observed())
    .handler(checkedBy(contract, fn, { input: EventInputError, output: EventOutputError }, 'event'));
}
