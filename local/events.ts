// A local EventBridge default bus: the template's AWS::Events::Rule resources, PutEvents, and delivery
// of matching events to the rules' Lambda targets, asynchronously and with retries, as EventBridge does.
import { randomUUID } from 'node:crypto';
import { type EventPattern, matchesPattern } from './event-pattern.ts';
import type { InvokeResult } from './lambda-pool.ts';
import { type CfnTemplate, type LocalNames, resolve } from './template.ts';

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

export interface LocalRule {
  logicalId: string;
  name: string;
  pattern: EventPattern;
  enabled: boolean;
  /** `retries`: the target's RetryPolicy.MaximumRetryAttempts, when it sets one. */
  targets: { id: string; arn: string; input?: string; inputPath?: string; retries?: number }[];
}

/** The template's rules on the default bus, with their patterns and targets resolved to local ARNs. */
export function rulesOf(template: CfnTemplate, names: LocalNames): LocalRule[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Events::Rule')
    .filter(([, r]) => [undefined, 'default'].includes(r.Properties?.EventBusName as string | undefined))
    .map(([logicalId, r]) => {
      const p = resolve(template, r.Properties ?? {}, names) as Record<string, unknown>;
      const raw = p.EventPattern;
      const targets = (p.Targets ?? []) as {
        Id?: string;
        Arn?: string;
        Input?: string;
        InputPath?: string;
        RetryPolicy?: { MaximumRetryAttempts?: number };
      }[];
      return {
        logicalId,
        name: String(p.Name ?? logicalId),
        pattern: (typeof raw === 'string' ? JSON.parse(raw) : (raw ?? {})) as EventPattern,
        enabled: (p.State ?? 'ENABLED') === 'ENABLED',
        targets: targets.map((t) => ({
          id: String(t.Id ?? ''),
          arn: String(t.Arn ?? ''),
          ...(t.Input !== undefined ? { input: String(t.Input) } : {}),
          ...(t.InputPath !== undefined ? { inputPath: String(t.InputPath) } : {}),
          ...(t.RetryPolicy?.MaximumRetryAttempts !== undefined
            ? { retries: Number(t.RetryPolicy.MaximumRetryAttempts) }
            : {}),
        })),
      };
    });
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
}

interface Invoker {
  invoke(functionArn: string, payload: unknown): Promise<InvokeResult>;
}

/**
 * PutEvents on the default bus: each event is matched against every enabled rule and delivered to
 * each matching rule's Lambda targets after PutEvents has answered. A failed delivery (function error,
 * throttle) is retried with exponential backoff; after the last retry the event is logged and dropped.
 */
export class EventBus {
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private stopped = false;
  readonly counts = { put: 0, matched: 0, delivered: 0, retried: 0, dropped: 0 };

  constructor(
    readonly rules: LocalRule[],
    private readonly functions: Invoker,
    private readonly opts: EventBusOptions,
  ) {}

  putEvents(entries: PutEventsEntry[]) {
    const results = entries.map((e) => {
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

  /** Resolves once every delivery in flight (retries included) has succeeded or been dropped. */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** Cancels pending retries; nothing is delivered after this. */
  stop(): void {
    this.stopped = true;
    for (const [t, wake] of this.timers) {
      clearTimeout(t);
      wake();
    }
    this.timers.clear();
  }

  private route(event: BusEvent): void {
    for (const rule of this.rules) {
      if (!rule.enabled || !matchesPattern(rule.pattern, event)) continue;
      this.counts.matched += 1;
      for (const target of rule.targets) {
        if (!target.arn.startsWith('arn:aws:lambda:')) {
          this.log(
            `rule ${rule.name}: target ${target.id} (${target.arn}) is not a Lambda function; not delivered locally`,
          );
          continue;
        }
        const payload =
          target.input !== undefined ? JSON.parse(target.input) : pathOf(event, target.inputPath);
        const retries = Math.min(target.retries ?? Number.POSITIVE_INFINITY, this.opts.retries ?? 3);
        const p = this.deliver(rule, target.arn, payload, retries).finally(() => this.pending.delete(p));
        this.pending.add(p);
      }
    }
  }

  private async deliver(rule: LocalRule, arn: string, payload: unknown, retries: number): Promise<void> {
    const base = this.opts.retryDelayMs ?? 1000;
    let last: InvokeResult | undefined;
    for (let attempt = 0; attempt <= retries && !this.stopped; attempt++) {
      if (attempt > 0) {
        this.counts.retried += 1;
        await this.sleep(base * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
        if (this.stopped) return;
      } else await new Promise((r) => setImmediate(r));
      last = await this.functions.invoke(arn, payload);
      if (last.ok) {
        this.counts.delivered += 1;
        return;
      }
    }
    if (this.stopped || !last || last.ok) return;
    this.counts.dropped += 1;
    const fn = arn.split(':').at(-1);
    this.log(
      `rule ${rule.name}: dropped an event for ${fn} after ${retries + 1} attempts: ${last.errorType}: ${last.errorMessage}`,
    );
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
