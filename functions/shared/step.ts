import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { z } from 'zod';
import { flattenZodErrors } from './domain/lead.ts';
import { logger, metrics } from './observability.ts';

/** Retryable by the workflow's Retry policy (throttling, a race lost to another writer). */
export class TransientError extends Error {
  override name = 'TransientError';
}

/** The input of a Task did not match its contract: a workflow bug, never retried. */
export class StepInputError extends Error {
  override name = 'StepInputError';
}

/** A Step Functions Task handler: zod-parsed input, one logger and metrics setup, typed output. */
export function stepHandler<S extends z.ZodType, R>(schema: S, fn: (input: z.output<S>) => Promise<R>) {
  return middy<unknown, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(async (event) => {
      const parsed = schema.safeParse(event);
      if (!parsed.success) {
        throw new StepInputError(`Invalid step input: ${JSON.stringify(flattenZodErrors(parsed.error))}`);
      }
      return fn(parsed.data);
    });
}
