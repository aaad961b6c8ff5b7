import { dynamoSignals } from '#functions/lead/signal-store.ts';
import { continuationDue } from '#functions/platform/continuation.ts';
import { logger } from '#functions/platform/observability.ts';
import { sfnRuns, type TaskRuns } from '#functions/platform/runs.ts';
import { stepHandler } from '#functions/platform/step.ts';
import { appTable } from '#functions/platform/table.ts';
import { CONTINUE_AS_NEW, contracts } from '#functions/steps/contracts.ts';
import type { Stores } from '#functions/stores.ts';

/**
 * "Wait for a signal or the next send" (`.waitForTaskToken`, timeout = `$.nurture.waitSeconds`), entered
 * after every nurture step. When the step decided `wait`, it parks the token on the lead, where a signal
 * (a form, a click, an unsubscribe, a bounce, a complaint) finds it and wakes the run at once; a signal
 * that came in before the token was parked (since the step looked) wakes it right away. Either way the
 * run resumes with `{ signal }` at `$.wake`, and "Next?" sends it back to Nurture.
 *
 * Any other decision (sales-ready, an end) resumes the run at once with `{ next }`, parking nothing:
 * "Next?" routes it on `$.nurture.next`, which only the nurture step writes, so no signal can steer it.
 * Signals are left alone here. One that arrives now waits on the lead, as it did when "Next?" came
 * before the wait: it cannot resume this task (no token is parked; the nurture step cleared any earlier
 * one before deciding), and the next nurture step of the lead (a recycle) clears it before it looks.
 * It is not sent back to Nurture either: the step has already written the lead's end stage, from which
 * only a new capture may follow, and that is where a demo request goes once the stage has ended (the
 * submission starts a new run, routed to sales); one delivered while the stage still read `nurturing`
 * but too late for the step to see it stays on the timeline only, as before. A retry only resumes again, which a settled token
 * refuses (runs.resume answers false): nothing is written, so nothing doubles.
 *
 * A run that has looped long enough (functions/platform/continuation.ts) parks nothing either: it fails its
 * own task with ContinueAsNew, which the workflow catches into "Continue as a new run". A signal arriving
 * meanwhile waits on the lead, and the new execution's first nurture step reads it.
 */
export const createHandler = ({ signals, runs }: Pick<Stores, 'signals'> & { runs: TaskRuns }) =>
  stepHandler(contracts.awaitSignal, async ({ taskToken, leadId, next, nurture, startedAt }) => {
    if (next === 'wait' && continuationDue({ loops: nurture?.loops, startedAt }, new Date())) {
      // The cause names where the new execution resumes (contracts.ts RESUME_AT).
      await runs.fail(taskToken, CONTINUE_AS_NEW, 'nurture');
      logger.info('nurture wait continues as a new run', { leadId, loops: nurture?.loops });
      return { parked: false };
    }
    if (next !== 'wait') {
      await runs.resume(taskToken, { next });
      logger.info('nurture decided, the wait resumes at once', { leadId, next });
      return { parked: false };
    }
    const parked = await signals.park(leadId, taskToken, new Date().toISOString());
    if (parked.parked) return { parked: true };
    await runs.resume(taskToken, { signal: parked.signal });
    logger.info('signal arrived before the wait', { leadId, signal: parked.signal });
    return { parked: false };
  });

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({ signals: dynamoSignals(table), runs: sfnRuns() });
