// A local EventBridge default bus: the template's AWS::Events::Rule resources, PutEvents, and delivery
// of matching events to the rules' Lambda targets, asynchronously and with retries, as EventBridge does.
// An accepted event is not lost to a stop or a crash: each of its deliveries is a file under
// `<data>/events/` (durable before PutEvents reports success), removed once delivered or dropped, and
// delivered again on the next start (the targets are idempotent, as EventBridge's at-least-once requires).
// Schedule rules (ScheduleExpression) fire on the stack's one clock (`startSchedules`), so a weekly rule
// runs every virtual week under `--time-scale`; see local/schedule-expression.ts for what is supported.
// An event dropped after its target's last retry goes to the target's dead-letter queue, when it has one
// (DeadLetterConfig): a line in `<data>/dead-letters/<queue>.jsonl`, and a log line.
// Over 300 lines: one class, whose deliveries, retries, schedules and dead letters share its pending set,
// timers and durable folder.
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DurableFolder } from './durable-folder.ts';
import { matchesPattern } from './event-pattern.ts';
import type { LocalRule } from './event-rules.ts';
import type { InvokeResult } from './lambda-pool.ts';
import { parseSchedule } from './schedule-expression.ts';

/** The least real time between two firings of one schedule rule (startSchedules). */
const MIN_SCHEDULE_GAP_MS = 250;

export { type LocalRule, rulesOf } from './event-rules.ts';

/** A PutEvents request entry, as the SDK sends it. */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  /** A JSON object, as a string. */
  Detail?: string;
  Resources?: string[];
  Time?: Date | string | number;
  EventBusName?: string;
}

/** An event as EventBridge delivers it to a target. */
export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface EventBusOptions {
  region: string;
  account: string;
  /** Deliveries after the first when a target fails (default 3; fewer if the target's RetryPolicy says so). */
  retries?: number;
  /** First retry delay; each next one doubles, with jitter (default 1000 ms). */
  retryDelayMs?: number;
  log?: (line: string) => void;
  /** The stack's clock, for each event's `time` (default the real one); retry delays stay real. */
  now?: () => number;
  /** The data folder: pending deliveries are kept in `<dataDir>/events/` (without it, in memory only). */
  dataDir?: string;
  /**
   * Whether EventBridge may invoke the target for the rule (its AWS::Lambda::Permission, local/iam.ts): a
   * denial fails the attempt with AccessDeniedException, retried and then dropped like any failed delivery.
   */
  authorize?: (functionArn: string, ruleArn: string) => Promise<string | undefined>;
}

/** One event on its way to one target: what `<data>/events/<id>.json` holds until it is delivered or dropped. */
interface Delivery {
  id: string;
  rule: string;
  arn: string;
  payload: unknown;
  retries: number;
  /** The target's dead-letter queue (its ARN), if it has one. */
  deadLetter?: string;
}

/** A dead letter, as a line of `<data>/dead-letters/<queue>.jsonl` (what AWS's DLQ message carries, and why). */
export interface DeadLetter {
  at: string;
  rule: string;
  target: string;
  /** The event as the target would have received it. */
  event: unknown;
  attempts: number;
  errorType?: string;
  errorMessage?: string;
}

/** How long a finished delivery's file may stay (removing it is not urgent: a redelivery is harmless). */
const REMOVE_AFTER_MS = 200;

interface Invoker {
  invoke(functionArn: string, payload: unknown): Promise<InvokeResult>;
}

/**
 * PutEvents on the default bus: each event is matched against every enabled rule and delivered to
 * each matching rule's Lambda targets after PutEvents has answered. A failed delivery (function error,
 * throttle) is retried with exponential backoff; after the last retry the event is logged and dropped.
 */
export class EventBus {
  /** Deliveries in flight, each with the rule it is for. */
  private readonly pending = new Map<Promise<void>, string>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly files?: DurableFolder;
  /** Dead letters this process wrote, by queue (the files under `<data>/dead-letters/` keep them all). */
  readonly deadLetters: Record<string, DeadLetter[]> = {};
  /** Deliveries the previous process accepted and did not finish, until `redeliver()`. */
  private left: Delivery[] = [];
  private stopped = false;
  private closed = false;
  private readonly schedules: (() => void)[] = [];
  readonly counts = {
    put: 0,
    matched: 0,
    delivered: 0,
    retried: 0,
    dropped: 0,
    scheduled: 0,
    deadLettered: 0,
  };

  constructor(
    readonly rules: LocalRule[],
    private readonly functions: Invoker,
    private readonly opts: EventBusOptions,
  ) {
    if (!opts.dataDir) return;
    const dir = join(opts.dataDir, 'events');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.files = new DurableFolder(dir, { lazyMs: REMOVE_AFTER_MS });
    this.left = [...this.files.load<Delivery>().values()];
  }

