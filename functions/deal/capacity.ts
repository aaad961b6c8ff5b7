// Team capacity: a run that found no rep with room waits in its team's queue ("Assign rep" parked on a task
// token); whoever frees a slot (a closed deal, a rep back in office, a failed run) wakes the oldest waiter.

import { logger, metrics } from '../platform/observability.ts';
import type { TaskRuns } from '../platform/runs.ts';
import { CAPACITY_FREED } from './deal.ts';
import type { RepStore } from './rep-store.ts';

/**
 * Hands a freed slot of `team` to the run that has waited longest: takes its waiter off the queue (only one
 * waker wins it) and wakes its "Assign rep" task; runs that ended meanwhile are skipped. True if one woke.
 */
export async function wakeNextWaiter(
  { reps, runs }: { reps: RepStore; runs: TaskRuns },
  team: string,
): Promise<boolean> {
  for (let round = 0; round < 5; round++) {
    const waiters = await reps.oldestWaiters(team, 5);
    if (waiters.length === 0) return false;
    for (const w of waiters) {
      if (!(await reps.removeWaiter(w))) continue;
      let woke: boolean;
      try {
        woke = await runs.fail(w.taskToken, CAPACITY_FREED, `A rep of ${team} has room`);
      } catch (e) {
        await reps.enqueueWaiter(w); // keep its place; the next slot (or its timer) tries again
        throw e;
      }
      if (woke) {
        metrics.addMetric('CapacityWaitersWoken', 'Count', 1);
        logger.info('capacity waiter woken', { team, leadId: w.leadId });
        return true;
      }
    }
  }
  return false;
}
