import type { PutEventsEntry } from '../events.ts';
import type { ExecutionRecord } from './executions.ts';
import { redriveStatusOf } from './redrive.ts';

export const STATUS_CHANGE = 'Step Functions Execution Status Change';

/**
 * The EventBridge event Step Functions sends on each status change of a Standard execution: source
 * `aws.states`, the execution ARN as the one resource, dates in epoch ms, input and output as JSON
 * strings, absent fields as null.
 */
export function statusChangeEntry(r: ExecutionRecord, now: number): PutEventsEntry {
  const ended = r.status !== 'RUNNING';
  const redrive = redriveStatusOf(r, now);
  return {
    Source: 'aws.states',
    DetailType: STATUS_CHANGE,
    Resources: [r.executionArn],
    Time: new Date(ended ? (r.stopDate ?? now) : (r.redriveDate ?? r.startDate)),
    Detail: JSON.stringify({
      executionArn: r.executionArn,
      stateMachineArn: r.stateMachineArn,
      name: r.name,
      status: r.status,
      startDate: r.startDate,
      stopDate: r.stopDate ?? null,
      input: r.input,
      output: r.output ?? null,
      inputDetails: { included: true },
      outputDetails: r.output !== undefined ? { included: true } : null,
      error: r.error ?? null,
      cause: r.cause ?? null,
      redriveCount: r.redriveCount ?? 0,
      redriveDate: r.redriveDate ?? null,
      redriveStatus: redrive.redriveStatus,
      redriveStatusReason: redrive.redriveStatusReason ?? null,
    }),
  };
}
