// What the console reads out of an execution history: the steps (one per state entered, with its input,
// output, outcome and errors), the path taken through the graph, and where the run is now.
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { maskDeep, maskJsonText } from './mask.ts';

export type StepStatus = 'running' | 'succeeded' | 'caught' | 'failed' | 'aborted' | 'timed-out';

export interface Step {
  /** The id of the StateEntered event. */
  id: number;
  state: string;
  /** The state's type as the history names it: Task, Choice, Pass, Succeed, Fail, Wait, Map, Parallel. */
  type: string;
  enteredAt: string;
  exitedAt?: string;
  input?: string;
  output?: string;
  status: StepStatus;
  /** Failed attempts inside the state (retries), and the last error seen. */
  failures: number;
  error?: string;
  cause?: string;
}

export interface RunPath {
  /** How many times each state was entered. */
  visits: Record<string, number>;
  /** Each edge followed (state to the next state entered), with how often. */
  transitions: { from: string; to: string; count: number }[];
  /** The state the run is in (RUNNING) or ended in; undefined before the first state. */
  current?: string;
}

export interface ShownEvent {
  id: number;
  previousEventId?: number;
  type: string;
  timestamp: string;
  state?: string;
  details?: Record<string, unknown>;
}

type Details = { name?: string; input?: string; output?: string; error?: string; cause?: string };

const detailsOf = (e: HistoryEvent): Details | undefined => {
  for (const [k, v] of Object.entries(e)) {
    if (k.endsWith('EventDetails') && v && typeof v === 'object') return v as Details;
  }
  return undefined;
};

const iso = (d: Date | number | string | undefined): string =>
  d === undefined ? '' : new Date(d instanceof Date ? d.getTime() : d).toISOString();

const FAILURE = /(Failed|TimedOut|StartFailed|SubmitFailed)$/;
/** A new attempt, or a success: what comes after a failure that was retried rather than caught. */
const RECOVERED = /^(Task|LambdaFunction|Activity)(Scheduled|Succeeded)$/;

/**
 * The steps of a history, oldest first. A state exited right after a failure was left through a Catch
 * ("caught"): AWS records an attempt or a success after a retried failure. The local engine records
 * neither, so with the definition a step is caught only when a Catch of its state takes that error to
 * the state entered next; otherwise its failure was retried.
 */
export function stepsOf(events: HistoryEvent[], definition?: AslDefinition): Step[] {
  const steps: Step[] = [];
  const pending = new Map<Step, string>();
  let open: Step | undefined;
  for (const e of events) {
    const type = String(e.type ?? '');
    const d = detailsOf(e);
    if (type.endsWith('StateEntered') && e.stateEnteredEventDetails) {
      // Entering a state while another is still open: the other was left through a Catch.
      if (open) open.status = 'caught';
      open = {
        id: Number(e.id),
        state: String(e.stateEnteredEventDetails.name),
        type: type.slice(0, -'StateEntered'.length),
        enteredAt: iso(e.timestamp),
        ...(e.stateEnteredEventDetails.input !== undefined
          ? { input: e.stateEnteredEventDetails.input }
          : {}),
        status: 'running',
        failures: 0,
      };
      steps.push(open);
    } else if (type.endsWith('StateExited') && e.stateExitedEventDetails && open) {
      open.status = 'succeeded';
      open.exitedAt = iso(e.timestamp);
      if (e.stateExitedEventDetails.output !== undefined) open.output = e.stateExitedEventDetails.output;
      open = undefined;
    } else if (type === 'ExecutionFailed' || type === 'ExecutionTimedOut' || type === 'ExecutionAborted') {
      if (open) {
        open.status =
          type === 'ExecutionAborted' ? 'aborted' : type === 'ExecutionFailed' ? 'failed' : 'timed-out';
        open.exitedAt = iso(e.timestamp);
        if (d?.error) open.error = d.error;
        if (d?.cause) open.cause = d.cause;
        pending.delete(open);
      }
      open = undefined;
    } else if (open && RECOVERED.test(type)) {
      pending.delete(open);
    } else if (open && !type.startsWith('Execution') && FAILURE.test(type)) {
      open.failures += 1;
      open.error = d?.error ?? (type.endsWith('TimedOut') ? 'States.Timeout' : type);
      if (d?.cause !== undefined) open.cause = d.cause;
      else delete open.cause;
      pending.set(open, open.error);
    }
  }
  steps.forEach((step, i) => {
    const error = pending.get(step);
    if (error === undefined || step.status !== 'succeeded') return;
    if (!definition) {
      step.status = 'caught';
      return;
    }
    const catchers = (definition.States[step.state]?.Catch ?? []) as {
      ErrorEquals?: string[];
      Next?: string;
    }[];
    const catcher = catchers.find(
      (c) => c.ErrorEquals?.includes(error) || c.ErrorEquals?.includes('States.ALL'),
    );
    if (catcher && steps[i + 1]?.state === catcher.Next) step.status = 'caught';
  });
  return steps;
}

