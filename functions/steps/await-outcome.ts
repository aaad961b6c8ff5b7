import { z } from 'zod';
import { store } from '#shared/data/store.ts';
import { logger } from '#shared/observability.ts';
import { StepInputError, stepHandler } from '#shared/step.ts';

const input = z.object({
  taskToken: z.string().min(1),
  dealId: z.string().min(1),
  attempt: z.number().int().min(1),
  waitingFor: z.enum(['acceptance', 'outcome']),
});

/**
 * Await rep acceptance / Await deal outcome (`.waitForTaskToken`): stores the task token on the deal,
 * server-side only. The rep's signed link later resumes the run with SendTaskSuccess.
 */
export const handler = stepHandler(input, async ({ taskToken, dealId, attempt, waitingFor }) => {
  const stored = await store.updateDeal(
    dealId,
    { attempt },
    { taskToken, tokenFor: waitingFor, updatedAt: new Date().toISOString() },
  );
  if (!stored) throw new StepInputError(`Deal ${dealId} is not at attempt ${attempt}`);
  logger.info('waiting for rep', { dealId, attempt, waitingFor });
  return { parked: true };
});
