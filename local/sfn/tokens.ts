import type { Activity, Clock } from '../clock.ts';
import { readPath } from './definition.ts';
import { SfnError } from './errors.ts';
import type { ExecutionRecord, ExecutionStore, Parked } from './executions.ts';

interface Waiter {
  resolve: (output: unknown) => void;
  reject: (e: Error) => void;
  executionArn: string;
}

/** The parameters of a `.waitForTaskToken` Lambda task, as the state's Parameters produced them. */
export interface TokenTaskInput {
  FunctionName?: string;
  Payload?: { taskToken?: string };
}

/** How many issued tokens are remembered for IAM (about 30 MB at most). */
const ISSUED_MAX = 200_000;

const taskError = (name: string, message: string) => Object.assign(new Error(message), { name });

/**
 * The live task tokens: each parked `.waitForTaskToken` task waits on one until SendTaskSuccess or
 * SendTaskFailure, its timeout or heartbeat (on the stack's clock), an `expire()`, or the end of its execution.
 */
export class TaskTokens {
  private readonly waiters = new Map<string, Waiter>();
  /**
   * Every token this process issued and its execution, live or not: AWS authorizes a callback against the
   * state machine its token names even when the task is over (and then answers TaskTimedOut or
   * TaskDoesNotExist), so a late SendTask* is not an AccessDenied. The oldest are forgotten past ISSUED_MAX.
   */
  private readonly issued = new Map<string, string>();

  constructor(
    private readonly store: ExecutionStore,
    private readonly clock: Clock,
  ) {}

  /** The token's output, once a callback settles it. */
  register(token: string, executionArn: string): Promise<unknown> {
    const output = new Promise<unknown>((resolve, reject) => {
      this.waiters.set(token, { resolve, reject, executionArn });
    });
    this.issued.set(token, executionArn);
    if (this.issued.size > ISSUED_MAX) this.issued.delete(this.issued.keys().next().value ?? '');
    output.catch(() => undefined);
    return output;
  }

  /** The execution a token was issued to, live or over (IAM authorizes its callbacks against that state machine). */
  executionOf(token: string): string | undefined {
    return this.waiters.get(token)?.executionArn ?? this.issued.get(token);
  }

  /** Throws TaskDoesNotExist unless the token is live. */
  check(token?: string): void {
    this.take(token, false);
  }

  /**
   * SendTaskSuccess: the task ends with `output`. The outcome is put on the parked task of the record (in
   * memory; the API's reply waits for `store.commit()`), so a run resumed after a crash continues with it.
   */
  succeed(token: string | undefined, output: unknown): void {
    const w = this.take(token);
    this.settle(w, token, { output });
    w.resolve(output);
  }

  /** SendTaskFailure: the task fails with `error` (its Retry and Catch apply), recorded as `succeed` records. */
  fail(token: string | undefined, error?: string, cause?: string): void {
    const w = this.take(token);
    const outcome = { error: error ?? 'States.TaskFailed', cause: cause ?? '' };
    this.settle(w, token, outcome);
    w.reject(taskError(outcome.error, outcome.cause));
  }

  /** Times the task out now, as if its TimeoutSeconds had passed (recorded, as a callback is). */
  expire(token?: string): void {
    const w = this.take(token);
    const outcome = { error: 'States.Timeout', cause: 'Task timed out' };
    this.settle(w, token, outcome);
    w.reject(taskError(outcome.error, outcome.cause));
  }

  /** SendTaskHeartbeat: the heartbeat's instant goes on the parked task (saved; the reply waits for it). */
  heartbeat(token?: string): void {
    const at = this.parkedOn(this.take(token, false), token);
    if (!at) return;
    at.parked.lastHeartbeat = this.clock.now();
    this.store.save(at.rec);
  }

  /** Forgets the tokens of an execution that has ended: callbacks for them get TaskDoesNotExist. */
  dropExecution(executionArn: string): void {
    for (const [token, w] of this.waiters) if (w.executionArn === executionArn) this.waiters.delete(token);
  }

  clear(): void {
    this.waiters.clear();
  }

  private settle(w: Waiter, token: string | undefined, outcome: NonNullable<Parked['outcome']>): void {
    const at = this.parkedOn(w, token);
    if (!at) return;
    at.parked.outcome = outcome;
    this.store.save(at.rec);
  }

  /** The record and its parked task, when the task parked there is this token's. */
  private parkedOn(w: Waiter, token?: string): { rec: ExecutionRecord; parked: Parked } | undefined {
    const rec = this.store.get(w.executionArn);
    const parked = rec?.current?.parked;
    return rec && parked && parked.token === token ? { rec, parked } : undefined;
  }

  private take(token?: string, remove = true): Waiter {
    const w = token ? this.waiters.get(token) : undefined;
    if (!w || !token) throw new SfnError('TaskDoesNotExist', 'Task Does Not Exist');
    if (remove) this.waiters.delete(token);
    return w;
  }

