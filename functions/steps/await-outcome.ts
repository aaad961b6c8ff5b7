import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { contracts } from '#shared/contracts.ts';
import { dynamoStores, type Stores } from '#shared/data/index.ts';
import { answerFor } from '#shared/domain/deal.ts';
import { logger } from '#shared/observability.ts';
import { StepInputError, stepHandler, TransientError } from '#shared/step.ts';

// The SDK reaches a local emulator through AWS_ENDPOINT_URL_SFN.
const sfn = new SFNClient({});

/**
 * Await rep acceptance / Await deal outcome (`.waitForTaskToken`): stores the task token on the deal,
 * server-side only; the rep's signed link later resumes the run with SendTaskSuccess. If the rep was
 * faster than this step (acted before the token was stored), it resumes the run itself at once.
 */
export const createHandler = ({ deals }: Pick<Stores, 'deals'>) =>
  stepHandler(contracts.awaitRep, async ({ taskToken, dealId, attempt, waitingFor }) => {
    for (let tries = 0; tries < 2; tries++) {
      const deal = await deals.get(dealId);
      if (!deal || deal.attempt !== attempt)
        throw new StepInputError(`Deal ${dealId} is not at attempt ${attempt}`);
      const answer = answerFor(deal, waitingFor);
      if (answer) {
        await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(answer) }));
        logger.info('rep answered before the wait', { dealId, attempt, waitingFor });
        return { parked: false };
      }
      const stored = await deals.update(
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

export const handler = createHandler(dynamoStores());
