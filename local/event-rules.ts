// The template's EventBridge rules on the default bus, read for the local bus (local/events.ts).
import type { EventPattern } from './event-pattern.ts';
import { type CfnTemplate, type LocalNames, resolve } from './template.ts';

export interface LocalRule {
  logicalId: string;
  name: string;
  /** The rule's EventPattern; undefined for a schedule rule, which matches no event put on the bus. */
  pattern?: EventPattern;
  /** A schedule rule's ScheduleExpression (`rate(…)`, `cron(…)`), run on the stack's clock (local/events.ts). */
  schedule?: string;
  enabled: boolean;
  /**
   * `retries`: the target's RetryPolicy.MaximumRetryAttempts, when it sets one; `deadLetter`: the ARN of its
   * DeadLetterConfig queue, when it has one.
   */
  targets: {
    id: string;
    arn: string;
    input?: string;
    inputPath?: string;
    retries?: number;
    deadLetter?: string;
  }[];
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
        DeadLetterConfig?: { Arn?: string };
      }[];
      return {
        logicalId,
        name: String(p.Name ?? logicalId),
        ...(raw !== undefined
          ? { pattern: (typeof raw === 'string' ? JSON.parse(raw) : raw) as EventPattern }
          : {}),
        ...(p.ScheduleExpression !== undefined ? { schedule: String(p.ScheduleExpression) } : {}),
        enabled: (p.State ?? 'ENABLED') === 'ENABLED',
        targets: targets.map((t) => ({
          id: String(t.Id ?? ''),
          arn: String(t.Arn ?? ''),
          ...(t.Input !== undefined ? { input: String(t.Input) } : {}),
          ...(t.InputPath !== undefined ? { inputPath: String(t.InputPath) } : {}),
          ...(t.RetryPolicy?.MaximumRetryAttempts !== undefined
            ? { retries: Number(t.RetryPolicy.MaximumRetryAttempts) }
            : {}),
          ...(t.DeadLetterConfig?.Arn ? { deadLetter: String(t.DeadLetterConfig.Arn) } : {}),
        })),
      };
    });
}
