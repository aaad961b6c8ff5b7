import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { RepStore } from './data/index.ts';
import { logger, metrics } from './observability.ts';

// The SDK reaches a local emulator through AWS_ENDPOINT_URL_SFN.
const sfn = new SFNClient({});

/** The task is gone: its run ended, moved on (timeout) or was answered already. */
const isGone = (e: unknown) => e instanceof TaskDoesNotExist || e instanceof TaskTimedOut;

/** Resumes a waiting task with `output`; false when the task is gone (its run has ended or moved on). */
export async function resumeTask(taskToken: string, output: unknown): Promise<boolean> {
  try {
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    return true;
  } catch (e) {
    if (isGone(e)) return false;
    throw e;
  }
}

/** The error a woken "Assign rep" catches to try again (a slot of its team is free). */
export const CAPACITY_FREED = 'CapacityFreed';

/**
 * Hands a freed slot of `team` to the run that has waited longest: takes its waiter off the queue (only one
 * waker wins it) and wakes its "Assign rep" task; runs that ended meanwhile are skipped. True if one woke.
 */
export async function wakeNextWaiter(reps: RepStore, team: string): Promise<boolean> {
  for (let round = 0; round < 5; round++) {
    const waiters = await reps.oldestWaiters(team, 5);
    if (waiters.length === 0) return false;
    for (const w of waiters) {
      if (!(await reps.removeWaiter(w))) continue;
      try {
        await sfn.send(
          new SendTaskFailureCommand({
            taskToken: w.taskToken,
            error: CAPACITY_FREED,
            cause: `A rep of ${team} has room`,
          }),
        );
        metrics.addMetric('CapacityWaitersWoken', 'Count', 1);
        logger.info('capacity waiter woken', { team, leadId: w.leadId });
        return true;
      } catch (e) {
        if (!isGone(e)) {
          await reps.enqueueWaiter(w); // keep its place; the next slot (or its timer) tries again
          throw e;
        }
      }
    }
  }
  return false;
}