  /**
   * PutEvents, answered once the accepted events' deliveries are durable: what the stack's `putEvents` and
   * the SES simulator use. (`putEvents` answers at once; `commit()` waits for what it accepted.)
   */
  async putEventsDurably(entries: PutEventsEntry[]) {
    const out = this.putEvents(entries);
    await this.commit();
    return out;
  }

  /** Resolves once every delivery accepted so far is on disk (fsync'd); at once without a data folder. */
  commit(): Promise<void> {
    return this.files?.commit() ?? Promise.resolve();
  }

  /**
   * Delivers what the previous process accepted and had not delivered when it stopped or crashed (in the
   * order accepted is not kept: EventBridge does not keep it either). Call once the targets can run.
   */
  redeliver(): number {
    const left = this.left;
    this.left = [];
    for (const d of left) this.track(d);
    return left.length;
  }

  /**
   * Starts the enabled schedule rules on `clock` (the stack's one clock): each fires at its next instant
   * after now, with the event EventBridge sends ("Scheduled Event", `time` = the scheduled instant), and
   * again at each instant after. Instants that passed while the stack was stopped are not made up. A rule
   * whose expression is not supported locally is logged and not run. Returns how many were started.
   */
  startSchedules(clock: {
    now(): number;
    at(instant: number, fn: () => void): () => void;
    readonly scale: number;
  }): number {
    let started = 0;
    for (const rule of this.rules) {
      if (!rule.enabled || !rule.schedule) continue;
      let next: (after: number) => number;
      try {
        next = parseSchedule(rule.schedule, clock.now());
      } catch (e) {
        this.log(`rule ${rule.name}: ${(e as Error).message}; not scheduled locally`);
        continue;
      }
      // One pending firing per rule (its cancel in `schedules`, replaced as it re-arms). The time scale
      // compresses waiting, never work: at most one firing per quarter of a real second, the instants
      // in between skipped as a stopped stack skips them (an hourly rule at a day per second would
      // otherwise run 24 times a second).
      const slot = this.schedules.length;
      const arm = (after: number) => {
        const instant = next(after);
        this.schedules[slot] = clock.at(instant, () => {
          if (this.stopped || this.closed) return;
          this.counts.scheduled += 1;
          this.toTargets(rule, this.scheduledEvent(rule, instant));
          arm(Math.max(instant, clock.now() + MIN_SCHEDULE_GAP_MS * clock.scale - 1));
        });
      };
      arm(clock.now());
      started += 1;
    }
    return started;
  }

