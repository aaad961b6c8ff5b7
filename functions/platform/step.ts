import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { linkKeyMiddleware } from './link-key.ts';
import { observed } from './observability.ts';
import { fieldErrorsOf } from './zod.ts';

/** Retryable by the workflow's Retry policy (throttling, a race lost to another writer). */
export class TransientError extends Error {
  override name = 'TransientError';
}

/** The input of a Task did not match its contract: a workflow bug, never retried. */
export class StepInputError extends Error {
  override name = 'StepInputError';
}

/** A handler returned something its contract does not allow: a handler bug, never retried. */
export class StepOutputError extends Error {
  override name = 'StepOutputError';
}

type ErrorClass = new (message: string) => Error;

/** `fn` with its input parsed against `contract` and its output checked against it, each failure as its class. */
export function checkedBy<C extends StepContract>(
  contract: C,
  fn: (input: z.output<C['input']>, context: Context) => Promise<z.input<C['output']>>,
  errors: { input: ErrorClass; output: ErrorClass },
  what: string,
) {
  return async (event: unknown, context: Context): Promise<z.output<C['output']>> => {
    const parsed = contract.input.safeParse(event);
    if (!parsed.success) {
      throw new errors.input(`Invalid ${what} input: ${JSON.stringify(fieldErrorsOf(parsed.error))}`);
    }
    const result = contract.output.safeParse(await fn(parsed.data as z.output<C['input']>, context));
    if (!result.success) {
      throw new errors.output(`Invalid ${what} output: ${JSON.stringify(fieldErrorsOf(result.error))}`);
    }
    return result.data as z.output<C['output']>;
  };
}

/**
 * A Step Functions Task handler: input parsed against the step's contract, output checked against it,
 * one logger and metrics setup. `linkKey` adds the signed-link key to the context (see link-key.ts).
 */
export function stepHandler<C extends StepContract>(
  contract: C,
  fn: (input: z.output<C['input']>, context: Context) => Promise<z.input<C['output']>>,
  { linkKey = false } = {},
) {
  const handler = middy<unknown, z.output<C['output']>>().use(observed());
  if (linkKey) handler.use(linkKeyMiddleware());
  return handler.handler(checkedBy(contract, fn, { input: StepInputError, output: StepOutputError }, 'step'));
}

export interface StepContract<
  I extends z.ZodMiniType = z.ZodMiniType,
  O extends z.ZodMiniType = z.ZodMiniType,
> {
  input: I;
  output: O;
}
