// Runs (Step Functions executions) as the handlers touch them: resume or fail a waiting task. No business
// words here: which task waits for what is the capabilities' business (lead/signals.ts, deal/capacity.ts).
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';

// The SDK reaches a local emulator through AWS_ENDPOINT_URL_SFN.
const sfn = new SFNClient({});

/** The task is gone: its run ended, moved on (timeout) or was answered already. */
const isGone = (e: unknown) => e instanceof TaskDoesNotExist || e instanceof TaskTimedOut;

/** Sends an answer to a waiting task; false when the task is gone (its run has ended or moved on). */
async function answer(send: () => Promise<unknown>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (e) {
    if (isGone(e)) return false;
    throw e;
  }
}

/** Resumes a waiting task with `output`; false when the task is gone (its run has ended or moved on). */
export function resumeTask(taskToken: string, output: unknown): Promise<boolean> {
  return answer(() => sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })));
}

/** Fails a waiting task with `error` (for its state's Catch); false when the task is gone. */
export function failTask(taskToken: string, error: string, cause: string): Promise<boolean> {
  return answer(() => sfn.send(new SendTaskFailureCommand({ taskToken, error, cause })));
}
