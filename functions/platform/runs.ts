// Runs (Step Functions executions) as the handlers touch them: start one, stop one, resume or fail a
// waiting task. A port like the stores: handlers take a `Runs` (`createHandler({ …stores, runs })`), the
// production handler passes sfnRuns(), and a test can hand in a fake. No business words here: which task
// waits for what is the capabilities' business (lead/signals.ts, deal/capacity.ts).
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  type SFNClientConfig,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';

/** Waiting tasks: what every handler that wakes a run needs. */
export interface TaskRuns {
  /** Resumes a waiting task with `output`; false when the task is gone (its run has ended or moved on). */
  resume(taskToken: string, output: unknown): Promise<boolean>;
  /** Fails a waiting task with `error` (for its state's Catch); false when the task is gone. */
  fail(taskToken: string, error: string, cause: string): Promise<boolean>;
}

/** Runs of one state machine, by execution name. */
export interface Runs extends TaskRuns {
  /** Starts the run `name` with `input`; false when a run of that name exists with another input. */
  start(name: string, input: unknown): Promise<boolean>;
  /** Stops the run `name` with `error`; false when there is no such run. */
  stop(name: string, error: string, cause: string): Promise<boolean>;
}

export interface SfnRunsOptions {
  /** The state machine whose runs start and stop; without it, only waiting tasks are reached. */
  stateMachineArn?: string;
  /** The client's options (retries, timeouts). The SDK reaches a local emulator through AWS_ENDPOINT_URL_SFN. */
  client?: SFNClientConfig;
}

/** The task is gone: its run ended, moved on (timeout) or was answered already. */
const isGone = (e: unknown) => e instanceof TaskDoesNotExist || e instanceof TaskTimedOut;

/** True once sent; false for the refusal `refused` recognises (gone, or there already); others are thrown. */
async function sent(send: () => Promise<unknown>, refused: (e: unknown) => boolean): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (e) {
    if (refused(e)) return false;
    throw e;
  }
}

/** Runs on AWS Step Functions. */
export function sfnRuns(options: SfnRunsOptions & { stateMachineArn: string }): Runs;
export function sfnRuns(options?: SfnRunsOptions): TaskRuns;
export function sfnRuns({ stateMachineArn, client }: SfnRunsOptions = {}): Runs | TaskRuns {
  const sfn = new SFNClient(client ?? {});
  const tasks: TaskRuns = {
    resume: (taskToken, output) =>
      sent(() => sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })), isGone),
    fail: (taskToken, error, cause) =>
      sent(() => sfn.send(new SendTaskFailureCommand({ taskToken, error, cause })), isGone),
  };
  if (!stateMachineArn) return tasks;
  const executionArnOf = (name: string) =>
    `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  return {
    ...tasks,
    // Same name with the same input is no error (Step Functions answers with the run that exists).
    start: (name, input) =>
      sent(
        () => sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
        (e) => e instanceof ExecutionAlreadyExists,
      ),
    stop: (name, error, cause) =>
      sent(
        () => sfn.send(new StopExecutionCommand({ executionArn: executionArnOf(name), error, cause })),
        (e) => e instanceof ExecutionDoesNotExist,
      ),
  };
}

/** A run as DescribeExecution tells it (the fields reconcile reads). */
export interface RunDescription {
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  input?: string | undefined;
  output?: string | undefined;
  error?: string | undefined;
  stopDate?: string | undefined;
}

/** Looks runs of one state machine up by name: what reconcile compares the leads with. */
export interface RunLookup {
  /** The run `name`, or undefined when there is none (never started, or expired from history). */
  describe(name: string): Promise<RunDescription | undefined>;
}

/** RunLookup on AWS Step Functions (states:DescribeExecution on the machine's executions). */
export function sfnRunLookup({
  stateMachineArn,
  client,
}: SfnRunsOptions & { stateMachineArn: string }): RunLookup {
  const sfn = new SFNClient(client ?? {});
  return {
    async describe(name) {
      const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
      try {
        const r = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        return {
          name,
          status: r.status as RunDescription['status'],
          input: r.input,
          output: r.output,
          error: r.error,
          stopDate: r.stopDate?.toISOString(),
        };
      } catch (e) {
        if (e instanceof ExecutionDoesNotExist) return undefined;
        throw e;
      }
    },
  };
}
