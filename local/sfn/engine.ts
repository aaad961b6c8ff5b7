import { randomBytes } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import type { AslDefinition } from '../template.ts';
import { prepareDefinition, retryIntervals, waitMs } from './definition.ts';
import type { ExecutionRecord, ExecutionStatus, ExecutionStore, Parked } from './executions.ts';
import type { TaskTokens, TokenTaskInput } from './tokens.ts';

export interface MachineSpec {
  arn: string;
  name: string;
  definition: AslDefinition;
  roleArn?: string;
  createdAt: number;
}

/** Which task an invocation is for. */
export type TaskContext = { state: string; executionArn: string };

export interface TaskInvoker {
  /** Runs a Lambda function by ARN; throws an Error whose name is the errorType on failure. */
  call(functionArn: string, payload: unknown, ctx?: TaskContext): Promise<unknown>;
}

export interface EngineOptions {
  dataDir: string;
  /** Divides Wait durations and token-task timeouts (business time), not Lambda timeouts or retries. */
  timeScale: number;
  region: string;
  account: string;
  /** Tests only: every Retry waits this long (ms) instead of its IntervalSeconds/backoff/jitter. */
  retryIntervalMs?: number;
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

type States = AslDefinition['States'];
type Handlers = Record<string, (input: unknown) => Promise<unknown>>;
type Execution = ReturnType<StateMachine['run']>;
interface LibraryEvent {
  type: string;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  Error?: string;
  Cause?: string;
}

/**
 * Runs executions of a definition on aws-local-stepfunctions: Lambda tasks go to the invoker,
 * `.waitForTaskToken` tasks park on a token (TaskTokens), Waits are scaled sleeps, and the library's
 * event log becomes the execution's history. A resumed execution restarts at the state it was in.
 */
export class ExecutionEngine {
  private readonly running = new Map<string, { abort: () => void }>();
  private readonly compiled = new Map<string, StateMachine>();
  private readonly waitResource: string;
  private stopping = false;

  constructor(
    private readonly store: ExecutionStore,
    private readonly tokens: TaskTokens,
    private readonly invoker: TaskInvoker,
    private readonly opts: EngineOptions,
  ) {
    this.waitResource = `arn:aws:lambda:${opts.region}:${opts.account}:function:HandoffLocalWait`;
  }

  /** The definition as the library runs it from `startAt` (see prepareDefinition). */
  prepare(definition: AslDefinition, startAt: string): AslDefinition {
    return prepareDefinition(definition, startAt, this.waitResource);
  }

