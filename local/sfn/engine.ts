// The execution engine on aws-local-stepfunctions. Over 300 lines because it is one class: launching,
// reading the library's event log, parking and aborting share its map of running executions.
import { randomBytes } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Activity, Clock } from '../clock.ts';
import type { PutEventsEntry } from '../events.ts';
import type { AslDefinition } from '../template.ts';
import { prepareDefinition, retryIntervals, withStartTime } from './definition.ts';
import type { ExecutionRecord, ExecutionStatus, ExecutionStore } from './executions.ts';
import { type TaskInvoker, taskHandlers } from './task-handlers.ts';
import type { TaskTokens } from './tokens.ts';

export type { TaskContext, TaskInvoker } from './task-handlers.ts';

export interface MachineSpec {
  arn: string;
  name: string;
  definition: AslDefinition;
  roleArn?: string;
  createdAt: number;
}

export interface EngineOptions {
  dataDir: string;
  /**
   * The stack's clock (local/clock.ts): history timestamps, start and stop dates, Wait ends and token-task
   * timeouts are instants on it, and waits sleep their real share. Lambda timeouts and retries stay real.
   */
  clock: Clock;
  region: string;
  account: string;
  /**
   * Whether the execution's own TimeoutSeconds is enforced (default true). Off only where the clock
   * compresses work too (`scaleWork`, the workflow harness): there seconds of real work are months of
   * the clock's time, and would reach a timeout no AWS execution doing that work would.
   */
  executionTimeouts?: boolean;
  /** Tests only: every Retry waits this long (ms) instead of its IntervalSeconds/backoff/jitter. */
  retryIntervalMs?: number;
  /** StartExecution's token bucket (local/sfn/throttle.ts); none when absent. */
  startRate?: { perSecond: number; burst: number };
  /**
   * Backpressure: while this says the functions the runs need are saturated, a started run is accepted
   * and stored but waits for room before its first state (LocalStepFunctions.admit), so a burst runs
   * slower instead of piling up in the functions' queues, and is never refused for the machine's sake.
   */
  busy?: () => boolean;
  /** How fast accepted runs start when the functions have room (local/sfn/throttle.ts); unpaced when absent. */
  admitRate?: { perSecond: number; burst: number };
  /** Called on every status change: RUNNING at start and on redrive, then the terminal status. */
  onStatusChange?: (rec: ExecutionRecord) => void;
  /**
   * Where "Step Functions Execution Status Change" events go (the local EventBridge bus); `commit` resolves
   * once the events it accepted are durable (an execution's new status is written only after its event).
   */
  events?: { putEvents(entries: PutEventsEntry[]): unknown; commit?(): Promise<void> };
}

/**
 * How a run starts: `start` from the definition's StartAt with the execution input; `resume` (after a
 * restart) at the state it was in, already entered, keeping its wait deadline or parked token; `redrive`
 * at the state that failed, entered again with the input it had.
 */
export type LaunchMode = 'start' | 'resume' | 'redrive';

/**
 * How a RUNNING execution found on disk goes on: at the state it was in, unless its last durable event is
 * its start or its redrive (the stack died before the first state was entered): then it starts, or is
 * redriven, as it would have been.
 */
export function resumeModeOf(rec: ExecutionRecord): LaunchMode {
  const last = rec.events.at(-1)?.type;
  if (last === 'ExecutionStarted' || !rec.current) return 'start';
  return last === 'ExecutionRedriven' ? 'redrive' : 'resume';
}

