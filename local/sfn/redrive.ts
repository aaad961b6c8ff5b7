import type { ExecutionEngine, MachineSpec } from './engine.ts';
import { SfnError } from './errors.ts';
import type { ExecutionRecord, ExecutionStore } from './executions.ts';

const REDRIVABLE = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);
/** AWS: an execution can be redriven within 14 days of its stop, at most 1000 times. */
const REDRIVE_PERIOD_MS = 14 * 86_400_000;
const MAX_REDRIVES = 1000;
/** AWS answers the last 10 client tokens idempotently, each for 15 minutes. */
const TOKEN_TTL_MS = 15 * 60_000;
const TOKENS_KEPT = 10;

/** DescribeExecution's redriveStatus and, when NOT_REDRIVABLE, its reason (AWS's wording). */
export function redriveStatusOf(
  r: ExecutionRecord,
  now: number,
): { redriveStatus: string; redriveStatusReason?: string } {
  const no = (redriveStatusReason: string) => ({ redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason });
  if (!REDRIVABLE.has(r.status)) return no(`Execution is ${r.status} and cannot be redriven`);
  if ((r.redriveCount ?? 0) >= MAX_REDRIVES)
    return no('Execution has been redriven the maximum number of times');
  if (r.stopDate && now - r.stopDate > REDRIVE_PERIOD_MS) return no('Execution redrivable period exceeded');
  return { redriveStatus: 'REDRIVABLE' };
}

/**
 * RedriveExecution: a FAILED, TIMED_OUT or ABORTED execution runs again from the state it ended in,
 * with the input that state had (its retries start over), as RUNNING, after an `ExecutionRedriven`
 * history event. A client token seen in the last 15 minutes answers the same redrive again.
 */
export function redrive(
  store: ExecutionStore,
  engine: ExecutionEngine,
  machine: MachineSpec,
  rec: ExecutionRecord,
  now: number,
  clientToken?: string,
): { redriveDate: number } {
  const seen =
    clientToken && rec.redriveTokens?.find((t) => t.token === clientToken && now - t.at < TOKEN_TTL_MS);
  if (seen) return { redriveDate: (rec.redriveDate ?? now) / 1000 };
  const { redriveStatus, redriveStatusReason } = redriveStatusOf(rec, now);
  if (redriveStatus !== 'REDRIVABLE')
    throw new SfnError('ExecutionNotRedrivable', String(redriveStatusReason));
  // Stopped before it entered a state: it runs again from the start.
  rec.current ??= { state: machine.definition.StartAt, input: JSON.parse(rec.input) };
  rec.status = 'RUNNING';
  rec.stopDate = undefined;
  rec.output = undefined;
  rec.error = undefined;
  rec.cause = undefined;
  rec.redriveCount = (rec.redriveCount ?? 0) + 1;
  rec.redriveDate = now;
  if (clientToken)
    rec.redriveTokens = [...(rec.redriveTokens ?? []), { token: clientToken, at: now }].slice(-TOKENS_KEPT);
  store.event(rec, 'ExecutionRedriven', {
    executionRedrivenEventDetails: { redriveCount: rec.redriveCount },
  });
  store.statusChanged(rec);
  engine.launch(machine, rec, 'redrive');
  return { redriveDate: now / 1000 };
}
