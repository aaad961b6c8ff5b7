import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { AslDefinition } from './template.ts';

/** An AWS-shaped error: `name` becomes the `__type` the SDK maps to its exception class. */
export class SfnError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

interface Parked {
  state: string;
  token: string;
  /** Real-time deadline (ms) for the task timeout, already divided by the time scale. */
  deadline?: number;
  heartbeatSeconds?: number;
  lastHeartbeat?: number;
  /** The function has run with this token; a resume before that runs it again (it is idempotent). */
  invoked?: boolean;
}

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  events: HistoryEvent[];
  /** The last state entered and its input: where a restart resumes. */
  current?: { state: string; input: unknown; waitUntil?: number; parked?: Parked };
  /** The time scale the deadlines above were computed with (a restart may use another). */
  timeScale?: number;
}

export interface MachineSpec {
  arn: string;
  name: string;
  definition: AslDefinition;
  roleArn?: string;
  createdAt: number;
}

export interface TaskInvoker {
  /** Runs a Lambda function by ARN; throws an Error whose name is the errorType on failure. */
  call(functionArn: string, payload: unknown): Promise<unknown>;
}

const NO_TIMEOUT = 99_999_999; // AWS's default Task timeout (the library's default is 60 s)
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

function cloneJson<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

/** Reads a JSONPath like `$.a.b` (what Wait states use); enough for TimestampPath/SecondsPath. */
function readPath(input: unknown, path: string): unknown {
  if (path === '$') return input;
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      input,
    );
}

interface Waiter {
  resolve: (output: unknown) => void;
  reject: (e: Error) => void;
  executionArn: string;
}

/**
 * A Step Functions-compatible engine: runs the template's definitions with aws-local-stepfunctions,
 * dispatches Lambda tasks by ARN, parks `.waitForTaskToken` tasks until a callback or their timeout,
 * and keeps every execution (history included) on disk so a restart resumes it.
 *
 * Where the library differs from AWS, this matches AWS: a Task without TimeoutSeconds has no 60 s
 * limit; long timeouts do not overflow Node timers (local/long-timers.ts); HeartbeatSeconds is enforced
 * for token tasks. `timeScale` divides Wait durations and token-task timeouts (business time), not
 * Lambda timeouts or retry intervals (compute time).
 */
export class LocalStepFunctions {
  private readonly machines = new Map<string, MachineSpec>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly running = new Map<string, { abort: () => void }>();
  private readonly waiters = new Map<string, Waiter>();
  private readonly engines = new Map<string, StateMachine>();
  private readonly dir: string;

  constructor(
    machines: MachineSpec[],
    private readonly invoker: TaskInvoker,
    private readonly opts: { dataDir: string; timeScale: number; region: string; account: string },
  ) {
    for (const m of machines) this.machines.set(m.arn, m);
    this.dir = join(opts.dataDir, 'executions');
    mkdirSync(this.dir, { recursive: true });
    for (const f of readdirSync(this.dir).filter((x) => x.endsWith('.json'))) {
      const rec = JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as ExecutionRecord;
      this.executions.set(rec.executionArn, rec);
    }
  }

  /** Resumes every execution that was RUNNING when the previous process stopped. */
  resumeAll(): number {
    let n = 0;
    for (const rec of this.executions.values()) {
      if (rec.status !== 'RUNNING') continue;
      this.launch(rec, true);
      n += 1;
    }
    return n;
  }

  // ---- API operations (names and shapes as the AWS SDK sends and expects them) ----

