import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { type DealRecord, store } from '#shared/data/store.ts';
import { logger } from '#shared/observability.ts';
import { StepInputError, stepHandler, TransientError } from '#shared/step.ts';

const sfn = new SFNClient({});

const input = z.object({
  taskToken: z.string().min(1),
  dealId: z.string().min(1),
  attempt: z.number().int().min(1),
  waitingFor: z.enum(['acceptance', 'outcome']),
});

/** What the rep already reported, if it answers this wait; the email goes out before the wait parks. */
function alreadyAnswered(deal: DealRecord, waitingFor: 'acceptance' | 'outcome') {
  if (deal.stage === 'won') return { action: 'won', amount: deal.amount };
  if (deal.stage === 'lost') return { action: 'lost', reason: deal.lostReason };
  if (deal.stage === 'accepted' && waitingFor === 'acceptance') return { action: 'accept' };
  return undefined;
}

/**
 * Await rep acceptance / Await deal outcome (`.waitForTaskToken`): stores the task token on the deal,
 * server-side only; the rep's signed link later resumes the run with SendTaskSuccess. If the rep was
 * faster than this step (clicked before the token was stored), it resumes the run itself at once.
 */
export const handler = stepHandler(input, async ({ taskToken, dealId, attempt, waitingFor }) => {
  for (let tries = 0; tries < 2; tries++) {
    const deal = await store.getDeal(dealId);
    if (!deal || deal.attempt !== attempt)
      throw new StepInputError(`Deal ${dealId} is not at attempt ${attempt}`);
    const answer = alreadyAnswered(deal, waitingFor);
    if (answer) {
      await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(answer) }));
      logger.info('rep answered before the wait', { dealId, attempt, waitingFor });
      return { parked: false };
    }
    const stored = await store.updateDeal(
      dealId,
      { attempt, stage: deal.stage },
      { taskToken, tokenFor: waitingFor, updatedAt: new Date().toISOString() },
    );
    if (stored) {
      logger.info('waiting for rep', { dealId, attempt, waitingFor });
      return { parked: true };
    }
    // The rep acted between the read and the write: read again and answer from what they did.
  }
  throw new TransientError(`Deal ${dealId} kept changing while parking the task token`);
});