/** Which states were entered how often, the edges followed, and the state the run is in or ended in. */
export function pathOf(steps: Step[]): RunPath {
  const visits: Record<string, number> = {};
  const edges = new Map<string, { from: string; to: string; count: number }>();
  let previous: string | undefined;
  for (const s of steps) {
    visits[s.state] = (visits[s.state] ?? 0) + 1;
    if (previous !== undefined) {
      const key = `${previous}\u0000${s.state}`;
      const edge = edges.get(key) ?? { from: previous, to: s.state, count: 0 };
      edge.count += 1;
      edges.set(key, edge);
    }
    previous = s.state;
  }
  return {
    visits,
    transitions: [...edges.values()],
    ...(previous !== undefined ? { current: previous } : {}),
  };
}

/** The last state entered, reading a history newest first (GetExecutionHistory with reverseOrder). */
export function lastStateEntered(newestFirst: HistoryEvent[]): string | undefined {
  for (const e of newestFirst) {
    if (String(e.type ?? '').endsWith('StateEntered') && e.stateEnteredEventDetails?.name)
      return e.stateEnteredEventDetails.name;
  }
  return undefined;
}

/** Events as the console shows them: ISO times, the state they belong to, details masked unless revealed. */
export function shownEvents(events: HistoryEvent[], reveal: boolean): ShownEvent[] {
  return events.map((e) => {
    const d = detailsOf(e);
    const details = d && !reveal ? maskDetails(d as Record<string, unknown>) : d;
    return {
      id: Number(e.id),
      ...(e.previousEventId !== undefined ? { previousEventId: Number(e.previousEventId) } : {}),
      type: String(e.type),
      timestamp: iso(e.timestamp),
      ...(d?.name !== undefined ? { state: d.name } : {}),
      ...(details ? { details: details as Record<string, unknown> } : {}),
    };
  });
}

/** A history event's details with the JSON documents in `input` and `output` masked, and emails elsewhere. */
export function maskDetails(d: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(d).map(([k, v]) => [
      k,
      (k === 'input' || k === 'output' || k === 'parameters') && typeof v === 'string'
        ? maskJsonText(v)
        : maskDeep(v),
    ]),
  );
}

/** The steps with their inputs, outputs and causes masked. */
export function maskSteps(steps: Step[]): Step[] {
  return steps.map((s) => ({
    ...s,
    ...(s.input !== undefined ? { input: maskJsonText(s.input) } : {}),
    ...(s.output !== undefined ? { output: maskJsonText(s.output) } : {}),
    ...(s.cause !== undefined ? { cause: maskJsonText(s.cause) } : {}),
  }));
}

export interface AslState {
  Type: string;
  Resource?: string;
  TimeoutSecondsPath?: string;
  [k: string]: unknown;
}
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  Comment?: string;
}

/**
 * A `.waitForTaskToken` task whose timeout comes from the input (TimeoutSecondsPath): a wait until a
 * scheduled time that a signal may end sooner, such as the nurture wait for the next send. Locally,
 * "send now" times it out at once.
 */
export function isScheduledWait(definition: AslDefinition, state: string | undefined): boolean {
  const s = state ? definition.States[state] : undefined;
  return Boolean(
    s && s.Type === 'Task' && s.TimeoutSecondsPath && /\.waitForTaskToken$/.test(s.Resource ?? ''),
  );
}

/** The lead id an execution is named by (`ld-<20 hex>-<form>-<day>`), if it is one. */
export function leadIdOf(executionName: string): string | undefined {
  return /^(ld-[0-9a-f]{20})(?:-|$)/.exec(executionName)?.[1];
}
