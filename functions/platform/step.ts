import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { linkKeyMiddleware } from './link-key.ts';
import { logger, metrics } from './observability.ts';
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

/**
 * A Step Functions Task handler: input parsed against the step's contract, output checked against it,
 * one logger and metrics setup. `linkKey` adds the signed-link key to the context (see link-key.ts).
 */
export function stepHandler<C extends StepContract>(
  contract: C,
  fn: (input: z.output<C['input']>, context: Context) => Promise<z.input<C['output']>>,
  { linkKey = false } = {},
) {
  const handler = middy<unknown, z.output<C['output']>>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
  if (linkKey) handler.use(linkKeyMiddleware());
  return handler.handler(async (event, context): Promise<z.output<C['output']>> => {
    const parsed = contract.input.safeParse(event);
    if (!parsed.success) {
      throw new StepInputError(`Invalid step input: ${JSON.stringify(fieldErrorsOf(parsed.error))}`);
    }
    const result = contract.output.safeParse(await fn(parsed.data as z.output<C['input']>, context));
    if (!result.success) {
      throw new StepOutputError(`Invalid step output: ${JSON.stringify(fieldErrorsOf(result.error))}`);
    }
    return result.data as z.output<C['output']>;
  });
}

export interface StepContract<
  I extends z.ZodMiniType = z.ZodMiniType,
  O extends z.ZodMiniType = z.ZodMiniType,
> {
  input: I;
  output: O;
}
