import type { AslDefinition } from '../template.ts';

type States = AslDefinition['States'];

const NO_TIMEOUT = 99_999_999; // AWS's default Task timeout (the library's default is 60 s)

/**
 * What the library runs: the template's definition with Waits as scaled sleeps (a Task overridden
 * locally, so TimestampPath waits can be compressed) and AWS's default Task timeout made explicit.
 * Token tasks get no library timeout or heartbeat: TaskTokens enforces both, scaled. The execution's own
 * TimeoutSeconds is the engine's to enforce, on the stack's clock (local/sfn/engine.ts).
 *
 * A plain Lambda task gets no library timeout either. In AWS its time is the function's run time, and an
 * invocation starts at once (or is throttled); locally it may first wait in the function's queue, which
 * the library's timer would count. The pool bounds the run itself with the function's own timeout
 * (`Sandbox.Timedout`), which is below the state's TimeoutSeconds for every step (test/infra).
 */
export function prepareDefinition(
  definition: AslDefinition,
  startAt: string,
  waitResource: string,
): AslDefinition {
  const states: States = {};
  for (const [name, s] of Object.entries(definition.States)) {
    if (s.Type === 'Wait') {
      const { Seconds, SecondsPath, Timestamp, TimestampPath, Type, ...rest } = s;
      states[name] = { ...rest, Type: 'Task', Resource: waitResource, TimeoutSeconds: NO_TIMEOUT };
    } else if (s.Type === 'Task') {
      const token = String(s.Resource).endsWith('.waitForTaskToken');
      const resource = String(s.Resource);
      const lambda = resource === 'arn:aws:states:::lambda:invoke' || resource.startsWith('arn:aws:lambda:');
      states[name] = {
        ...s,
        ...(token || lambda || (s.TimeoutSeconds === undefined && s.TimeoutSecondsPath === undefined)
          ? { TimeoutSeconds: NO_TIMEOUT }
          : {}),
      };
      if (lambda) delete states[name].TimeoutSecondsPath;
      if (token) {
        delete states[name].HeartbeatSeconds;
        delete states[name].TimeoutSecondsPath; // TaskTokens reads it from the state input, scaled
      }
    } else {
      states[name] = s;
    }
  }
  // The execution's own TimeoutSeconds is not the library's to enforce: it would time it on the wall clock,
  // not the stack's. The engine does (local/sfn/engine.ts, timeOutAt).
  const { TimeoutSeconds: _executionTimeout, ...rest } = definition;
  return { ...rest, StartAt: startAt, States: states };
}

const START_TIME = '$$.Execution.StartTime';

/**
 * The definition with every `"x.$": "$$.Execution.StartTime"` replaced by `"x": startTime`. The library
 * sets the context's StartTime to its own `new Date()` whatever the run's context says: the real clock in
 * the stack's main thread, not the stack's. A run on a stack whose clock is ahead (`--start-at`, a high
 * `--time-scale`) would read an age of months from every wait, and continue as a new run forever.
 */
export function withStartTime(definition: AslDefinition, startTime: string): AslDefinition {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k.endsWith('.$') && x === START_TIME) out[k.slice(0, -2)] = startTime;
      else out[k] = walk(x);
    }
    return out;
  };
  return walk(definition) as AslDefinition;
}

/** The library's `retryIntervalOverrides`: every state with a Retry waits `ms` between attempts. */
export function retryIntervals(states: States, ms: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(states)
      .filter(([, s]) => Array.isArray(s.Retry))
      .map(([name]) => [name, ms]),
  );
}

/** The instant (on the stack's clock, epoch ms) a Wait state entered at `now` with this input waits until. */
export function waitUntil(s: Record<string, unknown>, input: unknown, now: number): number {
  if (typeof s.Seconds === 'number') return now + s.Seconds * 1000;
  if (typeof s.SecondsPath === 'string') return now + Number(readPath(input, s.SecondsPath)) * 1000;
  if (typeof s.Timestamp === 'string') return Date.parse(s.Timestamp);
  if (typeof s.TimestampPath === 'string') return Date.parse(String(readPath(input, s.TimestampPath)));
  return now;
}

/** Reads a JSONPath like `$.a.b` (what Wait states use); enough for TimestampPath/SecondsPath. */
export function readPath(input: unknown, path: string): unknown {
  if (path === '$') return input;
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      input,
    );
}