  private scheduledEvent(rule: LocalRule, instant: number): BusEvent {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.opts.account,
      time: new Date(instant).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.opts.region,
      resources: [`arn:aws:events:${this.opts.region}:${this.opts.account}:rule/${rule.name}`],
      detail: {},
    };
  }

  putEvents(entries: PutEventsEntry[]) {
    const results = entries.map((e) => {
      if (this.closed)
        return { ErrorCode: 'InternalFailure', ErrorMessage: 'The local event bus is stopping.' };
      let detail: unknown;
      try {
        detail = JSON.parse(e.Detail ?? '');
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (!e.Source || !e.DetailType || !detail || typeof detail !== 'object' || Array.isArray(detail))
        return {
          ErrorCode: 'InvalidArgument',
          ErrorMessage: 'Source, DetailType and a JSON object Detail are required.',
        };
      const event: BusEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': e.DetailType,
        source: e.Source,
        account: this.opts.account,
        time: new Date(e.Time ?? this.opts.now?.() ?? Date.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: this.opts.region,
        resources: e.Resources ?? [],
        detail: detail as Record<string, unknown>,
      };
      this.counts.put += 1;
      this.route(event);
      return { EventId: event.id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /**
   * Resolves once every delivery in flight (retries included) has succeeded or been dropped. With
   * `'events'`, only deliveries of events put on the bus: schedule rules keep firing while a stack runs (an
   * hourly rule every 2 s at a time scale of 1800), so waiting for them too may never end.
   */
  async drain(which: 'all' | 'events' = 'all'): Promise<void> {
    const scheduled = new Set(this.rules.filter((r) => !r.pattern).map((r) => r.name));
    const waiting = () =>
      [...this.pending].filter(([, rule]) => which === 'all' || !scheduled.has(rule)).map(([p]) => p);
    for (let left = waiting(); left.length; left = waiting()) await Promise.all(left);
  }

  /**
   * Cancels pending retries; nothing is delivered after this (what is pending stays on disk, for the next
   * start). Events put after this are still kept, until `close()`.
   */
  stop(): void {
    this.stopped = true;
    for (const cancel of this.schedules.splice(0)) cancel();
    for (const [t, wake] of this.timers) {
      clearTimeout(t);
      wake();
    }
    this.timers.clear();
  }

  /** Writes what is pending; events put after this are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.files?.close();
  }

  private route(event: BusEvent): void {
    for (const rule of this.rules) {
      // A schedule rule has no pattern: no event put on the bus matches it.
      if (!rule.enabled || !rule.pattern || !matchesPattern(rule.pattern, event)) continue;
      this.counts.matched += 1;
      this.toTargets(rule, event);
    }
  }

  /** One durable delivery of `event` per Lambda target of `rule`. */
  private toTargets(rule: LocalRule, event: BusEvent): void {
    let n = 0;
    for (const target of rule.targets) {
      if (!target.arn.startsWith('arn:aws:lambda:')) {
        this.log(
          `rule ${rule.name}: target ${target.id} (${target.arn}) is not a Lambda function; not delivered locally`,
        );
        continue;
      }
      const payload = target.input !== undefined ? JSON.parse(target.input) : pathOf(event, target.inputPath);
      const retries = Math.min(target.retries ?? Number.POSITIVE_INFINITY, this.opts.retries ?? 3);
      const d: Delivery = {
        id: `${event.id}.${n++}`,
        rule: rule.name,
        arn: target.arn,
        payload,
        retries,
        ...(target.deadLetter ? { deadLetter: target.deadLetter } : {}),
      };
      this.files?.write(d.id, () => JSON.stringify(d));
      this.track(d);
    }
  }

  private track(d: Delivery): void {
    const p = this.deliver(d).finally(() => this.pending.delete(p));
    this.pending.set(p, d.rule);
  }

  private async deliver(d: Delivery): Promise<void> {
    // After PutEvents has answered, and never before the delivery is on disk: a delivery finished before its
    // file was written would leave the file behind, to be delivered again after a restart.
    await Promise.all([new Promise((r) => setImmediate(r)), this.commit().catch(() => undefined)]);
    const base = this.opts.retryDelayMs ?? 1000;
    let last: InvokeResult | undefined;
    for (let attempt = 0; attempt <= d.retries && !this.stopped; attempt++) {
      if (attempt > 0) {
        this.counts.retried += 1;
        await this.sleep(base * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
        if (this.stopped) return;
      }
      const ruleArn = `arn:aws:events:${this.opts.region}:${this.opts.account}:rule/${d.rule}`;
      const denied = await this.opts.authorize?.(d.arn, ruleArn);
      last = denied
        ? { ok: false, errorType: 'AccessDeniedException', errorMessage: denied }
        : await this.functions.invoke(d.arn, d.payload);
      if (last.ok) {
        this.counts.delivered += 1;
        this.done(d);
        return;
      }
    }
    // Stopped mid-way: the delivery stays on disk and is made again next start.
    if (this.stopped || !last || last.ok) return;
    this.counts.dropped += 1;
    const fn = d.arn.split(':').at(-1);
    const queue = this.deadLetter(d, last);
    this.log(
      `rule ${d.rule}: dropped an event for ${fn} after ${d.retries + 1} attempts: ${last.errorType}: ${last.errorMessage}${queue ? `; kept in dead-letter queue ${queue}${this.opts.dataDir ? ` (${join(this.opts.dataDir, 'dead-letters', `${queue}.jsonl`)})` : ''}` : ''}`,
    );
    this.done(d);
  }

  /** Keeps a dropped delivery in its target's dead-letter queue (a file): the queue's name, or undefined. */
  private deadLetter(d: Delivery, last: { errorType?: string; errorMessage?: string }): string | undefined {
    if (!d.deadLetter) return undefined;
    const queue = d.deadLetter.split(':').at(-1) ?? 'dead-letters';
    const letter: DeadLetter = {
      at: new Date(this.opts.now?.() ?? Date.now()).toISOString(),
      rule: d.rule,
      target: d.arn,
      event: d.payload,
      attempts: d.retries + 1,
      errorType: last.errorType,
      errorMessage: last.errorMessage,
    };
    this.counts.deadLettered += 1;
    this.deadLetters[queue] ??= [];
    this.deadLetters[queue].push(letter);
    if (this.opts.dataDir) {
      const dir = join(this.opts.dataDir, 'dead-letters');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      appendFileSync(join(dir, `${queue}.jsonl`), `${JSON.stringify(letter)}\n`, { mode: 0o600 });
    }
    return queue;
  }

  private done(d: Delivery): void {
    if (!this.closed) this.files?.remove(d.id);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        r();
      }, ms);
      this.timers.set(t, r);
    });
  }

  private log(line: string): void {
    (this.opts.log ?? ((l: string) => console.error(l)))(`events: ${line}`);
  }
}

/** A target's InputPath (`$`, `$.detail`, `$.detail.x`): the part of the event it receives. */
function pathOf(event: BusEvent, path = '$'): unknown {
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      event,
    );
}