type States = AslDefinition['States'];
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
  /** The library run of each execution, with its generation: a redrive supersedes an ended run's leftovers. */
  private readonly running = new Map<string, { execution: Execution; gen: number; activity: Activity }>();
  /** Each running execution's TimeoutSeconds timer (its cancel). */
  private readonly deadlines = new Map<string, () => void>();
  private readonly generation = new Map<string, number>();
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

  launch(machine: MachineSpec, rec: ExecutionRecord, mode: LaunchMode): void {
    const at = mode === 'start' ? undefined : rec.current;
    if (mode !== 'start' && !at) throw new Error(`${rec.name}: no state to ${mode} from`);
    const startAt = at ? at.state : machine.definition.StartAt;
    const input = at ? at.input : JSON.parse(rec.input);
    // Deadlines are instants on the stack's clock, which resumes where it stood: a resumed wait keeps its
    // remaining time, whatever the time scale now.
    const resume = {
      parked: mode === 'resume' ? at?.parked : undefined,
      waitUntil: mode === 'resume' ? at?.waitUntil : undefined,
    };
    const gen = (this.generation.get(rec.executionArn) ?? 0) + 1;
    this.generation.set(rec.executionArn, gen);
    const live = () => !this.stopping && this.generation.get(rec.executionArn) === gen;
    // The run holds the clock at real speed while it works, not while it waits (local/clock.ts).
    const activity = this.opts.clock.activity();

    // Validated once per machine; each run gets its own copy with its StartTime on the stack's clock
    // (withStartTime). A run started mid-graph has states the validator reports as unreachable.
    if (mode === 'start') this.compile(machine);
    const startTime = new Date(rec.startDate).toISOString();
    const sm = new StateMachine(
      withStartTime(this.prepare(machine.definition, startAt), startTime) as never,
      { validationOptions: { noValidate: true } },
    );
    const states = machine.definition.States;
    const deps = {
      store: this.store,
      tokens: this.tokens,
      invoker: this.invoker,
      clock: this.opts.clock,
      activity,
      entered: (r: ExecutionRecord, state: string, i: unknown) => this.entered(r, state, i),
      live,
    };
    const execution = sm.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: taskHandlers(rec, states, startAt, resume, deps) as never,
        ...(this.opts.retryIntervalMs !== undefined
          ? { retryIntervalOverrides: retryIntervals(states, this.opts.retryIntervalMs) }
          : {}),
      },
      context: {
        Execution: {
          Id: rec.executionArn,
          Name: rec.name,
          StartTime: startTime,
          RoleArn: machine.roleArn ?? '',
          ...(rec.redriveCount ? { RedriveCount: rec.redriveCount } : {}),
        },
        StateMachine: { Id: machine.arn, Name: machine.name },
        Task: {
          get Token() {
            return randomBytes(48).toString('base64url');
          },
        },
      } as never,
    });
    this.running.set(rec.executionArn, { execution, gen, activity });
    this.timeOutAt(machine, rec, live);
    // A resumed state's StateEntered is already in the history (and `current` holds its deadline or token).
    const consumed = this.consume(rec, execution, states, mode === 'resume' ? startAt : undefined, live);
    this.settle(rec, execution, consumed, live, activity);
  }

  /**
   * The library's engine for fresh runs of a machine, validated once: validation compiles JSON schemas
   * (slow), so it is done on the machine's first StartExecution and reused.
   */
  private compile(machine: MachineSpec): StateMachine {
    let sm = this.compiled.get(machine.arn);
    if (!sm) {
      sm = new StateMachine(this.prepare(machine.definition, machine.definition.StartAt) as never, {
        validationOptions: { checkArn: false, checkPaths: true },
      });
      this.compiled.set(machine.arn, sm);
    }
    return sm;
  }

  /**
   * The execution's own TimeoutSeconds, on the stack's clock: past it, the execution ends TIMED_OUT
   * (States.Timeout) wherever it is, as in AWS. Counted from its start, or from its last redrive.
   */
  private timeOutAt(machine: MachineSpec, rec: ExecutionRecord, live: () => boolean): void {
    const seconds = machine.definition.TimeoutSeconds;
    if (typeof seconds !== 'number' || this.opts.executionTimeouts === false) return;
    this.deadlines.get(rec.executionArn)?.();
    const cancel = this.opts.clock.at((rec.redriveDate ?? rec.startDate) + seconds * 1000, () => {
      this.deadlines.delete(rec.executionArn);
      if (!live() || rec.status !== 'RUNNING') return;
      this.finish(rec, 'TIMED_OUT', {
        error: 'States.Timeout',
        cause: `The execution ran longer than its TimeoutSeconds (${seconds}).`,
      });
      this.running.get(rec.executionArn)?.execution.abort();
    });
    this.deadlines.set(rec.executionArn, cancel);
  }

  /** StopExecution: ends the execution as ABORTED and stops the library's run. */
  abort(rec: ExecutionRecord, r: { error?: string; cause?: string }): void {
    if (rec.status !== 'RUNNING') return;
    this.finish(rec, 'ABORTED', r);
    this.running.get(rec.executionArn)?.execution.abort();
  }

  /**
   * Aborts every run without finishing it: on disk they stay RUNNING as they are now (taken before the aborts
   * run), to resume on the next start. Resolves once that is written.
   */
  stop(): Promise<void> {
    const written = this.store.close(this.running.keys());
    this.stopping = true;
    for (const r of this.running.values()) {
      r.execution.abort();
      r.activity.end();
    }
    this.running.clear();
    return written;
  }

  /** Turns the library's event log into history events; `skipEnterOf` is a resumed state already entered. */
  private async consume(
    rec: ExecutionRecord,
    execution: Execution,
    states: States,
    skipEnterOf: string | undefined,
    live: () => boolean,
  ): Promise<void> {
    let skip = skipEnterOf;
    const typeOf = (state: { name: string; type: string }) => String(states[state.name]?.Type ?? state.type);
    for await (const ev of execution.eventLogs as AsyncIterable<LibraryEvent>) {
      if (rec.status !== 'RUNNING' || !live()) continue;
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
  private settle(
    rec: ExecutionRecord,
    execution: Execution,
    consumed: Promise<void>,
    live: () => boolean,
    activity: Activity,
  ): void {
    const settled = execution.result.then(
      (output) => ({ ok: true as const, output }),
      (error: { name?: string; cause?: { name?: string; message?: string; cause?: string } }) => ({
        ok: false as const,
        error,
      }),
    );
    void Promise.all([settled, consumed.catch(() => undefined)]).then(([r]) => {
      activity.end();
      // Shutdown: the execution stays RUNNING on disk and resumes next start. Superseded: a redrive runs it now.
      if (!live()) return;
      this.running.delete(rec.executionArn);
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
    this.deadlines.get(rec.executionArn)?.();
    this.deadlines.delete(rec.executionArn);
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
