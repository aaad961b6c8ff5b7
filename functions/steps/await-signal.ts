import { contracts } from '#shared/contracts.ts';
import type { Stores } from '#shared/data/index.ts';
import { logger } from '#shared/observability.ts';
import { resumeTask } from '#shared/runs.ts';
import { stepHandler } from '#shared/step.ts';
import { appStores } from '#shared/stores.ts';

/**
 * "Wait for a signal or the next send" (`.waitForTaskToken`, timeout = the next due time): parks the
 * token on the lead, where a signal (a form, a click, an unsubscribe, a bounce, a complaint) finds it
 * and wakes the run at once. A signal that came in before the token was parked wakes it right away.
 */
export const createHandler = ({ signals }: Pick<Stores, 'signals'>) =>
  stepHandler(contracts.awaitSignal, async ({ taskToken, leadId }) => {
    const parked = await signals.park(leadId, taskToken, new Date().toISOString());
    if (parked.parked) return { parked: true };
    await resumeTask(taskToken, { signal: parked.signal });
    logger.info('signal arrived before the wait', { leadId, signal: parked.signal });
    return { parked: false };
  });

export const handler = createHandler(appStores());