  startExecution(req: { stateMachineArn?: string; name?: string; input?: string }) {
    const machine = this.machine(req.stateMachineArn);
    const name = req.name ?? randomBytes(16).toString('hex');
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new SfnError('InvalidName', `Invalid Name: '${name}'`);
    const input = req.input ?? '{}';
    try {
      JSON.parse(input);
    } catch {
      throw new SfnError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not valid JSON');
    }
    const executionArn = `arn:aws:states:${this.opts.region}:${this.opts.account}:execution:${machine.name}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // AWS: same name + same input while running returns the same execution; anything else is a conflict.
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: existing.startDate / 1000 };
      }
      throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const rec: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      status: 'RUNNING',
      startDate: Date.now(),
      input,
      events: [],
    };
    this.executions.set(executionArn, rec);
    this.event(rec, 'ExecutionStarted', {
      executionStartedEventDetails: {
        input,
        inputDetails: { truncated: false },
        roleArn: machine.roleArn ?? '',
      },
    });
    this.launch(rec, false);
    return { executionArn, startDate: rec.startDate / 1000 };
  }

  describeExecution(req: { executionArn?: string }) {
    const r = this.execution(req.executionArn);
    return {
      ...summary(r),
      input: r.input,
      inputDetails: { included: true },
      ...(r.output !== undefined ? { output: r.output, outputDetails: { included: true } } : {}),
      ...(r.error ? { error: r.error } : {}),
      ...(r.cause ? { cause: r.cause } : {}),
    };
  }

  listExecutions(req: {
    stateMachineArn?: string;
    statusFilter?: string;
    maxResults?: number;
    nextToken?: string;
  }) {
    this.machine(req.stateMachineArn);
    const all = [...this.executions.values()]
      .filter(
        (r) =>
          r.stateMachineArn === req.stateMachineArn && (!req.statusFilter || r.status === req.statusFilter),
      )
      .sort((a, b) => b.startDate - a.startDate || b.name.localeCompare(a.name));
    const { page, nextToken } = paginate(all, req.maxResults, req.nextToken);
    return {
      executions: page.map(summary),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  getExecutionHistory(req: {
    executionArn?: string;
    maxResults?: number;
    nextToken?: string;
    reverseOrder?: boolean;
  }) {
    const r = this.execution(req.executionArn);
    const events = req.reverseOrder ? [...r.events].reverse() : r.events;
    const { page, nextToken } = paginate(events, req.maxResults, req.nextToken);
    return {
      events: page.map((e) => ({ ...e, timestamp: e.timestamp / 1000 })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  stopExecution(req: { executionArn?: string; error?: string; cause?: string }) {
    const r = this.execution(req.executionArn);
    if (r.status === 'RUNNING') {
      this.finish(r, 'ABORTED', { error: req.error, cause: req.cause });
      this.running.get(r.executionArn)?.abort();
    }
    return { stopDate: (r.stopDate ?? Date.now()) / 1000 };
  }

  sendTaskSuccess(req: { taskToken?: string; output?: string }) {
    const w = this.waiter(req.taskToken);
    let output: unknown;
    try {
      output = JSON.parse(req.output ?? '');
    } catch {
      throw new SfnError('InvalidOutput', 'Invalid output: not valid JSON');
    }
    this.waiters.delete(String(req.taskToken));
    w.resolve(output);
    return {};
  }

  sendTaskFailure(req: { taskToken?: string; error?: string; cause?: string }) {
    const w = this.waiter(req.taskToken);
    this.waiters.delete(String(req.taskToken));
    w.reject(Object.assign(new Error(req.cause ?? ''), { name: req.error ?? 'States.TaskFailed' }));
    return {};
  }

  sendTaskHeartbeat(req: { taskToken?: string }) {
    this.waiter(req.taskToken);
    const rec = [...this.executions.values()].find((r) => r.current?.parked?.token === req.taskToken);
    if (rec?.current?.parked) {
      rec.current.parked.lastHeartbeat = Date.now();
      this.save(rec);
    }
    return {};
  }

  listStateMachines() {
    return {
      stateMachines: [...this.machines.values()].map((m) => ({
        stateMachineArn: m.arn,
        name: m.name,
        type: 'STANDARD',
        creationDate: m.createdAt / 1000,
      })),
    };
  }

  describeStateMachine(req: { stateMachineArn?: string }) {
    const m = this.machine(req.stateMachineArn);
    return {
      stateMachineArn: m.arn,
      name: m.name,
      status: 'ACTIVE',
      definition: JSON.stringify(m.definition),
      roleArn: m.roleArn ?? `arn:aws:iam::${this.opts.account}:role/local`,
      type: 'STANDARD',
      creationDate: m.createdAt / 1000,
    };
  }

  /** Executions as stored, for the console and tests. */
  list(): ExecutionRecord[] {
    return [...this.executions.values()];
  }

  /**
   * Stops without finishing anything: running executions stay RUNNING on disk, with the state they
   * were in (a wait's deadline, a parked task's token), and `resumeAll()` picks them up next start.
   */
  async shutdown(): Promise<void> {
    for (const arn of this.running.keys()) {
      const rec = this.executions.get(arn);
      if (rec) this.dirty.add(rec);
    }
    this.flush();
    this.stopping = true; // nothing after this point reaches the disk
    for (const r of this.running.values()) r.abort();
    this.running.clear();
    this.waiters.clear();
  }
  private stopping = false;

  // ---- internals ----

  private machine(arn?: string): MachineSpec {
    const m = arn ? this.machines.get(arn) : undefined;
    if (!m) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return m;
  }

  private execution(arn?: string): ExecutionRecord {
    const r = arn ? this.executions.get(arn) : undefined;
    if (!r) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return r;
  }

  private waiter(token?: string): Waiter {
    const w = token ? this.waiters.get(token) : undefined;
    if (!w) throw new SfnError('TaskDoesNotExist', 'Task Does Not Exist');
    return w;
  }

  private event(rec: ExecutionRecord, type: string, details: Record<string, unknown> = {}) {
    const id = rec.events.length + 1;
    rec.events.push({ id, previousEventId: id - 1, timestamp: Date.now(), type, ...details });
    this.save(rec);
  }

  /** Writes are coalesced per execution (one write per tick, not per event); shutdown flushes. */
  private save(rec: ExecutionRecord) {
    if (this.stopping) return;
    if (this.dirty.size === 0) setImmediate(() => this.flush());
    this.dirty.add(rec);
  }
  private readonly dirty = new Set<ExecutionRecord>();

  private flush() {
    for (const rec of this.dirty) {
      const file = join(this.dir, `${rec.name}.json`);
      writeFileSync(`${file}.tmp`, JSON.stringify(rec));
      renameSync(`${file}.tmp`, file);
    }
    this.dirty.clear();
  }

  private finish(
    rec: ExecutionRecord,
    status: ExecutionStatus,
    r: { output?: unknown; error?: string; cause?: string },
  ) {
    if (rec.status !== 'RUNNING') return;
    rec.status = status;
    rec.stopDate = Date.now();
    rec.current = undefined;
    if (status === 'SUCCEEDED') {
      rec.output = JSON.stringify(r.output ?? null);
      this.event(rec, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: rec.output } });
    } else {
      rec.error = r.error;
      rec.cause = r.cause;
      const key = status === 'ABORTED' ? 'executionAbortedEventDetails' : 'executionFailedEventDetails';
      this.event(rec, status === 'ABORTED' ? 'ExecutionAborted' : 'ExecutionFailed', {
        [key]: { ...(r.error ? { error: r.error } : {}), ...(r.cause ? { cause: r.cause } : {}) },
      });
    }
    for (const [token, w] of this.waiters)
      if (w.executionArn === rec.executionArn) this.waiters.delete(token);
  }

  /**
   * What the library runs: the template's definition with Waits as scaled sleeps (a Task overridden
   * locally, so TimestampPath waits can be compressed) and AWS's default Task timeout made explicit.
   */
  prepare(definition: AslDefinition, startAt: string): AslDefinition {
    const states: AslDefinition['States'] = {};
    for (const [name, s] of Object.entries(definition.States)) {
      if (s.Type === 'Wait') {
        const { Seconds, SecondsPath, Timestamp, TimestampPath, Type, ...rest } = s;
        states[name] = {
          ...rest,
          Type: 'Task',
          Resource: `arn:aws:lambda:${this.opts.region}:${this.opts.account}:function:HandoffLocalWait`,
          TimeoutSeconds: NO_TIMEOUT,
        };
      } else if (s.Type === 'Task') {
        const token = String(s.Resource).endsWith('.waitForTaskToken');
        states[name] = {
          ...s,
          ...(token || (s.TimeoutSeconds === undefined && s.TimeoutSecondsPath === undefined)
            ? { TimeoutSeconds: NO_TIMEOUT }
            : {}),
        };
        if (token) delete states[name].HeartbeatSeconds;
      } else {
        states[name] = s;
      }
    }
    return { ...definition, StartAt: startAt, States: states };
  }

  private launch(rec: ExecutionRecord, resuming: boolean) {
    const machine = this.machine(rec.stateMachineArn);
    const original = machine.definition.States;
    const startAt = resuming && rec.current ? rec.current.state : machine.definition.StartAt;
    const input = resuming && rec.current ? rec.current.input : JSON.parse(rec.input);
    // Deadlines are real time under the scale they were set with: keep the remaining *scaled* time.
    const rescale = (deadline: number) =>
      Date.now() + ((deadline - Date.now()) * (rec.timeScale ?? 1)) / this.opts.timeScale;
    const parkedBefore = resuming ? rec.current?.parked : undefined;
    const resumeParked =
      parkedBefore?.deadline !== undefined
        ? { ...parkedBefore, deadline: rescale(parkedBefore.deadline) }
        : parkedBefore;
    const resumeWait =
      resuming && rec.current?.waitUntil !== undefined ? rescale(rec.current.waitUntil) : undefined;
    rec.timeScale = this.opts.timeScale;
    let firstState = true;
    // The resumed state's StateEntered is already in the history (and `current` holds its deadline or token).
    let skipResumedEnter = resuming && rec.current !== undefined;

    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [name, s] of Object.entries(original)) {
      if (s.Type === 'Wait') {
        overrides[name] = async (waitInput) => {
          const resumed = firstState && name === startAt && resumeWait !== undefined;
          firstState = false;
          await this.entered(rec, name, waitInput);
          const until = resumed ? (resumeWait as number) : Date.now() + this.waitMs(s, waitInput);
          if (rec.current) rec.current.waitUntil = until;
          this.save(rec);
          await sleep(until - Date.now());
          return waitInput;
        };
      }
      if (s.Type !== 'Task') continue;
      const resource = String(s.Resource);
      overrides[name] = async (taskInput) => {
        const resumedHere = firstState && name === startAt;
        firstState = false;
        if (resource.endsWith('.waitForTaskToken')) {
          await this.entered(rec, name, taskInput);
          return this.parkTask(
            rec,
            name,
            s,
            taskInput as { FunctionName?: string; Payload?: { taskToken?: string } },
            resumedHere ? resumeParked : undefined,
          );
        }
        if (resource === LAMBDA_INVOKE) {
          const p = taskInput as { FunctionName: string; Payload?: unknown };
          const result = await this.invoker.call(p.FunctionName, p.Payload ?? {});
          return {
            ExecutedVersion: '$LATEST',
            Payload: result,
            StatusCode: 200,
            SdkHttpMetadata: { HttpStatusCode: 200 },
          };
        }
        if (resource.startsWith('arn:aws:lambda:')) return this.invoker.call(resource, taskInput);
        throw Object.assign(new Error(`Unsupported resource ${resource}`), { name: 'States.Runtime' });
      };
    }

    // A resumed run starts mid-graph, which the validator reports as unreachable states; it was validated at first launch.
    // Validation compiles JSON schemas (slow): validate each machine once, and reuse its engine for fresh runs.
    let sm = resuming ? undefined : this.engines.get(machine.arn);
    if (!sm) {
      sm = new StateMachine(this.prepare(machine.definition, startAt) as never, {
        validationOptions:
          this.engines.has(machine.arn) || resuming
            ? { noValidate: true }
            : { checkArn: false, checkPaths: true },
      });
      if (!resuming) this.engines.set(machine.arn, sm);
    }
    const execution = sm.run(input as never, {
      overrides: { taskResourceLocalHandlers: overrides as never },
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

    const consumed = (async () => {
      for await (const ev of execution.eventLogs as AsyncIterable<{
        type: string;
        state?: { name: string; type: string; input?: unknown; output?: unknown };
        index?: number;
        Error?: string;
        Cause?: string;
      }>) {
        if (rec.status !== 'RUNNING') continue;
        if (ev.type === 'StateEntered' && ev.state && skipResumedEnter && ev.state.name === startAt) {
          skipResumedEnter = false;
        } else if (ev.type === 'StateEntered' && ev.state) {
          skipResumedEnter = false;
          const type = String(original[ev.state.name]?.Type ?? ev.state.type);
          rec.current = { state: ev.state.name, input: cloneJson(ev.state.input) };
          this.event(rec, `${type}StateEntered`, {
            stateEnteredEventDetails: {
              name: ev.state.name,
              input: JSON.stringify(ev.state.input ?? null),
              inputDetails: { truncated: false },
            },
          });
        } else if (ev.type === 'StateExited' && ev.state) {
          const type = String(original[ev.state.name]?.Type ?? ev.state.type);
          this.event(rec, `${type}StateExited`, {
            stateExitedEventDetails: {
              name: ev.state.name,
              output: JSON.stringify(ev.state.output ?? null),
              outputDetails: { truncated: false },
            },
          });
        } else if (ev.type === 'StateFailed' && ev.state && original[ev.state.name]?.Type === 'Task') {
          const timedOut = ev.Error === 'States.Timeout' || ev.Error === 'States.HeartbeatTimeout';
          const details = {
            resourceType: 'lambda',
            resource: 'invoke',
            error: ev.Error ?? 'Error',
            cause: String(ev.Cause ?? ''),
          };
          this.event(rec, timedOut ? 'TaskTimedOut' : 'TaskFailed', {
            [timedOut ? 'taskTimedOutEventDetails' : 'taskFailedEventDetails']: details,
          });
        }
      }
    })();

    // Finish only after the event log is drained, so the history ends with the last state entered.
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

  /**
   * Lets the event-log consumer record this state's StateEntered (it runs on later ticks) before an
   * override attaches its wait deadline or task token to `rec.current`, which is what a restart reads.
   */
  private async entered(rec: ExecutionRecord, state: string, fallbackInput: unknown): Promise<void> {
    for (let i = 0; i < 10 && rec.current?.state !== state; i++) await new Promise((r) => setImmediate(r));
    if (rec.current?.state !== state) rec.current = { state, input: cloneJson(fallbackInput) };
  }

  private waitMs(s: Record<string, unknown>, input: unknown): number {
    let ms = 0;
    if (typeof s.Seconds === 'number') ms = s.Seconds * 1000;
    else if (typeof s.SecondsPath === 'string') ms = Number(readPath(input, s.SecondsPath)) * 1000;
    else if (typeof s.Timestamp === 'string') ms = Date.parse(s.Timestamp) - Date.now();
    else if (typeof s.TimestampPath === 'string')
      ms = Date.parse(String(readPath(input, s.TimestampPath))) - Date.now();
    return Math.max(0, ms) / this.opts.timeScale;
  }

  /**
   * `.waitForTaskToken`: invokes the function with the token (once: a resumed task keeps its token and
   * does not invoke again), then waits for SendTaskSuccess/Failure, its (scaled) timeout or heartbeat.
   */
  private async parkTask(
    rec: ExecutionRecord,
    state: string,
    def: Record<string, unknown>,
    taskInput: { FunctionName?: string; Payload?: { taskToken?: string } },
    resumed?: Parked,
  ): Promise<unknown> {
    let parked = resumed;
    if (!parked) {
      const token = String(taskInput.Payload?.taskToken ?? findToken(taskInput) ?? '');
      if (!token)
        throw Object.assign(new Error('No $$.Task.Token in the task parameters'), { name: 'States.Runtime' });
      const timeout = typeof def.TimeoutSeconds === 'number' ? def.TimeoutSeconds : undefined;
      parked = {
        state,
        token,
        ...(timeout ? { deadline: Date.now() + (timeout * 1000) / this.opts.timeScale } : {}),
        ...(typeof def.HeartbeatSeconds === 'number'
          ? { heartbeatSeconds: def.HeartbeatSeconds, lastHeartbeat: Date.now() }
          : {}),
      };
    }
    const p = parked;
    // As in AWS, the token is live from the moment the task starts: a callback may arrive during the invoke.
    const output = new Promise<unknown>((resolve, reject) => {
      this.waiters.set(p.token, { resolve, reject, executionArn: rec.executionArn });
    });
    output.catch(() => undefined);
    if (rec.current) {
      rec.current.parked = p;
      this.save(rec);
    }
    if (!p.invoked) {
      const payload = { ...(taskInput.Payload ?? {}), ...(resumed ? { taskToken: p.token } : {}) };
      await this.invoker.call(String(taskInput.FunctionName), payload);
      p.invoked = true;
      this.save(rec);
    }
    const timers: NodeJS.Timeout[] = [];
    const timedOut = new Promise<never>((_, reject) => {
      const fail = (name: string) => {
        this.waiters.delete(p.token);
        reject(Object.assign(new Error('Task timed out'), { name }));
      };
      if (p.deadline !== undefined)
        timers.push(setTimeout(() => fail('States.Timeout'), Math.max(0, p.deadline - Date.now())));
      if (p.heartbeatSeconds) {
        const check = () => {
          const due =
            (p.lastHeartbeat ?? Date.now()) + ((p.heartbeatSeconds ?? 0) * 1000) / this.opts.timeScale;
          if (Date.now() >= due) fail('States.HeartbeatTimeout');
          else timers.push(setTimeout(check, due - Date.now()));
        };
        check();
      }
    });
    try {
      return await Promise.race([output, timedOut]);
    } finally {
      for (const t of timers) clearTimeout(t);
      if (rec.current?.parked) {
        rec.current.parked = undefined;
        this.save(rec);
      }
    }
  }
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

/** The fields ListExecutions and DescribeExecution share, in the SDK's shape (dates in epoch seconds). */
function summary(r: ExecutionRecord) {
  return {
    executionArn: r.executionArn,
    stateMachineArn: r.stateMachineArn,
    name: r.name,
    status: r.status,
    startDate: r.startDate / 1000,
    ...(r.stopDate ? { stopDate: r.stopDate / 1000 } : {}),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

function paginate<T>(items: T[], maxResults = 100, nextToken?: string): { page: T[]; nextToken?: string } {
  const size = Math.min(Math.max(1, maxResults || 100), 1000);
  let start = 0;
  if (nextToken) {
    start = Number(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw new SfnError('InvalidToken', 'Invalid Token');
  }
  const page = items.slice(start, start + size);
  const next =
    start + size < items.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
  return next ? { page, nextToken: next } : { page };
}
