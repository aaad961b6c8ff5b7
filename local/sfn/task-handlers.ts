import type { Activity, Clock } from '../clock.ts';
import type { AslDefinition } from '../template.ts';
import { waitUntil } from './definition.ts';
import type { ExecutionRecord, ExecutionStore, Parked } from './executions.ts';
import type { TaskTokens, TokenTaskInput } from './tokens.ts';

/** Which task an invocation is for. */
export type TaskContext = { state: string; executionArn: string };

export interface TaskInvoker {
  /** Runs a Lambda function by ARN; throws an Error whose name is the errorType on failure. */
  call(functionArn: string, payload: unknown, ctx?: TaskContext): Promise<unknown>;
}

type Handlers = Record<string, (input: unknown) => Promise<unknown>>;

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

export interface HandlerDeps {
  store: ExecutionStore;
  tokens: TaskTokens;
  invoker: TaskInvoker;
  /** The stack's clock: waits are instants on it (`clock.at`). */
  clock: Clock;
  /** This run's work on the clock: paused while the run waits, so only waiting is compressed. */
  activity: Activity;
  /** Waits until this state's StateEntered is recorded (so `rec.current` is this state's). */
  entered: (rec: ExecutionRecord, state: string, input: unknown) => Promise<void>;
  /** False once this run was aborted, stopped or superseded (a redrive): it must not touch the record. */
  live: () => boolean;
}

/**
 * The local implementation of every Task state, and of every Wait state (a sleep until its instant on the
 * stack's clock). The
 * first state of a resumed run picks up its wait deadline or parked token from `resume`.
 */
export function taskHandlers(
  rec: ExecutionRecord,
  states: AslDefinition['States'],
  startAt: string,
  resume: { parked?: Parked; waitUntil?: number },
  d: HandlerDeps,
): Handlers {
  let firstState = true;
  const handlers: Handlers = {};
  for (const [name, s] of Object.entries(states)) {
    if (s.Type === 'Wait') {
      handlers[name] = async (waitInput) => {
        const resumed = firstState && name === startAt && resume.waitUntil !== undefined;
        firstState = false;
        await d.entered(rec, name, waitInput);
        if (!d.live()) return waitInput;
        const until = resumed ? (resume.waitUntil as number) : waitUntil(s, waitInput, d.clock.now());
        if (rec.current) rec.current.waitUntil = until;
        d.store.save(rec);
        d.activity.pause();
        await new Promise<void>((wake) => d.clock.at(until, wake));
        d.activity.resume();
        return waitInput;
      };
    }
    if (s.Type !== 'Task') continue;
    const resource = String(s.Resource);
    const ctx = { state: name, executionArn: rec.executionArn };
    handlers[name] = async (taskInput) => {
      const resumedHere = firstState && name === startAt;
      firstState = false;
      if (resource.endsWith('.waitForTaskToken')) {
        await d.entered(rec, name, taskInput);
        return d.tokens.park(
          rec,
          name,
          s,
          taskInput as TokenTaskInput,
          resumedHere ? resume.parked : undefined,
          (fn, payload) => d.invoker.call(fn, payload, ctx),
          d.activity,
        );
      }
      if (resource === LAMBDA_INVOKE) {
        const p = taskInput as { FunctionName: string; Payload?: unknown };
        const result = await d.invoker.call(p.FunctionName, p.Payload ?? {}, ctx);
        return {
          ExecutedVersion: '$LATEST',
          Payload: result,
          StatusCode: 200,
          SdkHttpMetadata: { HttpStatusCode: 200 },
        };
      }
      if (resource.startsWith('arn:aws:lambda:')) return d.invoker.call(resource, taskInput, ctx);
      throw Object.assign(new Error(`Unsupported resource ${resource}`), { name: 'States.Runtime' });
    };
  }
  return handlers;
}
