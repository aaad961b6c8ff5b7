// The local Step Functions API (LocalStepFunctions). Over 300 lines because it is one class with one method
// per operation the SDK calls; each is short, the work is in executions.ts, tokens.ts, redrive.ts, engine.ts.
import { randomBytes } from 'node:crypto';
import type { AslDefinition } from '../template.ts';
import {
  type EngineOptions,
  ExecutionEngine,
  type MachineSpec,
  resumeModeOf,
  type TaskInvoker,
} from './engine.ts';
import { checkArn, SfnError } from './errors.ts';
import { type ExecutionRecord, ExecutionStore, paginate, summary } from './executions.ts';
import { redrive, redriveStatusOf } from './redrive.ts';
import { statusChangeEntry } from './status-event.ts';
import { TokenBucket } from './throttle.ts';
import { TaskTokens } from './tokens.ts';

export type { EngineOptions, MachineSpec, TaskContext, TaskInvoker } from './engine.ts';
export { SfnError } from './errors.ts';
export type { ExecutionRecord, ExecutionStatus, HistoryEvent } from './executions.ts';
export { DEFAULT_START_RATE, TokenBucket } from './throttle.ts';

/** How often runs waiting for room to start look for it. */
const ADMISSION_POLL_MS = 25;

/**
 * A Step Functions-compatible API over the local engine: runs the template's definitions with
 * aws-local-stepfunctions, dispatches Lambda tasks by ARN, parks `.waitForTaskToken` tasks until a
 * callback or their timeout, and keeps every execution (history included) on disk so a restart resumes it.
 *
 * Where the library differs from AWS, this matches AWS: a Task without TimeoutSeconds has no 60 s
 * limit; long timeouts do not overflow Node timers (local/long-timers.ts); HeartbeatSeconds is enforced
 * for token tasks. Business time (Waits, token-task timeouts, history and dates) is read from the stack's
 * clock (`opts.clock`, local/clock.ts), which `--time-scale` speeds up; compute time (Lambda timeouts,
 * retry intervals) stays real.
 *
 * A reply means stored (docs/architecture.md, "Durability"): each write operation changes the record in memory, then resolves once the
 * change is durable (`store.commit()`: fsync'd, one write for the callers waiting together): a started run, a
 * callback's outcome on the parked task, a heartbeat, a stop or redrive with its status-change event.
 */
export class LocalStepFunctions {
  private readonly machines = new Map<string, MachineSpec>();
  private readonly store: ExecutionStore;
  private readonly tokens: TaskTokens;
  private readonly engine: ExecutionEngine;
  private readonly startBucket?: TokenBucket;
  private readonly admitBucket?: TokenBucket;
  private readonly admission: { machine: MachineSpec; rec: ExecutionRecord }[] = [];
  private admitting: ReturnType<typeof setInterval> | undefined;

  constructor(
    machines: MachineSpec[],
    invoker: TaskInvoker,
    private readonly opts: EngineOptions,
  ) {
    for (const m of machines) this.machines.set(m.arn, m);
    this.store = new ExecutionStore(
      opts.dataDir,
      opts.clock,
      (rec) => {
        opts.onStatusChange?.(rec);
        opts.events?.putEvents([statusChangeEntry(rec, opts.clock.now())]);
      },
      // An execution file with a new status is written only once its status-change event is durable.
      async () => opts.events?.commit?.(),
    );
    if (opts.startRate) this.startBucket = new TokenBucket(opts.startRate);
    if (opts.admitRate) this.admitBucket = new TokenBucket(opts.admitRate);
    this.tokens = new TaskTokens(this.store, opts.clock);
    this.engine = new ExecutionEngine(this.store, this.tokens, invoker, opts);
  }

  /** The execution a task token was issued to (live or over), if this process issued it. */
  executionOfToken(token: string): string | undefined {
    return this.tokens.executionOf(token);
  }

  /** Resumes every execution that was RUNNING when the previous process stopped (see resumeModeOf). */
  resumeAll(): number {
    let n = 0;
    for (const rec of this.store.list()) {
      if (rec.status !== 'RUNNING') continue;
      this.engine.launch(this.machine(rec.stateMachineArn), rec, resumeModeOf(rec));
      n += 1;
    }
    return n;
  }

