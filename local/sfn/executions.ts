import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.ts';
import { DurableFolder } from '../durable-folder.ts';
import { checkArn, SfnError } from './errors.ts';

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** A `.waitForTaskToken` task waiting for its callback: what a restart needs to keep waiting. */
export interface Parked {
  state: string;
  token: string;
  /** When the task times out, on the stack's clock (epoch ms). */
  deadline?: number;
  heartbeatSeconds?: number;
  lastHeartbeat?: number;
  /** The function has run with this token; a resume before that runs it again (it is idempotent). */
  invoked?: boolean;
  /**
   * The callback that settled the task (SendTaskSuccess/Failure, or expireTask), kept until the run enters its
   * next state: acknowledged once on disk, so a run resumed after a crash ends the task with it instead of
   * waiting again for a callback that already came.
   */
  outcome?: { output: unknown } | { error: string; cause: string };
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
  /** The last state entered and its input: where a restart resumes (`waitUntil`: a Wait's end, on the stack's clock). */
  current?: { state: string; input: unknown; waitUntil?: number; parked?: Parked };
  /** Successful RedriveExecutions so far, and when the last one was. */
  redriveCount?: number;
  redriveDate?: number;
  /** The client tokens of recent redrives (AWS answers a repeated one idempotently for 15 minutes). */
  redriveTokens?: { token: string; at: number }[];
}

/**
 * How long an engine change nobody waits for (a state entered, a wait's deadline) may stay in memory: what a
 * crash can lose of a run's progress, which the run then redoes from its last state on disk (every step is
 * idempotent). A write API's reply waits for its change to be durable instead (`commit()`).
 */
const FLUSH_MS = 100;

/**
 * Every execution with its history, kept in memory and on disk (`<dataDir>/executions/<name>.json`, one
 * DurableFolder), loaded at construction so a restart sees what the previous process left.
 */
export class ExecutionStore {
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly endWaiters = new Map<string, (() => void)[]>();
  private readonly files: DurableFolder;
  private stopping = false;

  /**
   * `before`: what must be durable before any execution file is written: the status-change events the bus
   * accepted (a run on disk as FAILED has its "Execution Status Change" delivery on disk too).
   */
  constructor(
    dataDir: string,
    private readonly clock: Clock,
    private readonly onStatusChange: (rec: ExecutionRecord) => void = () => undefined,
    before?: () => Promise<void>,
  ) {
    const dir = join(dataDir, 'executions');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.files = new DurableFolder(dir, { lazyMs: FLUSH_MS, ...(before ? { before } : {}) });
    for (const rec of this.files.load<ExecutionRecord>().values()) this.records.set(rec.executionArn, rec);
  }

  /** False once closed: a change now would not reach the disk, so no write API may accept one. */
  get open(): boolean {
    return !this.stopping;
  }

  get(executionArn: string): ExecutionRecord | undefined {
    return this.records.get(executionArn);
  }

  /** The execution, or ExecutionDoesNotExist. */
  require(executionArn?: string): ExecutionRecord {
    checkArn(executionArn, 'execution');
    const r = executionArn ? this.records.get(executionArn) : undefined;
    if (!r) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return r;
  }

  add(rec: ExecutionRecord): void {
    this.records.set(rec.executionArn, rec);
  }

  list(): ExecutionRecord[] {
    return [...this.records.values()];
  }

  /** The latest history timestamp of any execution (0 when there is none): the clock resumes no earlier. */
  latest(): number {
    let t = 0;
    for (const r of this.records.values()) t = Math.max(t, r.events.at(-1)?.timestamp ?? 0, r.stopDate ?? 0);
    return t;
  }

  /** Appends a history event (ids count from 1, each pointing at the one before). */
  event(rec: ExecutionRecord, type: string, details: Record<string, unknown> = {}): void {
    const id = rec.events.length + 1;
    rec.events.push({ id, previousEventId: id - 1, timestamp: this.clock.now(), type, ...details });
    this.save(rec);
  }