  /**
   * `.waitForTaskToken`: invokes the function with the token (once: a resumed task keeps its token and
   * does not invoke again), then waits for SendTaskSuccess/Failure, its timeout or heartbeat (instants on the stack's clock).
   */
  async park(
    rec: ExecutionRecord,
    state: string,
    def: Record<string, unknown>,
    taskInput: TokenTaskInput,
    resumed: Parked | undefined,
    invoke: (functionName: string, payload: unknown) => Promise<unknown>,
    activity: Activity,
  ): Promise<unknown> {
    // The callback came before the crash and was acknowledged: the task ends with it, without waiting again.
    const settled = resumed?.outcome;
    if (settled) {
      if ('output' in settled) return settled.output;
      throw taskError(settled.error, settled.cause);
    }
    let parked = resumed;
    if (!parked) {
      const token = String(taskInput.Payload?.taskToken ?? findToken(taskInput) ?? '');
      if (!token) throw taskError('States.Runtime', 'No $$.Task.Token in the task parameters');
      // TimeoutSecondsPath is read from the state's input (as AWS does), which `entered` put on the record;
      // as in AWS, a path that does not select a positive integer fails the state (States.Runtime).
      const fromPath =
        typeof def.TimeoutSecondsPath === 'string'
          ? timeoutAt(rec.current?.input, def.TimeoutSecondsPath)
          : undefined;
      const timeout = typeof def.TimeoutSeconds === 'number' ? def.TimeoutSeconds : fromPath;
      parked = {
        state,
        token,
        ...(timeout ? { deadline: this.clock.now() + timeout * 1000 } : {}),
        ...(typeof def.HeartbeatSeconds === 'number'
          ? { heartbeatSeconds: def.HeartbeatSeconds, lastHeartbeat: this.clock.now() }
          : {}),
      };
    }
    const p = parked;
    // As in AWS, the token is live from the moment the task starts: a callback may arrive during the invoke.
    const output = this.register(p.token, rec.executionArn);
    if (rec.current) {
      rec.current.parked = p;
      this.store.save(rec);
    }
    if (!p.invoked) {
      const payload = { ...(taskInput.Payload ?? {}), ...(resumed ? { taskToken: p.token } : {}) };
      await invoke(String(taskInput.FunctionName), payload);
      p.invoked = true;
      this.store.save(rec);
    }
    const timers: (() => void)[] = [];
    const timedOut = new Promise<never>((_, reject) => {
      const fail = (name: string) => {
        this.waiters.delete(p.token);
        reject(taskError(name, 'Task timed out'));
      };
      const deadline = p.deadline;
      if (deadline !== undefined) timers.push(this.clock.at(deadline, () => fail('States.Timeout')));
      if (p.heartbeatSeconds) {
        // Each heartbeat moves `lastHeartbeat`: when the timer for the last one seen fires unmoved, the
        // task timed out. (Compared by identity, not against the clock: a harness clock compresses waits
        // without running faster.)
        const watch = (seen = p.lastHeartbeat ?? this.clock.now()) => {
          const due = seen + (p.heartbeatSeconds ?? 0) * 1000;
          timers.push(
            this.clock.at(due, () => {
              if (p.lastHeartbeat !== undefined && p.lastHeartbeat !== seen) watch(p.lastHeartbeat);
              else fail('States.HeartbeatTimeout');
            }),
          );
        };
        watch();
      }
    });
    // Parked: the run waits for its callback or timeout, and holds the clock no longer.
    activity.pause();
    try {
      return await Promise.race([output, timedOut]);
    } finally {
      activity.resume();
      for (const cancel of timers) cancel();
      // Only this park's: a redrive may have parked the same state again meanwhile. A callback's outcome
      // stays until the next state replaces `current` (a resume in between must not wait again).
      if (rec.current?.parked === p && !p.outcome) {
        rec.current.parked = undefined;
        this.store.save(rec);
      }
    }
  }
}

/** The largest TimeoutSeconds Step Functions accepts. */
const MAX_TIMEOUT_SECONDS = 99_999_999;

function timeoutAt(input: unknown, path: string): number {
  const v = readPath(input, path);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_TIMEOUT_SECONDS) {
    throw taskError(
      'States.Runtime',
      `TimeoutSecondsPath ${path} must select a positive integer up to ${MAX_TIMEOUT_SECONDS}, got ${JSON.stringify(v) ?? 'nothing'}`,
    );
  }
  return v;
}

function findToken(v: unknown): string | undefined {
  if (!v || typeof v !== 'object') return undefined;
  for (const [k, x] of Object.entries(v)) {
    if (/token/i.test(k) && typeof x === 'string') return x;
    const inner = findToken(x);
    if (inner) return inner;
  }
  return undefined;
}