  launch(machine: MachineSpec, rec: ExecutionRecord, resuming: boolean): void {
    const resumeAt = resuming ? rec.current : undefined;
    const startAt = resumeAt ? resumeAt.state : machine.definition.StartAt;
    const input = resumeAt ? resumeAt.input : JSON.parse(rec.input);
    // Deadlines are real time under the scale they were set with: keep the remaining *scaled* time.
    const rescale = (deadline: number) =>
      Date.now() + ((deadline - Date.now()) * (rec.timeScale ?? 1)) / this.opts.timeScale;
    const parked = resumeAt?.parked;
    const resume = {
      parked: parked?.deadline !== undefined ? { ...parked, deadline: rescale(parked.deadline) } : parked,
      waitUntil: resumeAt?.waitUntil !== undefined ? rescale(resumeAt.waitUntil) : undefined,
    };
    rec.timeScale = this.opts.timeScale;

    // A resumed run starts mid-graph, which the validator reports as unreachable states; it was validated at first launch.
    // Validation compiles JSON schemas (slow): validate each machine once, and reuse its engine for fresh runs.
    let sm = resuming ? undefined : this.compiled.get(machine.arn);
    if (!sm) {
      sm = new StateMachine(this.prepare(machine.definition, startAt) as never, {
        validationOptions:
          this.compiled.has(machine.arn) || resuming
            ? { noValidate: true }
            : { checkArn: false, checkPaths: true },
      });
      if (!resuming) this.compiled.set(machine.arn, sm);
    }
    const states = machine.definition.States;
    const execution = sm.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: this.handlers(rec, states, startAt, resume) as never,
        ...(this.opts.retryIntervalMs !== undefined
          ? { retryIntervalOverrides: retryIntervals(states, this.opts.retryIntervalMs) }
          : {}),
      },
      context: {
        Execution: {
          Id: rec.executionArn,
          Name: rec.name,
          StartTime: new Date(rec.startDate).toISOString(),
          RoleArn: machine.roleArn ?? '',
        },
        StateMachine: { Id: machine.arn, Name: machine.name },
        Task: {
          get Token() {
            return randomBytes(48).toString('base64url');
          },
        },
      } as never,
    });
    this.running.set(rec.executionArn, execution);
    // The resumed state's StateEntered is already in the history (and `current` holds its deadline or token).
    const consumed = this.consume(rec, execution, states, resumeAt ? startAt : undefined);
    this.settle(rec, execution, consumed);
  }

  /** StopExecution: ends the execution as ABORTED and stops the library's run. */
  abort(rec: ExecutionRecord, r: { error?: string; cause?: string }): void {
    if (rec.status !== 'RUNNING') return;
    this.finish(rec, 'ABORTED', r);
    this.running.get(rec.executionArn)?.abort();
  }

  /** Aborts every run without finishing it: on disk they stay RUNNING, to resume on the next start. */
  stop(): void {
    this.store.close(this.running.keys());
    this.stopping = true;
    for (const r of this.running.values()) r.abort();
    this.running.clear();
  }

  /** The local implementation of every Task state, and of every Wait state (as a scaled sleep). */
  private handlers(
    rec: ExecutionRecord,
    states: States,
    startAt: string,
    resume: { parked?: Parked; waitUntil?: number },
  ): Handlers {
    let firstState = true;
    const handlers: Handlers = {};
    for (const [name, s] of Object.entries(states)) {
      if (s.Type === 'Wait') {
        handlers[name] = async (waitInput) => {
          const resumed = firstState && name === startAt && resume.waitUntil !== undefined;
          firstState = false;
          await this.entered(rec, name, waitInput);
          const until = resumed
            ? (resume.waitUntil as number)
            : Date.now() + waitMs(s, waitInput, this.opts.timeScale);
          if (rec.current) rec.current.waitUntil = until;
          this.store.save(rec);
          await sleep(until - Date.now());
          return waitInput;
        };
      }
      if (s.Type !== 'Task') continue;
      const resource = String(s.Resource);
      const ctx = { state: name, executionArn: rec.executionArn };
      handlers[name] = async (taskInput) => {
        const resumedHere = firstState && name === startAt;
        firstState = false;
        if (resource.endsWith('.waitForTaskToken')) {
          await this.entered(rec, name, taskInput);
          return this.tokens.park(
            rec,
            name,
            s,
            taskInput as TokenTaskInput,
            resumedHere ? resume.parked : undefined,
            (fn, payload) => this.invoker.call(fn, payload, ctx),
          );
        }
        if (resource === LAMBDA_INVOKE) {
          const p = taskInput as { FunctionName: string; Payload?: unknown };
          const result = await this.invoker.call(p.FunctionName, p.Payload ?? {}, ctx);
          return {
            ExecutedVersion: '$LATEST',
            Payload: result,
            StatusCode: 200,
            SdkHttpMetadata: { HttpStatusCode: 200 },
          };
        }
        if (resource.startsWith('arn:aws:lambda:')) return this.invoker.call(resource, taskInput, ctx);
        throw Object.assign(new Error(`Unsupported resource ${resource}`), { name: 'States.Runtime' });
      };
    }
    return handlers;
  }

  /** Turns the library's event log into history events; `skipEnterOf` is a resumed state already entered. */
  private async consume(
    rec: ExecutionRecord,
    execution: Execution,
    states: States,
    skipEnterOf: string | undefined,
  ): Promise<void> {
    let skip = skipEnterOf;
    const typeOf = (state: { name: string; type: string }) => String(states[state.name]?.Type ?? state.type);
    for await (const ev of execution.eventLogs as AsyncIterable<LibraryEvent>) {
      if (rec.status !== 'RUNNING') continue;
      if (ev.type === 'StateEntered' && ev.state && skip !== undefined && ev.state.name === skip) {
        skip = undefined;
      } else if (ev.type === 'StateEntered' && ev.state) {
        skip = undefined;
        rec.current = { state: ev.state.name, input: cloneJson(ev.state.input) };
        this.store.event(rec, `${typeOf(ev.state)}StateEntered`, {
          stateEnteredEventDetails: {
            name: ev.state.name,
            input: JSON.stringify(ev.state.input ?? null),
            inputDetails: { truncated: false },
          },
        });
      } else if (ev.type === 'StateExited' && ev.state) {
        this.store.event(rec, `${typeOf(ev.state)}StateExited`, {
          stateExitedEventDetails: {
            name: ev.state.name,
            output: JSON.stringify(ev.state.output ?? null),
            outputDetails: { truncated: false },
          },
        });
      } else if (ev.type === 'StateFailed' && ev.state && states[ev.state.name]?.Type === 'Task') {
        const timedOut = ev.Error === 'States.Timeout' || ev.Error === 'States.HeartbeatTimeout';
        const details = {
          resourceType: 'lambda',
          resource: 'invoke',
          error: ev.Error ?? 'Error',
          cause: String(ev.Cause ?? ''),
        };
        this.store.event(rec, timedOut ? 'TaskTimedOut' : 'TaskFailed', {
          [timedOut ? 'taskTimedOutEventDetails' : 'taskFailedEventDetails']: details,
        });
      }
    }
  }

  /** Finishes the execution from the library's result, only after the event log is drained. */
  private settle(rec: ExecutionRecord, execution: Execution, consumed: Promise<void>): void {
    const settled = execution.result.then(
      (output) => ({ ok: true as const, output }),
      (error: { name?: string; cause?: { name?: string; message?: string; cause?: string } }) => ({
        ok: false as const,
        error,
      }),
    );
    void Promise.all([settled, consumed.catch(() => undefined)]).then(([r]) => {
      this.running.delete(rec.executionArn);
      if (this.stopping) return; // shutdown: the execution stays RUNNING on disk and resumes next start
      if (r.ok) return this.finish(rec, 'SUCCEEDED', { output: r.output });
      const e = r.error;
      if (e.name === 'ExecutionAbortedError') return this.finish(rec, 'ABORTED', {});
      if (e.name === 'ExecutionTimeoutError')
        return this.finish(rec, 'TIMED_OUT', { error: 'States.Timeout' });
      this.finish(rec, 'FAILED', {
        error: e.cause?.name ?? 'States.Runtime',
        cause: e.cause?.cause ?? e.cause?.message ?? '',
      });
    });
  }

  private finish(
    rec: ExecutionRecord,
    status: Exclude<ExecutionStatus, 'RUNNING'>,
    r: { output?: unknown; error?: string; cause?: string },
  ): void {
    if (!this.store.end(rec, status, r)) return;
    this.tokens.dropExecution(rec.executionArn);
  }

  /**
   * Lets the event-log consumer record this state's StateEntered (it runs on later ticks) before an
   * override attaches its wait deadline or task token to `rec.current`, which is what a restart reads.
   */
  private async entered(rec: ExecutionRecord, state: string, fallbackInput: unknown): Promise<void> {
    for (let i = 0; i < 10 && rec.current?.state !== state; i++) await new Promise((r) => setImmediate(r));
    if (rec.current?.state !== state) rec.current = { state, input: cloneJson(fallbackInput) };
  }
}

function cloneJson<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