  /** Ends a RUNNING execution with its terminal history event; false when it had already ended. */
  end(
    rec: ExecutionRecord,
    status: Exclude<ExecutionStatus, 'RUNNING'>,
    r: { output?: unknown; error?: string; cause?: string },
  ): boolean {
    if (rec.status !== 'RUNNING') return false;
    rec.status = status;
    rec.stopDate = this.clock.now();
    // A run that did not succeed keeps the state it ended in and that state's input: a redrive starts there.
    rec.current =
      status === 'SUCCEEDED' || !rec.current
        ? undefined
        : { state: rec.current.state, input: rec.current.input };
    if (status === 'SUCCEEDED') {
      rec.output = JSON.stringify(r.output ?? null);
      this.event(rec, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: rec.output } });
    } else {
      rec.error = r.error;
      rec.cause = r.cause;
      // As AWS writes them: ExecutionAborted, ExecutionTimedOut (the execution's own TimeoutSeconds) or
      // ExecutionFailed, each with its details key.
      const type =
        status === 'ABORTED'
          ? 'ExecutionAborted'
          : status === 'TIMED_OUT'
            ? 'ExecutionTimedOut'
            : 'ExecutionFailed';
      const key = `${type[0]?.toLowerCase()}${type.slice(1)}EventDetails`;
      this.event(rec, type, {
        [key]: { ...(r.error ? { error: r.error } : {}), ...(r.cause ? { cause: r.cause } : {}) },
      });
    }
    for (const resolve of this.endWaiters.get(rec.executionArn) ?? []) resolve();
    this.endWaiters.delete(rec.executionArn);
    this.statusChanged(rec);
    return true;
  }

  /** Tells the status-change listener (EventBridge's "Step Functions Execution Status Change"). */
  statusChanged(rec: ExecutionRecord): void {
    try {
      this.onStatusChange(rec);
    } catch (e) {
      console.error(`local Step Functions: status-change listener failed: ${(e as Error).message}`);
    }
  }

  /** Resolves once the execution is no longer RUNNING. */
  ended(rec: ExecutionRecord): Promise<void> {
    if (rec.status !== 'RUNNING') return Promise.resolve();
    return new Promise((resolve) => {
      this.endWaiters.set(rec.executionArn, [...(this.endWaiters.get(rec.executionArn) ?? []), resolve]);
    });
  }

  /** Marks the execution changed: written within FLUSH_MS, or with the next `commit()`. */
  save(rec: ExecutionRecord): void {
    if (this.stopping) return;
    this.files.write(rec.name, () => JSON.stringify(rec));
  }

  /**
   * Resolves once every change made so far is durable (written, fsync'd, renamed): what a write API awaits
   * before it answers. Callers waiting together share one write (group commit).
   */
  commit(): Promise<void> {
    return this.files.commit();
  }

  /**
   * Writes these executions (and anything pending) as they are now; nothing changed after this call reaches
   * the disk (a run being aborted for the stop must stay on disk as it was, to resume next start).
   */
  close(executionArns: Iterable<string>): Promise<void> {
    for (const arn of executionArns) {
      const rec = this.records.get(arn);
      if (rec) this.save(rec);
    }
    this.stopping = true;
    return this.files.close();
  }
}

/** The fields ListExecutions and DescribeExecution share, in the SDK's shape (dates in epoch seconds). */
export function summary(r: ExecutionRecord) {
  return {
    executionArn: r.executionArn,
    stateMachineArn: r.stateMachineArn,
    name: r.name,
    status: r.status,
    startDate: r.startDate / 1000,
    ...(r.stopDate ? { stopDate: r.stopDate / 1000 } : {}),
    redriveCount: r.redriveCount ?? 0,
    ...(r.redriveDate ? { redriveDate: r.redriveDate / 1000 } : {}),
  };
}

export function paginate<T>(
  items: T[],
  maxResults = 100,
  nextToken?: string,
): { page: T[]; nextToken?: string } {
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