  // ---- API operations (names and shapes as the AWS SDK sends and expects them) ----

  async startExecution(req: { stateMachineArn?: string; name?: string; input?: string }) {
    this.accepting();
    // AWS throttles StartExecution with a token bucket per account and region: HTTP 400 ThrottlingException.
    if (this.startBucket && !this.startBucket.take())
      throw new SfnError('ThrottlingException', 'Rate exceeded');
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
    const existing = this.store.get(executionArn);
    if (existing) {
      // AWS: same name + same input while running returns the same execution; anything else is a conflict.
      if (existing.status === 'RUNNING' && existing.input === input) {
        // The first call may still be waiting for its write: this answer waits for it too.
        await this.store.commit();
        return { executionArn, startDate: existing.startDate / 1000 };
      }
      throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const rec: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      status: 'RUNNING',
      startDate: this.opts.clock.now(),
      input,
      events: [],
    };
    this.store.add(rec);
    this.store.event(rec, 'ExecutionStarted', {
      executionStartedEventDetails: {
        input,
        inputDetails: { truncated: false },
        roleArn: machine.roleArn ?? '',
      },
    });
    this.store.statusChanged(rec);
    this.admit(machine, rec);
    await this.store.commit();
    return { executionArn, startDate: rec.startDate / 1000 };
  }

  /**
   * Starts the run's work now, or, while the workflow's functions are saturated (`opts.busy`), once they
   * have room, in the order the runs were started. AWS accepts a StartExecution its bucket has a token
   * for however busy the account is; so does this stack: a burst is accepted, stored and run slower, never
   * refused for the machine's sake. A run admitted later is RUNNING with only ExecutionStarted in its
   * history, as an AWS run is in the moment before its first state; a stop before then resumes it from the
   * start (resumeModeOf).
   */
  private admit(machine: MachineSpec, rec: ExecutionRecord): void {
    if (!this.admission.length && this.hasRoom()) {
      this.engine.launch(machine, rec, 'start');
      return;
    }
    this.admission.push({ machine, rec });
    this.admitting ??= setInterval(() => {
      while (this.admission.length && this.hasRoom()) {
        const next = this.admission.shift();
        // A run stopped while it waited for room has nothing left to start.
        if (next && next.rec.status === 'RUNNING') this.engine.launch(next.machine, next.rec, 'start');
      }
      if (!this.admission.length) this.stopAdmitting();
    }, ADMISSION_POLL_MS);
  }

  /**
   * Room for one more run to start: the functions are not saturated, and the admission bucket has a
   * token. The bucket paces starts, because a launch reaches the functions' queues only a moment later:
   * without it, every run accepted in a burst would start before `busy` could say so (a 10,000-lead load
   * then overflowed CaptureLead's queue and runs failed on Lambda throttles).
   */
  private hasRoom(): boolean {
    return !this.opts.busy?.() && (this.admitBucket?.take() ?? true);
  }

  private stopAdmitting(): void {
    if (this.admitting) clearInterval(this.admitting);
    this.admitting = undefined;
  }

  /** Runs accepted and waiting for room to start (see admit). */
  get waitingToStart(): number {
    return this.admission.length;
  }

  describeExecution(req: { executionArn?: string }) {
    const r = this.store.require(req.executionArn);
    return {
      ...summary(r),
      input: r.input,
      inputDetails: { included: true },
      ...(r.output !== undefined ? { output: r.output, outputDetails: { included: true } } : {}),
      ...(r.error ? { error: r.error } : {}),
      ...(r.cause ? { cause: r.cause } : {}),
      ...redriveStatusOf(r, this.opts.clock.now()),
    };
  }

  listExecutions(req: {
    stateMachineArn?: string;
    statusFilter?: string;
    redriveFilter?: string;
    maxResults?: number;
    nextToken?: string;
  }) {
    this.machine(req.stateMachineArn);
    const redriven = (r: ExecutionRecord) => (r.redriveCount ?? 0) > 0;
    const all = this.store
      .list()
      .filter(
        (r) =>
          r.stateMachineArn === req.stateMachineArn &&
          (!req.statusFilter || r.status === req.statusFilter) &&
          (!req.redriveFilter || redriven(r) === (req.redriveFilter === 'REDRIVEN')),
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
    const r = this.store.require(req.executionArn);
    const events = req.reverseOrder ? [...r.events].reverse() : r.events;
    const { page, nextToken } = paginate(events, req.maxResults, req.nextToken);
    return {
      events: page.map((e) => ({ ...e, timestamp: e.timestamp / 1000 })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  /** StopExecution: ABORTED, with its status-change event, both durable before the reply. */
  async stopExecution(req: { executionArn?: string; error?: string; cause?: string }) {
    this.accepting();
    const r = this.store.require(req.executionArn);
    this.engine.abort(r, { error: req.error, cause: req.cause });
    await this.store.commit();
    return { stopDate: (r.stopDate ?? this.opts.clock.now()) / 1000 };
  }

  /** RedriveExecution: a FAILED, TIMED_OUT or ABORTED execution runs again from the state it ended in. */
  async redriveExecution(req: { executionArn?: string; clientToken?: string }) {
    this.accepting();
    const r = this.store.require(req.executionArn);
    const machine = this.machine(r.stateMachineArn);
    const out = redrive(this.store, this.engine, machine, r, this.opts.clock.now(), req.clientToken);
    await this.store.commit();
    return out;
  }

  /** SendTaskSuccess: the outcome is on the parked task, on disk, before the reply (tokens.ts). */
  async sendTaskSuccess(req: { taskToken?: string; output?: string }) {
    this.accepting();
    this.tokens.check(req.taskToken);
    let output: unknown;
    try {
      output = JSON.parse(req.output ?? '');
    } catch {
      throw new SfnError('InvalidOutput', 'Invalid output: not valid JSON');
    }
    this.tokens.succeed(req.taskToken, output);
    await this.store.commit();
    return {};
  }

  async sendTaskFailure(req: { taskToken?: string; error?: string; cause?: string }) {
    this.accepting();
    this.tokens.fail(req.taskToken, req.error, req.cause);
    await this.store.commit();
    return {};
  }

  async sendTaskHeartbeat(req: { taskToken?: string }) {
    this.accepting();
    this.tokens.heartbeat(req.taskToken);
    await this.store.commit();
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

  // ---- local-only operations ----

  /** Times a parked `.waitForTaskToken` task out now, as if its TimeoutSeconds had passed (durable, as a callback). */
  async expireTask(req: { taskToken?: string }) {
    this.accepting();
    this.tokens.expire(req.taskToken);
    await this.store.commit();
    return {};
  }

  /** DescribeExecution once the execution has ended. */
  async waitForExecution(req: { executionArn?: string }) {
    await this.store.ended(this.store.require(req.executionArn));
    return this.describeExecution(req);
  }

  /** The latest history timestamp stored (0 for none): the stack's clock resumes no earlier. */
  latest(): number {
    return this.store.latest();
  }

  /** Executions as stored, for the console and tests. */
  list(): ExecutionRecord[] {
    return this.store.list();
  }

  /** The definition as the library runs it from `startAt`. */
  prepare(definition: AslDefinition, startAt: string): AslDefinition {
    return this.engine.prepare(definition, startAt);
  }

  /**
   * Stops without finishing anything: running executions stay RUNNING on disk, with the state they
   * were in (a wait's deadline, a parked task's token), and `resumeAll()` picks them up next start.
   */
  async shutdown(): Promise<void> {
    // Runs still waiting for room are RUNNING on disk with ExecutionStarted only: resumeAll starts them.
    this.stopAdmitting();
    this.admission.length = 0;
    const written = this.engine.stop();
    this.tokens.clear();
    await written;
  }

  /**
   * Refuses a write once the store is closed (the stack is stopping): its change would not reach the disk.
   * A 503, which the SDK retries and SubmitLead answers as "try again", never a 200 for a lost change.
   */
  private accepting(): void {
    if (!this.store.open)
      throw new SfnError('ServiceUnavailable', 'The local Step Functions endpoint is stopping', 503);
  }

  private machine(arn?: string): MachineSpec {
    checkArn(arn, 'stateMachine');
    const m = arn ? this.machines.get(arn) : undefined;
    if (!m) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return m;
  }
}
